"""The synthetic five-year history at a small scale: deterministic, consistent rollups, progress."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import func, select

from outreach import analytics
from outreach.db import Database
from outreach.db.migrate import upgrade
from outreach.db.models import EngagementSnapshot, Meeting, Post, PostMetricsLatest
from outreach.domain import MeetingKind
from outreach.harvest import ReachKind
from outreach.harvest.synthetic import generate_history


def build(path: Path, seed: int) -> tuple[Database, object, list]:
    db = Database(f"sqlite:///{path}")
    upgrade(db)
    seen: list = []
    report = generate_history(db, years=5, seed=seed, scale=0.01, progress=lambda *a: seen.append(a))
    return db, report, seen


def fingerprint(db: Database) -> tuple:
    with db.session() as s:
        return (s.scalar(select(func.count()).select_from(EngagementSnapshot)),
                s.scalar(select(func.sum(PostMetricsLatest.reach))),
                tuple(s.scalars(select(Meeting.starts_at).order_by(Meeting.id))))


def test_small_history_is_deterministic_and_consistent(tmp_path: Path) -> None:
    db, report, seen = build(tmp_path / "a.db", seed=7)
    again, _, _ = build(tmp_path / "b.db", seed=7)
    other, _, _ = build(tmp_path / "c.db", seed=8)
    assert fingerprint(db) == fingerprint(again) != fingerprint(other)
    assert report.organisations == 7 and report.snapshots > 20 * report.posts // 2
    assert {stage for stage, *_ in seen} == {"posts", "audience", "snapshots"}
    with db.session() as s:
        assert s.scalar(select(func.count()).where(Meeting.kind == MeetingKind.COMMUNITY.value)) == 7
        post_id = s.scalar(select(PostMetricsLatest.post_id).where(PostMetricsLatest.reach.is_not(None)).limit(1))
        last = s.scalars(select(EngagementSnapshot).where(EngagementSnapshot.post_id == post_id)
                         .order_by(EngagementSnapshot.captured_at.desc())).first()
        latest = s.get(PostMetricsLatest, post_id)
        n = s.scalar(select(func.count()).where(EngagementSnapshot.post_id == post_id))
        platforms = set(s.scalars(select(Post.platform).distinct()))
    assert (latest.reach, latest.captured_at, latest.snapshots) == (last.reach, last.captured_at, n)
    assert platforms == {"instagram", "facebook", "threads", "bluesky", "mastodon", "linkedin"}
    overall = analytics.totals(db)[0]
    assert overall.youth.posts[ReachKind.ESTIMATED] > 0 and overall.youth.get(ReachKind.OFFLINE).known
    for database in (db, again, other):
        database.dispose()
