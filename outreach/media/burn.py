"""Burned-in subtitles, for platforms with no caption API (Instagram, Threads, TikTok): each caption is
drawn once with the card renderer's text layout (every script the cards support, right to left too)
on a dark band, and pasted into the frames it covers while transcoding."""

from __future__ import annotations

from collections.abc import Sequence
from functools import lru_cache

from PIL import Image, ImageDraw

from outreach.cards.fonts import Weight, font, stroke_width
from outreach.cards.layout import fit_text
from outreach.cards.text import is_rtl
from outreach.media.captions import Cue

_BAND = (0, 0, 0, 170)
_TEXT = (255, 255, 255, 255)


class CaptionOverlay:
    """`overlay.at(seconds)` is the caption image to paste at that moment (or None) and its top-left."""

    def __init__(self, cues: Sequence[Cue], language: str, width: int, height: int) -> None:
        self.cues, self.language, self.width, self.height = tuple(cues), language, width, height

    def at(self, seconds: float) -> tuple[Image.Image, tuple[int, int]] | None:
        for cue in self.cues:
            if cue.start_s <= seconds < cue.end_s:
                image = caption_image(cue.text, self.language, self.width, self.height)
                # Above the bottom fifth, which the apps cover with their own buttons and text.
                return image, ((self.width - image.width) // 2, int(self.height * 0.78) - image.height)
        return None


@lru_cache(maxsize=32)
def caption_image(text: str, language: str, width: int, height: int) -> Image.Image:
    """One caption on a rounded dark band, sized to the video (about 1/28 of its height per line)."""
    rtl = is_rtl(language)
    size = max(18, height // 28)
    block = fit_text(" ".join(text.split()), language=language, rtl=rtl, weight=Weight.BOLD,
                     width=width * 0.8, height=size * 3.6, max_size=size, min_size=max(14, size * 2 // 3),
                     max_lines=3)
    pad = size // 2
    band = (int(block.width) + 2 * pad, int(block.height) + 2 * pad)
    image = Image.new("RGBA", band, (0, 0, 0, 0))
    draw = ImageDraw.Draw(image)
    draw.rounded_rectangle((0, 0, band[0] - 1, band[1] - 1), radius=pad, fill=_BAND)
    for i, line in enumerate(block.lines):
        left = (band[0] - line.width) / 2
        baseline = pad + block.ascent + i * block.pitch
        for piece in line.pieces:
            if piece.text.strip():
                stroke = stroke_width(piece.face, block.weight, block.size)
                draw.text((left + piece.x + stroke, baseline), piece.text, fill=_TEXT, anchor="ls",
                          font=font(piece.face, block.weight, block.size),
                          direction="rtl" if piece.rtl else "ltr", stroke_width=stroke, stroke_fill=_TEXT)
    return image
