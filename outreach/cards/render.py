"""Lay out and paint a card from its template, brand and texts; encode deterministic PNG bytes."""

from __future__ import annotations

import hashlib
import io
import json
import os
import struct
import zlib
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cache, lru_cache
from pathlib import Path

from PIL import Image, ImageDraw, ImageOps

from outreach.cards.fonts import Face, Weight, check_text_engine, font, stroke_width
from outreach.cards.layout import TextBlock, fit_text
from outreach.cards.model import CardSize, CardSpec, RenderedCard, normalise_language, resolve_size
from outreach.cards.templates import (
    Brand,
    Layer,
    LayerKind,
    Shape,
    assets_digest,
    brand,
    shape_font_scales,
    template,
)
from outreach.cards.text import alt_text_for, card_texts, is_rtl, phrases_for

RENDERER_VERSION = "1"
_SUPERSAMPLE = 4  # marks and pills are drawn larger and scaled down, for smooth edges
PixelBox = tuple[int, int, int, int]  # x, y, width, height


@cache
def _engine_checked() -> bool:
    check_text_engine()
    return True


def shape_of(size: CardSize) -> Shape:
    aspect = size.width / size.height
    if aspect >= 1.3:
        return Shape.LANDSCAPE
    if aspect >= 0.9:
        return Shape.SQUARE
    return Shape.STORY if aspect < 0.7 else Shape.PORTRAIT


@dataclass(frozen=True, slots=True)
class PlacedText:
    """A fitted text block at its place on the card."""

    layer: Layer
    source: str
    box: PixelBox  # the box the text must stay inside
    block: TextBlock
    top: float  # y of the block's ink top
    line_lefts: tuple[float, ...]  # x of each line's visual left edge
    pill: PixelBox | None = None

    def baselines(self) -> list[float]:
        return [self.top + self.block.ascent + i * self.block.pitch for i in range(len(self.block.lines))]

    def ink_bbox(self) -> tuple[float, float, float, float]:
        """Union of the glyphs' ink boxes, measured again piece by piece as drawn: (x0, y0, x1, y1)."""
        boxes = []
        for line, left, baseline in zip(self.block.lines, self.line_lefts, self.baselines(), strict=True):
            for piece in line.pieces:
                if not piece.text.strip():
                    continue
                f = font(piece.face, self.block.weight, self.block.size)
                stroke = stroke_width(piece.face, self.block.weight, self.block.size)
                x0, y0, x1, y1 = f.getbbox(
                    piece.text, anchor="ls", direction="rtl" if piece.rtl else "ltr", stroke_width=stroke
                )
                ox = left + piece.x + stroke
                boxes.append((ox + x0, baseline + y0, ox + x1, baseline + y1))
        if not boxes:
            return (0.0, 0.0, 0.0, 0.0)
        return (
            min(b[0] for b in boxes),
            min(b[1] for b in boxes),
            max(b[2] for b in boxes),
            max(b[3] for b in boxes),
        )


@dataclass(frozen=True, slots=True)
class PlacedShape:
    layer: Layer
    box: PixelBox


@dataclass(frozen=True, slots=True)
class CardLayout:
    spec: CardSpec
    size: CardSize
    shape: Shape
    rtl: bool
    brand: Brand
    background: str
    items: tuple[PlacedText | PlacedShape, ...]

    @property
    def texts(self) -> tuple[PlacedText, ...]:
        return tuple(i for i in self.items if isinstance(i, PlacedText))


def _pixel_box(box: tuple[float, float, float, float], size: CardSize, rtl: bool) -> PixelBox:
    x, y, w, h = box
    if rtl:
        x = 1.0 - x - w
    x0, y0 = round(x * size.width), round(y * size.height)
    return x0, y0, round((x + w) * size.width) - x0, round((y + h) * size.height) - y0


