"""Media preparation for upload: video probe, metadata strip, transcode and cache (images: outreach.cards.media)."""

from __future__ import annotations

from outreach.media.pipeline import PreparedVideo, file_sha256, prepare_video
from outreach.media.profiles import PROFILES, VideoProfile, can_upload_video, profile_for
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
    "PROFILES", "PreparedVideo", "Problem", "VideoError", "VideoInfo", "VideoProfile", "assert_clean",
    "can_upload_video",
    "file_sha256", "prepare_video", "probe", "problems", "profile_for", "strip", "transcode",
]
