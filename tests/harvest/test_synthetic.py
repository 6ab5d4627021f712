"""The synthetic five-year history at a small scale: deterministic, consistent rollups, progress."""

from __future__ import annotations

from datetime import UTC
from pathlib import Path

from sqlalchemy import func, select

from outreach import analytics
from outreach.connectors.youtube import YouTubeConnector
from outreach.db import Database
from outreach.db.migrate import upgrade
from outreach.db.models import EngagementSnapshot, Meeting, Post, PostMetricsLatest, PostYouthEstimate
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
    assert platforms == {"instagram", "facebook", "threads", "bluesky", "mastodon", "linkedin", "youtube"}
    overall = analytics.totals(db)[0]
    assert overall.youth.posts[ReachKind.ESTIMATED] > 0 and overall.youth.get(ReachKind.OFFLINE).known
    assert overall.youth.posts[ReachKind.MEASURED] > 0  # the YouTube recaps
    for database in (db, again, other):
        database.dispose()


def test_youtube_recaps_carry_measured_youth_reach_after_the_data_delay(tmp_path: Path) -> None:
    """Each community meeting's recap is a YouTube video: no youth figure in its first three days (YouTube
    Analytics' delay) or below its view threshold, then views x the young viewers' share; never estimated."""
    db, _, _ = build(tmp_path / "a.db", seed=3)
    with db.session() as s:
        videos = s.scalars(select(Post).where(Post.platform == "youtube", Post.status == "published")).all()
        assert videos and {(p.rule_key, p.language) for p in videos} == {("recap", "nl")}
        seen_before = seen_after = 0
        for post in videos:
            published = int(post.published_at.replace(tzinfo=UTC).timestamp())
            for snap in s.scalars(select(EngagementSnapshot).where(EngagementSnapshot.post_id == post.id)):
                if snap.captured_at - published < YouTubeConnector.analytics_delay_s \
                        or snap.views < YouTubeConnector.analytics_min_views:
                    assert snap.youth_reach is None and "age_shares" not in snap.raw
                    seen_before += 1
                    continue
                shares = snap.raw["age_shares"]
                assert abs(sum(shares.values()) - 100) < 0.1
                young = (shares["13-17"] + shares["18-24"]) / sum(shares.values())  # percentages, rounded
                assert snap.youth_reach == round(snap.views * young)
                assert "logged-in viewers" in snap.raw["youth_basis"]
                seen_after += 1
            assert s.get(PostYouthEstimate, post.id) is None
        assert seen_before and seen_after
        measured = [analytics.post_youth(db, p.id) for p in videos]
    assert {y.kind for y in measured} == {ReachKind.MEASURED}
    db.dispose()