def check_card(spec: CardSpec) -> None:
    """What drawing `spec` needs and a campaign decides, looked up without drawing: its template, the
    organisation's design and the language's phrases (CardError/TemplateError naming what is missing)."""
    template(spec.template), brand(spec.organisation), phrases_for(spec.language)


def layout_card(spec: CardSpec, size: CardSize | str) -> CardLayout:
    """Decide where everything goes and at which font size, without drawing."""
    _engine_checked()
    check_card(spec)
    size = resolve_size(size)
    tpl, org = template(spec.template), brand(spec.organisation)
    language = normalise_language(spec.language)
    rtl, shape = is_rtl(language), shape_of(size)
    texts = card_texts(spec)
    scale = min(size.width, size.height) / 1080 * shape_font_scales().get(shape, 1.0)
    items: list[PlacedText | PlacedShape] = []
    previous: PlacedText | None = None
    for layer in tpl.layers:
        use_empty = bool(layer.when_empty) and not texts.get(layer.when_empty)
        box = _pixel_box(layer.box(shape, use_empty_box=use_empty), size, rtl)
        if layer.kind is not LayerKind.TEXT:
            items.append(PlacedShape(layer, box))
            continue
        text = (layer.text_rtl or layer.text) if rtl else layer.text
        text = text if layer.source == "literal" else texts.get(layer.source, "")
        if not text.strip():
            continue
        if layer.flow and previous is not None:
            box = _flow_box(box, previous, gap=round(layer.size * scale * 0.7))
        previous = _place_text(layer, text, box, language=language, rtl=rtl, scale=scale)
        items.append(previous)
    return CardLayout(spec, size, shape, rtl, org, tpl.background, tuple(items))


def _flow_box(box: PixelBox, previous: PlacedText, *, gap: int) -> PixelBox:
    """Grow the box upwards to just below the previous text block, keeping its bottom edge."""
    x, y, w, h = box
    top = round(previous.top + previous.block.height + gap)
    return (x, top, w, y + h - top) if top < y else box


def _place_text(
    layer: Layer, text: str, box: PixelBox, *, language: str, rtl: bool, scale: float
) -> PlacedText:
    x, y, w, h = box
    pad_x = pad_y = 0
    if layer.pill:
        pad_y, pad_x = round(h * 0.2), round(h * 0.42)
    block = fit_text(
        text,
        language=language,
        rtl=rtl,
        weight=layer.weight,
        width=w - 2 * pad_x,
        height=h - 2 * pad_y,
        max_size=max(1, round(layer.size * scale)),
        min_size=max(1, round(layer.min_size * scale)),
        line_height=layer.line_height,
        max_lines=layer.max_lines,
    )
    valign = "middle" if layer.pill else layer.valign
    inner_h = h - 2 * pad_y
    offset = {"top": 0.0, "middle": (inner_h - block.height) / 2, "bottom": inner_h - block.height}[valign]
    top = y + pad_y + offset
    align = {"start": "right" if rtl else "left", "end": "left" if rtl else "right"}.get(
        layer.align, "center"
    )
    inner_x, inner_w = x + pad_x, w - 2 * pad_x
    lefts = []  # line origins, placed so that the ink (not just the advance) is aligned in the box
    for line in block.lines:
        if align == "left":
            ink_start = float(inner_x)
        elif align == "right":
            ink_start = inner_x + inner_w - line.extent
        else:
            ink_start = inner_x + (inner_w - line.extent) / 2
        lefts.append(ink_start - line.extent_left)
    pill = None
    if layer.pill:
        left = min(lx + line.extent_left for lx, line in zip(lefts, block.lines, strict=True)) - pad_x
        pill = (round(left), y, round(block.width + 2 * pad_x), h)
    return PlacedText(layer, layer.source, box, block, top, tuple(lefts), pill)


