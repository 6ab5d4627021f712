"""WARC captures of every platform exchange, with credentials removed before anything is written.

`WarcRecorder` is the connectors' `on_exchange` hook: each `requests.Response` becomes a WARC
request record and a response record. Authorization headers, cookies, tokens in query strings,
form bodies and JSON bodies, and every configured secret string are redacted first, so a WARC file
never holds a credential. Files rotate per UTC day and by size, one writer per process.
"""

from __future__ import annotations

import io
import logging
import os
import queue
import re
import socket
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime
from http.client import responses as reasons
from pathlib import Path
from typing import IO, Any
from urllib.parse import urlsplit

import requests
from warcio.statusandheaders import StatusAndHeaders
from warcio.warcwriter import WARCWriter

from outreach import __version__

Clock = Callable[[], datetime]
REDACTED = "***"
DEFAULT_MAX_BYTES = 100 * 1024 * 1024
FILE_PATTERN = re.compile(r"^(?P<prefix>[\w.-]+?)-(?P<day>\d{8})-.*\.warc\.gz$")

# Headers dropped outright: they carry credentials or session state, never evidence.
_DROP_HEADERS = frozenset({"authorization", "proxy-authorization", "cookie", "set-cookie",
                           "x-api-key", "x-auth-token", "x-csrf-token", "dpop"})
# Headers describing the wire encoding of the original body; the recorded body is decoded.
_WIRE_HEADERS = frozenset({"content-encoding", "transfer-encoding", "content-length"})
_SECRET_NAMES = (r"access_token|refresh_token|client_secret|fb_exchange_token|id_token|code_verifier"
                 r"|accessJwt|refreshJwt|password|app_password|token")
_QUERY_SECRET = re.compile(rf"(?i)((?:^|[?&;\s\"'])(?:{_SECRET_NAMES})=)[^&\s\"';]+")
_JSON_SECRET = re.compile(rf"(?i)(\"(?:{_SECRET_NAMES})\"\s*:\s*)\"(?:[^\"\\]|\\.)*\"")
_MULTIPART_SECRET = re.compile(
    rf"(?i)(content-disposition:\s*form-data;\s*name=\"(?:{_SECRET_NAMES})\"\r?\n\r?\n)[^\r\n]*")


log = logging.getLogger("outreach.archive")

def utcnow() -> datetime:
    return datetime.now(UTC)


def capture_dir(settings: Any) -> Path:
    """Where the worker writes WARC files and the export looks for them: `<state_dir>/warc`."""
    return Path(getattr(settings, "state_dir", ".outreach")) / "warc"


class Redactor:
    """Removes credentials from URLs, headers and bodies. Secrets shorter than 6 characters are
    ignored: replacing them would shred ordinary words while protecting nothing."""

    def __init__(self, secrets: Iterable[str] = ()) -> None:
        self.secrets = sorted({s for s in secrets if s and len(s) >= 6}, key=len, reverse=True)

    def text(self, value: str) -> str:
        value = _QUERY_SECRET.sub(rf"\1{REDACTED}", value)
        value = _JSON_SECRET.sub(rf'\1"{REDACTED}"', value)
        value = _MULTIPART_SECRET.sub(rf"\1{REDACTED}", value)
        for secret in self.secrets:
            value = value.replace(secret, REDACTED)
        return value

    def body(self, data: bytes) -> bytes:
        """Bodies are bytes (images included): patterns and secrets are replaced byte-wise."""
        if not data:
            return data
        text = data.decode("latin-1")  # lossless for any bytes, so binary parts survive unchanged
        return self.text(text).encode("latin-1")

    def headers(self, items: Iterable[tuple[str, str]], *, body_length: int) -> list[tuple[str, str]]:
        kept = [(k, self.text(str(v))) for k, v in items
                if k.lower() not in _DROP_HEADERS and k.lower() not in _WIRE_HEADERS]
        kept.append(("Content-Length", str(body_length)))
        return kept


@dataclass(frozen=True, slots=True)
class PermalinkCapture:
    """What happened when a post's public page was fetched once after publishing."""

    url: str
    ok: bool
    status: int | None = None
    error: str | None = None


