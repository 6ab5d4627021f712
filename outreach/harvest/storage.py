"""The fast storage path for metrics: Core `executemany` inserts with integer epochs, no ORM objects.

Snapshots are appended (never updated, never pruned); the rollup (`post_metrics_latest`) and the
youth estimates are upserted, so dashboard queries read one row per post whatever the history length.
Every writer of metrics (the harvester, the synthetic history, imports) goes through here.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from sqlalchemy import Connection, Table, bindparam, case, func, insert

from outreach.db.models import AudienceSnapshot, EngagementSnapshot, PostMetricsLatest, PostYouthEstimate
from outreach.db.prepared import Prepared
from outreach.domain import METRIC_NAMES, AudienceRow

VALUE_COLUMNS = (*METRIC_NAMES, "youth_reach")
SNAPSHOTS: Table = EngagementSnapshot.__table__  # type: ignore[assignment]
ROLLUP: Table = PostMetricsLatest.__table__  # type: ignore[assignment]
YOUTH: Table = PostYouthEstimate.__table__  # type: ignore[assignment]
AUDIENCE: Table = AudienceSnapshot.__table__  # type: ignore[assignment]


def snapshot_row(post_id: int, captured_at: int, values: dict[str, int | None],
                 raw: dict[str, Any] | None, *, api_version: str | None = None,
                 definition: str | None = None) -> dict[str, Any]:
    """One `engagement_snapshots` row as the storage path takes it (normalised values + raw, with the
    API version and metric definitions they were taken under)."""
    row: dict[str, Any] = {"post_id": post_id, "captured_at": int(captured_at), "raw": raw,
                           "api_version": api_version, "definition": definition}
    for name in VALUE_COLUMNS:
        row[name] = values.get(name)
    return row


def append_snapshots(conn: Connection, rows: Sequence[dict[str, Any]]) -> int:
    """Append snapshot rows (dicts from `snapshot_row`) in one executemany; returns the count."""
    if rows:
        _prepared(conn, "snapshots").run_many(conn, rows)
    return len(rows)


SNAPSHOT_COLUMNS = ("post_id", "captured_at", "raw", "api_version", "definition", *VALUE_COLUMNS)


def _prepared(conn: Connection, kind: str) -> Prepared:
    """The storage path's two statements compiled once per dialect (`outreach.db.prepared`): rows go to the
    driver's executemany without SQLAlchemy's per-statement execution machinery (P3)."""
    key = (kind, conn.dialect.name)
    if key not in _PREPARED:
        if kind == "snapshots":
            stmt = insert(SNAPSHOTS).values({c: bindparam(c, type_=SNAPSHOTS.c[c].type) for c in SNAPSHOT_COLUMNS})
        else:
            stmt = _rollup_statement(_insert_for(conn, ROLLUP).values(
                {c: bindparam(c, type_=ROLLUP.c[c].type) for c in ROLLUP_DEFAULTS}))
        _PREPARED[key] = Prepared(stmt, conn.dialect)
    return _PREPARED[key]


_PREPARED: dict[tuple[str, str], Prepared] = {}


def _insert_for(conn: Connection, table: Table) -> Any:
    """The dialect's INSERT that knows ON CONFLICT (SQLite and PostgreSQL share the syntax)."""
    if conn.dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert as dialect_insert
    else:
        from sqlalchemy.dialects.sqlite import insert as dialect_insert
    return dialect_insert(table)


ROLLUP_DEFAULTS: dict[str, Any] = {"post_id": None, "captured_at": None, "snapshots": 1, "gone_at": None,
                                   "next_harvest_at": None, **{name: None for name in VALUE_COLUMNS}}


def _rollup_statement(stmt: Any) -> Any:
    new, cur = stmt.excluded, ROLLUP.c
    updates: dict[str, Any] = {
        "captured_at": new.captured_at,
        "snapshots": cur.snapshots + new.snapshots,
        "next_harvest_at": new.next_harvest_at,
        "gone_at": case((new.gone_at.is_(None), None), else_=func.coalesce(cur.gone_at, new.gone_at)),
    }
    for name in VALUE_COLUMNS:
        updates[name] = func.coalesce(new[name], cur[name])
    return stmt.on_conflict_do_update(index_elements=[cur.post_id], set_=updates)


def upsert_rollup(conn: Connection, rows: Sequence[dict[str, Any]]) -> None:
    """Fold snapshots into the latest-values rollup. Each row: post_id, captured_at, the value
    columns, next_harvest_at, gone_at and `snapshots` (how many snapshots it stands for, usually 1).
    A value the platform did not report (None) keeps the last known one."""
    if not rows:
        return
    _prepared(conn, "rollup").run_many(conn, ({**ROLLUP_DEFAULTS, **row} for row in rows))


def upsert_youth_estimates(conn: Connection, rows: Sequence[dict[str, Any]]) -> None:
    """Rows: post_id, share, estimated, source_metric, source_captured_at, young."""
    if not rows:
        return
    stmt = _insert_for(conn, YOUTH)
    new = stmt.excluded
    updates = {name: new[name] for name in ("share", "estimated", "source_metric", "source_captured_at", "young")}
    conn.execute(stmt.on_conflict_do_update(index_elements=[YOUTH.c.post_id], set_=updates), list(rows))


def append_audience(conn: Connection, channel: str, captured_at: int, rows: Iterable[AudienceRow]) -> int:
    """Append one audience snapshot (all its breakdown cells) for a channel."""
    batch = [{"channel": channel, "captured_at": int(captured_at), "metric": r.metric, "timeframe": r.timeframe,
              "age_bucket": r.age_bucket, "gender": r.gender, "value": float(r.value)} for r in rows]
    if batch:
        conn.execute(insert(AUDIENCE), batch)
    return len(batch)
