"""The storage path's prepared statements (compiled once, `outreach.db.prepared`) write exactly what
SQLAlchemy's generic statements write, including the rollup's keep-the-last-known-value rule."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import insert, select
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from outreach.db import Database
from outreach.db.migrate import upgrade
from outreach.db.models import Post
from outreach.harvest import storage
from outreach.harvest.storage import ROLLUP, ROLLUP_DEFAULTS, SNAPSHOTS, snapshot_row


def database(path: Path) -> Database:
    db = Database(f"sqlite:///{path}")
    upgrade(db)
    with db.engine.begin() as conn:
        conn.execute(insert(Post.__table__), [
            {"id": i, "source_key": f"s/{i}", "channel": "c", "platform": "youtube", "language": "nl", "text": "",
             "media": [], "content_hash": "", "due_at": datetime(2027, 1, 1, tzinfo=UTC), "status": "published",
             "idempotency_key": f"k{i}", "handle": {}} for i in (1, 2)])
    return db


def passes() -> list[tuple[list[dict], list[dict]]]:
    first = [snapshot_row(1, 100, {"views": 10, "reach": 8, "youth_reach": 3},
                          {"analytics_views": 10, "youth_basis": "logged-in viewers"}, api_version="v3",
                          definition="youtube@2025-03-31"),
             snapshot_row(2, 100, {"views": 5}, None)]
    second = [snapshot_row(1, 200, {"views": 12}, {"missing": True})]  # reach not reported: the last one stays
    rollup = [[{"post_id": r["post_id"], "captured_at": r["captured_at"], "views": r["views"], "reach": r["reach"],
                "youth_reach": r["youth_reach"], "next_harvest_at": 900}] for r in first]
    return [(first, [row for rows in rollup for row in rows]),
            (second, [{"post_id": 1, "captured_at": 200, "views": 12, "gone_at": 200}])]


def test_prepared_storage_writes_what_the_generic_statements_write(tmp_path: Path) -> None:
    fast, generic = database(tmp_path / "fast.db"), database(tmp_path / "generic.db")
    for snapshots, rollups in passes():
        with fast.engine.begin() as conn:
            storage.append_snapshots(conn, snapshots)
            storage.upsert_rollup(conn, rollups)
        with generic.engine.begin() as conn:
            conn.execute(insert(SNAPSHOTS), snapshots)
            conn.execute(storage._rollup_statement(sqlite_insert(ROLLUP)), [{**ROLLUP_DEFAULTS, **r} for r in rollups])
    tables = []
    for db in (fast, generic):
        with db.engine.connect() as conn:
            tables.append((conn.execute(select(SNAPSHOTS).order_by(SNAPSHOTS.c.id)).all(),
                           conn.execute(select(ROLLUP).order_by(ROLLUP.c.post_id)).all()))
        db.dispose()
    assert tables[0] == tables[1]
    snapshots, rollup = tables[0]
    assert snapshots[0].raw["youth_basis"] == "logged-in viewers" and snapshots[1].raw is None
    assert (rollup[0].views, rollup[0].reach, rollup[0].snapshots, rollup[0].gone_at) == (12, 8, 2, 200)
