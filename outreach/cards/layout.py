"""Line layout: bidi ordering of font runs, word wrapping (right-to-left included) and shrink-to-fit.

raqm shapes and orders text inside one font run; this module orders the runs of a line (a small part
of the Unicode bidi algorithm: rules W7, N1-N2, I1-I2 and L2, applied to runs instead of characters)
and wraps by logical words measured with raqm, because Pillow's own wrap refuses right-to-left text.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

import regex

from outreach.cards.fonts import LINE_SPACING, Face, Run, Weight, drawable, font, itemize, stroke_width

ELLIPSIS = "…"
_REF_SIZE = 200


@dataclass(frozen=True, slots=True)
class Piece:
    """One draw call: text in one face and direction, `x` from the line's visual left edge."""

    face: Face
    text: str
    rtl: bool
    x: float
    width: float


@dataclass(frozen=True, slots=True)
class Line:
    text: str  # logical order, as written
    pieces: tuple[Piece, ...]  # visual order, left to right
    width: float  # advance width
    ink_left: float = 0.0  # ink extent from the line's origin: may start left of 0 or end after width
    ink_right: float = 0.0
    ink_above: float = 0.0  # ink above and below the baseline
    ink_below: float = 0.0

    @property
    def extent_left(self) -> float:
        return min(0.0, self.ink_left)

    @property
    def extent(self) -> float:
        """Width the line really covers: its advance and any glyph overhang."""
        return max(self.width, self.ink_right) - self.extent_left


@dataclass(frozen=True, slots=True)
class TextBlock:
    """Wrapped, sized text ready to draw; heights are ink extents in pixels."""

    size: int
    weight: Weight
    rtl: bool
    lines: tuple[Line, ...]
    pitch: float  # baseline to baseline
    ascent: float  # first baseline below the block's top
    descent: float  # ink below the last baseline
    truncated: bool = False

    @property
    def height(self) -> float:
        return self.ascent + self.pitch * (len(self.lines) - 1) + self.descent if self.lines else 0.0

    @property
    def width(self) -> float:
        return max((line.extent for line in self.lines), default=0.0)


@lru_cache(maxsize=4096)
def _advance(face: Face, weight: Weight, size: int, text: str, rtl: bool) -> float:
    """Advance width, plus both sides of the outline when bold is drawn as an outline."""
    width = font(face, weight, size).getlength(text, direction="rtl" if rtl else "ltr")
    return width + 2 * stroke_width(face, weight, size) if text.strip() else width


@lru_cache(maxsize=2048)
def visual_runs(text: str, language: str, rtl: bool) -> tuple[tuple[Face, str, bool], ...]:
    """(face, text in logical order, draw right-to-left?) for each draw call, in visual order."""
    runs = itemize(text, language)
    base = "R" if rtl else "L"
    types: list[str] = []
    last_strong = base
    for run in runs:
        if run.strong:
            last_strong = run.strong
            types.append(run.strong)
        elif run.number:
            types.append("L" if last_strong == "L" else "EN")  # W7: numbers after Latin are Latin
        else:
            types.append("N")
    resolved = list(types)
    for i, kind in enumerate(types):  # N1/N2: neutrals take the direction around them, else the base
        if kind != "N":
            continue
        before = next((t for t in reversed(types[:i]) if t != "N"), base)
        after = next((t for t in types[i + 1 :] if t != "N"), base)
        before, after = ("R" if t == "EN" else t for t in (before, after))
        resolved[i] = before if before == after else base
    para = 1 if rtl else 0
    levels = [_level(para, kind) for kind in resolved]
    order = list(range(len(runs)))
    for level in range(max(levels, default=0), 0, -1):  # L2: reverse every sequence at >= level
        i = 0
        while i < len(order):
            if levels[order[i]] >= level:
                j = i
                while j < len(order) and levels[order[j]] >= level:
                    j += 1
                order[i:j] = reversed(order[i:j])
                i = j
            else:
                i += 1
    return _merge(runs, levels, order)


def _level(para: int, kind: str) -> int:
    if para == 0:
        return {"L": 0, "R": 1, "EN": 2}[kind]
    return {"R": 1, "L": 2, "EN": 2}[kind]


def _merge(runs: list[Run], levels: list[int], order: list[int]) -> tuple[tuple[Face, str, bool], ...]:
    """Join visually adjacent runs of the same face and level into one draw call."""
    groups: list[tuple[Face, int, list[str]]] = []
    for i in order:
        run, level = runs[i], levels[i]
        if groups and groups[-1][0] is run.face and groups[-1][1] == level:
            groups[-1][2].append(run.text)
        else:
            groups.append((run.face, level, [run.text]))
    # Right-to-left groups hold their runs in visual order; raqm wants them logical.
    return tuple(
        (face, "".join(reversed(parts) if level % 2 else parts), bool(level % 2))
        for face, level, parts in groups
    )


