"""Every text stays inside its box, and every character is drawn with a font that has its glyph."""

from __future__ import annotations

import pytest

from outreach.cards import missing_glyphs
from outreach.cards.fonts import coverage
from outreach.cards.model import SIZES
from outreach.cards.render import CardLayout, layout_card
from outreach.cards.text import alt_text_for, card_texts
from tests.cards.examples import LANGUAGES, TEMPLATES, WORST_CASE, example_spec

TOLERANCE_PX = 1.0


def _overflows(layout: CardLayout) -> list[str]:
    problems = []
    for placed in layout.texts:
        x, y, w, h = placed.box
        x0, y0, x1, y1 = placed.ink_bbox()
        if (
            x0 < x - TOLERANCE_PX
            or y0 < y - TOLERANCE_PX
            or x1 > x + w + TOLERANCE_PX
            or y1 > y + h + TOLERANCE_PX
        ):
            problems.append(
                f"{placed.source}: ink {x0:.0f},{y0:.0f}-{x1:.0f},{y1:.0f} outside box {placed.box}"
            )
    return problems


@pytest.mark.parametrize("size", list(SIZES))
@pytest.mark.parametrize("language", LANGUAGES)
def test_example_cards_fit_their_boxes(language: str, size: str) -> None:
    for template in TEMPLATES:
        layout = layout_card(example_spec(template, language, "Mudawwanah"), size)
        assert _overflows(layout) == [], f"{template}/{language}/{size}"
        drawn = {p.source for p in layout.texts}
        assert {"title", "org"} <= drawn or template != "announce"


@pytest.mark.parametrize("language", sorted(WORST_CASE))
def test_worst_case_strings_are_shrunk_and_cut_not_overflowing(language: str) -> None:
    long_text = WORST_CASE[language]
    for template in TEMPLATES:
        for size in SIZES:
            spec = example_spec(
                template,
                language,
                "FSAN",
                title=long_text,
                body=long_text * 2,
                venue=long_text,
                quote_by=long_text,
            )
            layout = layout_card(spec, size)
            assert _overflows(layout) == [], f"{template}/{language}/{size}"
            title = next(p for p in layout.texts if p.source == "title")
            assert title.block.size < title.layer.size  # it had to shrink
    body = next(
        p
        for p in layout_card(example_spec("announce", language, body=long_text * 4), "landscape").texts
        if p.source == "body"
    )
    assert body.block.truncated and body.block.lines[-1].text.endswith("…")


def test_one_enormous_word_is_broken_inside_the_box() -> None:
    word = "Gelijkwaardigheidsbevorderingsprogrammabijeenkomstvoorbereidingscommissie" * 2
    layout = layout_card(example_spec("announce", "nl", title=word), "landscape")
    assert _overflows(layout) == []
    title = next(p for p in layout.texts if p.source == "title")
    assert len(title.block.lines) > 1


@pytest.mark.parametrize("language", LANGUAGES)
def test_every_character_is_drawn_with_a_font_that_covers_it(language: str) -> None:
    for template in TEMPLATES:
        spec = example_spec(template, language)
        for placed in layout_card(spec, "instagram").texts:
            for line in placed.block.lines:
                for piece in line.pieces:
                    uncovered = {c for c in piece.text if c != " " and ord(c) not in coverage(piece.face)}
                    assert not uncovered, (
                        f"{template}/{language}/{placed.source}: {uncovered} in {piece.face}"
                    )
        texts = " ".join(card_texts(spec).values())
        assert missing_glyphs(texts + alt_text_for(spec), language) == set()


def test_characters_no_font_has_are_left_out_rather_than_drawn_as_boxes() -> None:
    spec = example_spec("announce", "nl", title="Feest 🎉 in de wijk \ue000")
    assert missing_glyphs(spec.title, "nl") == {"🎉", "\ue000"}
    title = next(p for p in layout_card(spec, "instagram").texts if p.source == "title")
    drawn = "".join(piece.text for line in title.block.lines for piece in line.pieces)
    assert "🎉" not in drawn and "\ue000" not in drawn and "Feest" in drawn
