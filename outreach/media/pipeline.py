"""Prepare a video for one platform: strip always, transcode only when the platform would refuse it,
and keep the result in a cache keyed by the content hash, so a re-run or a second channel on the same
platform costs one hash."""

from __future__ import annotations

import hashlib
import os
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path

from outreach.domain import VideoCapabilities
from outreach.media.burn import CaptionOverlay
from outreach.media.captions import Cue
from outreach.media.video import (
    H264_OPTIONS,
    VideoError,
    VideoInfo,
    probe,
    problems,
    strip,
    target_size,
    transcode,
)

# Bump when the output for the same input would change in a way the key does not see (stripping rules,
# the transcode's code); the encoder settings are in the key.
PIPELINE_VERSION = "1"
_CHUNK = 1024 * 1024


@dataclass(frozen=True, slots=True)
class PreparedVideo:
    path: Path
    info: VideoInfo
    source_sha256: str
    transcoded: bool
    cached: bool


def file_sha256(path: Path) -> str:
    """Hash in 1 MiB chunks: memory stays flat for any file size."""
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        while chunk := fh.read(_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def prepare_video(src: Path, profile: VideoCapabilities, cache_dir: Path, *, preset: str = "medium",
                  burn: Sequence[Cue] = (), language: str = "") -> PreparedVideo:
    """A metadata-free MP4 of `src` that `profile` accepts, from the cache when it was made before;
    with `burn`, those captions (in `language`) are drawn into the picture (always a transcode).

    Raises VideoError when no transcode can make it acceptable (e.g. too long: trimming is a person's
    choice, not ours)."""
    src = Path(src)
    info = probe(src)
    found = problems(info, profile)
    fatal = [p for p in found if not p.fixable]
    if fatal:
        raise VideoError(f"{src}: {fatal[0].field} {fatal[0].message}")
    needs_transcode = bool(found) or bool(burn)
    source_sha = file_sha256(src)
    # A stripped copy is the same for every platform that takes the file as it is; a transcode is not.
    # The encoder's settings are part of a transcode's key, so changing them never reuses an old output.
    encoder = sorted((k, v) for k, v in H264_OPTIONS.items() if k != "threads")
    variant = f"{profile!r}|{preset}|{language}|{tuple(burn)!r}|{encoder}" if needs_transcode else "strip"
    key = hashlib.sha256(f"{PIPELINE_VERSION}|{source_sha}|{variant}".encode()).hexdigest()[:40]
    cache_dir.mkdir(parents=True, exist_ok=True)
    target = cache_dir / f"{key}.mp4"
    if target.exists():
        return PreparedVideo(target, probe(target), source_sha, needs_transcode, cached=True)
    fd, tmp_name = tempfile.mkstemp(dir=cache_dir, suffix=".part.mp4")
    os.close(fd)
    tmp = Path(tmp_name)
    try:
        if needs_transcode:
            size = target_size(info, profile)
            overlay = CaptionOverlay(burn, language, *size) if burn else None
            transcode(src, tmp, info, profile, preset=preset, overlay=overlay)
            result = probe(tmp)
        else:
            strip(src, tmp)  # the same streams, so the same facts; only the size changes
            result = replace(info, bytes=tmp.stat().st_size)
        left = problems(result, profile)
        if left:
            raise VideoError(f"{src}: after preparing, the video still {left[0].message}")
        os.replace(tmp, target)
    finally:
        tmp.unlink(missing_ok=True)
    return PreparedVideo(target, result, source_sha, needs_transcode, cached=False)
