"""What each platform accepts as a video: the one table of per-platform video limits.

Numbers come from /work/shared/reference/video.md §9.4 (tags there say how sure they are). A
`VideoProfile` is all the pipeline needs to know about a platform; when connectors carry their own
capabilities, each connector class can hold its profile and `PROFILES` becomes a lookup on them.
"""

from __future__ import annotations

from dataclasses import dataclass

MB = 1_000_000
MIB = 1024 * 1024


@dataclass(frozen=True, slots=True)
class VideoProfile:
    """Limits of one platform's video upload. Aspect ratios are width / height."""

    max_bytes: int
    min_bytes: int = 0
    min_duration_s: float = 0.0
    max_duration_s: float | None = None
    min_aspect: float | None = None
    max_aspect: float | None = None
    min_fps: float | None = None
    max_fps: float | None = None
    max_width: int | None = None
    max_height: int | None = None
    max_pixels: int | None = None
    min_short_side: int | None = None
    max_bitrate_bps: int | None = None
    video_codecs: tuple[str, ...] = ("h264",)
    audio_codecs: tuple[str, ...] = ("aac",)
    landscape: bool = True  # may a landscape source stay 16:9 (else it is padded into 9:16)


# 9:16 within rounding (1080x1920, 720x1280, 540x960 ...).
_VERTICAL = (9 / 16 * 0.99, 9 / 16 * 1.01)

PROFILES: dict[str, VideoProfile] = {
    "mastodon": VideoProfile(max_bytes=99 * MIB, max_fps=120, max_pixels=2_304_000),
    "bluesky": VideoProfile(max_bytes=300 * MB, max_duration_s=600),
    "instagram": VideoProfile(
        max_bytes=300 * MB, min_duration_s=3, max_duration_s=900, min_aspect=0.01, max_aspect=10,
        min_fps=23, max_fps=60, max_width=1920, max_bitrate_bps=25_000_000,
    ),
    "facebook": VideoProfile(  # Page Reels
        max_bytes=1000 * MB, min_duration_s=3, max_duration_s=90, min_aspect=_VERTICAL[0],
        max_aspect=_VERTICAL[1], min_fps=24, max_fps=60, min_short_side=540, landscape=False,
    ),
    "threads": VideoProfile(
        max_bytes=1000 * MB, max_duration_s=300, min_aspect=0.01, max_aspect=10, min_fps=23, max_fps=60,
        max_width=1920, max_bitrate_bps=25_000_000,
    ),
    "linkedin": VideoProfile(
        max_bytes=500 * MB, min_bytes=75_000, min_duration_s=3, max_duration_s=1800, min_aspect=1 / 2.4,
        max_aspect=2.4,
    ),
    "tiktok": VideoProfile(  # max duration is live (creator_info.max_video_post_duration_sec)
        max_bytes=4000 * MB, min_duration_s=3, max_duration_s=600, min_fps=23, max_fps=60,
        min_short_side=360,
    ),
    "youtube": VideoProfile(max_bytes=256_000 * MB, max_duration_s=900),  # 15 min until verified
    "manual": VideoProfile(max_bytes=4000 * MB),
}

# The target of every transcode (reference §9.3): accepted by every platform above.
TARGET_FPS = 30
VERTICAL_SIZE = (1080, 1920)
LANDSCAPE_SIZE = (1920, 1080)
DEFAULT_VIDEO_BITRATE_BPS = 8_000_000
AUDIO_BITRATE_BPS = 128_000
AUDIO_RATE = 48_000


def profile_for(platform: str, connector: type | None = None) -> VideoProfile:
    """The video profile of a platform: the connector class's `video_profile` attribute when it has
    one (a connector that can upload video declares it), else this module's table."""
    declared = getattr(connector, "video_profile", None)
    if isinstance(declared, VideoProfile):
        return declared
    try:
        return PROFILES[str(platform)]
    except KeyError:
        raise KeyError(f"no video profile for platform {platform!r}") from None


def can_upload_video(connector: type | None) -> bool:
    """Whether a connector class says it can upload video (by declaring its `video_profile`)."""
    return isinstance(getattr(connector, "video_profile", None), VideoProfile)
