"""WARC capture cost per exchange (`WarcRecorder.record`) next to warcio writing the same two records bare.

    python -m bench warc [--exchanges N] [--rounds N]

Each exchange is a Mastodon status POST as the connector makes it (a form body of ~300 bytes, a bearer
token, an Idempotency-Key) and its ~2 KB JSON status with rate-limit headers, built by hand: no server.
The baseline writes the same request and response records with warcio (which flushes the file after
each record), without any redaction: what warcio itself costs. Figures are CPU time of the process,
the writer thread's included, since that thread shares the GIL with publishing. The figure to watch
is the ratio: redaction and batching should cost little on top of what warcio itself costs.
"""

from __future__ import annotations

import argparse
import gzip
import io
import json
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlsplit

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import requests  # noqa: E402
from warcio.statusandheaders import StatusAndHeaders  # noqa: E402
from warcio.warcwriter import WARCWriter  # noqa: E402

from outreach.archive import WarcRecorder  # noqa: E402

TOKEN = "ZmFrZS1tYXN0b2Rvbi10b2tlbi1mb3ItYmVuY2htYXJrcy0xMjM0"
BASE = "https://mastodon.example"
NOW = datetime(2026, 3, 5, 10, 0, tzinfo=UTC)
TEXT = ("Kom naar onze bijeenkomst in Buurthuis De Pijp op 5 maart om 19:30! Samen in gesprek over "
        "gelijkwaardigheid en acceptatie. Iedereen welkom, aanmelden niet nodig. #veilig #samen")


def status_json(i: int) -> bytes:
    """A Mastodon status as an instance returns it (~2 KB)."""
    status_id = str(112_000_000_000_000_000 + i)
    account = {"id": "109000000000000001", "username": "peer", "acct": "peer", "display_name": "Peer Amsterdam",
               "locked": False, "bot": False, "created_at": "2022-11-03T00:00:00.000Z",
               "note": "<p>Een veilige plek voor iedereen.</p>", "url": f"{BASE}/@peer",
               "avatar": f"{BASE}/system/accounts/avatars/original/peer.png",
               "header": f"{BASE}/system/accounts/headers/original/peer.png",
               "followers_count": 812, "following_count": 97, "statuses_count": 1200 + i,
               "last_status_at": "2026-03-05", "emojis": [], "fields": []}
    media = [{"id": str(112_000_000_000_001_000 + i), "type": "image",
              "url": f"{BASE}/system/media_attachments/files/original/{i}.png",
              "preview_url": f"{BASE}/system/media_attachments/files/small/{i}.png",
              "remote_url": None, "description": "Kaart met datum en plaats van de bijeenkomst",
              "blurhash": "UBL_:rOpGG-;~qRjWBay00xu%MoLIUR*ofof",
              "meta": {"original": {"width": 1080, "height": 1080, "size": "1080x1080", "aspect": 1.0}}}]
    body = {"id": status_id, "created_at": "2026-03-05T10:00:00.000Z", "in_reply_to_id": None,
            "in_reply_to_account_id": None, "sensitive": False, "spoiler_text": "", "visibility": "public",
            "language": "nl", "uri": f"{BASE}/users/peer/statuses/{status_id}",
            "url": f"{BASE}/@peer/{status_id}", "replies_count": 0, "reblogs_count": 0,
            "favourites_count": 0, "edited_at": None, "favourited": False, "reblogged": False,
            "muted": False, "bookmarked": False, "pinned": False,
            "content": f"<p>{TEXT} ({i})</p>", "reblog": None,
            "application": {"name": "outreach", "website": None}, "account": account,
            "media_attachments": media, "mentions": [],
            "tags": [{"name": "veilig", "url": f"{BASE}/tags/veilig"}, {"name": "samen", "url": f"{BASE}/tags/samen"}],
            "emojis": [], "card": None, "poll": None}
    return json.dumps(body).encode()


