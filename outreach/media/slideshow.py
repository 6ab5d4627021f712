"""A short vertical video from still images (rendered cards) and silence: the demo's meeting video,
with no real people in it. Encoded with the same H.264/AAC settings as any transcode."""

from __future__ import annotations

import io
from collections.abc import Sequence
from fractions import Fraction
from pathlib import Path

import av
from PIL import Image

from outreach.media.profiles import DEFAULT_VIDEO_BITRATE_BPS, TARGET_FPS, VERTICAL_SIZE
from outreach.media.video import MUX_OPTIONS, aac_resampler, add_aac_stream, add_h264_stream, assert_clean


def slideshow(images: Sequence[bytes | Path], out_path: Path, *, seconds_each: float = 3.0,
              size: tuple[int, int] = VERTICAL_SIZE, preset: str = "medium") -> Path:
    """Show each image for `seconds_each` (letterboxed into `size`), over a silent stereo track."""
    width, height = size
    with av.open(str(out_path), "w", format="mp4", options=MUX_OPTIONS) as out:
        video = add_h264_stream(out, width, height, DEFAULT_VIDEO_BITRATE_BPS, preset=preset)
        audio = add_aac_stream(out)
        count = 0
        for source in images:
            picture = _fitted(source, width, height)
            for _ in range(round(seconds_each * TARGET_FPS)):
                frame = av.VideoFrame.from_image(picture).reformat(format="yuv420p")
                frame.pts, frame.time_base = count, Fraction(1, TARGET_FPS)
                out.mux(video.encode(frame))
                count += 1
        out.mux(video.encode(None))
        resampler = aac_resampler(audio)
        samples = round(count / TARGET_FPS * audio.rate)
        silence = av.AudioFrame(format="fltp", layout="stereo", samples=samples)
        for plane in silence.planes:
            plane.update(bytes(plane.buffer_size))
        silence.sample_rate = audio.rate
        for part in [*resampler.resample(silence), *resampler.resample(None)]:
            out.mux(audio.encode(part))
        out.mux(audio.encode(None))
    assert_clean(out_path)
    return out_path


def _fitted(source: bytes | Path, width: int, height: int) -> Image.Image:
    with Image.open(io.BytesIO(source) if isinstance(source, bytes) else source) as image:
        picture = image.convert("RGB")
    picture.thumbnail((width, height))
    canvas = Image.new("RGB", (width, height))
    canvas.paste(picture, ((width - picture.width) // 2, (height - picture.height) // 2))
    return canvas
