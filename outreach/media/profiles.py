"""The transcode target (reference video.md §9.3), accepted by every platform.

What each platform accepts lives on its connector class (`video`, a `domain.VideoCapabilities`); the
pipeline is handed those limits and never looks platforms up itself.
"""

from __future__ import annotations

TARGET_FPS = 30
VERTICAL_SIZE = (1080, 1920)
LANDSCAPE_SIZE = (1920, 1080)
DEFAULT_VIDEO_BITRATE_BPS = 8_000_000
AUDIO_BITRATE_BPS = 128_000
AUDIO_RATE = 48_000
