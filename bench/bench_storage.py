"""P3: what a harvest pass writes (snapshots appended, the latest-values rollup upserted), through the
storage path and through bare `sqlite3.executemany` of the same rows and statements into the same
tables and indexes, in the same run: several rounds, alternating who goes first, median ratio
(goal <= 1.5x).

    python -m bench storage                      # 5 rounds of 200,000 snapshots
    BENCH_SNAPSHOTS=1000000 python -m bench storage
"""

from __future__ import annotations

import json
import os
import sqlite3
import statistics
import tempfile
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import insert

from outreach.db import Database
from outreach.db.migrate import upgrade
from outreach.db.models import Post
from outreach.harvest.storage import VALUE_COLUMNS, append_snapshots, snapshot_row, upsert_rollup

ROWS = int(os.environ.get("BENCH_SNAPSHOTS", "200000"))
ROUNDS = int(os.environ.get("BENCH_ROUNDS", "5"))
CHUNK = 5_000  # one harvest pass (the harvester writes a batch of posts per transaction)
POSTS = 25_000
SNAPSHOT_COLUMNS = ("post_id", "captured_at", *VALUE_COLUMNS, "raw", "api_version", "definition")
ROLLUP_COLUMNS = ("post_id", "captured_at", "snapshots", "next_harvest_at", "gone_at", *VALUE_COLUMNS)
# The harvester's rollup statement, written out by hand: the baseline does the same work in bare SQL.
BARE_ROLLUP = (f"INSERT INTO post_metrics_latest ({', '.join(ROLLUP_COLUMNS)}) "
               f"VALUES ({', '.join('?' * len(ROLLUP_COLUMNS))}) ON CONFLICT (post_id) DO UPDATE SET "
               "captured_at = excluded.captured_at, snapshots = post_metrics_latest.snapshots + excluded.snapshots, "
               "next_harvest_at = excluded.next_harvest_at, gone_at = CASE WHEN excluded.gone_at IS NULL THEN NULL "
               "ELSE coalesce(post_metrics_latest.gone_at, excluded.gone_at) END, "
               + ", ".join(f"{c} = coalesce(excluded.{c}, post_metrics_latest.{c})" for c in VALUE_COLUMNS))
BARE_SNAPSHOT = (f"INSERT INTO engagement_snapshots ({', '.join(SNAPSHOT_COLUMNS)}) "
                 f"VALUES ({', '.join('?' * len(SNAPSHOT_COLUMNS))})")


def rows(first: int, n: int) -> tuple[list[dict], list[dict]]:
    """Deterministic snapshot and rollup rows, as a harvest pass produces them (raw names, API version
    and definition set kept; one rollup row per snapshot)."""
    snapshots, rollups = [], []
    for i in range(first, first + n):
        likes = i % 97
        values = {"views": i % 5000, "reach": i % 3000, "likes": likes, "comments": i % 7, "shares": i % 11,
                  "saves": None, "clicks": None, "watch_time_s": None, "youth_reach": None}
        post, at = 1 + i % POSTS, 1_800_000_000 + i
        snapshots.append(snapshot_row(post, at, values,
                                      {"favourites_count": likes, "replies_count": i % 7, "reblogs_count": i % 11},
                                      api_version="v1", definition="mastodon@2016-01-01"))
        rollups.append({"post_id": post, "captured_at": at, **values, "next_harvest_at": at + 86_400,
                        "gone_at": None})
    return snapshots, rollups


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


def chunks() -> Iterator[tuple[list[dict], list[dict]]]:
    """The same rows for both contenders, built pass by pass outside the timed part."""
    for first in range(0, ROWS, CHUNK):
        yield rows(first, min(CHUNK, ROWS - first))


def through_storage(db: Database) -> float:
    elapsed = 0.0
    for snapshots, rollups in chunks():
        start = time.perf_counter()
        with db.engine.begin() as conn:
            append_snapshots(conn, snapshots)
            upsert_rollup(conn, rollups)
        elapsed += time.perf_counter() - start
    return elapsed


def through_sqlite3(path: Path) -> float:
    """The baseline: the same two statements with tuples, one transaction per pass, on a connection set
    up as outreach's engine sets up its own (WAL, synchronous NORMAL, foreign keys on)."""
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=NORMAL")
    conn.execute("PRAGMA foreign_keys=ON")
    elapsed = 0.0
    for snapshots, rollups in chunks():
        start = time.perf_counter()
        conn.execute("BEGIN")
        conn.executemany(BARE_SNAPSHOT, [(*(r[c] for c in SNAPSHOT_COLUMNS[:-3]), json.dumps(r["raw"]),
                                          r["api_version"], r["definition"]) for r in snapshots])
        conn.executemany(BARE_ROLLUP, [(r["post_id"], r["captured_at"], 1, r["next_harvest_at"], r["gone_at"],
                                        *(r[c] for c in VALUE_COLUMNS)) for r in rollups])
        conn.execute("COMMIT")
        elapsed += time.perf_counter() - start
    conn.close()
    return elapsed


def same_tables(a: Path, b: Path) -> None:
    """Both contenders wrote the same rows: a baseline that does less work would flatter the ratio."""
    query = ("SELECT count(*), sum(post_id), sum(coalesce(likes, 0)), count(definition), "
             "(SELECT sum(snapshots) + sum(coalesce(reach, 0)) FROM post_metrics_latest) FROM engagement_snapshots")
    with sqlite3.connect(a) as ca, sqlite3.connect(b) as cb:
        left, right = ca.execute(query).fetchone(), cb.execute(query).fetchone()
    if left != right:
        raise AssertionError(f"storage path and baseline wrote different tables: {left} vs {right}")


def one_round(directory: Path, number: int) -> tuple[float, float]:
    ours = fresh_db(directory, f"storage{number}.db")
    fresh_db(directory, f"bare{number}.db").dispose()
    if number % 2:  # alternate who goes first: the disk cache favours neither
        storage, bare = through_storage(ours), through_sqlite3(directory / f"bare{number}.db")
    else:
        bare, storage = through_sqlite3(directory / f"bare{number}.db"), through_storage(ours)
    ours.dispose()
    same_tables(directory / f"storage{number}.db", directory / f"bare{number}.db")
    for name in (f"storage{number}.db", f"bare{number}.db"):
        for leftover in directory.glob(name + "*"):
            leftover.unlink()
    return storage, bare


def main(quick: bool = False) -> None:
    global ROWS
    if quick:
        ROWS = min(ROWS, 20_000)
    results = []
    with tempfile.TemporaryDirectory() as tmp:
        for number in range(ROUNDS):
            storage, bare = one_round(Path(tmp), number)
            results.append((storage, bare))
            print(f"  round {number + 1}: storage {storage:6.2f} s, bare {bare:6.2f} s, "
                  f"ratio {storage / bare:5.2f}x", flush=True)
    ratio = statistics.median(s / b for s, b in results)
    storage, bare = statistics.median(s for s, _ in results), statistics.median(b for _, b in results)
    print(f"harvest writes: {ROWS:,} snapshots + as many rollup upserts, {ROUNDS} rounds, passes of {CHUNK:,}")
    print(f"  bare sqlite3.executemany  {bare:7.2f} s  ({ROWS / bare:,.0f} snapshots/s, median)")
    print(f"  outreach storage path     {storage:7.2f} s  ({ROWS / storage:,.0f} snapshots/s, median)")
    print(f"  ratio storage / bare      {ratio:7.2f}x  (median of the rounds; goal <= 1.5x)")


if __name__ == "__main__":
    main()
