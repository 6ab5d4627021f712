"""Each platform's capabilities live once, on its connector class, and every registered platform has a
simulation that says what it published: adding a platform touches no list elsewhere."""

from __future__ import annotations

import pytest
import requests

from outreach.cards import card_size_for
from outreach.connectors import CONNECTORS, platform_class
from outreach.domain import Platform
from outreach.sandbox import SIMULATIONS, build_sandbox, demo_accounts, serve


@pytest.mark.parametrize("cls", CONNECTORS, ids=lambda c: c.platform.value)
def test_each_connector_declares_its_media_shapes(cls) -> None:  # type: ignore[no-untyped-def]
    policy = cls.image_policy_for()
    assert policy.max_bytes == cls.max_image_bytes == cls.declared_limits().max_image_bytes
    assert policy.formats and set(policy.formats) <= {"JPEG", "PNG"}
    if cls.image_mime_types:  # YouTube takes no images in a post (its policy shapes thumbnails)
        assert {f"image/{f.lower()}" for f in policy.formats} <= set(cls.image_mime_types)
    else:
        assert cls.video is not None and cls.requires_media
    assert card_size_for(cls.card_size)
    if cls.video is not None:
        video = cls.video
        assert video.max_bytes > video.min_bytes >= 0 and video.mime_types
        assert video.max_duration_s is None or video.max_duration_s > video.min_duration_s
        assert video.min_aspect is None or video.max_aspect is None or video.min_aspect <= video.max_aspect
        assert set(video.caption_formats) <= {"srt", "vtt", "sbv"} and video.cover in ("", "image", "frame")
        assert cls.declared_limits().video == video


def test_every_connector_has_one_simulation_and_one_demo_channel() -> None:
    platforms = [cls.platform.value for cls in CONNECTORS]
    assert sorted(sim.prefix for sim in SIMULATIONS) == sorted(platforms)
    accounts = demo_accounts("http://127.0.0.1:1")
    assert sorted(a.platform for a in accounts) == sorted(platforms)
    assert all(a.base_url == f"http://127.0.0.1:1/{a.platform}" for a in accounts)
    assert set(Platform) == {*(cls.platform for cls in CONNECTORS), Platform.MANUAL}


def test_a_fresh_sandbox_reports_nothing_published_on_any_platform() -> None:
    sandbox = build_sandbox()
    published = sandbox.published()
    assert set(published) == {cls.platform.value for cls in CONNECTORS}
    assert all(not texts for texts in published.values())
    server = serve(sandbox)
    try:
        over_http = requests.get(f"{server.url}/_sandbox/published", timeout=5).json()
    finally:
        server.stop()
    assert over_http == {cls.platform.value: {} for cls in CONNECTORS}


def test_manual_channels_have_sizes_but_no_connector() -> None:
    manual = platform_class(Platform.MANUAL)
    assert manual not in CONNECTORS and card_size_for(manual.card_size).name == "instagram"
    assert manual.image_policy_for().max_bytes == 20_000_000


def test_video_capabilities_judge_a_probed_video_per_platform() -> None:
    """One 9:16 1080x1920 30 fps H.264/AAC MP4 of 60 s and 40 MB (video.md 9.4's common rendition) fits every
    platform that posts video; each platform's own limits show on a video that breaks them."""
    fits = dict(size_bytes=40_000_000, duration_s=60, width=1080, height=1920, fps=30, mime_type="video/mp4",
                video_codec="h264", audio_codec="aac")
    videos = {cls.platform.value: cls.video for cls in CONNECTORS if cls.video is not None}
    assert set(videos) == {cls.platform.value for cls in CONNECTORS}  # every platform here posts video
    for platform, video in videos.items():
        assert video.problems(**fits) == [], platform
    assert videos["facebook"].problems(duration_s=120, width=1920, height=1080) == [
        "120 s long; at most 90 s", "1920x1080 has the wrong shape (width/height 1.78; allowed 0.56-0.56)"]
    assert videos["instagram"].problems(duration_s=2, fps=120) == [
        "2 s long; at least 3 s", "120 frames a second; at most 60"]
    assert videos["mastodon"].problems(width=3840, height=2200, video_codec="prores") == [
        "3840x2200 pixels; at most 8294400 in all", "video codec prores; accepted: h264"]
    assert videos["linkedin"].problems(size_bytes=1000, mime_type="video/webm") == [
        "1000 bytes; at least 76800", "video/webm is not accepted (video/mp4)"]
    assert videos["youtube"].problems() == []  # nothing probed, nothing judged
