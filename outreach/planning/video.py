"""Check a post rule's `video:` entry while planning: the file is probed against every channel's video
limits, captions and cover are read, options are checked against the platform. Problems go to the
planner with the campaign file's line; the video itself is prepared (stripped, transcoded) at publish.
A cover drawn by a card (`cover: {card: quote}`) is rendered per post by planning/cards.py, at
`cover_card_size`; a platform that takes only a frame (TikTok) needs the cover's `frame` too.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

from PIL import Image, UnidentifiedImageError

from outreach.cards import CardSize, cover_size
from outreach.config import ChannelConfig
from outreach.connectors import (
    Connector,
    UnknownPlatform,
    display_name,
    platform_class,
    video_option_platforms,
)
from outreach.media import VideoError, VideoInfo, probe, problems
from outreach.media.captions import CaptionError, caption_problems, read_captions
from outreach.media.video import target_size
from outreach.planning.source import Loc
from outreach.planning.spec import CoverSpec, VideoSpec

Report = Callable[[Loc, str], None]


@lru_cache(maxsize=64)
def _probe(path: str, size: int, mtime_ns: int) -> VideoInfo:
    return probe(Path(path))


def probe_cached(path: Path) -> VideoInfo:
    """Probe once per file version in a run (a rule expands into many posts)."""
    stat = path.stat()
    return _probe(str(path), stat.st_size, stat.st_mtime_ns)


@dataclass(frozen=True, slots=True)
class Finding:
    """One thing check_video found: where, in English, and (`code`, `values`) for a person's own language.
    `warning`: it does not stop the plan (captions a channel drops)."""

    loc: Loc
    message: str
    channel: str | None = None
    code: str = ""
    values: dict[str, Any] = field(default_factory=dict)
    warning: bool = False


class Findings(list[Finding]):
    def problem(self, loc: Loc, message: str, *, channel: str | None = None, code: str = "", **values: Any) -> None:
        self.append(Finding(loc, message, channel, code, values))

    def warn(self, loc: Loc, message: str, *, channel: str | None = None, code: str = "", **values: Any) -> None:
        self.append(Finding(loc, message, channel, code, values, warning=True))


def caption_error_at(exc: CaptionError) -> dict[str, Any]:
    """A caption error's file name, line and whole message (the message is `file:line: what`)."""
    found = re.match(r"(.*):(\d+): ", str(exc))
    return {"file": Path(found[1]).name if found else "", "line": int(found[2]) if found else 1, "detail": str(exc)}


def asset_folders(base_dir: Path, asset_dirs: Sequence[str]) -> list[Path]:
    """The folders a campaign's media may come from: its own folder and `[media] asset_dirs`."""
    return [base_dir.resolve(), *(Path(d).resolve() for d in asset_dirs)]


def _inside(path: Path, folders: Sequence[Path]) -> bool:
    return any(path.is_relative_to(folder) for folder in folders)


def _where(folders: Sequence[Path]) -> str:
    return " or ".join(str(f) for f in folders)


def check_video(video: VideoSpec, *, loc: Loc, base_dir: Path, channels: Sequence[ChannelConfig],
                languages: Collection[str], report: Report, warn: Report | None = None,
                folders: Sequence[Path] | None = None) -> dict[str, Any] | None:
    """The media entry for the rule's posts (without the per-language description), or None when the
    file is missing or unreadable. Every problem is reported; nothing is raised. `warn` hears what
    does not stop the plan: captions a channel without a caption API will drop."""
    found = Findings()
    entry = video_findings(video, loc=loc, base_dir=base_dir, channels=channels, languages=languages, found=found,
                           folders=folders if folders is not None else [base_dir.resolve()])
    for finding in found:
        if not finding.warning:
            report(finding.loc, finding.message)
        elif warn is not None:
            warn(finding.loc, finding.message)
    return entry


