"""Redaction: the cheap look for secret names never skips text a pattern would change, and credentials
go wherever they appear (header values, URL query, JSON and form bodies), in any letter case, also
when the recorder's writer thread batches its writes."""

from __future__ import annotations

import gzip
import json
import re
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import requests
from warcio.archiveiterator import ArchiveIterator

from outreach.archive import WarcRecorder
from outreach.archive.captures import (
    _FOLDS,
    _JSON_SECRET,
    _MULTIPART_SECRET,
    _QUERY_SECRET,
    _SECRET_NAMES,
    _TRIGGERS,
    REDACTED,
    Redactor,
    warc_day,
)

SECRET = "configured-value-8c2f19"  # no secret name in it: found by value alone
T0 = datetime(2026, 3, 1, 23, 59, tzinfo=UTC)

# Texts in which no secret name occurs: only configured secrets may change them.
PLAIN = [
    "application/json; charset=utf-8",
    "Thu, 05 Mar 2026 10:00:00 GMT",
    "status=Kom+naar+onze+bijeenkomst&visibility=public&language=nl&media_ids%5B%5D=112",
    '{"id": "112", "content": "<p>Welkom op 5 maart!</p>", "visibility": "public", "expires_in": 5}',
    "حوار مفتوح حول المساواة والقبول — ዘተ ብዛዕባ ማዕርነትን ⴰⵎⵙⴰⵡⴰⵍ",
    'Content-Disposition: form-data; name="status"\r\n\r\nHallo',
    "",
]
# Texts that the patterns change: the names in every case and spelling they match.
NAMED = [
    "https://graph.example/oauth?ACCESS_TOKEN=EAAB-99&x=1",
    "X-Trace: Access_Token=abc123xyz; path=/",
    "oauth Refresh_Token=r-77 client_SECRET=cs-1",
    '{"accessJwt": "eyJ.a.b", "RefreshJWT": "eyJ.c.d", "handle": "peer"}',
    '{"Password" : "hunter22", "app_password": "abcd-efgh"}',
    "grant_type=authorization_code&code_verifier=v3r1f13r&id_token=it-1",
    'Content-Disposition: form-data; name="Token"\r\n\r\nform-token-123\r\n--b--',
    "client_\u017fecret=long-s-secret",  # long s: IGNORECASE matches it to "s", lower() leaves it
    "code_ver\u0130fier=dotted-i-verifier",  # dotted capital I: lowers to two characters
    "code_ver\u0131fier=dotless-i-verifier",
    f"token={SECRET}&note=ok",
    # Upload addresses that are capabilities: YouTube's session, TikTok's upload_url, LinkedIn's signed URL.
    "https://www.googleapis.com/upload/youtube/v3/videos?uploadType=resumable&part=snippet,status&upload_id=xa298",
    '{"data": {"upload_url": "https://open-upload.tiktokapis.com/video/?upload_id=7&upload_token=ut-5"}}',
    '{"uploadUrl": "https://www.linkedin.com/dms-uploads/sp/v2/D5/uploadedVideo?SAU=sig-9"}',
]


def every_pattern(value: str, secrets: list[str]) -> str:
    """Redaction as it was before the look for names: every pattern on every text."""
    value = _QUERY_SECRET.sub(rf"\1{REDACTED}", value)
    value = _JSON_SECRET.sub(rf'\1"{REDACTED}"', value)
    value = _MULTIPART_SECRET.sub(rf"\1{REDACTED}", value)
    for secret in secrets:
        value = value.replace(secret, REDACTED)
    return value


def test_every_secret_name_contains_a_trigger() -> None:
    for name in _SECRET_NAMES.split("|"):
        assert any(trigger in name.lower() for trigger in _TRIGGERS), name


def test_folds_cover_every_character_the_patterns_match_to_a_trigger_letter() -> None:
    letters = sorted(set("".join(_TRIGGERS)))
    everything = "".join(map(chr, range(sys.maxunicode + 1)))
    candidates = set(re.findall("(?i)[" + re.escape("".join(letters)) + "]", everything))
    for char in candidates:
        folded = char
        for odd, plain in _FOLDS:
            folded = folded.replace(odd, plain)
        for letter in letters:
            if re.fullmatch("(?i)" + re.escape(letter), char):
                assert folded.lower() == letter, (hex(ord(char)), letter)


@pytest.mark.parametrize("text", PLAIN)
def test_text_without_secret_names_changes_only_where_a_secret_is(text: str) -> None:
    assert Redactor().text(text) == text == every_pattern(text, [])
    assert Redactor([SECRET]).text(f"{text} {SECRET}") == f"{text} {REDACTED}"
    assert Redactor([SECRET]).body(f"{text}{SECRET}".encode()) == f"{text}{REDACTED}".encode()
    headers = Redactor([SECRET]).headers([("X-Plain", text), ("X-Echo", f"key {SECRET}")], body_length=0)
    assert headers == [("X-Plain", text), ("X-Echo", f"key {REDACTED}"), ("Content-Length", "0")]


