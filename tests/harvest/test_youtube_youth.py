"""Measured youth reach from YouTube Analytics: a real harvest pass over HTTP against the YouTube
simulation stores views × the young viewers' share in the snapshot (measured), keeps the basis in
the raw values, and stores nothing below the privacy threshold (unknown, never 0)."""

from __future__ import annotations

import hashlib
import random
import uuid
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import select

from outreach.config import parse_settings
from outreach.connectors.base import MemoryCredentialStore
from outreach.db.models import EngagementSnapshot, Post, PostMetricsLatest, PostYouthEstimate
from outreach.domain import MediaItem, PostStatus, PublishRequest
from outreach.harvest import HarvestSettings, harvest_due
from outreach.harvest.settings import AgeRange
from outreach.publishing import ConnectorCache
from outreach.sandbox.youtube import DEMO_CLIENT_ID, DEMO_CLIENT_SECRET, DEMO_REFRESH_TOKEN, YouTubeSim
from outreach.sandbox.youtube_wire import viewer_percentages
from tests.clock import FakeClock

START = datetime(2026, 11, 2, 10, 0, tzinfo=UTC)


@pytest.fixture
def world(serve_sandbox, sqlite_db, monkeypatch, tmp_path: Path):  # type: ignore[no-untyped-def]
    clock = FakeClock(START)
    sim = YouTubeSim(clock=clock)
    sandbox, url = serve_sandbox(sim)
    sim.sandbox = sandbox  # type: ignore[attr-defined]  # for fault injection in a test
    for key, value in (("ID", DEMO_CLIENT_ID), ("SECRET", DEMO_CLIENT_SECRET), ("REFRESH", DEMO_REFRESH_TOKEN)):
        monkeypatch.setenv(f"YT_HARVEST_{key}", value)
    settings = parse_settings({"channels": {"peer-youtube": {
        "platform": "youtube", "base_url": f"{url}/youtube", "token_url": f"{url}/youtube/token",
        "analytics_url": f"{url}/youtube/analytics", "client_id_env": "YT_HARVEST_ID",
        "client_secret_env": "YT_HARVEST_SECRET", "refresh_token_env": "YT_HARVEST_REFRESH"}}}, source="test")
    connectors = ConnectorCache(settings, clock=clock, credentials=MemoryCredentialStore())
    video = tmp_path / "clip.mp4"
    video.write_bytes(random.Random(1).randbytes(300_000))
    return clock, sim, sqlite_db, settings, connectors, video


def publish(world, n: int) -> list[int]:  # type: ignore[no-untyped-def]
    """Upload through the connector and record the posts as the dispatcher would have."""
    clock, _, db, _, connectors, video = world
    ids = []
    for i in range(n):
        text = f"Bijeenkomst {i} {uuid.uuid4().hex[:6]}"
        req = PublishRequest(post_id=i, text=text, language="nl", idempotency_key=f"k{i}",
                             media=(MediaItem(str(video), mime_type="video/mp4"),))
        result = connectors("peer-youtube").publish(req, save_handle=lambda handle: None)
        with db.write() as s:
            post = Post(source_key=f"yt/{i}", rule_key="yt", channel="peer-youtube", platform="youtube",
                        language="nl", text=text, media=[], content_hash=hashlib.sha256(text.encode()).hexdigest(),
                        due_at=clock(), status=PostStatus.PUBLISHED.value, idempotency_key=f"k{i}",
                        remote_id=result.remote_id, published_at=clock())
            s.add(post)
            s.flush()
            ids.append(post.id)
    return ids


