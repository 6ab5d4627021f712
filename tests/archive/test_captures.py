"""WARC captures: real publishing through the Mastodon sandbox, credentials removed before writing,
rotation per day and size, thread safety, permalink capture that never raises."""

from __future__ import annotations

import gzip
import json
import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import requests
import responses
from warcio.archiveiterator import ArchiveIterator

from outreach.archive import WarcRecorder, capture_permalink
from outreach.archive.captures import warc_day
from outreach.config import parse_settings
from outreach.connectors.mastodon import MastodonConnector
from outreach.domain import PublishRequest
from outreach.sandbox.mastodon import DEMO_TOKEN, MastodonSim

SECRET = "configured-secret-8c2f19"
T0 = datetime(2026, 3, 1, 23, 59, tzinfo=UTC)


def records(directory: Path) -> list:
    found = []
    for path in sorted(directory.glob("*.warc.gz")):
        with path.open("rb") as fh:
            for record in ArchiveIterator(fh):
                body = record.content_stream().read()
                found.append((record.rec_type, record.rec_headers.get_header("WARC-Target-URI"),
                              record.http_headers, body))
    return found


def raw_text(directory: Path) -> bytes:
    return b"".join(gzip.decompress(p.read_bytes()) for p in directory.glob("*.warc.gz"))


def test_publish_exchange_is_recorded_without_the_token(serve_sandbox, tmp_path: Path,
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    _, url = serve_sandbox(MastodonSim())
    monkeypatch.setenv("CAPTURE_TEST_TOKEN", DEMO_TOKEN)
    settings = parse_settings({"channels": {"peer-mastodon": {
        "platform": "mastodon", "base_url": f"{url}/mastodon", "token_env": "CAPTURE_TEST_TOKEN"}}})
    recorder = WarcRecorder(tmp_path, secrets=settings.secret_values(), clock=lambda: T0)
    connector = MastodonConnector(settings.channel("peer-mastodon"), on_exchange=recorder)
    result = connector.publish(PublishRequest(post_id=1, text="Welkom op 5 maart! #veilig", language="nl",
                                              idempotency_key="capture-1"), save_handle=lambda _h: None)
    permalink = capture_permalink(result.url, recorder=recorder)
    recorder.close()

    found = records(tmp_path)
    post = [r for r in found if r[0] == "request" and r[1].endswith("/api/v1/statuses")]
    assert len(post) == 1
    assert post[0][2].get_header("Idempotency-Key") == "capture-1"
    assert post[0][2].get_header("Authorization") is None
    assert b"status=Welkom" in post[0][3]
    response = [r for r in found if r[0] == "response" and r[1].endswith("/api/v1/statuses")]
    assert json.loads(response[0][3])["id"] == result.remote_id
    assert int(response[0][2].get_header("Content-Length")) == len(response[0][3])
    # the post's public page, fetched without credentials, is in the WARC too
    assert permalink.ok is True and permalink.status == 200
    page = [r for r in found if r[0] == "response" and r[1] == result.url]
    assert page and b"<article>" in page[0][3] and b"Welkom" in page[0][3]
    assert DEMO_TOKEN.encode() not in raw_text(tmp_path)
    assert found[0][0] == "warcinfo"


@responses.activate
def test_tokens_cookies_and_secrets_are_removed_everywhere(tmp_path: Path) -> None:
    responses.add(responses.POST, "https://graph.example/oauth/access_token",
                  json={"access_token": "EAAB-long-lived-99", "refresh_token": "r-77-refresh", "expires_in": 5},
                  headers={"Set-Cookie": "sessionid=abc123secret; HttpOnly", "X-Echo": SECRET})
    recorder = WarcRecorder(tmp_path, secrets=["short"], clock=lambda: T0)
    recorder.add_secrets([SECRET])  # as the worker does after a connector rotates a session
    session = requests.Session()
    session.hooks["response"].append(lambda r, *a, **k: recorder(r))
    session.post(f"https://graph.example/oauth/access_token?client_secret={SECRET}&fb_exchange_token=xyz-user",
                 data={"grant_type": "fb_exchange_token", "access_token": "form-token-123", "note": SECRET},
                 headers={"Authorization": "Bearer header-token-456", "Cookie": "csrftoken=c00kie",
                          "X-Custom": f"key {SECRET}"})
    recorder.close()
    text = raw_text(tmp_path)
    for leaked in (SECRET, "EAAB-long-lived-99", "r-77-refresh", "abc123secret", "form-token-123",
                   "header-token-456", "c00kie", "xyz-user"):
        assert leaked.encode() not in text, leaked
    assert b"grant_type=fb_exchange_token" in text and b'"expires_in": 5' in text  # evidence kept


def test_files_rotate_per_day_and_size_and_survive_threads(tmp_path: Path) -> None:
    now = [T0]
    recorder = WarcRecorder(tmp_path, clock=lambda: now[0], max_bytes=6_000)

    def fake(i: int) -> requests.Response:
        response = requests.Response()
        response.status_code, response.url, response.reason = 200, f"https://api.example/items/{i}", "OK"
        response._content = json.dumps({"id": i, "pad": "x" * 200}).encode()
        response.request = requests.Request("GET", response.url).prepare()
        return response

    threads = [threading.Thread(target=lambda k=k: [recorder(fake(k * 100 + j)) for j in range(25)])
               for k in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    now[0] = T0 + timedelta(minutes=2)  # next UTC day
    recorder(fake(999))
    recorder.close()
    files = recorder.files()
    days = {warc_day(p) for p in files}
    assert days == {T0.date(), (T0 + timedelta(days=1)).date()}
    assert len(files) >= 3  # size rotation on the first day, plus the second day
    ids = sorted(json.loads(body)["id"] for kind, _, _, body in records(tmp_path) if kind == "response")
    assert ids == sorted([k * 100 + j for k in range(4) for j in range(25)] + [999])


def test_unreachable_permalink_is_noted_not_raised(tmp_path: Path) -> None:
    recorder = WarcRecorder(tmp_path, clock=lambda: T0)
    result = capture_permalink("http://127.0.0.1:9/@peer/1", recorder=recorder, timeout_s=2)
    missing = capture_permalink(None, recorder=recorder)
    recorder.close()
    assert result.ok is False and "ConnectionError" in (result.error or "")
    assert missing.ok is False and missing.error
    notes = [r for r in records(tmp_path) if r[0] == "metadata"]
    assert notes and b"permalink capture failed" in notes[0][3]