@pytest.mark.parametrize("text", PLAIN + NAMED)
def test_same_result_as_running_every_pattern(text: str) -> None:
    redactor = Redactor([SECRET, "hunter22"])
    assert redactor.text(text) == every_pattern(text, redactor.secrets)
    assert redactor.body(text.encode()) == every_pattern(text.encode().decode("latin-1"),
                                                          redactor.secrets).encode("latin-1")
    items = [("X-Value", text), ("Accept", "application/json"), ("X-Other", text.upper())]
    expected = [(k, every_pattern(v, redactor.secrets)) for k, v in items] + [("Content-Length", "7")]
    assert redactor.headers(items, body_length=7) == expected


@pytest.mark.parametrize("text", NAMED)
def test_secret_names_in_any_case_are_redacted(text: str) -> None:
    assert Redactor().text(text) != text
    assert REDACTED in Redactor().text(text)


def exchange(url: str, *, body: bytes | str, headers: dict[str, str], content: bytes,
             response_headers: dict[str, str]) -> requests.Response:
    request = requests.Request("POST", url, headers=headers).prepare()
    request.body = body
    response = requests.Response()
    response.status_code, response.reason, response.url, response.request = 200, "OK", url, request
    response._content = content
    response.headers.update(response_headers)
    return response


def text_of(paths: list[Path]) -> bytes:
    return b"".join(gzip.decompress(p.read_bytes()) for p in paths)


@pytest.mark.parametrize("background", [False, True])
def test_secret_values_and_names_are_removed_from_every_part(tmp_path: Path, background: bool) -> None:
    recorder = WarcRecorder(tmp_path, secrets=[SECRET], clock=lambda: T0, background=background)
    recorder(exchange(f"https://api.example/v1/items?q=1&key={SECRET}",
                      body=f"status=hello&note={SECRET}&Access_Token=form-token-123",
                      headers={"X-Custom": f"key {SECRET}", "X-Debug": "ACCESS_Token=hdr-token-456"},
                      content=json.dumps({"Refresh_Token": "json-token-789", "echo": SECRET,
                                          "id": "1"}).encode(),
                      response_headers={"X-Echo": SECRET, "Vary": "Accept"}))
    recorder(exchange("https://api.example/v1/json", body=json.dumps({"client_secret": "cs-body-1", "n": 1}),
                      headers={"Content-Type": "application/json"}, content=b'{"ok": true}',
                      response_headers={"X-Trace": 'session {"PassWord": "pw-in-hdr"}'}))
    recorder(exchange("https://up.example/upload/youtube/v3/videos?uploadType=resumable&upload_id=up-id-1",
                      body=b"", headers={}, content=b"", response_headers={"X-GUploader-UploadID": "up-id-2",
                                                                          "Location": "/v?x=1&upload_id=up-id-3"}))
    recorder.flush()
    text = text_of(recorder.files())  # before close: what is queued is on disk after flush()
    recorder.close()
    for leaked in (SECRET, "form-token-123", "hdr-token-456", "json-token-789", "pw-in-hdr", "cs-body-1",
                   "up-id-1", "up-id-2", "up-id-3"):
        assert leaked.encode() not in text, leaked
    assert b"status=hello" in text and b'"id": "1"' in text and b'"n": 1' in text  # evidence kept


def test_queued_exchanges_are_on_disk_after_flush_in_whole_records(tmp_path: Path) -> None:
    now = [T0]
    recorder = WarcRecorder(tmp_path, clock=lambda: now[0], background=True, max_bytes=20_000)

    def fake(i: int) -> requests.Response:
        return exchange(f"https://api.example/items/{i}", body=b"", headers={},
                        content=json.dumps({"id": i, "pad": "x" * 200}).encode(), response_headers={})

    for i in range(150):  # more than one batch, and enough bytes to rotate by size
        recorder(fake(i))
        if i == 120:
            now[0] = T0 + timedelta(minutes=2)  # the next UTC day, in the middle of the queue
    recorder.flush()
    ids = []
    for path in recorder.files():  # the files are still open: every record in them must be whole
        with path.open("rb") as fh:
            ids += [json.loads(r.content_stream().read())["id"] for r in ArchiveIterator(fh)
                    if r.rec_type == "response"]
    assert sorted(ids) == list(range(150))
    assert recorder.records_written == 300  # a request and a response each
    assert {warc_day(p) for p in recorder.files()} == {T0.date(), (T0 + timedelta(days=1)).date()}
    assert len(recorder.files()) >= 3
    recorder.close()