def test_measured_youth_reach_is_views_times_the_young_viewers_share(world) -> None:  # type: ignore[no-untyped-def]
    clock, sim, db, settings, connectors, _ = world
    connectors("peer-youtube").poll_interval_s = 0
    [post_id] = publish(world, 1)
    clock.advance(hours=72)
    report = harvest_due(db, settings, connectors, now=clock(), hs=HarvestSettings())
    assert report.channels[0].status == "ok", report.lines()
    with db.session() as s:
        [snap] = s.scalars(select(EngagementSnapshot).where(EngagementSnapshot.post_id == post_id)).all()
        remote_id = s.get(Post, post_id).remote_id
        latest = s.get(PostMetricsLatest, post_id)
        assert s.get(PostYouthEstimate, post_id) is None  # measured, never mixed with an estimate
    rows = viewer_percentages(remote_id)
    young_share = sum(p for age, _, p in rows if age in ("age13-17", "age18-24")) / 100
    views = snap.raw["analytics_views"]
    assert views == snap.views > 50
    assert snap.youth_reach == round(views * young_share) == latest.youth_reach
    assert snap.raw["age_shares"]["65+"] > 0 and "logged-in viewers" in snap.raw["youth_basis"]
    narrow = HarvestSettings(young=AgeRange(18, 24))  # the youth definition is the harvest's, not YouTube's
    clock.advance(hours=96)
    harvest_due(db, settings, connectors, now=clock(), hs=narrow)
    with db.session() as s:
        later = s.scalars(select(EngagementSnapshot).where(EngagementSnapshot.post_id == post_id)
                          .order_by(EngagementSnapshot.captured_at)).all()[-1]
    assert later.youth_reach == round(later.raw["analytics_views"]
                                      * sum(p for age, _, p in rows if age == "age18-24") / 100)


def test_below_the_privacy_threshold_youth_reach_stays_unknown(world) -> None:  # type: ignore[no-untyped-def]
    clock, sim, db, settings, connectors, _ = world
    sim.control("set", {"analytics_threshold_views": 10**9})
    [post_id] = publish(world, 1)
    clock.advance(hours=24)
    harvest_due(db, settings, connectors, now=clock(), hs=HarvestSettings())
    with db.session() as s:
        [snap] = s.scalars(select(EngagementSnapshot).where(EngagementSnapshot.post_id == post_id)).all()
    assert snap.views and snap.youth_reach is None and "age_shares" not in snap.raw


def test_analytics_failing_keeps_the_counts(world) -> None:  # type: ignore[no-untyped-def]
    clock, sim, db, settings, connectors, _ = world
    [post_id] = publish(world, 1)
    clock.advance(hours=24)
    forbidden = {"error": {"code": 403, "message": "Forbidden", "errors": [{"reason": "forbidden"}]}}
    sim.sandbox.add_fault(platform="youtube", mode="error", path="/analytics", status=403, body=forbidden,
                          times=None)
    report = harvest_due(db, settings, connectors, now=clock(), hs=HarvestSettings())
    assert report.channels[0].status == "ok"
    with db.session() as s:
        [snap] = s.scalars(select(EngagementSnapshot).where(EngagementSnapshot.post_id == post_id)).all()
    assert snap.views and snap.youth_reach is None and "analytics_views" not in snap.raw


def test_watch_time_is_youtube_analytics_minutes_in_seconds(world) -> None:  # type: ignore[no-untyped-def]
    """estimatedMinutesWatched arrives in minutes and is stored once in seconds (`watch_time_s`); the
    average view duration stays in the raw values only (an average does not add up across videos)."""
    clock, _, db, settings, connectors, _ = world
    connectors("peer-youtube").poll_interval_s = 0
    [post_id] = publish(world, 1)
    clock.advance(hours=72)
    harvest_due(db, settings, connectors, now=clock(), hs=HarvestSettings())
    with db.session() as s:
        [snap] = s.scalars(select(EngagementSnapshot).where(EngagementSnapshot.post_id == post_id)).all()
        latest = s.get(PostMetricsLatest, post_id)
    minutes = snap.raw["estimatedMinutesWatched"]
    assert minutes > 0 and snap.watch_time_s == minutes * 60 == latest.watch_time_s
    assert 12 <= snap.raw["averageViewDuration"] <= 40
