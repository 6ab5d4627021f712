"""Read a video's facts, check them against a platform, and write a copy that carries nothing else.

Phone videos carry GPS (`©xyz`, `com.apple.quicktime.location.ISO6709`), device make/model and
capture times in QuickTime/MP4 atoms; meetings of vulnerable people must not reveal where they were.
`strip` remuxes (no re-encode) only the first video and audio stream into a fresh MP4 with no
container or stream tags; `transcode` re-encodes to the safe target of reference §9.3 when the
platform would refuse the file. Both stream packet by packet (memory does not grow with file size)
and both end with `assert_clean`, which refuses an output that still holds a location or device tag.
PyAV (FFmpeg inside its wheels) does the work: one pip dependency, the same FFmpeg on every machine.
"""

from __future__ import annotations

import math
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path

import av
import av.error

from outreach.domain import VideoCapabilities
from outreach.media.burn import CaptionOverlay
from outreach.media.profiles import (
    AUDIO_BITRATE_BPS,
    AUDIO_RATE,
    DEFAULT_VIDEO_BITRATE_BPS,
    LANDSCAPE_SIZE,
    TARGET_FPS,
    VERTICAL_SIZE,
)

# Muxer options of every output: moov before mdat (playable while downloading), no `encoder` tag.
MUX_OPTIONS = {"movflags": "+faststart", "fflags": "+bitexact"}
# Tags FFmpeg's MP4 muxer writes by itself; anything else on the output is a leak.
_ALLOWED_CONTAINER_TAGS = {"major_brand", "minor_version", "compatible_brands"}
_ALLOWED_STREAM_TAGS = {"language", "handler_name", "vendor_id"}
# Byte patterns of location/device atoms and keys, looked for outside the media data.
LEAK_MARKERS = (b"\xa9xyz", b"loci", b"ISO6709", b"com.apple", b"com.android", b"\xa9mak", b"\xa9mod",
                b"\xa9day", b"XMP_", b"<x:xmpmeta")
_MAX_HEADER_BOX = 64 * 1024 * 1024  # a moov of hours of video is a few MB; never read more than this


class VideoError(ValueError):
    """A video cannot be read, or cannot be made acceptable; the message names the file."""


@dataclass(frozen=True, slots=True)
class VideoInfo:
    """What a platform checks. Width and height are as displayed (after rotation)."""

    bytes: int
    duration_s: float
    width: int
    height: int
    rotation: int
    video_codec: str
    pix_fmt: str
    fps: float
    audio_codec: str | None
    other_streams: int

    @property
    def aspect(self) -> float:
        return self.width / self.height


@dataclass(frozen=True, slots=True)
class Problem:
    """One way a video does not fit a platform; `fixable` when a transcode would solve it."""

    field: str
    message: str
    fixable: bool
    code: str = ""  # for a person's own language: "too_long", "too_short", "too_large", "too_small"
    values: Mapping[str, float] = field(default_factory=dict)  # the figures the message names


def probe(path: Path) -> VideoInfo:
    """Facts of the first video stream (and first audio stream) of `path`; reads one frame for rotation."""
    path = Path(path)
    try:
        with av.open(str(path)) as container:
            if not container.streams.video:
                raise VideoError(f"{path}: has no video stream")
            video = container.streams.video[0]
            audio = container.streams.audio[0] if container.streams.audio else None
            if container.duration is not None:
                duration = container.duration / av.time_base
            elif video.duration is not None and video.time_base is not None:
                duration = float(video.duration * video.time_base)
            else:
                duration = 0.0
            rate = video.average_rate or video.guessed_rate or video.base_rate
            rotation = _first_frame_rotation(container, video)
            ctx = video.codec_context
            width, height = ctx.width, ctx.height
            if rotation % 180:
                width, height = height, width
            used = 1 + (audio is not None)
            return VideoInfo(
                bytes=path.stat().st_size, duration_s=round(duration, 3), width=width, height=height,
                rotation=rotation, video_codec=ctx.name, pix_fmt=ctx.pix_fmt or "", fps=float(rate or 0),
                audio_codec=audio.codec_context.name if audio else None,
                other_streams=len(container.streams) - used,
            )
    except (av.error.FFmpegError, UnicodeDecodeError) as exc:
        raise VideoError(f"{path}: not a video FFmpeg can read ({_reason(exc)})") from None