def video_findings(video: VideoSpec, *, loc: Loc, base_dir: Path, channels: Sequence[ChannelConfig],
                   languages: Collection[str], found: Findings, folders: Sequence[Path]) -> dict[str, Any] | None:
    """check_video's one rule, its findings kept with codes and figures (the dashboard's planner says them
    in the volunteer's language). Every file it reads (video, captions, cover image) must lie in one of
    `folders` (symlinks resolved), as a campaign's images must: a campaign never reaches elsewhere."""
    path = (base_dir / video.file).resolve()
    if not _inside(path, folders):
        found.problem((*loc, "file"), f"video {video.file!r} is outside the campaign's folder; put it in "
                      f"{_where(folders)} (or add its folder to [media] asset_dirs)", code="video_outside")
        return None
    if not path.is_file():
        found.problem((*loc, "file"), f"video {video.file!r} not found (looked in {path.parent})", code="video_missing")
        return None
    try:
        info = probe_cached(path)
    except VideoError as exc:
        found.problem((*loc, "file"), str(exc), code="video_unreadable")
        return None
    for channel in channels:
        cls = _video_class(channel)
        if cls is None:
            continue
        if cls.video is None:
            found.problem((*loc, "file"), f"{channel.name}: {display_name(channel.platform)} has no video support",
                          channel=channel.name, code="no_video", platform=channel.platform)
            continue
        if channel.platform != "manual" and not cls.uploads_video:
            found.problem((*loc, "file"), f"{channel.name}: video cannot be published on "
                          f"{display_name(channel.platform)} yet (its connector has no video upload)",
                          channel=channel.name, code="no_video", platform=channel.platform)
            continue
        for problem in problems(info, cls.video):
            if not problem.fixable:
                found.problem((*loc, "file"), f"{channel.name}: the video {problem.message} "
                              f"({display_name(channel.platform)})", channel=channel.name,
                              code=f"video_{problem.code or problem.field}", platform=channel.platform,
                              **problem.values)
    missing = [lang for lang in languages if lang not in video.description]
    if missing:
        found.problem((*loc, "description"), f"no description (alt text) in {', '.join(map(repr, missing))} "
                                             "for the video", code="video_description", languages=missing)
    captions = {}
    for lang, name in video.captions.items():
        caption_path = (base_dir / name).resolve()
        if not _inside(caption_path, folders):
            found.problem((*loc, "captions", lang), f"captions {name!r} are outside the campaign's folder; put them "
                          f"in {_where(folders)} (or add its folder to [media] asset_dirs)", code="captions_outside",
                          language=lang)
            continue
        if not caption_path.is_file():
            found.problem((*loc, "captions", lang), f"caption file {name!r} not found (looked in "
                          f"{caption_path.parent})", code="captions_missing", language=lang)
            continue
        try:
            read_captions(caption_path, duration_s=info.duration_s)
        except CaptionError as exc:
            found.problem((*loc, "captions", lang), str(exc), code="captions_error", language=lang,
                          **caption_error_at(exc))
            continue
        captions[lang] = str(caption_path)
    _check_caption_caps(captions, channels, video, loc=(*loc, "captions"), found=found)
    cover = _check_cover(video.cover, info, loc=(*loc, "cover"), base_dir=base_dir, channels=channels,
                         found=found, folders=folders)
    names = {c.name: c for c in channels}
    for name, options in video.channels.items():
        channel = names.get(name)
        if channel is None:
            found.problem((*loc, "channels", name), f"{name!r} is not one of this post's channels "
                                             f"({', '.join(names) or 'none'})")
            continue
        for option in options.model_fields_set:
            if option not in platform_class(channel.platform).video_options:
                found.problem((*loc, "channels", name, option), f"{option} does not apply to {display_name(channel.platform)} "
                       f"(only {', '.join(video_option_platforms(option))})")
        uncaptioned = [lang for lang in languages if lang not in video.captions]
        if options.burn_captions and uncaptioned:
            found.problem((*loc, "channels", name, "burn_captions"), f"no captions in "
                   f"{', '.join(map(repr, uncaptioned))} to burn in (add them under captions)", channel=name,
                   code="burn_no_captions", languages=uncaptioned)
    entry: dict[str, Any] = {"video": str(path), "captions": captions}
    if cover is not None:
        entry["cover"] = cover
    return entry


def _check_caption_caps(captions: dict[str, str], channels: Sequence[ChannelConfig], video: VideoSpec, *,
                        loc: Loc, found: Findings) -> None:
    """Each channel's caption caps (languages, bytes in its format), and a warning where a channel takes
    no caption files (`caption_formats == ()`) and the captions are not burned in: they would be lost."""
    if not captions:
        return
    for channel in channels:
        cls = _video_class(channel)
        caps = cls.video if cls is not None else None
        if caps is None:
            continue
        if not caps.caption_formats:
            options = video.channels.get(channel.name)
            if options is None or options.burn_captions is None:  # false: left out knowingly
                found.warn(loc, f"{channel.name}: {cls.display_name} takes no caption files, so the "
                          f"{', '.join(map(repr, captions))} captions will not be shown there (set "
                          f"burn_captions: true under channels.{channel.name} to draw them into the picture, "
                          "or false to leave them out)", channel=channel.name, code="captions_dropped",
                           platform=channel.platform)
            continue
        for lang, message in caption_problems(captions, caps):
            found.problem((*loc, lang) if lang else loc, f"{channel.name}: {message}", channel=channel.name,
                          code="captions_too_large" if lang else "captions_languages", platform=channel.platform,
                          **({"language": lang} if lang else {}))


