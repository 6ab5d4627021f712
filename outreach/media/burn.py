"""Burned-in subtitles, for platforms with no caption API (Instagram, Threads, TikTok): each caption is
drawn once with the card renderer's text layout (every script the cards support, right to left too)
on a dark band, and pasted into the frames it covers while transcoding."""

from __future__ import annotations

from collections.abc import Sequence
from functools import lru_cache

import av
from PIL import Image, ImageDraw

from outreach.cards.fonts import Weight, font, stroke_width
from outreach.cards.layout import fit_text
from outreach.cards.text import is_rtl
from outreach.media.captions import Cue

_BAND = (0, 0, 0, 170)
_TEXT = (255, 255, 255, 255)


class CaptionOverlay:
    """`overlay.at(seconds)` is the caption image to paste at that moment (or None) and its top-left;
    `overlay.burn(frame, seconds)` draws it into a yuv420p frame in place."""

    def __init__(self, cues: Sequence[Cue], language: str, width: int, height: int) -> None:
        self.cues, self.language, self.width, self.height = tuple(cues), language, width, height
        self._layers: dict[str, tuple[tuple[Image.Image, ...], tuple[Image.Image, ...], tuple[int, int]]] = {}

    def burn(self, frame: av.VideoFrame, seconds: float) -> None:
        """Blend the caption of this moment into the frame's Y, U and V planes, only in the rows it
        covers: no whole-frame RGB copy per frame (a 1080x1920 frame is 6 MB as RGB, 3 MB as yuv420p)."""
        cue = next((c for c in self.cues if c.start_s <= seconds < c.end_s), None)
        if cue is None:
            return
        if cue.text not in self._layers:
            found = self.at(seconds)
            assert found is not None
            self._layers[cue.text] = _yuv_layers(*found)
        planes, alphas, (x, y) = self._layers[cue.text]
        frame.make_writable()  # the buffer may be shared with the decoder's reference frame
        for index, (layer, alpha) in enumerate(zip(planes, alphas, strict=True)):
            plane, scale = frame.planes[index], 1 if index == 0 else 2
            stride, (w, h), left, top = plane.line_size, layer.size, x // scale, y // scale
            view = memoryview(plane)
            start = top * stride + left
            rows_under = Image.frombuffer("L", (stride, h), view[top * stride:(top + h) * stride], "raw", "L", 0, 1)
            rows = Image.composite(layer, rows_under.crop((left, 0, left + w, h)), alpha).tobytes()
            for r in range(h):
                view[start + r * stride:start + r * stride + w] = rows[r * w:(r + 1) * w]

    def at(self, seconds: float) -> tuple[Image.Image, tuple[int, int]] | None:
        for cue in self.cues:
            if cue.start_s <= seconds < cue.end_s:
                image = caption_image(cue.text, self.language, self.width, self.height)
                # Above the bottom fifth, which the apps cover with their own buttons and text.
                return image, ((self.width - image.width) // 2, int(self.height * 0.78) - image.height)
        return None


def _yuv_layers(image: Image.Image, at: tuple[int, int]) -> tuple[tuple[Image.Image, ...], tuple[Image.Image, ...],
                                                                 tuple[int, int]]:
    """The caption as video-range Y, Cb, Cr layers (chroma at half size) with their alpha masks, placed on
    even coordinates so the half-size chroma lines up."""
    x, y = at[0] & ~1, at[1] & ~1
    image = image.crop((0, 0, image.width & ~1, image.height & ~1))
    luma, cb, cr = image.convert("RGB").convert("YCbCr").split()  # full-range BT.601, as JPEG
    luma = luma.point(lambda v: 16 + v * 219 // 255)
    cb, cr = (c.point(lambda v: 128 + (v - 128) * 224 // 255) for c in (cb, cr))
    half = (image.width // 2, image.height // 2)
    alpha = image.getchannel("A")
    small = alpha.resize(half, Image.Resampling.BOX)
    return (luma, cb.resize(half, Image.Resampling.BOX), cr.resize(half, Image.Resampling.BOX)), \
        (alpha, small, small), (x, y)


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
