"""Card templates, brands and phrases, read from the TOML files in `assets/` (data, not code)."""

from __future__ import annotations

import hashlib
import tomllib
from dataclasses import dataclass, field
from enum import StrEnum
from functools import cache
from pathlib import Path
from typing import Any

from outreach.cards.fonts import ASSETS_DIR, Weight
from outreach.errors import InputError

TEMPLATES_FILE = ASSETS_DIR / "cards" / "templates.toml"
PHRASES_FILE = ASSETS_DIR / "cards" / "phrases.toml"
BRANDS_FILE = ASSETS_DIR / "brands" / "brands.toml"

COLOUR_ROLES = ("primary", "on_primary", "surface", "on_surface", "accent", "on_accent")
Box = tuple[float, float, float, float]


class TemplateError(InputError, ValueError):
    """A template, brand or phrase file is malformed, or names something that does not exist."""


class Shape(StrEnum):
    PORTRAIT = "portrait"
    SQUARE = "square"
    LANDSCAPE = "landscape"
    STORY = "story"


class LayerKind(StrEnum):
    RECT = "rect"
    TEXT = "text"
    MARK = "mark"
    PHOTO = "photo"


@dataclass(frozen=True, slots=True)
class Brand:
    code: str
    name: str
    colours: dict[str, str]
    mark_text: str
    mark_shape: str

    def rgb(self, role: str) -> tuple[int, int, int]:
        value = self.colours[role].lstrip("#")
        return int(value[0:2], 16), int(value[2:4], 16), int(value[4:6], 16)


@dataclass(frozen=True, slots=True)
class Layer:
    """One drawn thing: a rectangle, a text box, the organisation's mark or the photo."""

    kind: LayerKind
    boxes: dict[Shape, Box]
    colour: str
    on: str = ""
    text_colour: str = ""
    source: str = ""
    text: str = ""
    text_rtl: str = ""
    size: int = 40
    min_size: int = 20
    weight: Weight = Weight.REGULAR
    align: str = "start"
    valign: str = "top"
    line_height: float = 1.2
    max_lines: int = 0
    pill: str = ""
    radius: float = 0.0
    decorative: bool = False
    flow: bool = False  # move up to just below the previous text when that leaves a gap
    when_empty: str = ""
    empty_boxes: dict[Shape, Box] = field(default_factory=dict)

    def box(self, shape: Shape, *, use_empty_box: bool = False) -> Box:
        boxes = self.empty_boxes if use_empty_box and self.empty_boxes else self.boxes
        if shape in boxes:
            return boxes[shape]
        return boxes[Shape.PORTRAIT]


@dataclass(frozen=True, slots=True)
class Template:
    name: str
    description: str
    background: str
    layers: tuple[Layer, ...]


def _boxes(raw: Any, where: str) -> dict[Shape, Box]:
    if not isinstance(raw, dict) or "portrait" not in raw:
        raise TemplateError(f"{where}: box needs at least a portrait entry")
    out: dict[Shape, Box] = {}
    for key, value in raw.items():
        if len(value) != 4 or any(not 0 <= v <= 1 for v in value) or value[0] + value[2] > 1.0001:
            raise TemplateError(f"{where}: box {key} = {value} is not [x, y, w, h] within the card")
        out[Shape(key)] = tuple(float(v) for v in value)  # type: ignore[assignment]
    return out


def _layer(raw: dict[str, Any], where: str) -> Layer:
    options = {k: v for k, v in raw.items() if k not in ("kind", "box", "empty_box", "weight")}
    for role_key in ("colour", "on", "text_colour", "pill"):
        role = raw.get(role_key, "")
        if role and role not in COLOUR_ROLES:
            raise TemplateError(f"{where}: {role_key} = {role!r} is not one of {', '.join(COLOUR_ROLES)}")
    try:
        return Layer(
            kind=LayerKind(raw["kind"]),
            boxes=_boxes(raw.get("box"), where),
            weight=Weight(raw.get("weight", "regular")),
            empty_boxes=_boxes(raw["empty_box"], where) if "empty_box" in raw else {},
            **options,
        )
    except (KeyError, TypeError, ValueError) as exc:
        raise TemplateError(f"{where}: {exc}") from exc


@cache
def load_templates(path: Path = TEMPLATES_FILE) -> dict[str, Template]:
    """All card templates by name."""
    data = tomllib.loads(path.read_text(encoding="utf-8"))
    templates = {}
    for name, raw in data.get("templates", {}).items():
        layers = tuple(
            _layer(layer, f"{path.name} template {name} layer {i + 1}")
            for i, layer in enumerate(raw.get("layers", []))
        )
        templates[name] = Template(name, raw.get("description", ""), raw.get("background", "surface"), layers)
    return templates


@cache
def shape_font_scales(path: Path = TEMPLATES_FILE) -> dict[Shape, float]:
    data = tomllib.loads(path.read_text(encoding="utf-8"))
    return {Shape(k): float(v.get("font_scale", 1.0)) for k, v in data.get("shapes", {}).items()}


@cache
def load_brands(path: Path = BRANDS_FILE) -> dict[str, Brand]:
    """All organisations by code (IOT, Kezban, FSAN, SMN, Mudawwanah, HTIB, VON, Peer)."""
    data = tomllib.loads(path.read_text(encoding="utf-8"))
    brands = {}
    for code, raw in data.get("brands", {}).items():
        colours = raw.get("colours", {})
        missing = [role for role in COLOUR_ROLES if role not in colours]
        if missing:
            raise TemplateError(f"{path.name} brand {code}: missing colours {', '.join(missing)}")
        mark = raw.get("mark", {})
        brands[code] = Brand(
            code, raw["name"], dict(colours), mark.get("text", code), mark.get("shape", "circle")
        )
    return brands


@cache
def load_phrases(path: Path = PHRASES_FILE) -> dict[str, dict[str, Any]]:
    """Kicker words, joiners and alt-text sentences per language."""
    return tomllib.loads(path.read_text(encoding="utf-8"))


def brand(code: str) -> Brand:
    brands = load_brands()
    for key, value in brands.items():
        if key.casefold() == code.casefold():
            return value
    raise TemplateError(f"no card design for organisation {code!r} (cards know {', '.join(brands)}): add it to "
                        f"{BRANDS_FILE.relative_to(BRANDS_FILE.parents[2])}, or use image:")


def template(name: str) -> Template:
    templates = load_templates()
    if name not in templates:
        raise TemplateError(f"unknown card template {name!r}; known: {', '.join(templates)}")
    return templates[name]


@cache
def assets_digest() -> str:
    """Changes whenever a template, brand, phrase or font file changes (part of the cache key)."""
    digest = hashlib.sha256()
    for path in (TEMPLATES_FILE, BRANDS_FILE, PHRASES_FILE, *sorted((ASSETS_DIR / "fonts").glob("*.ttf"))):
        digest.update(path.name.encode())
        digest.update(hashlib.sha256(path.read_bytes()).digest())
    return digest.hexdigest()


def relative_luminance(rgb: tuple[int, int, int]) -> float:
    """WCAG 2 relative luminance of an sRGB colour."""

    def channel(value: int) -> float:
        c = value / 255
        return c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4

    r, g, b = (channel(v) for v in rgb)
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def contrast_ratio(a: tuple[int, int, int], b: tuple[int, int, int]) -> float:
    """WCAG contrast ratio, 1..21; AA for normal text needs >= 4.5."""
    la, lb = sorted((relative_luminance(a), relative_luminance(b)), reverse=True)
    return (la + 0.05) / (lb + 0.05)