class WarcRecorder:
    """Thread-safe WARC writer usable as `Connector(on_exchange=recorder)`.

    Files are `<prefix>-<YYYYMMDD>-<host>-<pid>-<seq>.warc.gz` (UTC day of capture), so several
    workers can share one directory and the export can pick files by day.
    """

    def __init__(self, directory: str | os.PathLike[str], *, secrets: Iterable[str] = (),
                 max_bytes: int = DEFAULT_MAX_BYTES, clock: Clock = utcnow, prefix: str = "outreach",
                 background: bool = False) -> None:
        self.directory = Path(directory)
        self.redactor = Redactor(secrets)
        self.max_bytes = max_bytes
        self.clock = clock
        self.prefix = prefix
        self._lock = threading.Lock()
        self._fh: IO[bytes] | None = None
        self._writer: WARCWriter | None = None
        self._day: date | None = None
        self._path: Path | None = None
        self._seq = 0
        self.records_written = 0
        # With `background`, the hook only queues the exchange and a writer thread redacts, gzips and
        # writes it, so publishing does not wait on the archive; `flush()` waits for the queue.
        self.background = background
        self._queue: queue.Queue[tuple[requests.Response, datetime] | None] | None = None
        self._thread: threading.Thread | None = None

    # -- the hook -----------------------------------------------------------------------------

    def __call__(self, response: requests.Response) -> None:
        if not self.background:
            self.record(response)
            return
        with self._lock:
            if self._thread is None:
                self._queue = queue.Queue()
                self._thread = threading.Thread(target=self._drain, name="warc-writer", daemon=True)
                self._thread.start()
        assert self._queue is not None
        self._queue.put((response, self.clock()))

    def _drain(self) -> None:
        assert self._queue is not None
        while (item := self._queue.get()) is not None:
            try:
                self.record(*item)
            except Exception:  # evidence is best effort; publishing must go on
                log.exception("could not write a WARC record")
            finally:
                self._queue.task_done()
        self._queue.task_done()

    def flush(self) -> None:
        """Wait until every queued exchange is written."""
        if self._queue is not None:
            self._queue.join()

    def record(self, response: requests.Response, now: datetime | None = None) -> None:
        """Write the request and response behind `response`, redacted. Never raises on bad input."""
        request = response.request
        url = self.redactor.text(str(response.url or (request.url if request else "")))
        now = now or self.clock()
        records = []
        if request is not None:
            records.append(self._request_record(request, url, now))
        records.append(self._response_record(response, url, now))
        self._write(records, now)

    def note(self, url: str, text: str) -> None:
        """A metadata record (e.g. a permalink that could not be fetched), redacted like the rest."""
        now = self.clock()
        payload = self.redactor.text(text).encode("utf-8")
        writer = self._placeholder_writer()
        record = writer.create_warc_record(self.redactor.text(url), "metadata", payload=io.BytesIO(payload),
                                           length=len(payload), warc_content_type="text/plain; charset=utf-8",
                                           warc_headers_dict={"WARC-Date": _warc_date(now)})
        self._write([record], now)

    def add_secrets(self, secrets: Iterable[str]) -> None:
        """Also redact these (e.g. a connector's rotated session tokens: `connector.secret_strings()`)."""
        with self._lock:
            self.redactor = Redactor([*self.redactor.secrets, *secrets])

    def close(self) -> None:
        self.flush()
        with self._lock:
            if self._thread is not None and self._queue is not None:
                self._queue.put(None)
                self._thread.join(timeout=10)
                self._thread = self._queue = None
            self._close()

    def files(self) -> list[Path]:
        return sorted(self.directory.glob(f"{self.prefix}-*.warc.gz"))

    @property
    def current_path(self) -> Path | None:
        return self._path

    # -- building records ---------------------------------------------------------------------

    def _placeholder_writer(self) -> WARCWriter:
        return WARCWriter(io.BytesIO(), gzip=True)

    def _request_record(self, request: requests.PreparedRequest, url: str, now: datetime) -> Any:
        body = request.body
        if isinstance(body, str):
            raw = body.encode("utf-8")
        elif isinstance(body, bytes):
            raw = body
        else:
            raw = b"" if body is None else b"(streamed body not recorded)"
        raw = self.redactor.body(raw)
        parts = urlsplit(url)
        target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        headers = self.redactor.headers(request.headers.items(), body_length=len(raw))
        if not any(k.lower() == "host" for k, _ in headers):
            headers.insert(0, ("Host", parts.netloc))
        http_headers = StatusAndHeaders(f"{request.method} {target} HTTP/1.1", headers, is_http_request=True)
        return self._placeholder_writer().create_warc_record(
            url, "request", payload=io.BytesIO(raw), length=len(raw), http_headers=http_headers,
            warc_headers_dict={"WARC-Date": _warc_date(now)})

    def _response_record(self, response: requests.Response, url: str, now: datetime) -> Any:
        raw = self.redactor.body(response.content or b"")
        reason = response.reason or reasons.get(response.status_code, "")
        headers = self.redactor.headers(response.headers.items(), body_length=len(raw))
        http_headers = StatusAndHeaders(f"{response.status_code} {reason}".strip(), headers,
                                        protocol="HTTP/1.1")
        return self._placeholder_writer().create_warc_record(
            url, "response", payload=io.BytesIO(raw), length=len(raw), http_headers=http_headers,
            warc_headers_dict={"WARC-Date": _warc_date(now)})

    # -- files --------------------------------------------------------------------------------

    def _write(self, records: list[Any], now: datetime) -> None:
        with self._lock:
            writer = self._writer_for(now)
            for record in records:
                writer.write_record(record)
                self.records_written += 1
            assert self._fh is not None
            self._fh.flush()  # each record is a complete gzip member: readable while the file grows

    def _writer_for(self, now: datetime) -> WARCWriter:
        day = now.astimezone(UTC).date()
        too_big = self._fh is not None and self._fh.tell() >= self.max_bytes
        if self._writer is None or day != self._day or too_big:
            self._close()
            self._open(day, now)
        assert self._writer is not None
        return self._writer

    def _open(self, day: date, now: datetime) -> None:
        self.directory.mkdir(parents=True, exist_ok=True)
        host = re.sub(r"[^\w.-]", "_", socket.gethostname())[:40] or "host"
        while True:
            self._seq += 1
            name = f"{self.prefix}-{day:%Y%m%d}-{host}-{os.getpid()}-{self._seq:05d}.warc.gz"
            path = self.directory / name
            if not path.exists():
                break
        self._fh = path.open("xb")
        self._writer = WARCWriter(self._fh, gzip=True)
        self._day, self._path = day, path
        info = self._writer.create_warcinfo_record(name, {
            "software": f"outreach {__version__} (warcio)", "format": "WARC File Format 1.1",
            "description": "Platform API exchanges recorded by outreach; credentials redacted before writing",
            "isPartOf": "outreach proof-of-impact archive"})
        info.rec_headers.replace_header("WARC-Date", _warc_date(now))
        self._writer.write_record(info)
        self._fh.flush()

    def _close(self) -> None:
        if self._fh is not None:
            self._fh.close()
        self._fh = self._writer = None
        self._day = None


