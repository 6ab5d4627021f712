"""Make test and demo clips with PyAV: moving colour (no real people), optional silence, any tags.

Tests use it to build phone-like inputs that carry GPS and device tags; the benchmark uses it for its
60 s 1080x1920 clip."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import av

# What an iPhone or Android phone writes (reference §9.1), for tests that must see it disappear.
PHONE_TAGS = {
    "location": "+52.3676+004.9041/",
    "make": "Apple",
    "model": "iPhone 15 Pro",
    "creation_time": "2026-05-01T12:00:00Z",
    "com.apple.quicktime.location.ISO6709": "+52.3676+004.9041+000.000/",
    "com.apple.quicktime.make": "Apple",
    "com.apple.quicktime.model": "iPhone 15 Pro",
    "com.android.version": "14",
}


def write_clip(path: Path, *, width: int = 64, height: int = 112, seconds: float = 1.0, fps: int = 30,
               container: str = "mp4", codec: str = "libx264", audio: bool = True,
               tags: Mapping[str, str] | None = None, rotation: int = 0, keys_atom: bool = False,
               options: Mapping[str, str] | None = None) -> Path:
    """Write a clip of moving gradients (and silence). `keys_atom` stores tags as QuickTime `mdta`
    keys (as iPhones do) instead of classic `udta` atoms (`©xyz`, `©mak`)."""
    mux_options = {"movflags": "use_metadata_tags"} if keys_atom else {}
    with av.open(str(path), "w", format=container, options=mux_options) as out:
        out.metadata.update(tags or {})
        video = out.add_stream(codec, rate=fps, options=dict(options or {"preset": "ultrafast"}))
        video.width, video.height, video.pix_fmt = width, height, "yuv420p"
        if tags:
            video.metadata.update({"creation_time": tags.get("creation_time", ""), "handler_name": "Core Media Video"})
        if rotation:
            video.set_display_rotation(rotation)
        sound = None
        if audio:
            sound = out.add_stream("aac", rate=48_000)
            sound.layout = "stereo"
        frames = max(1, round(seconds * fps))
        for i in range(frames):
            frame = av.VideoFrame(width, height, "rgb24")
            plane = frame.planes[0]
            row = bytes(v for x in range(width) for v in ((x * 255 // width + i * 4) % 256, (i * 7) % 256, 128))
            plane.update(row.ljust(plane.line_size, b"\0") * height)
            frame.pts = i
            out.mux(video.encode(frame))
        out.mux(video.encode(None))
        if sound is not None:
            samples = 1024
            for i in range(int(seconds * 48_000 / samples) + 1):
                chunk = av.AudioFrame(format="fltp", layout="stereo", samples=samples)
                for plane in chunk.planes:
                    plane.update(bytes(plane.buffer_size))
                chunk.sample_rate, chunk.pts = 48_000, i * samples
                out.mux(sound.encode(chunk))
            out.mux(sound.encode(None))
    return path