def layout_line(text: str, *, language: str, rtl: bool, weight: Weight, size: int) -> Line:
    """Place the draw calls of one line, left to right, and measure their ink."""
    pieces: list[Piece] = []
    x = 0.0
    left, right, above, below = float("inf"), float("-inf"), 0.0, 0.0
    for face, part, part_rtl in visual_runs(text, language, rtl):
        width = _advance(face, weight, size, part, part_rtl)
        pieces.append(Piece(face, part, part_rtl, x, width))
        if part.strip():
            x0, y0, x1, y1 = _bbox(face, weight, size, part, part_rtl)
            left, right = min(left, x + x0), max(right, x + x1)
            above, below = max(above, -y0), max(below, y1)
        x += width
    if left == float("inf"):
        left = right = 0.0
    return Line(text, tuple(pieces), x, left, right, above, below)


@lru_cache(maxsize=4096)
def _bbox(face: Face, weight: Weight, size: int, text: str, rtl: bool) -> tuple[float, float, float, float]:
    """Ink box relative to the pen position on the baseline, outline included (drawn shifted by it)."""
    stroke = stroke_width(face, weight, size)
    x0, y0, x1, y1 = font(face, weight, size).getbbox(
        text, anchor="ls", direction="rtl" if rtl else "ltr", stroke_width=stroke
    )
    return x0 + stroke, y0, x1 + stroke, y1


def _word_width(word: str, language: str, rtl: bool, weight: Weight, size: int) -> float:
    return sum(_advance(f, weight, size, t, r) for f, t, r in visual_runs(word, language, rtl))


def _break_word(word: str, fits) -> list[str]:
    """Split a word wider than the box at grapheme boundaries."""
    chunks, current = [], ""
    for grapheme in regex.findall(r"\X", word):
        if current and not fits(current + grapheme):
            chunks.append(current)
            current = grapheme
        else:
            current += grapheme
    return [*chunks, current] if current else chunks


def wrap(text: str, *, language: str, rtl: bool, weight: Weight, size: int, width: float) -> list[str]:
    """Greedy wrap by logical words; explicit newlines start new lines."""
    space = _advance(Face.LATIN, weight, size, " ", False)
    lines: list[str] = []

    def fits(candidate: str) -> bool:
        return _word_width(candidate, language, rtl, weight, size) <= width

    for paragraph in text.split("\n"):
        current: list[str] = []
        current_w = 0.0
        for word in paragraph.split():
            word_w = _word_width(word, language, rtl, weight, size)
            parts = _break_word(word, fits) if word_w > width else [word]
            for part in parts:
                part_w = word_w if len(parts) == 1 else _word_width(part, language, rtl, weight, size)
                if current and current_w + space + part_w > width:
                    lines.append(" ".join(current))
                    current, current_w = [], 0.0
                current_w += (space if current else 0.0) + part_w
                current.append(part)
        if current:
            lines.append(" ".join(current))
    return lines


def _normalise(text: str) -> str:
    return "\n".join(re.sub(r"[ \t\u00a0]+", " ", p).strip() for p in text.strip().splitlines())


def _faces(lines: tuple[Line, ...]) -> set[Face]:
    return {p.face for line in lines for p in line.pieces if p.text.strip()}


def _block(
    lines_text: list[str],
    *,
    language: str,
    rtl: bool,
    weight: Weight,
    size: int,
    line_height: float,
    truncated: bool = False,
) -> TextBlock:
    lines = tuple(layout_line(t, language=language, rtl=rtl, weight=weight, size=size) for t in lines_text)
    faces = _faces(lines) or {Face.LATIN}
    pitch = size * line_height * max(LINE_SPACING[f] for f in faces)
    ascent = lines[0].ink_above if lines else 0.0
    descent = lines[-1].ink_below if lines else 0.0
    return TextBlock(size, weight, rtl, lines, pitch, ascent, descent, truncated)