def _check_cover(cover: float | str | CoverSpec | None, info: VideoInfo, *, loc: Loc, base_dir: Path,
                 channels: Sequence[ChannelConfig], found: Findings,
                 folders: Sequence[Path]) -> float | str | dict[str, Any] | None:
    """The cover for the posts' media entries: seconds (a frame), an image's path, or a mapping
    {"card": template, "frame"?: seconds} / {"image": path, "frame": seconds}; None when it is broken."""
    if cover is None:
        return None
    written = isinstance(cover, CoverSpec)
    spec = cover if isinstance(cover, CoverSpec) else CoverSpec(image=cover) if isinstance(cover, str) \
        else CoverSpec(frame=cover)

    def at(field: str) -> Loc:
        return (*loc, field) if written else loc

    ok = True
    if spec.frame is not None and spec.frame >= info.duration_s:
        found.problem(at("frame"), f"cover at {spec.frame:g} s is after the video ends ({info.duration_s:.1f} s)",
                      code="cover_after_end", frame=spec.frame, seconds=info.duration_s)
        ok = False
    image = _check_cover_image(spec.image, loc=at("image"), base_dir=base_dir, report=found.problem,
                               folders=folders) if spec.image else None
    ok = ok and (image is not None or not spec.image)
    picture = "a drawn card" if spec.card else "an image"
    for channel in channels if (spec.card or spec.image) and spec.frame is None else ():
        cls = _video_class(channel)
        if cls is not None and cls.video is not None and cls.video.cover == "frame":
            found.problem(at("card" if spec.card else "image"), f"{channel.name}: {display_name(channel.platform)} takes only a frame "
                   f"of the video as its cover, not {picture}; add `frame: <seconds>` to the cover "
                   f"(the frame {display_name(channel.platform)} shows)", channel=channel.name, code="cover_frame",
                   platform=channel.platform)
            ok = False
    if not ok:
        return None
    if not spec.card and not spec.image:
        return spec.frame
    if not spec.card and spec.frame is None:
        return image
    entry: dict[str, Any] = {"card": spec.card} if spec.card else {"image": image}
    return entry if spec.frame is None else {**entry, "frame": spec.frame}


def _check_cover_image(cover: str, *, loc: Loc, base_dir: Path, report: Report,
                       folders: Sequence[Path]) -> str | None:
    path = (base_dir / cover).resolve()
    if not _inside(path, folders):
        report(loc, f"cover image {cover!r} is outside the campaign's folder; put it in {_where(folders)} "
                    "(or add its folder to [media] asset_dirs)")
        return None
    if not path.is_file():
        report(loc, f"cover image {cover!r} not found (looked in {path.parent})")
        return None
    try:
        with Image.open(path) as image:
            image.verify()
    except (UnidentifiedImageError, OSError):
        report(loc, f"cover {cover!r} is not an image (use a JPEG or PNG, or a time in seconds)")
        return None
    return str(path)


def _video_class(channel: ChannelConfig) -> type[Connector] | None:
    try:
        return platform_class(channel.platform)
    except UnknownPlatform:  # the channel itself is reported where it is named
        return None


def cover_card_size(entry: dict[str, Any], platform: str) -> CardSize | None:
    """The size a post's drawn cover is rendered at for `platform` (None: it takes no cover image): the
    video's size once prepared for the platform (its own, or the transcode's 9:16 or 16:9) fitted into
    the platform's image box. The media step draws the same size, so validate's render is reused."""
    cls = platform_class(platform)
    if cls.video is None or cls.video.cover != "image":
        return None
    info = probe_cached(Path(entry["video"]))
    burn = bool(entry.get("options", {}).get("burn_captions"))
    width, height = target_size(info, cls.video) if burn or problems(info, cls.video) else (info.width, info.height)
    return cover_size(cls.image_policy_for(), width, height)


def video_post_entry(video: VideoSpec, checked: dict[str, Any] | None, *, language: str, channel: str,
                     cover_title: str = "") -> dict[str, Any]:
    """One post's media entry for the rule's video: the checked entry (or just the file, when it was
    broken and reported), its description in the post's language, the channel's options and the drawn
    cover's title in the post's language."""
    entry = {**(checked or {"video": video.file}), "alt_text": video.description.get(language, ""),
             "options": channel_options(video, channel)}
    cover = entry.get("cover")
    if cover_title and isinstance(cover, dict) and cover.get("card"):
        entry["cover"] = {**cover, "title": cover_title}
    return entry


def channel_options(video: VideoSpec, channel: str) -> dict[str, Any]:
    """The options set for one channel, as plain values for the post's media entry."""
    options = video.channels.get(channel)
    return options.model_dump(exclude_unset=True) if options else {}
