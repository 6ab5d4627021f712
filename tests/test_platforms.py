"""Each platform's capabilities live once, on its connector class, and every registered platform has a
simulation that says what it published: adding a platform touches no list elsewhere."""

from __future__ import annotations

import io
from collections import Counter

import pytest
import requests

from outreach import platforms
from outreach.cards import card_size_for
from outreach.connectors import (
    Connector,
    UnknownPlatform,
    connector_class,
    connector_classes,
    platform_class,
    video_option_platforms,
)
from outreach.domain import Platform, VideoCapabilities
from outreach.planning.spec import VideoChannelOptions
from outreach.sandbox import build_sandbox, demo_accounts, serve, simulations


@pytest.mark.parametrize("cls", connector_classes(), ids=lambda c: c.platform)
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
    names = [cls.platform for cls in connector_classes()]
    assert names == list(platforms.names()) == [sim.prefix for sim in simulations()]
    accounts = demo_accounts("http://127.0.0.1:1")
    assert [a.platform for a in accounts] == names
    assert all(a.base_url == f"http://127.0.0.1:1/{a.platform}" for a in accounts)
    assert all(Platform(name) == name for name in names) and Platform.MANUAL not in names
    assert len({cls.display_name for cls in connector_classes()}) == len(names)


def test_a_name_outside_the_registry_is_no_platform_and_a_wrong_registry_line_is_named() -> None:
    with pytest.raises(ValueError, match="'myspace' is not a platform .*youtube, manual"):
        Platform("myspace")
    with pytest.raises(UnknownPlatform, match="no connector for platform myspace"):
        connector_class("myspace")
    mixed_up = {**platforms.REGISTRY, "mastodon": platforms.REGISTRY["bluesky"]}
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(platforms, "REGISTRY", mixed_up)
        with pytest.raises(UnknownPlatform, match="registry line for mastodon names .*BlueskyConnector"):
            connector_class("mastodon")
        with pytest.raises(ValueError, match="registry line for mastodon names a simulation served at /bluesky"):
            simulations()


def test_adding_a_platform_needs_no_table_outside_its_connector() -> None:
    """Every platform but manual has exactly one connector, and that class (with ManualChannel) carries
    all a platform needs elsewhere: channel keys for config, video options for planning, card size,
    image policy, video capabilities and display name. (tests/test_new_platform.py adds one.)"""
    counts = Counter(cls.platform for cls in connector_classes())
    assert counts == Counter(platforms.names())
    every_video_option = set(VideoChannelOptions.model_fields)
    for cls in (*connector_classes(), platform_class(Platform.MANUAL)):
        assert cls.channel_options >= Connector.channel_options, cls.platform
        assert Connector.video_options <= cls.video_options <= every_video_option, cls.platform
        assert card_size_for(cls.card_size) and cls.image_policy_for().max_bytes > 0
        assert cls.video is None or isinstance(cls.video, VideoCapabilities)
        assert not cls.uploads_video or cls.video is not None, cls.platform
    # each option a campaign's video entry may carry is taken by some platform
    assert every_video_option == set().union(*(cls.video_options for cls in connector_classes()))
    assert video_option_platforms("share_to_feed") == ["Facebook", "Instagram"]  # for messages: as people write them


def test_a_fresh_sandbox_reports_nothing_published_on_any_platform() -> None:
    sandbox = build_sandbox()
    published = sandbox.published()
    assert set(published) == {cls.platform for cls in connector_classes()}
    assert all(not texts for texts in published.values())
    server = serve(sandbox)
    try:
        over_http = requests.get(f"{server.url}/_sandbox/published", timeout=5).json()
    finally:
        server.stop()
    assert over_http == {cls.platform: {} for cls in connector_classes()}


def test_manual_channels_have_sizes_but_no_connector() -> None:
    manual = platform_class(Platform.MANUAL)
    assert manual not in connector_classes() and card_size_for(manual.card_size).name == "instagram"
    assert manual.image_policy_for().max_bytes == 20_000_000


