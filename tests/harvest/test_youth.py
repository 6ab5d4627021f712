"""Youth reach per post: audience snapshots over real HTTP (Instagram sandbox), the youth share and
the nearest-snapshot estimate, by hand-computed cases."""

from __future__ import annotations

import hashlib
import uuid
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from outreach import analytics
from outreach.config import parse_settings
from outreach.connectors.instagram import InstagramConnector
from outreach.connectors.mastodon import MastodonConnector
from outreach.db.models import AudienceSnapshot, EngagementSnapshot, Post, PostYouthEstimate
from outreach.domain import AudienceRow, PostStatus
from outreach.harvest import AgeRange, HarvestSettings, ReachKind, audience_due, harvest_due
from outreach.harvest.storage import append_audience
from outreach.harvest.youth import parse_bucket, youth_share
from outreach.sandbox.instagram import DEMO_TOKEN as IG_TOKEN
from outreach.sandbox.instagram import InstagramSim
from outreach.sandbox.mastodon import DEMO_TOKEN, MastodonSim
from outreach.sandbox.meta import Published

from .conftest import START, FakeClock


def test_bucket_parsing_and_share_by_hand() -> None:
    assert parse_bucket("18-24") == (18, 24) and parse_bucket("65+") == (65, 120) and parse_bucket("U") is None
    cells = [("13-17", None, 50), ("18-24", None, 150), ("25-34", None, 200), ("35-44", None, 100)]
    assert youth_share(cells, AgeRange(13, 24)) == pytest.approx(200 / 500)
    assert youth_share(cells, AgeRange(18, 24)) == pytest.approx(150 / 500)
    # a bucket straddling the range counts pro rata: 13-20 holds 3 of the 7 ages 18-24
    assert youth_share(cells, AgeRange(13, 20)) == pytest.approx((50 + 150 * 3 / 7) / 500)
    # without age-only cells, age x gender cells are summed per age; gender-only cells never count
    by_gender = [("13-17", "F", 30), ("13-17", "M", 20), ("25-34", "F", 50), (None, "F", 999)]
    assert youth_share(by_gender, AgeRange()) == pytest.approx(0.5)
    assert youth_share([(None, "F", 10)], AgeRange()) is None


@pytest.fixture
def ig_world(serve_sandbox, sqlite_db, monkeypatch):  # type: ignore[no-untyped-def]
    clock = FakeClock()
    ig, masto = InstagramSim(clock=clock), MastodonSim(clock=clock)
    sandbox, url = serve_sandbox(ig, masto)
    monkeypatch.setenv("T_IG", IG_TOKEN)
    monkeypatch.setenv("T_MASTO", DEMO_TOKEN)
    settings = parse_settings({"channels": {
        "peer-instagram": {"platform": "instagram", "base_url": f"{url}/instagram", "token_env": "T_IG"},
        "peer-mastodon": {"platform": "mastodon", "base_url": f"{url}/mastodon", "token_env": "T_MASTO"},
        "peer-whatsapp": {"platform": "manual"},
    }}, source="test")
    made: dict = {}

    def connectors(channel: str):  # type: ignore[no-untyped-def]
        # Instagram is not in the registry yet: build the connectors explicitly.
        if channel not in made:
            cls = InstagramConnector if channel == "peer-instagram" else MastodonConnector
            made[channel] = cls(settings.channel(channel), clock=clock, sleep=lambda s: None)
        return made[channel]

    return sqlite_db, settings, clock, ig, connectors, sandbox


def test_audience_snapshots_daily_for_channels_with_age(ig_world) -> None:  # type: ignore[no-untyped-def]
    db, settings, clock, _, connectors, sandbox = ig_world
    report = audience_due(db, settings, connectors, now=clock())
    assert list(report.captured) == ["peer-instagram"] and report.captured["peer-instagram"] > 0
    with db.session() as s:
        rows = s.scalars(select(AudienceSnapshot)).all()
    assert {r.metric for r in rows} == {"follower_demographics", "engaged_audience_demographics"}
    assert {r.timeframe for r in rows} == {"this_month"}
    assert "13-17" in {r.age_bucket for r in rows} and {"F", "M"} <= {r.gender for r in rows}
    assert all(r.captured_at == int(clock().timestamp()) for r in rows)
    calls = len(sandbox.requests_seen)
    clock.advance(hours=23)
    assert audience_due(db, settings, connectors, now=clock()).captured == {}
    assert len(sandbox.requests_seen) == calls  # not asked again within the day
    clock.advance(hours=1)
    assert audience_due(db, settings, connectors, now=clock()).captured["peer-instagram"] == len(rows)


