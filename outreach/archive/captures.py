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
import re
import socket
import threading
import time
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
_MAX_PENDING = 5000  # exchanges the writer thread holds at most before it writes them
FILE_PATTERN = re.compile(r"^(?P<prefix>[\w.-]+?)-(?P<day>\d{8})-.*\.warc\.gz$")

# Headers dropped outright: they carry credentials or session state, never evidence (Google's
# X-GUploader-UploadID is the upload session's id: whoever holds it can write to the upload).
_DROP_HEADERS = frozenset({"authorization", "proxy-authorization", "cookie", "set-cookie",
                           "x-api-key", "x-auth-token", "x-csrf-token", "dpop", "x-guploader-uploadid"})
# Headers describing the wire encoding of the original body; the recorded body is decoded.
_WIRE_HEADERS = frozenset({"content-encoding", "transfer-encoding", "content-length"})
_UNRECORDED_HEADERS = _DROP_HEADERS | _WIRE_HEADERS
# The last three are capabilities in upload URLs: YouTube's session `upload_id`, TikTok's
# `upload_token`, LinkedIn's signed `sau` (whoever holds one can write to that upload).
_SECRET_NAMES = (r"access_token|refresh_token|client_secret|fb_exchange_token|id_token|code_verifier"
                 r"|accessJwt|refreshJwt|password|app_password|token|upload_id|upload_token|sau")
# Every secret name contains one of these (lowercase), so text without any of them cannot match a
# pattern below and skips the regexes: most header values and bodies (tests check the coverage).
_TRIGGERS = ("token", "secret", "password", "jwt", "code_verifier", "upload_id", "sau")
# The only characters that the patterns' IGNORECASE matches to a trigger letter but that `str.lower()`
# does not lower to it (dotted and dotless i, long s).
_FOLDS = (("\u0130", "i"), ("\u0131", "i"), ("\u017f", "s"))
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
        if _may_name_a_secret(value):
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
        kept = [(k, str(v)) for k, v in items if k.lower() not in _UNRECORDED_HEADERS]
        # One look at all values together: text that holds no secret name and no secret leaves every
        # value unchanged, which is the usual case; otherwise each value is redacted on its own.
        joined = "\n".join(v for _, v in kept)
        if _may_name_a_secret(joined) or any(secret in joined for secret in self.secrets):
            kept = [(k, self.text(v)) for k, v in kept]
        kept.append(("Content-Length", str(body_length)))
        return kept


def _may_name_a_secret(text: str) -> bool:
    """False only if no secret name occurs in `text`, in any case: the regexes may then be skipped."""
    if not text.isascii():
        for odd, plain in _FOLDS:
            text = text.replace(odd, plain)
    lowered = text.lower()
    return any(trigger in lowered for trigger in _TRIGGERS)


@dataclass(frozen=True, slots=True)
class PermalinkCapture:
    """What happened when a post's public page was fetched once after publishing."""

    url: str
    ok: bool
    status: int | None = None
    error: str | None = None


@dataclass(frozen=True, slots=True)
class Exchange:
    """What a WARC capture keeps of a `requests.Response` and its request: plain values, so exchanges
    waiting to be written hold no sessions, cookie jars or sockets (and cost the garbage collector
    little)."""

    url: str
    method: str | None
    request_headers: tuple[tuple[str, str], ...]
    request_body: bytes
    status: int
    reason: str
    headers: tuple[tuple[str, str], ...]
    body: bytes

    @classmethod
    def of(cls, response: requests.Response) -> Exchange:
        request = response.request
        body = request.body if request is not None else None
        if isinstance(body, str):
            raw = body.encode("utf-8")
        elif isinstance(body, bytes):
            raw = body
        else:
            raw = b"" if body is None else b"(streamed body not recorded)"
        return cls(url=str(response.url or (request.url if request else "")),
                   method=request.method if request is not None else None,
                   request_headers=tuple(request.headers.items()) if request is not None else (),
                   request_body=raw, status=response.status_code,
                   reason=response.reason or reasons.get(response.status_code, ""),
                   headers=tuple(response.headers.items()), body=response.content or b"")


