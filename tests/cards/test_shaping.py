"""Arabic shaping and right-to-left order come from raqm + FriBiDi; these fail when libfribidi0 is missing."""

from __future__ import annotations

import pytest
from PIL import Image, ImageDraw, ImageFont

from outreach.cards import TextEngineError, check_text_engine
from outreach.cards import fonts as card_fonts
from outreach.cards.fonts import FONT_DIR, Face, Weight
from outreach.cards.layout import fit_text, layout_line, visual_runs

ARABIC_FONT = str(FONT_DIR / "NotoSansArabic-Regular.ttf")


def _ink(
    text: str, *, layout: ImageFont.Layout = ImageFont.Layout.RAQM, direction: str | None = None
) -> Image.Image:
    font = ImageFont.truetype(ARABIC_FONT, 80, layout_engine=layout)
    image = Image.new("L", (400, 160), 0)
    ImageDraw.Draw(image).text((20, 20), text, font=font, fill=255, direction=direction)
    return image.point(lambda v: 255 if v > 127 else 0)


def _components(image: Image.Image) -> int:
    """Connected blobs of ink (4-neighbourhood flood fill)."""
    width, height = image.size
    pixels = image.load()
    seen: set[tuple[int, int]] = set()
    count = 0
    for y in range(height):
        for x in range(width):
            if pixels[x, y] and (x, y) not in seen:
                count += 1
                stack = [(x, y)]
                seen.add((x, y))
                while stack:
                    cx, cy = stack.pop()
                    for nx, ny in ((cx + 1, cy), (cx - 1, cy), (cx, cy + 1), (cx, cy - 1)):
                        if 0 <= nx < width and 0 <= ny < height and pixels[nx, ny] and (nx, ny) not in seen:
                            seen.add((nx, ny))
                            stack.append((nx, ny))
    return count


def test_text_engine_is_available_here() -> None:
    check_text_engine()  # raises when Pillow has no raqm/FriBiDi; .ci/run installs libfribidi0


def test_missing_text_engine_names_the_debian_package(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(card_fonts.features, "check", lambda name: False)
    with pytest.raises(TextEngineError, match="libfribidi0"):
        check_text_engine()


def test_arabic_letters_join_into_one_shape() -> None:
    word = "سلم"  # seen, lam, meem: no dots, so a joined word is exactly one blob of ink
    assert _components(_ink(word)) == 1
    assert _components(_ink(word, layout=ImageFont.Layout.BASIC)) == 3  # unshaped: isolated letters


def _tallest_stroke_side(image: Image.Image) -> str:
    """Which half of the ink holds the highest pixel (alef is taller than dal)."""
    left, top, right, _ = image.getbbox()
    pixels = image.load()
    x_top = next(x for x in range(left, right) if pixels[x, top])
    return "right" if x_top > (left + right) / 2 else "left"


def test_arabic_is_drawn_right_to_left() -> None:
    # alef then dal (they do not join): alef, first in logical order, must end up on the right.
    assert _tallest_stroke_side(_ink("اد")) == "right"
    assert _tallest_stroke_side(_ink("اد", layout=ImageFont.Layout.BASIC)) == "left"  # no bidi: wrong


def test_latin_name_inside_arabic_sentence_is_placed_by_bidi() -> None:
    line = layout_line("لقاء في Amsterdam يوم السبت", language="ar", rtl=True, weight=Weight.REGULAR, size=40)
    faces = [(p.face, p.text.strip()) for p in line.pieces if p.text.strip()]
    # Visual order, left to right: the words after the name, the name, the words before it.
    assert faces == [(Face.ARABIC, "يوم السبت"), (Face.LATIN, "Amsterdam"), (Face.ARABIC, "لقاء في")]
    xs = [p.x for p in line.pieces]
    assert xs == sorted(xs)


def test_sentence_full_stop_after_latin_name_goes_to_the_arabic_side() -> None:
    runs = visual_runs("في Buurthuis De Pijp. الشاي", "ar", True)
    texts = [text.strip() for _, text, _ in runs]
    assert texts.index(".") < texts.index("Buurthuis De Pijp")  # left of the name, where the sentence ends


def test_arabic_word_inside_dutch_sentence_keeps_dutch_order() -> None:
    runs = visual_runs("Welkom مرحبا in Utrecht", "nl", False)
    assert [(face, text.strip(), rtl) for face, text, rtl in runs if text.strip()] == [
        (Face.LATIN, "Welkom", False),
        (Face.ARABIC, "مرحبا", True),
        (Face.LATIN, "in Utrecht", False),
    ]


def test_numbers_in_arabic_text_stay_left_to_right() -> None:
    runs = visual_runs("السبت 14 يونيو 2025", "ar", True)
    assert len(runs) == 1 and runs[0][2] is True  # one shaped run; raqm orders the digits inside it


def test_right_to_left_wrapping_keeps_logical_line_order() -> None:
    words = ["كلمة" + str(i) for i in range(30)]
    block = fit_text(
        " ".join(words),
        language="ar",
        rtl=True,
        weight=Weight.REGULAR,
        width=400,
        height=2000,
        max_size=40,
        min_size=40,
    )
    assert len(block.lines) > 2
    assert all(line.width <= 400 for line in block.lines)
    assert " ".join(line.text for line in block.lines) == " ".join(words)
    assert block.lines[0].text.startswith("كلمة0 ")
