"""YouTube through the real dispatcher with 5xx, timeouts, dropped connections and rate limits injected
at random: every video ends uploaded exactly once (counted on the simulation's side), because the
dispatcher keeps the connector's handles (marker, session URI, video id) and reconciles before a retry.

The posts carry a `video:` entry, which the dispatcher's own media step strips into the file the
connector uploads (a lossless clip, so it spans three 256 KiB chunks and a fault can land between them)."""

from __future__ import annotations

import hashlib
import os
import uuid
from collections import Counter
from datetime import timedelta
from pathlib import Path

import pytest

from outreach.config import parse_settings
from outreach.db.models import Post
from outreach.domain import PostStatus
from outreach.media.synthetic import write_clip
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
        settings = parse_settings({"channels": {account.channel: table}, "state_dir": str(tmp_path / "state"),
                                   "media": {"directory": str(tmp_path / "media")}}, source="test")
        connectors = ConnectorCache(settings, clock=clock)
        connector = connectors(account.channel)
        connector.timeout_s, connector.poll_interval_s, connector.chunk_bytes = 0.2, 0, CHUNK
        video = write_clip(tmp_path / "clip.mp4", width=720, height=1280, seconds=2,
                           options={"preset": "ultrafast", "qp": "0"})
        assert video.stat().st_size > 2 * CHUNK
        dispatcher = Dispatcher(sqlite_db, settings, worker_id="chaos", clock=clock, connectors=connectors,
                                retry=RetryPolicy(max_attempts=30, backoff_base_s=30, backoff_max_s=600))
        texts = [f"Bijeenkomst {i} over gelijkwaardigheid #{uuid.uuid4().hex[:6]}" for i in range(8)]
        with sqlite_db.write() as s:
            for i, text in enumerate(texts):
                s.add(Post(source_key=f"chaos/youtube/{i}", rule_key="chaos", channel=account.channel,
                           platform="youtube", language="nl", text=text, media=[{"video": str(video), "captions": {}}],
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
        [prepared] = (tmp_path / "media" / "video").glob("*.mp4")  # stripped once, cached for every post
        assert {v["sha256"] for v in state["videos"]} == {hashlib.sha256(prepared.read_bytes()).hexdigest()}
    finally:
        server.stop()
