"""Worker heartbeats: each worker says it is alive; a monitor (or `outreach status`) sees one that is not."""

from __future__ import annotations

import os
import socket
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from outreach import __version__
from outreach.db import Database
from outreach.db.models import WorkerHeartbeat

SILENT_AFTER_INTERVALS = 3  # a worker not heard from for this many intervals counts as dead


@dataclass(frozen=True, slots=True)
class WorkerHealth:
    worker_id: str
    hostname: str
    pid: int
    version: str
    started_at: str
    last_seen: str
    alive: bool  # running and heard from lately (a cleanly stopped worker is not alive)
    stopped: bool

    @property
    def state(self) -> str:
        return "stopped" if self.stopped else "alive" if self.alive else "NOT HEARD FROM"


def beat(db: Database, worker_id: str, *, interval_s: float, now: datetime | None = None,
         starting: bool = False) -> None:
    """Record that `worker_id` is alive (and, when `starting`, who and where it is)."""
    now = now or datetime.now(UTC)
    with db.write() as s:
        row = s.get(WorkerHeartbeat, worker_id)
        if row is None or starting:
            row = row or WorkerHeartbeat(worker_id=worker_id)
            row.hostname, row.pid, row.version = socket.gethostname(), os.getpid(), __version__
            row.started_at, row.stopped_at = now, None
            s.add(row)
        row.last_seen = now
        row.interval_s = interval_s


def stopped(db: Database, worker_id: str, *, now: datetime | None = None) -> None:
    """A clean shutdown: the worker is not dead, it was stopped."""
    now = now or datetime.now(UTC)
    with db.write() as s:
        row = s.get(WorkerHeartbeat, worker_id)
        if row is not None:
            row.stopped_at = row.last_seen = now


def is_silent(row: WorkerHeartbeat, now: datetime) -> bool:
    return row.stopped_at is None and now - row.last_seen > timedelta(seconds=row.interval_s * SILENT_AFTER_INTERVALS)


def workers(db: Database, *, now: datetime | None = None, since: timedelta = timedelta(days=7)) -> list[WorkerHealth]:
    """Workers seen in the last week, newest first, with whether each is alive."""
    now = now or datetime.now(UTC)
    with db.session() as s:
        rows = s.scalars(select(WorkerHeartbeat).where(WorkerHeartbeat.last_seen > now - since)
                         .order_by(WorkerHeartbeat.last_seen.desc()))
        return [WorkerHealth(r.worker_id, r.hostname, r.pid, r.version, r.started_at.isoformat(timespec="seconds"),
                             r.last_seen.isoformat(timespec="seconds"),
                             r.stopped_at is None and not is_silent(r, now), r.stopped_at is not None)
                for r in rows]