class WarcRecorder:
    """Thread-safe WARC writer usable as `Connector(on_exchange=recorder)`.

    Files are `<prefix>-<YYYYMMDD>-<host>-<pid>-<seq>.warc.gz` (UTC day of capture), so several
    workers can share one directory and the export can pick files by day.
    """

    def __init__(self, directory: str | os.PathLike[str], *, secrets: Iterable[str] = (),
                 max_bytes: int = DEFAULT_MAX_BYTES, clock: Clock = utcnow, prefix: str = "outreach",
                 background: bool = False, quiet_s: float = 0.25, max_wait_s: float = 10.0) -> None:
        self.directory = Path(directory)
        self.redactor = Redactor(secrets)
        self.max_bytes = max_bytes
        self.clock = clock
        self.prefix = prefix
        self._lock = threading.Lock()
        self._fh: IO[bytes] | None = None
        # Records are built with `_warc` and gzipped into `_buffer`, one gzip member each, then written
        # to the file in one piece: a file holds only whole records once flushed.
        self._buffer = io.BytesIO()
        self._warc = WARCWriter(self._buffer, gzip=True)
        self._day: date | None = None
        self._path: Path | None = None
        self._seq = 0
        self.records_written = 0
        # With `background`, the hook only appends the exchange to `_pending`, and a writer thread
        # redacts, gzips and writes once the exchanges have stopped coming for `quiet_s` (at the latest
        # `max_wait_s` after the first): during a burst of publishing the archive takes no CPU from it.
        # The hook never wakes the writer (that alone costs a publisher a GIL hand-over per post); the
        # writer looks every `quiet_s`. `flush()` has it write at once and waits.
        self.background = background
        self.quiet_s = quiet_s
        self.max_wait_s = max_wait_s
        self._pending: list[tuple[Exchange, datetime]] = []
        self._arrived = 0
        self._state = threading.Condition()  # guards _pending, _arrived and the flags below
        self._urgent = self._closing = self._writing = False
        self._thread: threading.Thread | None = None

    # -- the hook -----------------------------------------------------------------------------

    def __call__(self, response: requests.Response) -> None:
        if not self.background:
            self.record(response)
            return
        exchange = Exchange.of(response)
        with self._state:
            self._pending.append((exchange, self.clock()))
            self._arrived += 1
            if self._thread is None:
                self._closing = False
                self._thread = threading.Thread(target=self._drain, name="warc-writer", daemon=True)
                self._thread.start()

    def _drain(self) -> None:
        """Write what has gathered once the exchanges pause (or on `flush`/`close`), flushing the file
        once per batch rather than once per exchange."""
        seen, oldest = 0, None
        while True:
            with self._state:
                self._state.wait_for(lambda: self._urgent or self._closing, timeout=self.quiet_s)
                now = time.monotonic()
                if self._pending and oldest is None:
                    oldest = now
                quiet = self._arrived == seen
                seen = self._arrived
                due = self._urgent or self._closing or len(self._pending) >= _MAX_PENDING or (
                    self._pending and (quiet or now - (oldest or now) >= self.max_wait_s))
                if not due:
                    continue
                batch, self._pending, self._urgent, self._writing = self._pending, [], False, True
                oldest = None
            self._write_batch(batch)
            with self._state:
                self._writing = False
                self._state.notify_all()
                if self._closing and not self._pending:
                    return

    def _write_batch(self, batch: list[tuple[Exchange, datetime]]) -> None:
        """Write and flush; never raises (evidence is best effort, publishing must go on)."""
        for exchange, now in batch:
            try:
                self._write(self._records(exchange, now), now, flush=False)
            except Exception:  # evidence is best effort; publishing must go on
                log.exception("could not write a WARC record")
        try:
            with self._lock:
                if self._fh is not None:
                    self._fh.flush()
        except Exception:
            log.exception("could not flush the WARC file")

    def flush(self) -> None:
        """Write every exchange recorded so far now, and wait until it is on the file."""
        with self._state:
            if self._thread is None:
                return
            self._urgent = True
            self._state.notify_all()
            self._state.wait_for(lambda: not self._pending and not self._writing)

    def record(self, response: requests.Response, now: datetime | None = None) -> None:
        """Write the request and response behind `response`, redacted. Never raises on bad input."""
        now = now or self.clock()
        self._write(self._records(Exchange.of(response), now), now)

    def note(self, url: str, text: str) -> None:
        """A metadata record (e.g. a permalink that could not be fetched), redacted like the rest."""
        now = self.clock()
        payload = self.redactor.text(text).encode("utf-8")
        record = self._warc.create_warc_record(
            self.redactor.text(url), "metadata", payload=io.BytesIO(payload), length=len(payload),
            warc_content_type="text/plain; charset=utf-8", warc_headers_dict={"WARC-Date": _warc_date(now)})
        self._write([record], now)

    def add_secrets(self, secrets: Iterable[str]) -> None:
        """Also redact these (e.g. a connector's rotated session tokens: `connector.secret_strings()`)."""
        with self._lock:
            self.redactor = Redactor([*self.redactor.secrets, *secrets])

    def close(self) -> None:
        self.flush()
        with self._state:
            thread, self._thread = self._thread, None
            self._closing = True
            self._state.notify_all()
        if thread is not None:
            thread.join(timeout=10)  # outside the locks, which the writer thread takes to write
        with self._lock:
            self._close()

    def files(self) -> list[Path]:
        return sorted(self.directory.glob(f"{self.prefix}-*.warc.gz"))

    @property
    def current_path(self) -> Path | None:
        return self._path

    # -- building records ---------------------------------------------------------------------

    def _records(self, exchange: Exchange, now: datetime) -> list[Any]:
        url = self.redactor.text(exchange.url)
        date = _warc_date(now)
        records = []
        if exchange.method is not None:
            records.append(self._request_record(exchange, url, date))
        records.append(self._response_record(exchange, url, date))
        return records

    def _request_record(self, exchange: Exchange, url: str, date: str) -> Any:
        raw = self.redactor.body(exchange.request_body)
        parts = urlsplit(url)
        target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        headers = self.redactor.headers(exchange.request_headers, body_length=len(raw))
        if not any(k.lower() == "host" for k, _ in headers):
            headers.insert(0, ("Host", parts.netloc))
        http_headers = StatusAndHeaders(f"{exchange.method} {target} HTTP/1.1", headers, is_http_request=True)
        return self._warc.create_warc_record(
            url, "request", payload=io.BytesIO(raw), length=len(raw), http_headers=http_headers,
            warc_headers_dict={"WARC-Date": date})

    def _response_record(self, exchange: Exchange, url: str, date: str) -> Any:
        raw = self.redactor.body(exchange.body)
        headers = self.redactor.headers(exchange.headers, body_length=len(raw))
        http_headers = StatusAndHeaders(f"{exchange.status} {exchange.reason}".strip(), headers,
                                        protocol="HTTP/1.1")
        return self._warc.create_warc_record(
            url, "response", payload=io.BytesIO(raw), length=len(raw), http_headers=http_headers,
            warc_headers_dict={"WARC-Date": date})

    # -- files --------------------------------------------------------------------------------

    def _write(self, records: list[Any], now: datetime, *, flush: bool = True) -> None:
        with self._lock:
            fh = self._file_for(now)
            fh.write(self._gzipped(records))
            self.records_written += len(records)
            if flush:
                fh.flush()  # each record is a complete gzip member: readable while the file grows

    def _gzipped(self, records: list[Any]) -> bytes:
        """The records as consecutive gzip members (warcio's gzip); call with the lock held."""
        self._buffer.seek(0)
        self._buffer.truncate()
        for record in records:
            self._warc.write_record(record)
        return self._buffer.getvalue()

    def _file_for(self, now: datetime) -> IO[bytes]:
        day = now.astimezone(UTC).date()
        too_big = self._fh is not None and self._fh.tell() >= self.max_bytes
        if self._fh is None or day != self._day or too_big:
            self._close()
            self._open(day, now)
        assert self._fh is not None
        return self._fh

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
        self._day, self._path = day, path
        info = self._warc.create_warcinfo_record(name, {
            "software": f"outreach {__version__} (warcio)", "format": "WARC File Format 1.1",
            "description": "Platform API exchanges recorded by outreach; credentials redacted before writing",
            "isPartOf": "outreach proof-of-impact archive"})
        info.rec_headers.replace_header("WARC-Date", _warc_date(now))
        self._fh.write(self._gzipped([info]))
        self._fh.flush()

    def _close(self) -> None:
        if self._fh is not None:
            self._fh.close()
        self._fh = None
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
