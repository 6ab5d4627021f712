"""The HTTP session every connector talks to its platform with.

A plain `requests.Session` reads the environment on every request: the proxy variables twice (to
pick a proxy, then to check NO_PROXY), the CA-bundle variables, and ~/.netrc. On the publishing
path that was the largest cost outside the exchange itself (~0.3 ms of CPU per request here). A
worker's environment does not change while it runs, so `PlatformSession` reads it once per host,
the first time that host is called, and keeps the answer — the same proxies, NO_PROXY exceptions
and CA bundle `requests` would have chosen. Request-level `proxies=`, `verify=`, `cert=` or `stream=`
take requests' own path, unchanged.

~/.netrc never replaces a channel's token: connectors authenticate with the channel's own token, and a
plain session without `auth` swaps an `Authorization` header for a netrc entry for the host (requests'
documented behaviour). The session's `auth` leaves requests as they are, so netrc is not read for
them. (A redirect to another host drops the token, as requests always does; netrc may then supply
credentials for that host.)

One request has a total deadline. `requests` applies its timeout to the connect and to each read
of the socket, so an answer trickling in byte by byte could take any time. The session gives each
request (redirects included, the body read too unless `stream=True`) connect + read timeout in
all — the worst case `publishing.leases.worst_request_s` counts with — plus, for a request that sends a
body, the time that body takes at 50 kB/s (an upload on a slow link is not cut off; the lease is renewed
while it runs); past it one watchdog thread shuts the socket down and the request fails as a timeout.
"""

from __future__ import annotations

import contextlib
import heapq
import itertools
import logging
import socket
import threading
import time
from typing import Any
from urllib.parse import urlsplit

import requests
from requests.adapters import HTTPAdapter
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool

from outreach.redact import strip_url_queries


class _NoQueries(logging.Filter):
    """urllib3's debug lines show each request's path and query: an upload URL's query may be a capability."""

    def filter(self, record: logging.LogRecord) -> bool:
        if record.args or "?" in str(record.msg):
            record.msg, record.args = strip_url_queries(record.getMessage()), ()
        return True


logging.getLogger("urllib3.connectionpool").addFilter(_NoQueries())


def _own_headers(request: requests.PreparedRequest) -> requests.PreparedRequest:
    """Session-level auth that leaves the request as it is (so requests does not look in ~/.netrc)."""
    return request


class _Watch:
    """One socket under a deadline; `fired` once the watchdog cut it."""

    __slots__ = ("deadline", "fired", "live", "sock")

    def __init__(self, deadline: float, sock: socket.socket) -> None:
        self.deadline, self.sock, self.live, self.fired = deadline, sock, True, False


class _Watchdog:
    """One thread for the process: shuts down the socket of a request that outlives its deadline."""

    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._heap: list[tuple[float, int, _Watch]] = []
        self._order = itertools.count()
        self._thread: threading.Thread | None = None
        self._sleeps_until = float("inf")  # the deadline the thread waits for (inf: none)

    def watch(self, deadline: float, sock: socket.socket) -> _Watch:
        watch = _Watch(deadline, sock)
        with self._cond:
            heapq.heappush(self._heap, (deadline, next(self._order), watch))
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="outreach-http-deadline", daemon=True)
                self._thread.start()
            elif deadline < self._sleeps_until:  # only an earlier deadline wakes the thread
                self._cond.notify()
        return watch

    def release(self, watch: _Watch) -> None:
        with self._cond:
            watch.live = False  # dropped from the heap when its time comes

    def _run(self) -> None:
        while True:
            with self._cond:
                while self._heap and not self._heap[0][2].live:  # answered in time: dropped at once,
                    heapq.heappop(self._heap)  # so the thread wakes only for deadlines still open
                if not self._heap:
                    self._sleeps_until = float("inf")
                    self._cond.wait()
                    continue
                deadline, _, watch = self._heap[0]
                wait = deadline - time.monotonic()
                if wait > 0:
                    self._sleeps_until = deadline
                    self._cond.wait(wait)
                    continue
                heapq.heappop(self._heap)
                if watch.live:  # under the lock: a released socket may already serve the next request
                    watch.fired = True
                    with contextlib.suppress(OSError):  # already closed
                        watch.sock.shutdown(socket.SHUT_RDWR)


