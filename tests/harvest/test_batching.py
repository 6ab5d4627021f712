"""Batching per platform API, over real HTTP: Bluesky asks for 25 posts per getPosts call, TikTok
for 20 per video/query, LinkedIn 20 per share-statistics call."""

from __future__ import annotations

from collections import Counter

import pytest

from outreach.config import parse_settings
from outreach.connectors.base import MemoryCredentialStore
from outreach.harvest import harvest_due
from outreach.publishing import ConnectorCache, Dispatcher
from outreach.sandbox import bluesky, linkedin, tiktok
from outreach.sandbox.bluesky import BlueskySim
from outreach.sandbox.linkedin import LinkedInSim
from outreach.sandbox.tiktok import TikTokSim
from tests.clock import FakeClock
from tests.harvest.conftest import START, add_post

CASES = [  # platform, per call, path of the metrics call
    ("bluesky", 25, "/xrpc/app.bsky.feed.getPosts"),
    ("tiktok", 20, "/v2/video/query/"),
    ("linkedin", 20, "/rest/organizationalEntityShareStatistics"),
]


@pytest.mark.parametrize(("platform", "per_call", "path"), CASES)
def test_metrics_are_fetched_in_platform_sized_batches(platform: str, per_call: int, path: str, tmp_path,  # type: ignore[no-untyped-def]
                                                       serve_sandbox, sqlite_db, monkeypatch) -> None:
    clock = FakeClock(START)
    sims = {"bluesky": BlueskySim, "tiktok": TikTokSim, "linkedin": LinkedInSim}
    sandbox, url = serve_sandbox(sims[platform](clock=clock), media_dir=tmp_path)
    if platform == "tiktok":
        sandbox.sims["tiktok"].control("configure", {"daily_post_cap": 50})  # default 15 a day
    channel: dict = {"platform": platform, "base_url": f"{url}/{platform}"}
    if platform == "bluesky":
        channel |= {"identifier": bluesky.DEMO_IDENTIFIER, "password_env": "BATCH_SECRET"}
        monkeypatch.setenv("BATCH_SECRET", bluesky.DEMO_PASSWORD)
    elif platform == "linkedin":
        channel |= {"organization_urn": linkedin.DEMO_ORGANIZATION, "token_env": "BATCH_SECRET"}
        monkeypatch.setenv("BATCH_SECRET", linkedin.DEMO_TOKEN)
    else:
        channel |= {"audited": True, "privacy_level": "PUBLIC_TO_EVERYONE", "token_env": "BATCH_SECRET",
                    "client_key_env": "BATCH_KEY", "client_secret_env": "BATCH_CS", "refresh_token_env": "BATCH_RT"}
        for var, value in (("BATCH_SECRET", tiktok.DEMO_ACCESS_TOKEN), ("BATCH_KEY", tiktok.DEMO_CLIENT_KEY),
                           ("BATCH_CS", tiktok.DEMO_CLIENT_SECRET), ("BATCH_RT", tiktok.DEMO_REFRESH_TOKEN)):
            monkeypatch.setenv(var, value)
    settings = parse_settings({"channels": {"ch": channel}, "state_dir": str(tmp_path),
                               "media": {"directory": str(tmp_path), "public_base_url": f"{url}/media"}},
                              source="test")
    connectors = ConnectorCache(settings, clock=clock, credentials=MemoryCredentialStore())
    if hasattr(connectors("ch"), "poll_interval_s"):
        connectors("ch").poll_interval_s = 0
    media = [{"card": "announce", "alt_text": "Aankondiging"}] if platform == "tiktok" else []
    for i in range(30):
        post_id = add_post(sqlite_db, text=f"Bijeenkomst {i} over gelijkwaardigheid", due_at=clock.now,
                           channel="ch", platform=platform)
        if media:
            from outreach.db.models import Post

            with sqlite_db.write() as s:
                s.get(Post, post_id).media = media
        clock.advance(seconds=11)  # TikTok: at most 6 inits a minute
        Dispatcher(sqlite_db, settings, clock=clock, connectors=connectors).run_due()
    clock.advance(hours=1, minutes=5)  # the first harvest slot, within Bluesky's 2-hour access token
    before = Counter(p for _, _, p in sandbox.requests_seen)
    report = harvest_due(sqlite_db, settings, connectors, now=clock.now)
    calls = Counter(p for _, _, p in sandbox.requests_seen) - before
    metric_calls = sum(n for p, n in calls.items() if p.startswith(path))
    assert report.snapshots == 30
    assert metric_calls == -(-30 // per_call), calls  # 2 calls for 30 posts
