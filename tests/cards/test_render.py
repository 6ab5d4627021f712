"""Rendering: sizes per platform, deterministic bytes, the content-hash cache, golden images.

Golden images live in tests/cards/golden/ as quarter-size PNGs and are compared by pixel difference
with a small tolerance (font rasterising may differ by a shade between FreeType builds). After an
intended visual change, look at the new cards, then regenerate the goldens with:

    OUTREACH_UPDATE_GOLDENS=1 .venv/bin/pytest tests/cards/test_render.py -k golden
"""

from __future__ import annotations

import io
import os
from pathlib import Path

import pytest
from PIL import ExifTags, Image, ImageChops, ImageStat

from outreach.cards import (
    CardError,
    TemplateError,
    card_size_for,
    render_card,
    render_to_dir,
)
from outreach.cards.render import CardLayout, encode_png, layout_card, paint
from outreach.connectors import connector_classes, platform_class
from outreach.domain import Platform
from tests.cards.examples import example_spec

GOLDEN_DIR = Path(__file__).parent / "golden"
UPDATE_GOLDENS = os.environ.get("OUTREACH_UPDATE_GOLDENS") == "1"


def _photo() -> bytes:
    """A gradient 'photo' with GPS in its EXIF."""
    horizontal = Image.linear_gradient("L").rotate(90).resize((800, 600))
    vertical = Image.linear_gradient("L").resize((800, 600))
    image = Image.merge("RGB", (horizontal, vertical, Image.new("L", (800, 600), 140)))
    exif = Image.Exif()
    exif.get_ifd(ExifTags.IFD.GPSInfo).update({1: "N", 2: (52.0, 22.0, 30.0)})
    out = io.BytesIO()
    image.save(out, format="JPEG", exif=exif, quality=90)
    return out.getvalue()


GOLDENS = {
    "announce-ar-instagram": (example_spec("announce", "ar", "SMN"), "instagram"),
    "reminder-ti-landscape": (example_spec("reminder", "ti", "VON"), "landscape"),
    "recap-zgh-story": (example_spec("recap", "zgh", "Mudawwanah"), "story"),
    "quote-tr-square": (example_spec("quote", "tr", "HTIB", quote_by="Ayşe Yılmaz"), "square"),
    "photo-so-landscape": (example_spec("photo", "so", "FSAN", photo=_photo()), "landscape"),
}


@pytest.mark.parametrize("name", list(GOLDENS))
def test_golden_images(name: str) -> None:
    spec, size = GOLDENS[name]
    card = render_card(spec, size=size)
    with Image.open(io.BytesIO(card.data)) as full:
        small = full.reduce(4)
    path = GOLDEN_DIR / f"{name}.png"
    if UPDATE_GOLDENS or not path.exists():
        GOLDEN_DIR.mkdir(exist_ok=True)
        small.save(path, format="PNG", optimize=True)
        if not UPDATE_GOLDENS:
            pytest.fail(f"golden {path.name} was missing and has been written; look at it and rerun")
    with Image.open(path) as golden:
        assert golden.size == small.size
        diff = ImageChops.difference(golden.convert("RGB"), small.convert("RGB")).convert("L")
    mean = ImageStat.Stat(diff).mean[0]
    changed = sum(diff.point(lambda v: 255 if v > 48 else 0).histogram()[255:])
    assert mean < 1.5 and changed < 0.005 * small.width * small.height, (
        f"{name}: mean difference {mean:.2f}, {changed} pixels changed clearly"
    )


def test_a_changed_card_fails_the_golden_comparison() -> None:
    spec, size = GOLDENS["announce-ar-instagram"]
    changed = render_card(example_spec("announce", "ar", "SMN", title="عنوان آخر تمامًا"), size=size)
    with (
        Image.open(io.BytesIO(changed.data)) as full,
        Image.open(GOLDEN_DIR / "announce-ar-instagram.png") as g,
    ):
        diff = ImageChops.difference(g.convert("RGB"), full.reduce(4).convert("RGB")).convert("L")
    assert sum(diff.point(lambda v: 255 if v > 48 else 0).histogram()[255:]) > 0.005 * g.width * g.height


@pytest.mark.parametrize(
    ("platform", "expected"),
    [
        (Platform("instagram"), (1080, 1350)),
        (Platform("facebook"), (1200, 675)),
        (Platform("linkedin"), (1200, 675)),
        (Platform("bluesky"), (1200, 675)),
        (Platform("mastodon"), (1200, 675)),
        (Platform("threads"), (1200, 675)),
        (Platform("tiktok"), (1080, 1920)),
        ("story", (1080, 1920)),
        ("square", (1080, 1080)),
    ],
)
def test_card_size_per_platform(platform: Platform | str, expected: tuple[int, int]) -> None:
    name = platform_class(platform).card_size if isinstance(platform, Platform) else platform
    size = card_size_for(name)
    assert (size.width, size.height) == expected
    card = render_card(example_spec("reminder", "en"), size=name)
    with Image.open(io.BytesIO(card.data)) as image:
        assert image.size == expected == (card.width, card.height)


