"""Media preparation for upload: video probe, metadata strip, transcode and cache (images: outreach.cards.media)."""

from __future__ import annotations

from outreach.media.pipeline import PreparedVideo, file_sha256, prepare_video
from outreach.media.video import (
    Problem,
    VideoError,
    VideoInfo,
    assert_clean,
    probe,
    problems,
    strip,
    transcode,
)

__all__ = [
    "PreparedVideo", "Problem", "VideoError", "VideoInfo", "assert_clean", "file_sha256", "prepare_video",
    "probe", "problems", "strip", "transcode",
]
