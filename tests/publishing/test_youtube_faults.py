"""YouTube through the real dispatcher with 5xx, timeouts, dropped connections and rate limits injected
at random: every video ends uploaded exactly once (counted on the simulation's side), because the
dispatcher keeps the connector's handles (marker, session URI, video id) and reconciles before a retry.

The media resolver hands the connector a ready video file: turning a campaign's `video:` entry into a
stripped, transcoded file is the video pipeline's job, not this test's."""

from __future__ import annotations

import hashlib
import os
import random
import uuid
from collections import Counter
from datetime import timedelta
from pathlib import Path

import pytest

from outreach.config import parse_settings
from outreach.db.models import Post
from outreach.domain import MediaItem, PostStatus
from outreach.publishing import ConnectorCache, Dispatcher
from outreach.publishing.retry import RetryPolicy
from outreach.sandbox import build_sandbox, serve
from outreach.sandbox.youtube import CHUNK, YouTubeSim
from tests.publishing.conftest import FakeClock
from tests.publishing.drain import drain

BACKEND = {"error": {"code": 503, "message": "Backend Error", "errors": [{"reason": "backendError"}]}}
MODES = [dict(mode="error", status=503, body=BACKEND), dict(mode="timeout_after", delay_s=0.35),
         dict(mode="reset_after"), dict(mode="reset_before"), dict(mode="rate_limit", retry_after_s=120)]


@pytest.mark.slow
def test_random_faults_on_youtube_end_exactly_once(tmp_path: Path, sqlite_db, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    clock = FakeClock()
    seed = int(os.environ.get("OUTREACH_FAULT_SEED", "7"))
    sandbox = build_sandbox(clock=clock, seed=seed)
    server = serve(sandbox)
    try:
        account = YouTubeSim.demo_account(server.url)
        table = {"platform": account.platform, "base_url": account.base_url, **account.options}
        for key, value in account.secrets.items():
            monkeypatch.setenv(f"FAULT_YOUTUBE_{key.upper()}", value)
            table[f"{key}_env"] = f"FAULT_YOUTUBE_{key.upper()}"
        settings = parse_settings({"channels": {account.channel: table}, "state_dir": str(tmp_path / "state")},
                                  source="test")
        connectors = ConnectorCache(settings, clock=clock)
        connector = connectors(account.channel)
        connector.timeout_s, connector.poll_interval_s, connector.chunk_bytes = 0.2, 0, CHUNK
        video = tmp_path / "clip.mp4"
        video.write_bytes(random.Random(seed).randbytes(2 * CHUNK + 5000))

        def media(post: Post, platform: object) -> tuple[MediaItem, ...]:
            return (MediaItem(str(video), mime_type="video/mp4", width=1080, height=1920, duration_s=40),)

        dispatcher = Dispatcher(sqlite_db, settings, worker_id="chaos", clock=clock, connectors=connectors,
                                media=media, retry=RetryPolicy(max_attempts=30, backoff_base_s=30, backoff_max_s=600))
        texts = [f"Bijeenkomst {i} over gelijkwaardigheid #{uuid.uuid4().hex[:6]}" for i in range(8)]
        with sqlite_db.write() as s:
            for i, text in enumerate(texts):
                s.add(Post(source_key=f"chaos/youtube/{i}", rule_key="chaos", channel=account.channel,
                           platform="youtube", language="nl", text=text, media=[{"video": "clip.mp4"}],
                           content_hash=hashlib.sha256(text.encode()).hexdigest(),
                           due_at=clock.now + timedelta(seconds=i), status=PostStatus.APPROVED.value,
                           idempotency_key=str(uuid.uuid4())))
        for mode in MODES:
            sandbox.add_fault(platform="youtube", times=None, rate=0.04, **mode)
        clock.advance(seconds=10)
        stuck = drain(dispatcher, sqlite_db, clock)
        fired = Counter(mode for _, mode, _, _ in sandbox.fault_log)
        assert not stuck, f"still not published: {stuck}; faults fired: {fired}"
        assert len(fired) == 5 and sum(fired.values()) >= 10, fired  # every kind of fault really happened
        assert sandbox.published()["youtube"] == Counter(texts)  # each video exactly once
        state = sandbox.sims["youtube"].state()
        assert {v["sha256"] for v in state["videos"]} == {hashlib.sha256(video.read_bytes()).hexdigest()}
    finally:
        server.stop()