def exchange(i: int) -> requests.Response:
    """The connector's status POST and the instance's answer, as `requests` hands them to the hook."""
    session_headers = {"User-Agent": "outreach/1.0 (+https://peer.example)", "Accept-Encoding": "gzip, deflate",
                       "Accept": "application/json", "Connection": "keep-alive",
                       "Authorization": f"Bearer {TOKEN}", "Accept-Language": "nl",
                       "Idempotency-Key": f"outreach-post-{i}-attempt-1"}
    form = {"status": f"{TEXT} ({i})", "visibility": "public", "language": "nl",
            "media_ids[]": [str(112_000_000_000_001_000 + i)]}
    request = requests.Request("POST", f"{BASE}/api/v1/statuses", data=form, headers=session_headers).prepare()
    response = requests.Response()
    response.status_code, response.reason, response.url, response.request = 200, "OK", request.url, request
    response._content = status_json(i)
    response.headers.update({
        "Date": "Thu, 05 Mar 2026 10:00:00 GMT", "Content-Type": "application/json; charset=utf-8",
        "Cache-Control": "no-store", "Vary": "Accept, Origin", "X-RateLimit-Limit": "300",
        "X-RateLimit-Remaining": str(299 - i % 300), "X-RateLimit-Reset": "2026-03-05T10:05:00.000Z",
        "X-Request-Id": f"b1f0c2d4-{i:08d}", "Content-Encoding": "gzip",
        "Content-Length": str(len(response._content))})
    return response


class Bare:
    """warcio writing the request and response records as they are, no redaction, one flush each."""

    def __init__(self, directory: Path) -> None:
        self.fh = (directory / "bare.warc.gz").open("wb")
        self.writer = WARCWriter(self.fh, gzip=True)

    def record(self, response: requests.Response) -> None:
        request = response.request
        parts = urlsplit(response.url)
        body = request.body.encode() if isinstance(request.body, str) else request.body or b""
        date = {"WARC-Date": NOW.strftime("%Y-%m-%dT%H:%M:%SZ")}
        req_headers = StatusAndHeaders(f"POST {parts.path} HTTP/1.1", list(request.headers.items()),
                                       is_http_request=True)
        resp_headers = StatusAndHeaders("200 OK", list(response.headers.items()), protocol="HTTP/1.1")
        for kind, raw, headers in (("request", body, req_headers), ("response", response.content, resp_headers)):
            self.writer.write_record(self.writer.create_warc_record(
                response.url, kind, payload=io.BytesIO(raw), length=len(raw), http_headers=headers,
                warc_headers_dict=date))
        self.fh.flush()

    def close(self) -> None:
        self.fh.close()


def per_exchange_ms(record: Callable[[requests.Response], None], exchanges: list[requests.Response]) -> float:
    """CPU time of the whole process (writer thread included) per exchange: what publishing competes with."""
    start = time.process_time()
    for response in exchanges:
        record(response)
    return (time.process_time() - start) * 1000 / len(exchanges)


def main(argv: list[str] | None = None, *, quick: bool = False) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--exchanges", type=int, default=50 if quick else 500)
    parser.add_argument("--rounds", type=int, default=1 if quick else 5)
    args = parser.parse_args(argv or [])
    exchanges = [exchange(i) for i in range(args.exchanges)]
    recorded, bare, queued = [], [], []
    with tempfile.TemporaryDirectory(prefix="bench-warc-") as tmp:
        for n in range(args.rounds):
            recorder = WarcRecorder(Path(tmp) / f"sync-{n}", secrets=[TOKEN], clock=lambda: NOW)
            recorded.append(per_exchange_ms(recorder.record, exchanges))
            recorder.close()
            baseline = Bare(Path(tmp))
            bare.append(per_exchange_ms(baseline.record, exchanges))
            baseline.close()
            # the publishing path: the hook queues, the writer thread drains; flush() waits for the disk
            recorder = WarcRecorder(Path(tmp) / f"queued-{n}", secrets=[TOKEN], clock=lambda: NOW, background=True)
            start = time.process_time()
            for response in exchanges:
                recorder(response)
            recorder.flush()
            queued.append((time.process_time() - start) * 1000 / len(exchanges))
            recorder.close()
        if any(TOKEN.encode() in gzip.decompress(p.read_bytes()) for p in Path(tmp).glob("*-*/*.warc.gz")):
            raise SystemExit("the token reached a WARC file")
    record_ms, bare_ms, queued_ms = (statistics.median(x) for x in (recorded, bare, queued))
    print(f"{'path':<22} {'CPU ms/exchange':>15} {'ratio':>6}")
    print(f"{'bare warcio':<22} {bare_ms:15.3f} {1:6.2f}")
    print(f"{'WarcRecorder.record':<22} {record_ms:15.3f} {record_ms / bare_ms:6.2f}")
    print(f"{'queued + flush()':<22} {queued_ms:15.3f} {queued_ms / bare_ms:6.2f}")
    print(f"record: {record_ms:.3f} ms per exchange, {record_ms / bare_ms:.2f}x warcio writing the same records "
          f"bare ({args.exchanges} exchanges x {args.rounds} rounds)")


if __name__ == "__main__":
    main(sys.argv[1:])
