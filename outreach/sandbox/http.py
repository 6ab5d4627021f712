"""A small HTTP framework for the platform simulations: requests, responses, routing, serving.

Serves HTTP/1.1 with keep-alive and buffered writes (one flush per response), so a loopback
client is not stalled by delayed ACKs and benchmarks measure our code, not the sandbox.
"""

from __future__ import annotations

import email.parser
import email.policy
import json
import re
import socket
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit


@dataclass(frozen=True)
class UploadedFile:
    filename: str
    content_type: str
    data: bytes


@dataclass
class Request:
    method: str
    path: str  # path below the platform prefix, e.g. "/api/v1/statuses"
    query: dict[str, list[str]]
    headers: dict[str, str]  # lower-cased names
    body: bytes = b""
    sent_path: str = ""  # the path as the client sent it, prefix and version included
    _form: dict[str, list[str]] | None = field(default=None, repr=False)
    _files: dict[str, UploadedFile] | None = field(default=None, repr=False)

    def header(self, name: str, default: str = "") -> str:
        return self.headers.get(name.lower(), default)

    def link(self, **replace: str | None) -> str:
        """This request's own URL with query parameters replaced (None: left out), for paging links."""
        query = {k: v for k, v in self.query.items() if k not in replace}
        query.update({k: [v] for k, v in replace.items() if v is not None})
        host = self.header("host", "127.0.0.1")
        return f"http://{host}{self.sent_path or self.path}?{urlencode(query, doseq=True)}"

    @property
    def content_type(self) -> str:
        return self.header("content-type").split(";")[0].strip().lower()

    def json(self) -> Any:
        if not self.body:
            return {}
        try:
            return json.loads(self.body)
        except ValueError:
            return None

    def _parse_form(self) -> None:
        self._form, self._files = {}, {}
        ctype = self.content_type
        if ctype == "application/x-www-form-urlencoded":
            self._form = parse_qs(self.body.decode("utf-8", "replace"), keep_blank_values=True)
        elif ctype == "multipart/form-data":
            head = f"Content-Type: {self.header('content-type')}\r\n\r\n".encode()
            msg = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(head + self.body)
            for part in msg.iter_parts():
                name = part.get_param("name", header="content-disposition")
                if not name:
                    continue
                payload = part.get_payload(decode=True) or b""
                filename = part.get_filename()
                if filename is not None:
                    self._files[name] = UploadedFile(filename, part.get_content_type(), payload)
                else:
                    self._form.setdefault(name, []).append(payload.decode("utf-8", "replace"))
        elif ctype == "application/json":
            data = self.json()
            if isinstance(data, dict):
                for key, value in data.items():
                    values = value if isinstance(value, list) else [value]
                    self._form[key] = [v if isinstance(v, str) else json.dumps(v) for v in values]

    @property
    def form(self) -> dict[str, list[str]]:
        if self._form is None:
            self._parse_form()
        return self._form  # type: ignore[return-value]

    @property
    def files(self) -> dict[str, UploadedFile]:
        if self._files is None:
            self._parse_form()
        return self._files  # type: ignore[return-value]

    def param(self, name: str, default: str | None = None) -> str | None:
        """First value of a parameter from the query string or the body (form, multipart or JSON)."""
        for source in (self.query, self.form):
            if name in source and source[name]:
                return source[name][0]
        return default

    def params(self, name: str) -> list[str]:
        return self.query.get(name, []) + self.form.get(name, [])


@dataclass
class Response:
    status: int = 200
    body: Any = None  # dict/list -> JSON; bytes/str sent as is
    headers: dict[str, str] = field(default_factory=dict)

    def encode(self) -> tuple[bytes, dict[str, str]]:
        headers = dict(self.headers)
        if isinstance(self.body, bytes):
            data = self.body
        elif isinstance(self.body, str):
            data = self.body.encode("utf-8")
            headers.setdefault("Content-Type", "text/plain; charset=utf-8")
        elif self.body is None:
            data = b""
        else:
            data = json.dumps(self.body, ensure_ascii=False).encode("utf-8")
            headers.setdefault("Content-Type", "application/json; charset=utf-8")
        return data, headers


def json_response(body: Any, status: int = 200, **headers: str) -> Response:
    return Response(status, body, dict(headers))


Handler = Callable[..., Response]


class Router:
    """Routes `(method, path regex)` to handlers; named groups become keyword arguments."""

    def __init__(self) -> None:
        self._routes: list[tuple[str, re.Pattern[str], Handler]] = []

    def add(self, method: str, pattern: str, handler: Handler) -> None:
        self._routes.append((method.upper(), re.compile(f"^{pattern}$"), handler))

    def dispatch(self, req: Request) -> Response | None:
        allowed = False
        for method, pattern, handler in self._routes:
            match = pattern.match(req.path)
            if match:
                if method == req.method:
                    return handler(req, **match.groupdict())
                allowed = True
        if allowed:
            return Response(405, {"error": "Method not allowed"})
        return None


def free_port(host: str = "127.0.0.1") -> int:
    """A port nobody listens on right now (for servers started as separate processes)."""
    with socket.socket() as sock:
        sock.bind((host, 0))
        return sock.getsockname()[1]


class Drop(Exception):
    """Raised by a fault: close the connection without an answer."""


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    wbufsize = -1  # buffered: headers and body leave in one flush
    server: SandboxHTTPServer

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - quiet by default
        if self.server.verbose:
            super().log_message(format, *args)

    def _handle(self) -> None:
        parts = urlsplit(self.path)
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        req = Request(method=self.command, path=parts.path, sent_path=parts.path,
                      query=parse_qs(parts.query, keep_blank_values=True),
                      headers={k.lower(): v for k, v in self.headers.items()}, body=body)
        try:
            response = self.server.app(req)
        except Drop:
            self.close_connection = True
            return
        data, headers = response.encode()
        try:
            self.send_response(response.status)
            for name, value in headers.items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(data)
            self.wfile.flush()
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True

    do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = do_HEAD = _handle


class SandboxHTTPServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, app: Callable[[Request], Response], host: str = "127.0.0.1", port: int = 0,
                 *, verbose: bool = False) -> None:
        self.app = app
        self.verbose = verbose
        super().__init__((host, port), _Handler)
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        host, port = self.server_address[:2]
        return f"http://{host}:{port}"

    def start(self) -> SandboxHTTPServer:
        self._thread = threading.Thread(target=self.serve_forever, kwargs={"poll_interval": 0.05},
                                        name="sandbox-http", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self.shutdown()
        self.server_close()
        if self._thread:
            self._thread.join(timeout=5)

    def __enter__(self) -> SandboxHTTPServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
