"""A video in a post written in the dashboard's planner: which files a volunteer may choose, uploads
kept by content hash, and the checks — the same rule as a campaign file's `video:` (planning/video.py),
turned into planner checks with codes and figures — and the media entry publishing reads.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from outreach.config import ChannelConfig, Settings
from outreach.connectors import UnknownPlatform, platform_class
from outreach.errors import InputError
from outreach.media import VideoError, probe
from outreach.media.captions import CaptionError, caption_format
from outreach.planning.spec import VideoSpec
from outreach.planning.video import (
    Findings,
    asset_folders,
    caption_error_at,
    video_findings,
    video_post_entry,
)

VIDEO_SUFFIXES = (".mp4", ".mov", ".m4v", ".webm")
CAPTION_SUFFIXES = (".srt", ".vtt")
MAX_UPLOAD_MB = 200  # Streamlit holds an upload in memory (its default cap); longer films go in asset_dirs
MAX_UPLOAD_BYTES = MAX_UPLOAD_MB * 1024**2
MAX_LISTED = 500
_SAFE = re.compile(r"[^A-Za-z0-9._-]+")


class UploadError(InputError):
    """An uploaded file that is not kept; the message names the file."""


@dataclass(frozen=True, slots=True)
class DraftVideo:
    """The planner's video: the file, its description (alt text) and caption files per language, a cover
    (`frame` seconds into the video, a `card` template drawn per language, or neither) and options per
    channel ({"peer-instagram": {"share_to_feed": True}})."""

    file: str
    descriptions: Mapping[str, str] = field(default_factory=dict)
    captions: Mapping[str, str] = field(default_factory=dict)
    frame: float | None = None
    card: str | None = None
    options: Mapping[str, Mapping[str, bool]] = field(default_factory=dict)


def upload_dir(settings: Settings) -> Path:
    return Path(settings.media.directory) / "uploads"


def allowed_folders(settings: Settings) -> list[Path]:
    """Where a planner's video may come from: the folders validate allows (the campaigns folder and
    `[media] asset_dirs`) and the planner's own uploads."""
    return [*asset_folders(Path(settings.campaigns_dir), settings.media.asset_dirs), upload_dir(settings).resolve()]


def video_files(settings: Settings) -> list[Path]:
    """The video files a volunteer can choose, newest first (at most MAX_LISTED)."""
    found: dict[Path, float] = {}
    for folder in allowed_folders(settings):
        if folder.is_dir():
            for path in folder.rglob("*"):
                if path.suffix.lower() in VIDEO_SUFFIXES and path.is_file():
                    found[path.resolve()] = path.stat().st_mtime
    return sorted(found, key=lambda p: -found[p])[:MAX_LISTED]


def save_upload(settings: Settings, name: str, data: bytes) -> Path:
    """Keep an uploaded video or caption file under `[media] directory`/uploads by its content hash
    (the same file twice is kept once); a video must be one FFmpeg can read."""
    suffix = Path(name).suffix.lower()
    if suffix not in (*VIDEO_SUFFIXES, *CAPTION_SUFFIXES):
        raise UploadError(f"{name}: not a video ({', '.join(VIDEO_SUFFIXES)}) or captions (.srt, .vtt)")
    if len(data) > MAX_UPLOAD_BYTES:
        raise UploadError(f"{name}: {len(data):,} bytes is more than {MAX_UPLOAD_BYTES:,}")
    folder = upload_dir(settings) / hashlib.sha256(data).hexdigest()[:32]
    kept = sorted(folder.glob(f"*{suffix}")) if folder.is_dir() else []
    path = kept[0] if kept else folder / _SAFE.sub("-", Path(name).name)
    if not path.exists():
        folder.mkdir(parents=True, exist_ok=True)
        partial = path.with_suffix(path.suffix + ".part")
        partial.write_bytes(data)
        partial.replace(path)
    if suffix in VIDEO_SUFFIXES:
        try:
            probe(path)
        except VideoError:
            path.unlink()
            folder.rmdir()
            raise UploadError(f"{name}: not a video FFmpeg can read") from None
    return path.resolve()


def video_options(settings: Settings, channels: Sequence[str]) -> dict[str, list[str]]:
    """The video options each channel's platform understands (its connector's `video_options`)."""
    found = {}
    for name in channels:
        channel = settings.channels.get(name)
        try:
            cls = platform_class(channel.platform) if channel else None
        except UnknownPlatform:
            cls = None
        if cls is not None and cls.video is not None:
            found[name] = sorted(cls.video_options)
    return found


def video_checks(video: DraftVideo, channels: Sequence[ChannelConfig], languages: Sequence[str],
                 settings: Settings) -> tuple[dict[str, Any] | None, Findings]:
    """The checked media entry (None: the file is unusable) and every finding, as validate finds them."""
    found = Findings()
    path = Path(video.file).resolve()
    for lang, caption in video.captions.items():
        try:
            caption_format(Path(caption))
        except CaptionError as exc:
            found.problem(("video", "captions", lang), str(exc), code="captions_error", language=lang,
                          **caption_error_at(exc))
    try:
        spec = draft_spec(replace(video, file=str(path)), [c.name for c in channels])
    except ValidationError as exc:
        found.problem(("video",), f"video: {exc.errors()[0]['msg']}", detail=str(exc))
        return None, found
    entry = video_findings(spec, loc=("video",), base_dir=Path(settings.campaigns_dir), channels=channels,
                           languages=languages, found=found, folders=allowed_folders(settings))
    return entry, found


def draft_spec(video: DraftVideo, channels: Sequence[str]) -> VideoSpec:
    """The draft's video as a campaign file would write it (for the media entry of each post)."""
    cover: Any = video.frame
    if video.card:
        cover = {"card": video.card, **({"frame": video.frame} if video.frame is not None else {})}
    return VideoSpec.model_validate({
        "file": video.file, "description": {k: v for k, v in video.descriptions.items() if v.strip()},
        "captions": dict(video.captions),
        "cover": cover, "channels": {k: dict(v) for k, v in video.options.items() if k in channels}})


def post_entry(video: DraftVideo, checked: dict[str, Any] | None, *, language: str, channel: str,
               channels: Sequence[str]) -> dict[str, Any]:
    """One post's media entry, written as the campaign path writes it (`video_post_entry`)."""
    return video_post_entry(draft_spec(video, channels), checked, language=language, channel=channel)


def from_entries(entries: Mapping[tuple[str, str], Mapping[str, Any]]) -> DraftVideo | None:
    """A saved draft's video again, from its posts' media entries keyed by (channel, language)."""
    if not entries:
        return None
    first = next(iter(entries.values()))
    cover = first.get("cover")
    frame = cover if isinstance(cover, int | float) else cover.get("frame") if isinstance(cover, dict) else None
    card = cover.get("card") if isinstance(cover, dict) else None
    return DraftVideo(file=first["video"], descriptions={lang: e.get("alt_text", "") for (_, lang), e in entries.items()},
                      captions=dict(first.get("captions", {})), frame=frame, card=card,
                      options={ch: dict(e["options"]) for (ch, _), e in entries.items() if e.get("options")})
