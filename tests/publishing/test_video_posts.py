"""A campaign's `video:` post through the real dispatcher: the media step strips a phone clip (GPS and
device tags) and fits it to the channel, the connector uploads it to the simulation, and faults around
the upload and the processing polls end in every video posted exactly once (counted by text on the
simulation's side), with no phone tag in the bytes the platform received."""

from __future__ import annotations

import hashlib
import uuid
from collections import Counter
from copy import deepcopy
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from PIL import Image

from outreach.config import parse_settings
from outreach.db.models import Post
from outreach.domain import Platform, PostStatus, PublishRequest
from outreach.media.synthetic import PHONE_TAGS, write_clip
from outreach.publishing import ConnectorCache, Dispatcher
from outreach.publishing.media import MediaPreparer
from outreach.publishing.retry import RetryPolicy
from outreach.sandbox import build_sandbox, serve
from outreach.sandbox.bluesky import BlueskySim
from outreach.sandbox.linkedin import LinkedInSim
from outreach.sandbox.mastodon import MastodonSim
from tests.publishing.conftest import FakeClock
from tests.publishing.drain import drain

PHONE_BYTES = (b"+52.3676", b"iPhone", b"com.apple.quicktime")

# platform -> (simulation class, the faults fired at its upload and processing steps, uploaded bytes)
PLATFORMS: dict[str, tuple[Any, tuple[dict[str, Any], ...], Any]] = {
    "mastodon": (MastodonSim, (
        dict(mode="reset_after", path="/api/v2/media", times=1),  # uploaded, answer lost
        dict(mode="error", path="/api/v1/media/", status=502, times=1),  # during processing
        dict(mode="timeout_after", path="/api/v1/statuses", delay_s=0.35, times=1),  # posted, answer lost
        dict(mode="reset_before", path="/api/v1/statuses", times=1),
    ), lambda sim: [m.data for m in sim.media.values()]),
    "bluesky": (BlueskySim, (
        dict(mode="reset_after", path="uploadVideo", times=1),  # uploaded, answer lost
        dict(mode="error", path="getJobStatus", status=503, times=1),  # during processing
        dict(mode="timeout_after", path="createRecord", delay_s=0.35, times=1),  # posted, answer lost
        dict(mode="reset_before", path="createRecord", times=1),
    ), lambda sim: [j.data for j in sim.video.jobs.values()]),
    "linkedin": (LinkedInSim, (
        dict(mode="reset_before", path="/dms-uploads/video/", times=1, after=1),  # a part lost
        dict(mode="reset_after", path="/rest/videos", method="POST", times=1, after=1),  # finalized, answer lost
        dict(mode="error", path="/rest/videos/", method="GET", status=502, times=1, after=1),  # processing
        dict(mode="reset_after", path="/rest/posts", method="POST", times=1),  # posted, answer lost
    ), lambda sim: [v.data for v in sim.video.videos.values()]),
}
# LinkedIn takes 3 s and 75 KB at least: a longer, lossless clip (still tiny)
CLIPS: dict[str, dict[str, Any]] = {"linkedin": dict(width=128, height=224, seconds=3.2,
                                                     options={"preset": "ultrafast", "qp": "0"})}


def _clip(tmp_path: Path, platform: str) -> tuple[Path, Path]:
    clip = write_clip(tmp_path / "phone.mov", container="mov", tags=PHONE_TAGS,
                      **CLIPS.get(platform, {"seconds": 0.5}))
    assert all(tag in clip.read_bytes() for tag in PHONE_BYTES[:2])
    cover = tmp_path / "cover.jpg"
    Image.new("RGB", (64, 112), (200, 30, 30)).save(cover)
    return clip, cover


def _settings(sim_class: Any, url: str, tmp_path: Path, monkeypatch: Any) -> tuple[Any, Any]:
    """The simulation's demo channel as configuration (its secrets in env vars), media under tmp_path."""
    account = sim_class.demo_account(url)
    table = {"platform": account.platform, "base_url": account.base_url, **account.options}
    for key, value in account.secrets.items():
        monkeypatch.setenv(f"VIDEO_{key.upper()}", value)
        table[f"{key}_env"] = f"VIDEO_{key.upper()}"
    return account, parse_settings({"channels": {account.channel: table}, "state_dir": str(tmp_path / "state"),
                                    "media": {"directory": str(tmp_path / "media")}}, source="test")