_WATCHDOG = _Watchdog()
_current = threading.local()  # the running request's deadline and the sockets it used


def _guard(conn: HTTPConnection) -> None:
    deadline = getattr(_current, "deadline", None)
    if deadline is not None and conn.sock is not None:
        _current.watches.append(_WATCHDOG.watch(deadline, conn.sock))


class _Connection(HTTPConnection):
    def connect(self) -> None:
        super().connect()
        _guard(self)

    def request(self, *args: Any, **kwargs: Any) -> None:
        if self.sock is not None:  # a kept-alive connection: a new request, a new deadline
            _guard(self)
        super().request(*args, **kwargs)


class _HTTPSConnection(HTTPSConnection):
    def connect(self) -> None:
        super().connect()
        _guard(self)

    def request(self, *args: Any, **kwargs: Any) -> None:
        if self.sock is not None:
            _guard(self)
        super().request(*args, **kwargs)


class _Pool(HTTPConnectionPool):
    ConnectionCls = _Connection


class _HTTPSPool(HTTPSConnectionPool):
    ConnectionCls = _HTTPSConnection


class _DeadlineAdapter(HTTPAdapter):
    def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
        super().init_poolmanager(*args, **kwargs)
        self.poolmanager.pool_classes_by_scheme = {"http": _Pool, "https": _HTTPSPool}


UPLOAD_FLOOR_BPS = 50_000  # bytes a second: the slowest uplink an upload is given time for (a poor mobile link)


def _total_s(timeout: Any, body_bytes: int = 0) -> float | None:
    """connect + read timeout, plus the time a body of `body_bytes` takes at `UPLOAD_FLOOR_BPS` (a video
    chunk is not cut off on a slow uplink): the most one request may take in all (None: no timeout)."""
    if isinstance(timeout, tuple):
        connect, read = timeout
        if connect is None or read is None:
            return None
        base = float(connect) + float(read)
    elif timeout is None:
        return None
    else:
        base = 2 * float(timeout)
    return base + body_bytes / UPLOAD_FLOOR_BPS


class PlatformSession(requests.Session):
    """A `requests.Session` that resolves the environment's proxy and CA settings once per host,
    and ends a request that outlives connect + read timeout in all."""

    def __init__(self) -> None:
        super().__init__()
        self.auth = _own_headers
        self._environment: dict[tuple[Any, ...], dict[str, Any]] = {}
        self.mount("http://", _DeadlineAdapter())
        self.mount("https://", _DeadlineAdapter())

    def send(self, request: requests.PreparedRequest, **kwargs: Any) -> requests.Response:
        total = _total_s(kwargs.get("timeout"), int(request.headers.get("Content-Length") or 0))
        if total is None or getattr(_current, "deadline", None) is not None:  # a redirect keeps its deadline
            return super().send(request, **kwargs)
        _current.deadline, _current.watches = time.monotonic() + total, []
        try:
            try:
                response = super().send(request, **kwargs)
            except requests.RequestException:
                if any(w.fired for w in _current.watches):
                    raise requests.ReadTimeout(f"no complete answer within {total:g} s") from None
                raise
            if any(w.fired for w in _current.watches):  # a body read to the cut end is not the answer
                response.close()
                raise requests.ReadTimeout(f"no complete answer within {total:g} s")
            return response
        finally:
            for watch in _current.watches:
                _WATCHDOG.release(watch)
            _current.deadline, _current.watches = None, []

    def merge_environment_settings(self, url: str | bytes | None, proxies: Any, stream: Any, verify: Any,
                                   cert: Any) -> dict[str, Any]:
        if proxies or stream is not None or verify is not None or cert is not None or not isinstance(url, str):
            return super().merge_environment_settings(url, proxies, stream, verify, cert)
        scheme, host = urlsplit(url)[:2]
        # The session's own settings are part of the key: changing them takes effect at once.
        key = (scheme, host, self.trust_env, tuple(sorted(self.proxies.items())), self.stream, self.verify,
               self.cert)
        settings = self._environment.get(key)
        if settings is None:
            settings = self._environment[key] = super().merge_environment_settings(url, {}, None, None, None)
        return {**settings, "proxies": dict(settings["proxies"])}