def _first_frame_rotation(container: av.container.InputContainer, video: av.VideoStream) -> int:
    try:
        for frame in container.decode(video):
            return int(round(frame.rotation or 0)) % 360
    except av.error.FFmpegError:
        return 0
    return 0


def _reason(exc: Exception) -> str:
    return getattr(exc, "strerror", None) or type(exc).__name__


def problems(info: VideoInfo, profile: VideoCapabilities) -> list[Problem]:
    """Every way `info` breaks `profile`. Unfixable ones (duration) must be fixed by the person."""
    found: list[Problem] = []

    def add(field: str, message: str, fixable: bool = True, code: str = "", **values: float) -> None:
        found.append(Problem(field, message, fixable, code, values))

    p = profile
    if p.max_duration_s is not None and info.duration_s > p.max_duration_s:
        add("duration", f"is {info.duration_s:.1f} s long, the limit is {p.max_duration_s:g} s", False,
            "too_long", seconds=info.duration_s, limit=p.max_duration_s)
    if info.duration_s < p.min_duration_s:
        add("duration", f"is {info.duration_s:.1f} s long, the minimum is {p.min_duration_s:g} s", False,
            "too_short", seconds=info.duration_s, limit=p.min_duration_s)
    if info.bytes > p.max_bytes:
        floor_bytes = info.duration_s * 500_000 / 8  # a watchable 0.5 Mbit/s is the least we try
        add("bytes", f"is {info.bytes:,} bytes, the limit is {p.max_bytes:,}", floor_bytes < p.max_bytes,
            "too_large", bytes=info.bytes, limit=p.max_bytes)
    if info.bytes < p.min_bytes:
        add("bytes", f"is {info.bytes:,} bytes, the minimum is {p.min_bytes:,}", False,
            "too_small", bytes=info.bytes, limit=p.min_bytes)
    if info.video_codec not in p.video_codecs or info.pix_fmt != "yuv420p":
        add("codec", f"is {info.video_codec}/{info.pix_fmt}, needed {'/'.join(p.video_codecs)}/yuv420p")
    if info.audio_codec is not None and info.audio_codec not in p.audio_codecs:
        add("codec", f"has {info.audio_codec} sound, needed {'/'.join(p.audio_codecs)}")
    if p.min_aspect is not None and info.aspect < p.min_aspect or (
        p.max_aspect is not None and info.aspect > p.max_aspect
    ):
        add("aspect", f"is {info.width}x{info.height}, the platform needs width/height between "
                      f"{p.min_aspect or 0:.3g} and {p.max_aspect or math.inf:.3g}")
    if p.min_fps is not None and info.fps < p.min_fps or p.max_fps is not None and info.fps > p.max_fps:
        add("fps", f"has {info.fps:.3g} frames per second, allowed {p.min_fps or 0:g}-{p.max_fps or math.inf:g}")
    if (p.max_width and info.width > p.max_width) or (p.max_height and info.height > p.max_height) or (
        p.max_pixels and info.width * info.height > p.max_pixels
    ):
        add("dimensions", f"is {info.width}x{info.height}, larger than the platform takes")
    if p.min_short_side and min(info.width, info.height) < p.min_short_side:
        add("dimensions", f"is {info.width}x{info.height}, smaller than {p.min_short_side} px on its short side")
    return found


def target_size(info: VideoInfo, profile: VideoCapabilities) -> tuple[int, int]:
    """9:16 for portrait (and for landscape where the platform wants vertical only), else 16:9."""
    if info.width > info.height and profile.landscape and (profile.max_aspect or math.inf) >= 16 / 9:
        return LANDSCAPE_SIZE
    return VERTICAL_SIZE


def video_bitrate(info: VideoInfo, profile: VideoCapabilities) -> int:
    """The highest video bit rate (8 Mbit/s at most) that keeps the file within the byte limit."""
    rate = min(DEFAULT_VIDEO_BITRATE_BPS, profile.max_bitrate_bps or DEFAULT_VIDEO_BITRATE_BPS)
    if info.duration_s > 0:
        budget = profile.max_bytes * 8 * 0.9 / info.duration_s - AUDIO_BITRATE_BPS  # 10 % for the container
        rate = min(rate, int(budget))
    if rate < 300_000:
        raise VideoError(f"a {info.duration_s:.0f} s video cannot fit in {profile.max_bytes:,} bytes")
    return rate