def _instagram_post(db, ig: InstagramSim, published: datetime) -> int:  # type: ignore[no-untyped-def]
    media = Published(id=ig.new_id(17920238420000000), text="Bijeenkomst", created_at=published)
    ig.media[media.id] = media
    with db.write() as s:
        post = Post(source_key=f"t/{uuid.uuid4().hex[:6]}", channel="peer-instagram", platform="instagram",
                    language="nl", text="Bijeenkomst", media=[], content_hash=hashlib.sha256(b"x").hexdigest(),
                    due_at=published, status=PostStatus.PUBLISHED.value, idempotency_key=str(uuid.uuid4()),
                    remote_id=media.id, published_at=published)
        s.add(post)
        s.flush()
        return post.id


def _audience(db, at: datetime, counts: dict[str, int]) -> None:  # type: ignore[no-untyped-def]
    with db.engine.begin() as conn:
        append_audience(conn, "peer-instagram", int(at.timestamp()),
                        [AudienceRow("follower_demographics", v, age_bucket=k, timeframe="this_month")
                         for k, v in counts.items()])


def test_estimated_youth_reach_uses_the_nearest_audience_snapshot(ig_world) -> None:  # type: ignore[no-untyped-def]
    db, settings, clock, ig, connectors, _ = ig_world
    published = START - timedelta(days=2)
    post_id = _instagram_post(db, ig, published)
    _audience(db, published - timedelta(days=10), {"18-24": 100, "25-34": 100})  # share 0.5, far
    near = published + timedelta(hours=20)
    _audience(db, near, {"13-17": 50, "18-24": 150, "25-34": 200, "35-44": 100})  # share 0.4, nearest
    report = harvest_due(db, settings, connectors, now=clock(), hs=HarvestSettings())
    assert report.snapshots == 1, report.lines()
    with db.session() as s:
        snap = s.scalars(select(EngagementSnapshot)).one()
        estimate = s.get(PostYouthEstimate, post_id)
    assert snap.reach and snap.raw["saved"] == snap.saves  # Instagram's own name kept in raw
    assert estimate.share == pytest.approx(0.4) and estimate.estimated == round(snap.reach * 0.4)
    assert estimate.source_metric == "follower_demographics" and estimate.young == "13-24"
    assert estimate.source_captured_at == int(near.timestamp())
    youth = analytics.post_youth(db, post_id)
    assert youth.kind is ReachKind.ESTIMATED and youth.count.value == round(snap.reach * 0.4)
    assert youth.source_at == near and "40.0%" in (youth.source or "")


def test_youth_reach_is_unknown_without_audience_or_reach(ig_world) -> None:  # type: ignore[no-untyped-def]
    db, settings, clock, ig, connectors, _ = ig_world
    post_id = _instagram_post(db, ig, START - timedelta(days=1))  # no audience snapshot anywhere
    harvest_due(db, settings, connectors, now=clock())
    youth = analytics.post_youth(db, post_id)
    assert youth.kind is ReachKind.UNKNOWN and youth.count.value is None and youth.count.display == "–"


def test_young_range_is_configurable(ig_world) -> None:  # type: ignore[no-untyped-def]
    db, settings, clock, ig, connectors, _ = ig_world
    published = START - timedelta(days=1)
    post_id = _instagram_post(db, ig, published)
    _audience(db, published, {"13-17": 50, "18-24": 150, "25-34": 200, "35-44": 100})
    harvest_due(db, settings, connectors, now=clock(), hs=HarvestSettings(young=AgeRange(18, 24)))
    with db.session() as s:
        estimate = s.get(PostYouthEstimate, post_id)
    assert estimate.share == pytest.approx(0.3) and estimate.young == "18-24"
    assert datetime.fromtimestamp(estimate.source_captured_at, UTC) == published
