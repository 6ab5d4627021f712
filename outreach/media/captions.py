"""Caption files (SRT or WebVTT): read and check them, and write either format.

Errors name the caption file and its line (`meeting.nl.srt:12: ...`), so a volunteer can fix the
file. Each connector declares the formats its API takes (`VideoCapabilities.caption_formats`:
Bluesky WebVTT, Facebook and LinkedIn SRT, YouTube either); `caption_text` is the one place a file
is converted to one of them, and `caption_problems` checks a post's captions against a platform's
caps (languages, bytes) when the campaign is validated.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from outreach.domain import VideoCapabilities

MAX_CAPTION_FILE_BYTES = 1_000_000  # a 90-minute film's subtitles are ~100 KB; more is not captions
_SRT_TIME = re.compile(r"^(\d{1,2}):(\d{2}):(\d{2})[,.](\d{3})\s*-->\s*(\d{1,2}):(\d{2}):(\d{2})[,.](\d{3})\s*$")
_VTT_TIME = re.compile(r"^(?:(\d{1,2}):)?(\d{2}):(\d{2})\.(\d{3})\s+-->\s+(?:(\d{1,2}):)?(\d{2}):(\d{2})\.(\d{3})(\s.*)?$")


class CaptionError(ValueError):
    """A caption file that cannot be used; the message starts with `file:line:`."""


@dataclass(frozen=True, slots=True)
class Cue:
    start_s: float
    end_s: float
    text: str


def caption_format(path: Path) -> str:
    """`srt` or `vtt`, from the file name."""
    suffix = Path(path).suffix.lower()
    if suffix not in (".srt", ".vtt"):
        raise CaptionError(f"{path}:1: captions must be an .srt or .vtt file")
    return suffix[1:]


def read_captions(path: Path, *, duration_s: float | None = None) -> list[Cue]:
    """The cues of an SRT or WebVTT file, checked: times well-formed, start before end, in order,
    inside the video (when its duration is given), and some text in every cue."""
    path = Path(path)
    kind = caption_format(path)
    if path.stat().st_size > MAX_CAPTION_FILE_BYTES:
        raise CaptionError(f"{path}:1: {path.stat().st_size:,} bytes is too large for a caption file")
    try:
        text = path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError as exc:
        line = path.read_bytes()[: exc.start].count(b"\n") + 1
        raise CaptionError(f"{path}:{line}: not UTF-8 text; save the file as UTF-8") from None
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    cues = _parse_vtt(path, lines) if kind == "vtt" else _parse_srt(path, lines)
    if not cues:
        raise CaptionError(f"{path}:1: no captions in this file")
    previous = 0.0
    for number, cue, line in ((n, c, ln) for n, (c, ln) in enumerate(cues, 1)):
        if cue.end_s <= cue.start_s:
            raise CaptionError(f"{path}:{line}: caption {number} ends before it starts")
        if cue.start_s < previous:
            raise CaptionError(f"{path}:{line}: caption {number} starts before the one above it")
        if duration_s is not None and cue.start_s >= duration_s:
            raise CaptionError(f"{path}:{line}: caption {number} starts at {cue.start_s:.1f} s, "
                               f"after the video ends ({duration_s:.1f} s)")
        previous = cue.start_s
    return [c for c, _ in cues]


def _seconds(h: str | None, m: str, s: str, ms: str) -> float:
    return int(h or 0) * 3600 + int(m) * 60 + int(s) + int(ms) / 1000


def _blocks(lines: list[str]) -> list[tuple[int, list[str]]]:
    """Groups of non-blank lines with the 1-based line number of their first line."""
    blocks, current, first = [], [], 0
    for i in range(len(lines) + 1):
        line = lines[i] if i < len(lines) else ""
        if line.strip():
            if not current:
                first = i + 1
            current.append(line)
        elif current:
            blocks.append((first, current))
            current = []
    return blocks


def _parse_srt(path: Path, lines: list[str]) -> list[tuple[Cue, int]]:
    cues = []
    for first, block in _blocks(lines):
        if not block[0].strip().isdigit():
            raise CaptionError(f"{path}:{first}: expected a caption number, found {block[0].strip()[:40]!r}")
        if len(block) < 2 or not (match := _SRT_TIME.match(block[1].strip())):
            raise CaptionError(f"{path}:{first + 1}: expected a time like 00:00:01,000 --> 00:00:03,500")
        if len(block) < 3:
            raise CaptionError(f"{path}:{first + 1}: caption {block[0].strip()} has no text")
        g = match.groups()
        cues.append((Cue(_seconds(*g[:4]), _seconds(*g[4:8]), "\n".join(block[2:])), first + 1))
    return cues


def _parse_vtt(path: Path, lines: list[str]) -> list[tuple[Cue, int]]:
    if not lines or not re.match(r"^WEBVTT(?:[ \t].*)?$", lines[0]):
        raise CaptionError(f"{path}:1: a WebVTT file starts with the line WEBVTT")
    cues = []
    for first, block in _blocks(lines)[1:]:  # the first block is the WEBVTT header
        head = block[0].strip()
        if head.startswith(("NOTE", "STYLE", "REGION")):
            continue
        timing, offset = (block[0], 0) if "-->" in block[0] else (block[1] if len(block) > 1 else "", 1)
        match = _VTT_TIME.match(timing.strip())
        if not match:
            raise CaptionError(f"{path}:{first + offset}: expected a time like 00:01.000 --> 00:03.500")
        if len(block) <= offset + 1:
            raise CaptionError(f"{path}:{first + offset}: this caption has no text")
        g = match.groups()
        cues.append((Cue(_seconds(*g[:4]), _seconds(*g[4:8]), "\n".join(block[offset + 1:])), first + offset))
    return cues


def _stamp(seconds: float, sep: str) -> str:
    ms = round(seconds * 1000)
    return f"{ms // 3_600_000:02d}:{ms // 60_000 % 60:02d}:{ms // 1000 % 60:02d}{sep}{ms % 1000:03d}"


def to_webvtt(cues: list[Cue]) -> str:
    body = "\n\n".join(f"{_stamp(c.start_s, '.')} --> {_stamp(c.end_s, '.')}\n{c.text}" for c in cues)
    return f"WEBVTT\n\n{body}\n"


def to_srt(cues: list[Cue]) -> str:
    return "\n\n".join(f"{i}\n{_stamp(c.start_s, ',')} --> {_stamp(c.end_s, ',')}\n{c.text}"
                       for i, c in enumerate(cues, 1)) + "\n"


_WRITERS = {"vtt": to_webvtt, "srt": to_srt}
_NAMES = {"vtt": "WebVTT", "srt": "SRT", "sbv": "SBV"}


def caption_text(path: Path | str, formats: tuple[str, ...]) -> tuple[str, str]:
    """(format, text) of a checked caption file in a format the platform takes: as written when it
    is one of `formats`, else converted to the first of them we can write. CaptionError otherwise."""
    path = Path(path)
    kind, cues = caption_format(path), read_captions(path)
    if kind in formats:
        return kind, path.read_text(encoding="utf-8-sig")
    target = next((f for f in formats if f in _WRITERS), None)
    if target is None:
        raise CaptionError(f"{path}:1: this platform takes no caption files (burn the captions in instead)")
    return target, _WRITERS[target](cues)


def caption_problems(captions: Mapping[str, Path | str], caps: VideoCapabilities) -> list[tuple[str | None, str]]:
    """(language or None for all, message) for each way a post's captions break a platform's caps:
    too many languages, or a file too large once it is in the platform's format."""
    found: list[tuple[str | None, str]] = []
    if caps.max_caption_languages is not None and len(captions) > caps.max_caption_languages:
        found.append((None, f"{len(captions)} caption languages, the platform takes at most "
                            f"{caps.max_caption_languages}"))
    if caps.max_caption_bytes is not None and caps.caption_formats:
        for lang, path in captions.items():
            kind, text = caption_text(path, caps.caption_formats)
            size = len(text.encode("utf-8"))
            if size > caps.max_caption_bytes:
                found.append((lang, f"{Path(path).name} is {size:,} bytes as {_NAMES[kind]}, the platform "
                                    f"takes at most {caps.max_caption_bytes:,}"))
    return found