@pytest.mark.parametrize("platform", sorted(PLATFORMS))
def test_video_post_exactly_once_through_faults(platform: str, tmp_path: Path, sqlite_db, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    sim_class, faults, uploaded = PLATFORMS[platform]
    clock = FakeClock()
    sandbox = build_sandbox(clock=clock)
    server = serve(sandbox)
    try:
        account, settings = _settings(sim_class, server.url, tmp_path, monkeypatch)
        connectors = ConnectorCache(settings, clock=clock)
        connector = connectors(account.channel)
        connector.timeout_s, connector.poll_interval_s, connector.video_poll_interval_s = 0.2, 0, 0
        clip, cover = _clip(tmp_path, platform)
        dispatcher = Dispatcher(sqlite_db, settings, worker_id="video", clock=clock, connectors=connectors,
                                retry=RetryPolicy(max_attempts=10, backoff_base_s=30, backoff_max_s=300))
        texts = [f"Terugblik bijeenkomst {i} #{uuid.uuid4().hex[:6]}" for i in range(3)]
        with sqlite_db.write() as s:
            for i, text in enumerate(texts):
                s.add(Post(source_key=f"video/{platform}/{i}", rule_key="video", channel=account.channel,
                           platform=platform, language="nl", text=text,
                           media=[{"video": str(clip), "alt_text": "Kaarten, geen mensen", "cover": str(cover),
                                   "captions": {"nl": str(tmp_path / "c.nl.srt")}}],
                           content_hash=hashlib.sha256(text.encode()).hexdigest(),
                           due_at=clock.now + timedelta(seconds=i), status=PostStatus.APPROVED.value,
                           idempotency_key=str(uuid.uuid4())))
        (tmp_path / "c.nl.srt").write_text("1\n00:00:00,000 --> 00:00:00,400\nWelkom\n", encoding="utf-8")
        for fault in faults:
            sandbox.add_fault(platform=platform, **fault)
        clock.advance(seconds=10)
        stuck = drain(dispatcher, sqlite_db, clock)
        assert not stuck, f"still not published: {stuck}"
        assert len(sandbox.fault_log) == len(faults)  # every fault really fired
        assert sandbox.published()[platform] == Counter(texts)  # each video exactly once, none lost
        sent = uploaded(sandbox.sims[platform])
        assert sent and [tag for data in sent for tag in PHONE_BYTES if tag in data] == []
    finally:
        server.stop()


class Crash(BaseException):
    """The worker dies right after a handle was committed (kill -9 between two steps)."""


@pytest.mark.parametrize("platform", sorted(PLATFORMS))
def test_crash_after_every_saved_handle_posts_once(platform: str, tmp_path: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """For every handle the connector saves, a worker dies right after that commit; a fresh worker then
    reconciles and publishes with the handle as the database holds it: each video is posted once."""
    sim_class = PLATFORMS[platform][0]
    clock = FakeClock()
    sandbox = build_sandbox(clock=clock)
    server = serve(sandbox)
    try:
        account, settings = _settings(sim_class, server.url, tmp_path, monkeypatch)
        clip, cover = _clip(tmp_path, platform)

        def worker() -> Any:
            connector = ConnectorCache(settings, clock=clock)(account.channel)
            connector.poll_interval_s = connector.video_poll_interval_s = 0
            return connector

        post = Post(language="nl", text="x", media=[{"video": str(clip), "alt_text": "Kaarten", "cover": str(cover)}])
        [item] = MediaPreparer(settings, connectors=lambda name: worker())(post, Platform(platform))

        def request(text: str, handle: dict[str, Any]) -> PublishRequest:
            return PublishRequest(post_id=1, text=text, language="nl", idempotency_key=text, media=(item,),
                                  handle=handle, attempt_started_at=clock.now)

        clean: list[dict[str, Any]] = []
        worker().publish(request("Zonder onderbreking #0", {}), save_handle=clean.append)
        texts = ["Zonder onderbreking #0"]
        for crash_at in range(1, len(clean) + 1):
            text, saved, count = f"Onderbroken na stap {crash_at} #{uuid.uuid4().hex[:6]}", {}, [0]
            texts.append(text)

            def save(handle: dict[str, Any], at: int = crash_at, count: list[int] = count,
                     saved: dict[str, Any] = saved) -> None:
                saved.update(deepcopy(handle))  # committed
                count[0] += 1
                if count[0] == at:
                    raise Crash

            with pytest.raises(Crash):
                worker().publish(request(text, {}), save_handle=save)
            fresh = worker()
            if fresh.reconcile(request(text, dict(saved))) is None:
                fresh.publish(request(text, dict(saved)), save_handle=saved.update)
        assert clean, "the connector saved no handle"
        assert sandbox.published()[platform] == Counter(texts)
    finally:
        server.stop()
