"""TikTok video through the real dispatcher and the real media step. Direct Post (an audited channel) with
dropped, refused and failing chunk PUTs and status calls injected at random: every video ends published
exactly once (counted on the simulation's side by the bytes) because the publish_id and upload_url are
saved before the first byte and a broken upload continues where TikTok's `uploaded_bytes` says. The
inbox flow ends with one draft per post, handed to a person (`manual_due`)."""

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
from outreach.media.synthetic import PHONE_TAGS, write_clip
from outreach.publishing import ConnectorCache, Dispatcher
from outreach.publishing.media import MediaPreparer
from outreach.publishing.retry import RetryPolicy
from outreach.sandbox import build_sandbox, serve
from outreach.sandbox.tiktok import TikTokSim
from tests.publishing.conftest import FakeClock
from tests.publishing.drain import drain

INTERNAL = {"data": {}, "error": {"code": "internal_error", "message": "Something went wrong.", "log_id": "x"}}
WHERE = [dict(method="PUT"), dict(path="/status/fetch/")]  # after the init's publish_id is saved
MODES = [dict(mode="error", status=500, body=INTERNAL), dict(mode="timeout_after", delay_s=0.35),
         dict(mode="reset_after"), dict(mode="reset_before")]


@pytest.mark.parametrize("audited", [True, False], ids=["direct", "inbox"])
def test_tiktok_video_through_the_dispatcher(audited: bool, tmp_path: Path, sqlite_db, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    clock = FakeClock()
    media_dir = tmp_path / "media"
    sandbox = build_sandbox(clock=clock, seed=int(os.environ.get("OUTREACH_FAULT_SEED", "5")), media_dir=media_dir)
    server = serve(sandbox)
    try:
        account = TikTokSim.demo_account(server.url)
        table = {"platform": account.platform, "base_url": account.base_url, **account.options}
        if not audited:
            table.pop("audited")
            table.pop("privacy_level")
        for key, value in account.secrets.items():
            monkeypatch.setenv(f"FAULT_TIKTOK_{key.upper()}", value)
            table[f"{key}_env"] = f"FAULT_TIKTOK_{key.upper()}"
        settings = parse_settings({"channels": {account.channel: table}, "state_dir": str(tmp_path / "state"),
                                   "media": {"directory": str(media_dir)}}, source="test")
        connectors = ConnectorCache(settings, clock=clock)
        connector = connectors(account.channel)
        connector.timeout_s, connector.poll_interval_s = 0.5, 0
        clip = write_clip(tmp_path / "phone.mov", container="mov", tags=PHONE_TAGS, seconds=3.2, audio=False,
                          width=360, height=640)
        dispatcher = Dispatcher(sqlite_db, settings, worker_id="chaos", clock=clock, connectors=connectors,
                                media=MediaPreparer(settings, connectors=connectors),
                                retry=RetryPolicy(max_attempts=30, backoff_base_s=30, backoff_max_s=600))
        texts = [f"Terugblik bijeenkomst {i} #{uuid.uuid4().hex[:6]}" for i in range(5)]
        with sqlite_db.write() as s:
            for i, text in enumerate(texts):
                s.add(Post(source_key=f"chaos/tiktok/{i}", rule_key="chaos", channel=account.channel,
                           platform="tiktok", language="nl", text=text, media=[{"video": str(clip)}],
                           content_hash=hashlib.sha256(text.encode()).hexdigest(),
                           due_at=clock.now + timedelta(seconds=20 * i), status=PostStatus.APPROVED.value,
                           idempotency_key=str(uuid.uuid4())))
        if audited:
            for where in WHERE:
                for mode in MODES:
                    sandbox.add_fault(platform="tiktok", times=None, rate=0.12, **where, **mode)
        clock.advance(seconds=10)
        in_app = (Post.platform == "tiktok") & (Post.status == PostStatus.MANUAL_DUE.value)
        stuck = drain(dispatcher, sqlite_db, clock, settled=None if audited else in_app)
        fired = Counter(mode for _, mode, _, _ in sandbox.fault_log)
        assert not stuck, f"still not done: {stuck}; faults fired: {fired}"
        posts = sandbox.sims["tiktok"].state()["posts"]
        [served] = list((media_dir / "video").iterdir())
        assert [t for t in (b"+52.3676", b"iPhone", b"Apple") if t in served.read_bytes()] == []
        assert {p["video_sha256"] for p in posts} == {hashlib.sha256(served.read_bytes()).hexdigest()}
        if audited:
            assert sum(fired.values()) >= 4, fired
            assert sandbox.published()["tiktok"] == Counter(texts)  # each video exactly once
        else:
            assert [p["status"] for p in posts] == ["SEND_TO_USER_INBOX"] * len(texts)  # one draft per post
            with sqlite_db.session() as s:
                assert s.query(Post).filter(in_app).count() == len(texts)
    finally:
        server.stop()
