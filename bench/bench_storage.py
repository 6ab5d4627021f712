"""Ingest 1M snapshots through the storage path and through bare `sqlite3.executemany` of the same
rows into the same table, in the same run; print both times and the ratio (goal <= 1.5x)."""

from __future__ import annotations

import json
import os
import sqlite3
import tempfile
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import insert

from outreach.db import Database
from outreach.db.migrate import upgrade
from outreach.db.models import Post
from outreach.harvest.storage import VALUE_COLUMNS, append_snapshots, snapshot_row

ROWS = int(os.environ.get("BENCH_SNAPSHOTS", "1000000"))
CHUNK = 50_000
POSTS = 25_000


def rows(first: int, n: int) -> list[dict]:
    """Deterministic snapshot rows, like a harvest pass produces them (raw names kept)."""
    out = []
    for i in range(first, first + n):
        likes = i % 97
        values = {"views": i % 5000, "reach": i % 3000, "likes": likes, "comments": i % 7, "shares": i % 11,
                  "saves": None, "clicks": None, "youth_reach": None}
        out.append(snapshot_row(1 + i % POSTS, 1_800_000_000 + i, values,
                                {"favourites_count": likes, "replies_count": i % 7, "reblogs_count": i % 11}))
    return out


def fresh_db(directory: Path, name: str) -> Database:
    """A migrated database holding the posts the snapshots point at (foreign keys are checked)."""
    db = Database(f"sqlite:///{directory / name}")
    upgrade(db)
    moment = datetime(2027, 1, 1, tzinfo=UTC)
    posts = [{"id": i, "source_key": f"b/{i}", "channel": "c", "platform": "mastodon", "language": "nl",
              "text": "", "media": [], "content_hash": "", "due_at": moment, "status": "published",
              "idempotency_key": f"k{i}", "handle": {}} for i in range(1, POSTS + 1)]
    with db.engine.begin() as conn:
        conn.execute(insert(Post.__table__), posts)
    return db


def chunks() -> Iterator[list[dict]]:
    """The same rows for both contenders, built chunk by chunk outside the timed part (a harvester
    never holds a million rows at once either)."""
    for first in range(0, ROWS, CHUNK):
        yield rows(first, min(CHUNK, ROWS - first))


def through_storage(db: Database) -> float:
    elapsed = 0.0
    for chunk in chunks():
        start = time.perf_counter()
        with db.engine.begin() as conn:
            append_snapshots(conn, chunk)
        elapsed += time.perf_counter() - start
    return elapsed


def through_sqlite3(path: Path) -> float:
    columns = ["post_id", "captured_at", *VALUE_COLUMNS, "raw"]
    sql = f"INSERT INTO engagement_snapshots ({', '.join(columns)}) VALUES ({', '.join('?' * len(columns))})"
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=NORMAL")
    conn.execute("PRAGMA foreign_keys=ON")  # as outreach's engine does
    elapsed = 0.0
    for chunk in chunks():
        start = time.perf_counter()
        conn.execute("BEGIN")
        conn.executemany(sql, [(r["post_id"], r["captured_at"], *(r[c] for c in VALUE_COLUMNS),
                                json.dumps(r["raw"])) for r in chunk])
        conn.execute("COMMIT")
        elapsed += time.perf_counter() - start
    conn.close()
    return elapsed


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        directory = Path(tmp)
        ours = fresh_db(directory, "storage.db")
        fresh_db(directory, "bare.db").dispose()
        bare = through_sqlite3(directory / "bare.db")  # the baseline first, then ours: same disk, same rows
        storage = through_storage(ours)
        ours.dispose()
    print(f"snapshots ingest: {ROWS:,} rows")
    print(f"  bare sqlite3.executemany  {bare:7.2f} s  ({ROWS / bare:,.0f} rows/s)")
    print(f"  outreach storage path     {storage:7.2f} s  ({ROWS / storage:,.0f} rows/s)")
    print(f"  ratio storage / bare      {storage / bare:7.2f}x  (goal <= 1.5x)")


if __name__ == "__main__":
    main()
