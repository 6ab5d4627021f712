"""Instagram Reels, Facebook Page Reels and Threads video through the real dispatcher and the real media step: a campaign's
`video:` entry (a phone clip with location and device tags) is stripped by `MediaPreparer`, served at
`[media] public_base_url`, fetched by the Meta simulations, and published with 5xx, timeouts, dropped
connections and throttling injected at random. Every post ends published exactly once, counted on the
simulations' side by caption and by the video's bytes, and the bytes carry no location or device."""

from __future__ import annotations

import hashlib
import os
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from PIL import Image

from outreach.media.synthetic import PHONE_TAGS, write_clip
from outreach.sandbox import build_sandbox, serve
from outreach.sandbox.facebook import FacebookSim
from outreach.sandbox.instagram import InstagramSim
from outreach.sandbox.threads import ThreadsSim
from tests.publishing.conftest import FakeClock
from tests.publishing.drain import drain
from tests.publishing.video_world import add_video_posts, video_dispatcher

MODES = [dict(mode="error", status=500, body={"error": {"message": "An unexpected error has occurred.",
                                                        "type": "OAuthException", "code": 2, "is_transient": True}}),
         dict(mode="timeout_after", delay_s=0.35), dict(mode="reset_after"), dict(mode="reset_before"),
         dict(mode="rate_limit", retry_after_s=120)]


@pytest.mark.parametrize("sim", [InstagramSim, FacebookSim, ThreadsSim], ids=["instagram", "facebook", "threads"])
def test_random_faults_on_meta_video_end_exactly_once(sim, tmp_path: Path, sqlite_db, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    clock = FakeClock()
    seed = int(os.environ.get("OUTREACH_FAULT_SEED", "11"))
    media_dir = tmp_path / "media"
    sandbox = build_sandbox(clock=clock, seed=seed, media_dir=media_dir)
    server = serve(sandbox)
    try:
        account = sim.demo_account(server.url)
        dispatcher = video_dispatcher(account, db=sqlite_db, clock=clock, tmp_path=tmp_path, monkeypatch=monkeypatch,
                                      media={"directory": str(media_dir), "public_base_url": f"{server.url}/media"})
        size = {"width": 540, "height": 960} if sim is FacebookSim else {}  # Page Reels: 9:16, >= 540x960
        clip = write_clip(tmp_path / "phone.mov", container="mov", tags=PHONE_TAGS, seconds=3.2, audio=False, **size)
        extra: dict[str, Any] = {}
        if sim is InstagramSim:  # a cover image, served next to the video and fetched by the sim
            Image.new("RGB", (1080, 1350), (200, 30, 30)).save(tmp_path / "cover.jpg")
            extra = {"options": {"share_to_feed": False}, "cover": str(tmp_path / "cover.jpg")}
        texts = add_video_posts(sqlite_db, account, clock, clip, 6, spacing_s=1, **extra)
        for mode in MODES:
            sandbox.add_fault(platform=sim.prefix, times=None, rate=0.06, **mode)
        clock.advance(seconds=10)
        stuck = drain(dispatcher, sqlite_db, clock)
        fired = Counter(mode for _, mode, _, _ in sandbox.fault_log)
        assert not stuck, f"still not published: {stuck}; faults fired: {fired}"
        assert sum(fired.values()) >= 5, fired
        assert sandbox.published()[sim.prefix] == Counter(texts)  # each post exactly once
        posts = [p for p in sandbox.sims[sim.prefix].state()["posts"] if "video_sha" in p]
        assert len(posts) == len(texts)
        [stripped] = {p["video_sha"] for p in posts}
        [served] = list((media_dir / "video").iterdir())
        assert hashlib.sha256(served.read_bytes()).hexdigest() == stripped
        assert [t for t in (b"+52.3676", b"iPhone", b"Apple") if t in served.read_bytes()] == []
        if sim is InstagramSim:
            assert {(p["media_type"], p["share_to_feed"]) for p in posts} == {("REELS", False)}
            [cover_url] = {p["cover_url"] for p in posts}
            assert (media_dir / cover_url.rsplit("/media/", 1)[1]).is_file()
    finally:
        server.stop()
