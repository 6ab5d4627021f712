"""Vendored Noto fonts, per-character fallback and the text-engine check.

Pillow draws one font per call and has no fallback, so text is split into runs, each set in the first
font of the language's chain that has a glyph for it (neutral characters such as spaces and digits
stay with the run they are in when that font covers them).
"""

from __future__ import annotations

import os
import unicodedata
from dataclasses import dataclass
from enum import StrEnum
from functools import cache, lru_cache
from pathlib import Path

from PIL import ImageFont, features

from outreach.errors import ConfigError

ASSETS_DIR = Path(os.environ.get("OUTREACH_ASSETS_DIR", Path(__file__).resolve().parents[2] / "assets"))
FONT_DIR = ASSETS_DIR / "fonts"


class TextEngineError(ConfigError, RuntimeError):
    """Pillow cannot shape complex scripts on this machine."""


class Weight(StrEnum):
    REGULAR = "regular"
    BOLD = "bold"


class Face(StrEnum):
    """A script family among the vendored fonts."""

    LATIN = "latin"
    ARABIC = "arabic"
    ETHIOPIC = "ethiopic"
    TIFINAGH = "tifinagh"


FONT_FILES: dict[Face, dict[Weight, str]] = {
    Face.LATIN: {Weight.REGULAR: "NotoSans-Regular.ttf", Weight.BOLD: "NotoSans-Bold.ttf"},
    Face.ARABIC: {Weight.REGULAR: "NotoSansArabic-Regular.ttf", Weight.BOLD: "NotoSansArabic-Bold.ttf"},
    Face.ETHIOPIC: {
        Weight.REGULAR: "NotoSansEthiopic-Regular.ttf",
        Weight.BOLD: "NotoSansEthiopic-Bold.ttf",
    },
    # Noto has no bold Tifinagh; the regular cut stands in.
    Face.TIFINAGH: {
        Weight.REGULAR: "NotoSansTifinagh-Regular.ttf",
        Weight.BOLD: "NotoSansTifinagh-Regular.ttf",
    },
}

# Which face a language's text starts from; the others follow as fallback in this order.
_PRIMARY_FACE = {"ar": Face.ARABIC, "ti": Face.ETHIOPIC, "zgh": Face.TIFINAGH}
_FALLBACK_ORDER = (Face.LATIN, Face.ARABIC, Face.ETHIOPIC, Face.TIFINAGH)
# Extra line spacing a script needs so stacked lines do not touch (Arabic has tall marks).
LINE_SPACING = {Face.LATIN: 1.0, Face.ARABIC: 1.22, Face.ETHIOPIC: 1.08, Face.TIFINAGH: 1.0}

# Faces without a bold cut: bold is drawn with a thin outline in the text colour instead.
FAUX_BOLD = frozenset({Face.TIFINAGH})

_STRONG = {"L": "L", "R": "R", "AL": "R"}
_ANCHORS = {"L", "R", "AL", "EN", "AN"}  # what a run's direction is decided by


def check_text_engine() -> None:
    """Raise `TextEngineError` unless Pillow's raqm layout (with FriBiDi) is available."""
    if not features.check("raqm"):
        raise TextEngineError(
            "Pillow's raqm text layout is unavailable, so Arabic would render reversed and unjoined. "
            "Install the system package libfribidi0 (Debian/Ubuntu: apt-get install -y libfribidi0) "
            "and restart."
        )
    if not FONT_DIR.is_dir():
        raise TextEngineError(f"card fonts not found in {FONT_DIR} (set OUTREACH_ASSETS_DIR)")


def face_chain(language: str) -> tuple[Face, ...]:
    """The fallback order of faces for text in `language`."""
    primary = _PRIMARY_FACE.get(language, Face.LATIN)
    return (primary, *(f for f in _FALLBACK_ORDER if f is not primary))


@cache
def coverage(face: Face) -> frozenset[int]:
    """Code points the face's fonts have glyphs for (both weights), read from the cmap with fontTools."""
    from fontTools.ttLib import TTFont

    points: set[int] | None = None
    for name in set(FONT_FILES[face].values()):
        with TTFont(FONT_DIR / name, lazy=True) as font:
            cmap = set(font.getBestCmap())
        points = cmap if points is None else points & cmap
    return frozenset(points or ())


@lru_cache(maxsize=256)
def font(face: Face, weight: Weight, size: int) -> ImageFont.FreeTypeFont:
    """A cached raqm-backed Pillow font."""
    return ImageFont.truetype(
        str(FONT_DIR / FONT_FILES[face][weight]), size, layout_engine=ImageFont.Layout.RAQM
    )


def stroke_width(face: Face, weight: Weight, size: int) -> int:
    """Outline width that makes a regular-only face look bold (0 for real bold or regular text)."""
    return max(1, round(size * 0.03)) if weight is Weight.BOLD and face in FAUX_BOLD else 0


def _is_strong(ch: str) -> bool:
    return unicodedata.bidirectional(ch) in _STRONG


def missing_glyphs(text: str, language: str) -> set[str]:
    """Characters of `text` that no vendored font can draw (they would show as boxes)."""
    faces = face_chain(language)
    return {
        ch
        for ch in set(text)
        if not ch.isspace()
        and unicodedata.category(ch) not in ("Cc", "Cf")
        and not any(ord(ch) in coverage(f) for f in faces)
    }


def drawable(text: str, language: str) -> str:
    """`text` without characters no font covers (emoji, private use), so nothing renders as a box."""
    missing = missing_glyphs(text, language)
    if not missing:
        return text
    return "".join(ch for ch in text if ch not in missing)


@dataclass(frozen=True, slots=True)
class Run:
    """A stretch of text set in one face; `strong` is "L", "R" or "" (digits and punctuation only)."""

    face: Face
    text: str
    strong: str
    number: bool


def itemize(text: str, language: str) -> list[Run]:
    """Split `text` into runs by font coverage, in logical order."""
    chain = face_chain(language)
    pieces: list[tuple[Face, list[str]]] = []
    for ch in text:
        cp = ord(ch)
        if pieces and not _is_strong(ch) and cp in coverage(pieces[-1][0]):
            pieces[-1][1].append(ch)
            continue
        face = next((f for f in chain if cp in coverage(f)), pieces[-1][0] if pieces else chain[0])
        if pieces and pieces[-1][0] is face:
            pieces[-1][1].append(ch)
        else:
            pieces.append((face, [ch]))
    runs: list[Run] = []
    for face, chars in pieces:
        runs.extend(_split_spaces(face, "".join(chars)))
    return runs


def _split_spaces(face: Face, text: str) -> list[Run]:
    """Leading and trailing neutrals (spaces, punctuation) become their own runs, so bidi can place
    them: a full stop after a Latin name in an Arabic sentence belongs to the Arabic side."""
    anchors = [i for i, c in enumerate(text) if unicodedata.bidirectional(c) in _ANCHORS]
    if not anchors:
        return [Run(face, text, "", False)]
    start, end = anchors[0], anchors[-1] + 1
    core = text[start:end]
    strong = next((_STRONG[unicodedata.bidirectional(c)] for c in core if _is_strong(c)), "")
    out = [Run(face, text[:start], "", False)] if start else []
    out.append(Run(face, core, strong, not strong))
    if end < len(text):
        out.append(Run(face, text[end:], "", False))
    return out
