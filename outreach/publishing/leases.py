"""Leases a worker holds on the posts it claimed: how long a request may take, whether one may still be
sent, and a background thread that renews them while a publish runs (uploads, processing polls).

A post is only sent while its lease will outlast the request: a worker checks the time left against
the worst case of one request (`worst_request_s`) right before every send and gives the post back
unsent when it falls short. The renewer extends every lease held here each `lease_s / 4`, so with a
healthy database three quarters of a lease are always left; the configuration must allow one request
in two thirds of a lease (`check_lease`: lease_s >= 3 x http_timeout_s), which leaves a margin. After a kill -9 nobody renews, and
the post is taken over (and reconciled) once `lease_s` has run out.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from datetime import datetime, timedelta

from sqlalchemy import bindparam, update

from outreach.config import ConfigError, WorkerSettings
from outreach.db import Database
from outreach.db.models import Post as PostRow
from outreach.db.models import UTCDateTime
from outreach.domain import PostStatus

log = logging.getLogger("outreach.publishing")

RENEWALS_PER_LEASE = 4  # renewals per lease_s
REQUESTS_IN_LEASE = 2 / 3  # the share of a lease one request may take at most

RENEW = (update(PostRow)
         .where(PostRow.lease_token == bindparam("b_token"), PostRow.status == PostStatus.PUBLISHING.value)
         .values(lease_until=bindparam("until", type_=UTCDateTime)))


def worst_request_s(http_timeout_s: float) -> float:
    """The longest one request to a platform may take: `http_timeout_s` to connect plus
    `http_timeout_s` for the answer — a total deadline `PlatformSession` enforces, so an answer
    trickling in byte by byte cannot outlast it."""
    return 2 * http_timeout_s


def check_lease(lease_s: float, http_timeout_s: float) -> None:
    """Refuse a configuration in which one request can outlive what is left of a renewed lease."""
    needed = worst_request_s(http_timeout_s) / REQUESTS_IN_LEASE
    if lease_s < needed:
        raise ConfigError(
            f"[worker] lease_s = {lease_s:g} is too short for http_timeout_s = {http_timeout_s:g}: one request "
            f"may take {worst_request_s(http_timeout_s):g} s, so worker.lease_s must be at least {needed:g} "
            f"(or lower worker.http_timeout_s to {lease_s * REQUESTS_IN_LEASE / 2:g})")


def check_worker(worker: WorkerSettings) -> None:
    check_lease(worker.lease_s, worker.http_timeout_s)


class Leases:
    """The leases this worker holds, by token: until when each holds (as last written), renewed on a
    background thread while any is held."""

    def __init__(self, db: Database, *, lease: timedelta, clock: Callable[[], datetime]) -> None:
        self.db = db
        self.lease = lease
        self.clock = clock
        self._until: dict[str, datetime] = {}
        self._lock = threading.Lock()
        self._wake = threading.Event()
        self._thread: threading.Thread | None = None
        self._closed = False

    def hold(self, token: str, until: datetime) -> None:
        with self._lock:
            self._until[token] = until
            if self._thread is None and not self._closed:
                self._thread = threading.Thread(target=self._renew_loop, name="lease-renewer", daemon=True)
                self._thread.start()

    def extended(self, token: str, until: datetime) -> None:
        """The lease was written anew (with a handle): it holds until `until`."""
        with self._lock:
            if token in self._until:
                self._until[token] = max(self._until[token], until)

    def release(self, tokens: set[str]) -> None:
        with self._lock:
            for token in tokens:
                self._until.pop(token, None)

    def time_left(self, token: str) -> float:
        with self._lock:
            until = self._until.get(token)
        return 0.0 if until is None else (until - self.clock()).total_seconds()

    def can_send(self, token: str, request_s: float) -> bool:
        """May a request taking up to `request_s` start now on this lease?"""
        return self.time_left(token) > request_s

    def renew(self) -> int:
        """Extend every lease held here (fenced by its token); returns how many posts were renewed.
        A lease another worker has taken over stays lost: its time left runs out here too."""
        with self._lock:
            tokens = list(self._until)
        if not tokens:
            return 0
        now = self.clock()
        until = now + self.lease
        renewed = 0
        with self.db.write_connection() as conn:
            for token in tokens:
                rows = conn.execute(RENEW, {"b_token": token, "until": until}).rowcount
                if rows:
                    renewed += rows
                    self.extended(token, until)
        return renewed

    def _renew_loop(self) -> None:
        period_s = self.lease.total_seconds() / RENEWALS_PER_LEASE
        while not self._wake.wait(period_s):
            with self._lock:
                if not self._until:  # nothing held: the next claim starts the renewer again
                    self._thread = None
                    return
            try:
                self.renew()
            except Exception:  # the database is away: the leases run out and the posts are given back
                log.exception("renewing leases failed")

    def close(self) -> None:
        with self._lock:
            self._closed = True
            thread, self._thread = self._thread, None
        self._wake.set()
        if thread is not None:
            thread.join(timeout=5)