def strip(src: Path, dst: Path) -> None:
    """Copy the first video and audio stream of `src` into a fresh MP4 at `dst`: no tags, no other
    tracks (timed GPS, subtitles, data), no chapters, no unknown atoms; rotation is kept."""
    try:
        with av.open(str(src)) as inp, av.open(str(dst), "w", format="mp4", options=MUX_OPTIONS) as out:
            v_in = inp.streams.video[0]
            a_in = inp.streams.audio[0] if inp.streams.audio else None
            mapping = {v_in.index: out.add_stream_from_template(v_in)}
            if a_in is not None:
                mapping[a_in.index] = out.add_stream_from_template(a_in)
            for stream in mapping.values():
                stream.metadata.clear()
            for packet in inp.demux([s for s in (v_in, a_in) if s is not None]):
                if packet.dts is None:
                    continue
                packet.stream = mapping[packet.stream.index]
                out.mux(packet)
    except (av.error.FFmpegError, IndexError) as exc:
        raise VideoError(f"{src}: could not copy the video ({_reason(exc)})") from None
    assert_clean(dst)


def transcode(src: Path, dst: Path, info: VideoInfo, profile: VideoCapabilities, *, preset: str = "medium",
              overlay: CaptionOverlay | None = None) -> None:
    """Re-encode `src` to H.264 High/AAC MP4 at 30 fps, scaled and padded to 9:16 or 16:9 (§9.3),
    with `overlay`'s captions burned in when given."""
    width, height = target_size(info, profile)
    bitrate = video_bitrate(info, profile)
    try:
        with av.open(str(src)) as inp, av.open(str(dst), "w", format="mp4", options=MUX_OPTIONS) as out:
            v_in = inp.streams.video[0]
            a_in = inp.streams.audio[0] if inp.streams.audio else None
            v_out = add_h264_stream(out, width, height, bitrate, preset=preset)
            a_out = add_aac_stream(out) if a_in is not None else None
            graph = video_graph(v_in, width, height, info.rotation)
            resampler = aac_resampler(a_out) if a_out is not None else None
            frames = 0
            for packet in inp.demux([s for s in (v_in, a_in) if s is not None]):
                for frame in packet.decode():
                    if packet.stream is v_in:
                        frames = _encode_video(graph, frame, v_out, out, frames, overlay)
                    elif resampler is not None and a_out is not None:
                        frame.pts = None
                        for part in resampler.resample(frame):
                            out.mux(a_out.encode(part))
            frames = _encode_video(graph, None, v_out, out, frames, overlay)
            out.mux(v_out.encode(None))
            if resampler is not None and a_out is not None:
                for part in resampler.resample(None):
                    out.mux(a_out.encode(part))
                out.mux(a_out.encode(None))
    except (av.error.FFmpegError, ValueError) as exc:
        if isinstance(exc, VideoError):
            raise
        raise VideoError(f"{src}: could not transcode the video ({_reason(exc)})") from None
    assert_clean(dst)


# The §9.3 video encoder: High 4.1, yuv420p, CRF 21 under a bit-rate cap, closed 2 s GOP. Memory: x264
# keeps every frame of its look-ahead and B-frame queue at full size (about 6 MB each at 1080x1920) and
# its references with half-pel planes (about 12 MB each). A 10-frame look-ahead, a B-pyramid and up to
# 3 references peaked at 241 MB RSS (medium) in a worker-like process; a 4-frame look-ahead, no pyramid
# (2 B-frames hardly use it) and 2 references keep it at ~181 MB. The platforms re-encode every upload,
# so what the longer look-ahead buys is lost anyway. Threads are capped so a many-core machine does not
# multiply the frames in flight.
H264_OPTIONS = {"profile": "high", "level": "4.1", "crf": "21", "g": str(2 * TARGET_FPS),
                "keyint_min": str(2 * TARGET_FPS), "sc_threshold": "0", "bf": "2", "b-pyramid": "none",
                "rc-lookahead": "4", "refs": "2",
                "threads": str(min(os.cpu_count() or 1, 4))}


def h264_options(bitrate: int, preset: str) -> dict[str, str]:
    """The encoder options of every transcode (and of the benchmark's bare baseline)."""
    return {**H264_OPTIONS, "preset": preset, "maxrate": str(bitrate), "bufsize": str(2 * bitrate)}