def test_video_capabilities_judge_a_probed_video_per_platform() -> None:
    """One 9:16 1080x1920 30 fps H.264/AAC MP4 of 60 s and 40 MB (video.md 9.4's common rendition) fits every
    platform that posts video; each platform's own limits show on a video that breaks them (judged by the
    pipeline's one rule, `outreach.media.problems`, against the connector's `video`)."""
    from dataclasses import replace

    from outreach.media import VideoInfo, problems

    fits = VideoInfo(bytes=40_000_000, duration_s=60, width=1080, height=1920, rotation=0, video_codec="h264",
                     pix_fmt="yuv420p", fps=30, audio_codec="aac", other_streams=0)
    videos = {cls.platform: cls.video for cls in connector_classes() if cls.video is not None}
    assert set(videos) == {cls.platform for cls in connector_classes()}  # every platform here posts video
    for platform, video in videos.items():
        assert problems(fits, video) == [], platform

    def fields(platform: str, **changed: object) -> list[tuple[str, bool]]:
        return [(p.field, p.fixable) for p in problems(replace(fits, **changed), videos[platform])]

    assert fields("facebook", duration_s=120, width=1920, height=1080) == [("duration", False), ("aspect", True)]
    assert fields("instagram", duration_s=2, fps=120) == [("duration", False), ("fps", True)]
    assert fields("mastodon", width=3840, height=2200, video_codec="prores") == [("codec", True), ("dimensions", True)]
    assert fields("linkedin", bytes=1000) == [("bytes", False)]
    assert fields("youtube", video_codec="vp9") == []  # YouTube takes VP9 as it is


@pytest.mark.parametrize("platform", ["mastodon", "instagram", "tiktok", "manual"])
def test_the_report_redraws_a_card_at_the_size_its_platform_draws(platform: str) -> None:
    """The report's thumbnail of a post whose card is not on disk is redrawn at its connector's card size
    (it once passed the platform's name as the size, so only Instagram's cards came back)."""
    from PIL import Image

    from outreach.archive.figures import card_thumbnail
    from outreach.db.models import Post

    post = Post(platform=platform, language="nl", text="Bijeenkomst in Rotterdam\nover gelijkheid",
                media=[{"card": "announce", "alt_text": "Aankondiging"}])
    png, alt = card_thumbnail(post, settings=None, width=360)
    assert png is not None and alt == "Aankondiging", platform
    size = card_size_for(platform_class(platform).card_size)
    image = Image.open(io.BytesIO(png))
    assert abs(image.width / image.height - size.width / size.height) < 0.01, (platform, image.size)


# Made-up demo numbers per platform: a platform missing here is simply absent from the demo's history.
MAY_LIST_PLATFORMS = {"outreach/harvest/synthetic.py"}


def test_no_module_outside_the_registry_lists_platforms_by_hand() -> None:
    """A list, tuple, set or dict naming three or more platforms, in the library or the dashboard, is a place a
    new platform would have to be added by hand (as domain.Platform and the dashboard's brand spellings were)."""
    import ast
    from pathlib import Path

    root = Path(__file__).resolve().parent.parent
    names = set(platforms.names())
    found = []
    for path in sorted([*(root / "outreach").rglob("*.py"), *(root / "dashboard").rglob("*.py")]):
        rel = path.relative_to(root).as_posix()
        if rel.startswith(("outreach/connectors/", "outreach/sandbox/")) or rel in MAY_LIST_PLATFORMS | {
                "outreach/platforms.py"}:
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.List | ast.Tuple | ast.Set | ast.Dict):
                named = {c.value for c in ast.walk(node) if isinstance(c, ast.Constant) and c.value in names}
                if len(named) >= 3:
                    found.append(f"{rel}:{node.lineno}: {sorted(named)}")
    assert not found, found