def paint(layout: CardLayout, *, text: bool = True) -> Image.Image:
    """Draw the layout; `text=False` paints only backgrounds (the contrast test samples them)."""
    org = layout.brand
    image = Image.new("RGB", (layout.size.width, layout.size.height), org.rgb(layout.background))
    draw = ImageDraw.Draw(image)
    for item in layout.items:
        layer = item.layer
        if isinstance(item, PlacedText):
            if item.pill:
                _smooth_shape(image, item.pill, "pill", org.rgb(layer.pill))
            if text:
                _draw_text(draw, item, org.rgb(layer.colour))
        elif layer.kind is LayerKind.RECT:
            x, y, w, h = item.box
            radius = round(layer.radius * min(layout.size.width, layout.size.height))
            if radius:
                _smooth_shape(image, item.box, "rounded", org.rgb(layer.colour), radius=radius)
            else:
                draw.rectangle((x, y, x + w - 1, y + h - 1), fill=org.rgb(layer.colour))
        elif layer.kind is LayerKind.MARK:
            _draw_mark(image, item.box, org, layer, rtl=layout.rtl, text=text)
        elif layer.kind is LayerKind.PHOTO:
            _draw_photo(image, item.box, layout.spec.photo, org.rgb(layer.colour))
    return image


def _draw_text(draw: ImageDraw.ImageDraw, item: PlacedText, fill: tuple[int, int, int]) -> None:
    block = item.block
    for line, left, baseline in zip(block.lines, item.line_lefts, item.baselines(), strict=True):
        for piece in line.pieces:
            if piece.text.strip():
                stroke = stroke_width(piece.face, block.weight, block.size)
                draw.text(
                    (left + piece.x + stroke, baseline),
                    piece.text,
                    fill=fill,
                    anchor="ls",
                    font=font(piece.face, block.weight, block.size),
                    direction="rtl" if piece.rtl else "ltr",
                    stroke_width=stroke,
                    stroke_fill=fill,
                )


def _smooth_shape(
    image: Image.Image, box: PixelBox, kind: str, fill: tuple[int, int, int], *, radius: int = 0
) -> None:
    """Paint an anti-aliased circle, square, pill or rounded rectangle."""
    x, y, w, h = box
    image.paste(fill, (x, y, x + w, y + h), _shape_mask(kind, w, h, radius))


@lru_cache(maxsize=64)
def _shape_mask(kind: str, w: int, h: int, radius: int) -> Image.Image:
    """Coverage mask drawn 4x larger and box-averaged down (ImageDraw itself does not anti-alias)."""
    big = (w * _SUPERSAMPLE, h * _SUPERSAMPLE)
    mask = Image.new("L", big, 0)
    draw = ImageDraw.Draw(mask)
    if kind == "circle":
        draw.ellipse((0, 0, big[0] - 1, big[1] - 1), fill=255)
    elif kind == "square":
        draw.rectangle((0, 0, big[0] - 1, big[1] - 1), fill=255)
    else:
        r = big[1] // 2 if kind == "pill" else radius * _SUPERSAMPLE
        draw.rounded_rectangle((0, 0, big[0] - 1, big[1] - 1), radius=r, fill=255)
    return mask.reduce(_SUPERSAMPLE)


def _draw_mark(image: Image.Image, box: PixelBox, org: Brand, layer: Layer, *, rtl: bool, text: bool) -> None:
    """The organisation's text mark: its letters on a circle, square or rounded square."""
    x, y, w, h = box
    side = min(w, h)
    x = x + w - side if rtl else x
    shape = org.mark_shape if org.mark_shape in ("circle", "square") else "rounded"
    _smooth_shape(image, (x, y, side, side), shape, org.rgb(layer.colour), radius=round(side * 0.22))
    if not text:
        return
    inset = 0.62 if shape == "circle" else 0.74
    block = fit_text(
        org.mark_text,
        language="en",
        rtl=False,
        weight=Weight.BOLD,
        width=side * inset,
        height=side * 0.5,
        max_size=round(side * 0.46),
        min_size=8,
        max_lines=1,
    )
    if not block.lines:
        return
    line = block.lines[0]
    baseline = y + (side - block.height) / 2 + block.ascent
    left = x + (side - line.width) / 2
    draw = ImageDraw.Draw(image)
    draw.text(
        (left, baseline),
        line.text,
        fill=org.rgb(layer.text_colour),
        anchor="ls",
        font=font(Face.LATIN, Weight.BOLD, block.size),
    )