def fit_text(
    text: str,
    *,
    language: str,
    rtl: bool,
    weight: Weight,
    width: float,
    height: float,
    max_size: int,
    min_size: int,
    line_height: float = 1.2,
    max_lines: int = 0,
) -> TextBlock:
    """Largest size (max_size..min_size) at which `text` wraps into the box; else truncate with an ellipsis."""
    text = drawable(_normalise(text), language)
    if not text:
        return TextBlock(min_size, weight, rtl, (), 0.0, 0.0, 0.0)
    wrap_width = width * 0.99 - 1  # kerning across spaces is not in the per-word sums

    def attempt(size: int) -> TextBlock | None:
        lines = wrap(text, language=language, rtl=rtl, weight=weight, size=size, width=wrap_width)
        if max_lines and len(lines) > max_lines:
            return None
        lines = _balance(text, lines, language=language, rtl=rtl, weight=weight, size=size, width=wrap_width)
        block = _block(lines, language=language, rtl=rtl, weight=weight, size=size, line_height=line_height)
        return block if block.height <= height and block.width <= width else None

    size = _estimate_size(
        text,
        language=language,
        rtl=rtl,
        weight=weight,
        width=wrap_width,
        height=height,
        max_size=max_size,
        min_size=min_size,
        line_height=line_height,
        max_lines=max_lines,
    )
    while size >= min_size:
        block = attempt(size)
        if block is not None:
            return block
        size -= max(1, size // 40)
    return _truncate(
        text,
        language=language,
        rtl=rtl,
        weight=weight,
        width=wrap_width,
        height=height,
        size=min_size,
        line_height=line_height,
        max_lines=max_lines,
    )


def _balance(
    text: str, lines: list[str], *, language: str, rtl: bool, weight: Weight, size: int, width: float
) -> list[str]:
    """The narrowest wrap with the same number of lines, so a title does not end in one lonely word."""
    if len(lines) < 2:
        return lines
    low, high, best = width * 0.5, width, lines
    for _ in range(7):
        middle = (low + high) / 2
        candidate = wrap(text, language=language, rtl=rtl, weight=weight, size=size, width=middle)
        if len(candidate) <= len(lines):
            best, high = candidate, middle
        else:
            low = middle
    return best


def _estimate_size(
    text: str,
    *,
    language: str,
    rtl: bool,
    weight: Weight,
    width: float,
    height: float,
    max_size: int,
    min_size: int,
    line_height: float,
    max_lines: int,
) -> int:
    """Largest size that fits when widths are scaled linearly from one measurement (cheap first guess)."""
    words = [p.split() for p in text.split("\n")]
    ref = {w: _word_width(w, language, rtl, weight, _REF_SIZE) for para in words for w in para}
    space = _advance(Face.LATIN, weight, _REF_SIZE, " ", False)
    spacing = max(LINE_SPACING[f] for f, _, _ in visual_runs(text.replace("\n", " "), language, rtl))
    for size in range(max_size, min_size - 1, -1):
        scale = size / _REF_SIZE
        count = 0
        for para in words:
            line_w = None
            for w in para:
                ww = ref[w] * scale
                if line_w is None or line_w + space * scale + ww > width:
                    count += max(1, int(ww // width) + 1) if ww > width else 1
                    line_w = ww
                else:
                    line_w += space * scale + ww
            count += 0 if para else 1
        est_height = size * 1.05 + size * line_height * spacing * (count - 1)
        if est_height <= height and (not max_lines or count <= max_lines):
            return size
    return min_size


def _truncate(
    text: str,
    *,
    language: str,
    rtl: bool,
    weight: Weight,
    width: float,
    height: float,
    size: int,
    line_height: float,
    max_lines: int,
) -> TextBlock:
    """Keep the lines that fit at the smallest size and end the last one with an ellipsis."""
    lines = wrap(text, language=language, rtl=rtl, weight=weight, size=size, width=width)
    keep = len(lines)
    while keep > 1:
        block = _block(
            lines[:keep], language=language, rtl=rtl, weight=weight, size=size, line_height=line_height
        )
        if block.height <= height and (not max_lines or keep <= max_lines):
            break
        keep -= 1
    words = lines[keep - 1].split(" ")
    while True:
        last = " ".join(words) + ELLIPSIS
        if len(words) <= 1 or _word_width(last, language, rtl, weight, size) <= width:
            break
        words.pop()
    if _word_width(last, language, rtl, weight, size) > width:  # one long word: cut graphemes
        graphemes = regex.findall(r"\X", words[0])
        while graphemes and _word_width("".join(graphemes) + ELLIPSIS, language, rtl, weight, size) > width:
            graphemes.pop()
        last = "".join(graphemes) + ELLIPSIS
    return _block(
        [*lines[: keep - 1], last],
        language=language,
        rtl=rtl,
        weight=weight,
        size=size,
        line_height=line_height,
        truncated=True,
    )
