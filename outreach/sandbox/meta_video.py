"""Video on the simulated Meta hosts: Meta downloads `video_url` (or receives the bytes on rupload) and
judges the file while the container is IN_PROGRESS; what it finds wrong shows up only when the
container turns ERROR (video.md §3, §5), never on the create call.
"""

from __future__ import annotations

import io
import urllib.error
import urllib.request
from dataclasses import dataclass

import av

from outreach.sandbox.meta import FetchFailed


@dataclass(frozen=True)
class Clip:
    """What Meta's processing learns from a video file."""

    size: int
    duration_s: float
    width: int
    height: int
    fps: float


def fetch_bytes(url: str, *, max_bytes: int, timeout_s: float = 10.0) -> bytes:
    """GET the video like Meta's fetcher; at most max_bytes+1 are read."""
    if not url.startswith(("http://", "https://")):
        raise FetchFailed(f"not an http(s) URL: {url!r}")
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    try:
        with opener.open(urllib.request.Request(url, headers={"User-Agent": "facebookexternalhit/1.1"}),
                         timeout=timeout_s) as response:
            return response.read(max_bytes + 1)
    except (urllib.error.URLError, OSError, ValueError) as exc:
        raise FetchFailed(str(exc)) from None


def read_clip(data: bytes) -> Clip | None:
    """The clip's duration, size and frame rate; None when it is not a video Meta could decode."""
    if data[4:8] not in (b"ftyp", b"moov", b"wide", b"mdat"):
        return None
    try:
        with av.open(io.BytesIO(data)) as container:
            stream = container.streams.video[0]
            duration = float(container.duration or 0) / 1_000_000
            rate = float(stream.average_rate or 0)
            return Clip(len(data), duration, stream.codec_context.width, stream.codec_context.height, rate)
    except (av.FFmpegError, IndexError, ValueError):
        return None


def clip_problem(clip: Clip | None, *, min_s: float, max_s: float, max_bytes: int) -> str | None:
    """The Threads-style `error_message` for a clip Meta refuses (None: it processes)."""
    if clip is None:
        return "FAILED_PROCESSING_VIDEO"
    if clip.size > max_bytes:
        return "INVALID_FILE_SIZE"
    if not min_s <= clip.duration_s <= max_s:
        return "INVALID_DURATION"
    if clip.fps and not 23 <= clip.fps <= 60:
        return "INVALID_FRAME_RATE"
    if clip.height and not 0.01 <= clip.width / clip.height <= 10:
        return "INVALID_ASPEC_RATIO"  # sic, Meta's spelling
    return None


# Instagram reports refusals as a subcode in the container's `status` text (video.md §3.1 step 3).
IG_SUBCODES = {"FAILED_PROCESSING_VIDEO": 2207026, "INVALID_FILE_SIZE": 2207026, "INVALID_DURATION": 2207026,
               "INVALID_FRAME_RATE": 2207026, "INVALID_ASPEC_RATIO": 2207009}
