"""What a simulated platform learns from uploaded video bytes (as the real services run ffprobe):
dimensions, frame rate, duration. The sandbox reads the bytes itself; it never asks the connectors'
pipeline, so it cannot share its mistakes."""

from __future__ import annotations

import io
from dataclasses import dataclass

import av


@dataclass(frozen=True, slots=True)
class VideoFacts:
    width: int
    height: int
    fps: float
    duration_s: float


def read_video(data: bytes) -> VideoFacts | None:
    """The first video stream's facts, or None when the bytes hold no readable video stream."""
    try:
        with av.open(io.BytesIO(data)) as container:
            if not container.streams.video or container.format.name.endswith("_pipe") \
                    or container.format.name == "image2":  # a still picture is no video
                return None
            stream = container.streams.video[0]
            rate = stream.average_rate or stream.guessed_rate or stream.base_rate
            duration = container.duration / av.time_base if container.duration is not None else 0.0
            ctx = stream.codec_context
            return VideoFacts(width=ctx.width, height=ctx.height, fps=float(rate or 0),
                              duration_s=round(float(duration), 3))
    except (av.error.FFmpegError, UnicodeDecodeError, ValueError):
        return None