def capture_permalink(url: str | None, *, recorder: WarcRecorder, http: requests.Session | None = None,
                      timeout_s: float = 30.0) -> PermalinkCapture:
    """Fetch a published post's public page once, without credentials, into the WARC files.

    Never raises: an unreachable page or an error status is recorded (as a metadata note or as the
    response itself) and reported in the result, because publishing already succeeded.
    """
    if not url:
        return PermalinkCapture(url="", ok=False, error="the platform returned no permalink")
    session = http or requests.Session()
    try:
        response = session.get(url, timeout=timeout_s, headers={"Accept": "text/html,*/*"},
                               allow_redirects=True)
    except requests.RequestException as exc:
        error = f"could not fetch permalink: {type(exc).__name__}"
        recorder.note(url, f"permalink capture failed: {error}")
        return PermalinkCapture(url=recorder.redactor.text(url), ok=False, error=error)
    for earlier in response.history:
        recorder.record(earlier)
    recorder.record(response)
    ok = 200 <= response.status_code < 300
    return PermalinkCapture(url=recorder.redactor.text(url), ok=ok, status=response.status_code,
                            error=None if ok else f"HTTP {response.status_code}")


def warc_day(path: Path) -> date | None:
    """The UTC capture day encoded in a recorder's file name, or None for foreign files."""
    match = FILE_PATTERN.match(path.name)
    if not match:
        return None
    return datetime.strptime(match["day"], "%Y%m%d").date()


def _warc_date(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