def add_h264_stream(out: av.container.OutputContainer, width: int, height: int, bitrate: int, *,
                    preset: str = "medium") -> av.VideoStream:
    stream = out.add_stream("libx264", rate=TARGET_FPS, options=h264_options(bitrate, preset))
    stream.width, stream.height, stream.pix_fmt = width, height, "yuv420p"
    stream.codec_context.flags |= av.codec.context.Flags.bitexact
    return stream


def add_aac_stream(out: av.container.OutputContainer) -> av.AudioStream:
    stream = out.add_stream("aac", rate=AUDIO_RATE)
    stream.layout, stream.bit_rate = "stereo", AUDIO_BITRATE_BPS
    stream.codec_context.flags |= av.codec.context.Flags.bitexact
    return stream


def aac_resampler(stream: av.AudioStream) -> av.AudioResampler:
    return av.AudioResampler(format="fltp", layout="stereo", rate=AUDIO_RATE,
                             frame_size=stream.codec_context.frame_size or 1024)


def video_graph(v_in: av.VideoStream, width: int, height: int, rotation: int) -> av.filter.Graph:
    """Upright, scaled to fit inside width x height, padded to exactly that, 30 fps, yuv420p."""
    graph = av.filter.Graph()
    chain = [graph.add_buffer(template=v_in)]
    turn = {90: ["transpose=cclock"], 180: ["hflip", "vflip"], 270: ["transpose=clock"]}.get(rotation, [])
    steps = [*turn, f"scale={width}:{height}:force_original_aspect_ratio=decrease",
             f"pad={width}:{height}:(ow-iw)/2:(oh-ih)/2", f"fps={TARGET_FPS}", "format=yuv420p", "setsar=1"]
    for step in steps:
        name, _, args = step.partition("=")
        chain.append(graph.add(name, args or None))
    chain.append(graph.add("buffersink"))
    for a, b in zip(chain, chain[1:], strict=False):
        a.link_to(b)
    graph.configure()
    return graph


def _encode_video(graph: av.filter.Graph, frame: av.VideoFrame | None, stream: av.VideoStream,
                  out: av.container.OutputContainer, count: int, overlay: CaptionOverlay | None) -> int:
    """Push one decoded frame (None at the end) through the graph; encode what comes out."""
    graph.push(frame)
    while True:
        try:
            filtered = graph.pull()
        except (BlockingIOError, EOFError):
            return count
        except av.error.FFmpegError as exc:
            if getattr(exc, "errno", None) in (11, 541478725):  # EAGAIN, AVERROR_EOF
                return count
            raise
        if overlay is not None:
            overlay.burn(filtered, count / TARGET_FPS)
        filtered.pts, filtered.time_base = count, Fraction(1, TARGET_FPS)
        out.mux(stream.encode(filtered))
        count += 1


def assert_clean(path: Path) -> None:
    """Refuse an output with tags beyond the muxer's own, extra tracks, or location/device bytes
    anywhere outside the media data (`mdat` payloads are compressed pixels and sound, not atoms)."""
    with av.open(str(path)) as container:
        extra = set(container.metadata) - _ALLOWED_CONTAINER_TAGS
        for stream in container.streams:
            extra |= set(stream.metadata) - _ALLOWED_STREAM_TAGS
        kinds = [s.type for s in container.streams]
    if extra or kinds.count("video") != 1 or kinds.count("audio") > 1 or len(kinds) > 2:
        raise VideoError(f"{path}: metadata survived the pipeline ({sorted(extra) or kinds}); not used")
    headers = header_bytes(path)
    for marker in LEAK_MARKERS:
        if marker in headers:
            raise VideoError(f"{path}: a location or device atom survived the pipeline; not used")


def header_bytes(path: Path) -> bytes:
    """Every top-level MP4 box except the payload of `mdat`: where tags and atoms live."""
    kept = bytearray()
    size_total = os.path.getsize(path)
    with open(path, "rb") as fh:
        offset = 0
        while offset + 8 <= size_total:
            fh.seek(offset)
            head = fh.read(16)
            size, kind = int.from_bytes(head[:4], "big"), head[4:8]
            header = 8
            if size == 1:
                size, header = int.from_bytes(head[8:16], "big"), 16
            elif size == 0:
                size = size_total - offset
            if size < header:
                raise VideoError(f"{path}: broken MP4 box at byte {offset}")
            fh.seek(offset)
            kept += fh.read(header if kind == b"mdat" else min(size, _MAX_HEADER_BOX))
            offset += size
    return bytes(kept)