def test_every_connector_names_a_card_size_that_exists() -> None:
    for cls in (*connector_classes(), platform_class(Platform.MANUAL)):
        assert card_size_for(cls.card_size).name == cls.card_size
    with pytest.raises(CardError, match="unknown card size 'mastodon'"):
        card_size_for("mastodon")


def test_same_input_gives_the_same_bytes() -> None:
    spec = example_spec("announce", "ar", "IOT")
    first, second = render_card(spec, size="instagram"), render_card(spec, size="instagram")
    assert first.data == second.data and first.content_hash == second.content_hash
    assert first.cache_key == second.cache_key
    other = render_card(example_spec("announce", "ar", "Kezban"), size="instagram")
    assert other.cache_key != first.cache_key and other.data != first.data


def test_png_has_no_metadata_and_decodes_to_the_painted_pixels() -> None:
    image = paint(layout_card(example_spec("photo", "nl", photo=_photo()), "landscape"))
    data = encode_png(image)
    chunks, offset = [], 8
    while offset < len(data):
        length = int.from_bytes(data[offset : offset + 4], "big")
        chunks.append(data[offset + 4 : offset + 8])
        offset += 12 + length
    assert chunks == [b"IHDR", b"IDAT", b"IEND"]
    with Image.open(io.BytesIO(data)) as decoded:
        assert decoded.tobytes() == image.tobytes()
    assert b"Exif" not in data


def test_cache_serves_a_card_rendered_before(tmp_path: Path) -> None:
    spec = example_spec("recap", "tr", "IOT")
    first = render_card(spec, size="landscape", cache_dir=tmp_path)
    cached = list(tmp_path.rglob("*.png"))
    assert [p.stem for p in cached] == [first.cache_key]
    cached[0].write_bytes(b"sentinel: read from the cache, not redrawn")
    again = render_card(spec, size="landscape", cache_dir=tmp_path)
    assert again.data == b"sentinel: read from the cache, not redrawn"
    fresh = render_card(spec, size="instagram", cache_dir=tmp_path)
    assert fresh.data[:8] == b"\x89PNG\r\n\x1a\n" and len(list(tmp_path.rglob("*.png"))) == 2


def test_render_to_dir_writes_cards_and_alt_text(tmp_path: Path) -> None:
    items = [
        ("post-1-instagram-nl", example_spec("announce", "nl"), "instagram"),
        ("post-1-bluesky-ar", example_spec("announce", "ar"), "landscape"),
    ]
    paths = render_to_dir(items, tmp_path / "out")
    assert [p.name for p in paths] == ["post-1-instagram-nl.png", "post-1-bluesky-ar.png"]
    assert "Aankondiging" in (tmp_path / "out" / "post-1-instagram-nl.alt.txt").read_text(encoding="utf-8")
    with Image.open(paths[1]) as image:
        assert image.size == (1200, 675)


def test_recap_without_attendance_moves_the_title_up() -> None:
    with_count = layout_card(example_spec("recap", "nl", attendance=42), "instagram")
    without = layout_card(example_spec("recap", "nl", attendance=None), "instagram")
    assert "attendance_number" in {p.source for p in with_count.texts}
    assert "attendance_number" not in {p.source for p in without.texts}

    def title_top(layout: CardLayout) -> int:
        return next(p.box[1] for p in layout.texts if p.source == "title")

    assert title_top(without) < title_top(with_count)


def test_right_to_left_cards_are_mirrored() -> None:
    ltr = layout_card(example_spec("announce", "nl"), "instagram")
    rtl = layout_card(example_spec("announce", "ar"), "instagram")
    title_ltr = next(p for p in ltr.texts if p.source == "title")
    title_rtl = next(p for p in rtl.texts if p.source == "title")
    assert title_rtl.box[0] + title_rtl.box[2] == 1080 - title_ltr.box[0]
    assert abs(title_rtl.ink_bbox()[2] - (title_rtl.box[0] + title_rtl.box[2])) <= 3  # right-aligned


@pytest.mark.parametrize(
    ("change", "error"),
    [
        ({"template": "poster"}, TemplateError),
        ({"organisation": "ACME"}, TemplateError),
        ({"language": "xx"}, CardError),
    ],
)
def test_unknown_names_are_reported_clearly(change: dict[str, str], error: type[Exception]) -> None:
    with pytest.raises(error, match="known|supported|cards know"):
        render_card(example_spec("announce", "nl").__class__(**{**_fields(), **change}), size="instagram")


def _fields() -> dict[str, object]:
    spec = example_spec("announce", "nl")
    return {name: getattr(spec, name) for name in spec.__dataclass_fields__}