def _draw_photo(
    image: Image.Image, box: PixelBox, photo: bytes | Path | None, placeholder: tuple[int, int, int]
) -> None:
    """Cover-crop the photo into its box (orientation applied, metadata left behind)."""
    x, y, w, h = box
    if photo is None:
        image.paste(placeholder, (x, y, x + w, y + h))
        return
    source = Image.open(io.BytesIO(photo) if isinstance(photo, bytes) else Path(photo))
    source = ImageOps.exif_transpose(source).convert("RGB")
    fitted = ImageOps.fit(source, (w, h), method=Image.Resampling.LANCZOS, centering=(0.5, 0.4))
    image.paste(fitted, (x, y))


def encode_png(image: Image.Image) -> bytes:
    """Minimal PNG (IHDR, IDAT, IEND; no metadata, no timestamps): the same pixels give the same bytes.

    Written here rather than by Pillow because Pillow tries five row filters per row, which costs more
    than the whole card layout; flat card colours compress well unfiltered.
    """
    rgb = image if image.mode == "RGB" else image.convert("RGB")
    raw, stride = rgb.tobytes(), rgb.width * 3
    rows = b"".join(b"\x00" + raw[i : i + stride] for i in range(0, len(raw), stride))
    header = struct.pack(">IIBBBBB", rgb.width, rgb.height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + _chunk(b"IHDR", header)
        + _chunk(b"IDAT", zlib.compress(rows, 3))
        + _chunk(b"IEND", b"")
    )


def _chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def cache_key(spec: CardSpec, size: CardSize) -> str:
    payload = {
        "spec": spec.cache_fields(),
        "size": [size.width, size.height],
        "version": RENDERER_VERSION,
        "assets": assets_digest(),
    }
    return hashlib.sha256(json.dumps(payload, sort_keys=True, ensure_ascii=False).encode()).hexdigest()


def render_card(
    spec: CardSpec, *, size: CardSize | str, cache_dir: Path | str | None = None
) -> RenderedCard:
    """Render `spec` as a PNG card of `size` (a CardSize or a size name; a connector's `card_size` names one).

    With `cache_dir`, a card rendered before from the same inputs is read back instead of redrawn.
    """
    card_size = resolve_size(size)
    key = cache_key(spec, card_size)
    cached = Path(cache_dir) / key[:2] / f"{key}.png" if cache_dir is not None else None
    if cached is not None and cached.is_file():
        data = cached.read_bytes()
    else:
        data = encode_png(paint(layout_card(spec, card_size)))
        if cached is not None:
            cached.parent.mkdir(parents=True, exist_ok=True)
            partial = cached.with_suffix(f".{os.getpid()}.tmp")
            partial.write_bytes(data)
            os.replace(partial, cached)  # atomic: a second worker never reads half a file
    return RenderedCard(
        data,
        "image/png",
        card_size.width,
        card_size.height,
        alt_text_for(spec),
        hashlib.sha256(data).hexdigest(),
        key,
    )


def render_to_dir(
    items: Iterable[tuple[str, CardSpec, CardSize | str]],
    out_dir: Path | str,
    *,
    cache_dir: Path | str | None = None,
) -> list[Path]:
    """Write `<name>.png` and `<name>.alt.txt` per (name, spec, size) for review; returns the PNG paths."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for name, spec, size in items:
        card = render_card(spec, size=size, cache_dir=cache_dir)
        path = out / f"{name}.png"
        path.write_bytes(card.data)
        (out / f"{name}.alt.txt").write_text(card.alt_text + "\n", encoding="utf-8")
        written.append(path)
    return written
