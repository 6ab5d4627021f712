"""Contrast of every text on its background (WCAG AA) and alt text in the card's language."""

from __future__ import annotations

import pytest

from outreach.cards import alt_text_for
from outreach.cards.render import layout_card, paint
from outreach.cards.templates import LayerKind, contrast_ratio, load_brands, load_templates
from tests.cards.examples import LANGUAGES, ORGANISATIONS, TEMPLATES, example_spec

WCAG_AA = 4.5


def test_all_alliance_organisations_have_a_brand() -> None:
    assert set(load_brands()) == set(ORGANISATIONS)
    assert set(load_templates()) == set(TEMPLATES)


@pytest.mark.parametrize("template_name", TEMPLATES)
def test_every_text_meets_wcag_aa_for_every_brand(template_name: str) -> None:
    tpl = load_templates()[template_name]
    checked = 0
    for brand in load_brands().values():
        for layer in tpl.layers:
            if layer.kind is LayerKind.TEXT and not layer.decorative:
                assert layer.on, (
                    f"{template_name}: text layer {layer.source} does not say what it is drawn on"
                )
                ratio = contrast_ratio(brand.rgb(layer.colour), brand.rgb(layer.on))
                assert ratio >= WCAG_AA, f"{brand.code} {template_name}.{layer.source}: {ratio:.2f}"
                checked += 1
            elif layer.kind is LayerKind.MARK:
                ratio = contrast_ratio(brand.rgb(layer.text_colour), brand.rgb(layer.colour))
                assert ratio >= WCAG_AA, f"{brand.code} {template_name} mark: {ratio:.2f}"
    assert checked >= 3 * len(ORGANISATIONS)


@pytest.mark.parametrize("template_name", TEMPLATES)
@pytest.mark.parametrize("size", ["instagram", "landscape", "story"])
def test_declared_background_is_what_is_painted_under_the_text(template_name: str, size: str) -> None:
    """Keeps the template data honest: the contrast test's `on` colour is really behind each text."""
    for language in ("nl", "ar"):
        layout = layout_card(example_spec(template_name, language, "HTIB"), size)
        background = paint(layout, text=False)
        for placed in layout.texts:
            if placed.layer.decorative:
                continue
            x0, y0, x1, y1 = placed.ink_bbox()
            for point in (
                (x0, y0),
                (x1 - 1, y0),
                (x0, y1 - 1),
                (x1 - 1, y1 - 1),
                ((x0 + x1) / 2, (y0 + y1) / 2),
            ):
                pixel = background.getpixel((int(point[0]), int(point[1])))
                assert pixel == layout.brand.rgb(placed.layer.on), (
                    f"{template_name}/{size}/{placed.source} at {point}"
                )


def test_contrast_ratio_matches_wcag_reference_values() -> None:
    assert contrast_ratio((0, 0, 0), (255, 255, 255)) == pytest.approx(21.0)
    assert contrast_ratio((118, 118, 118), (255, 255, 255)) == pytest.approx(4.54, abs=0.01)  # #767676


@pytest.mark.parametrize(
    ("language", "expected"),
    [
        ("nl", ["Aankondiging", "zaterdag 14 juni 2025", "14:00", "Waar: Buurthuis De Pijp, Amsterdam"]),
        ("tr", ["Buluşma duyurusu", "14 Haziran 2025 Cumartesi", "Nerede:"]),
        ("ar", ["دعوة إلى لقاء", "السبت، 14 يونيو 2025", "المكان:"]),
        ("zgh", ["ⴰⵎⵢⴰⴳⴰⵔ", "ⴰⵙⵉⴹⵢⴰⵙ 14 ⵢⵓⵏⵢⵓ 2025", "ⵎⴰⵏⵉ:"]),
        ("so", ["kulan", "Sabti, Juun 14, 2025", "Xagee:"]),
        ("ti", ["ኣኼባ", "ቀዳም፣ 14 ሰነ 2025", "ኣበይ፦"]),
        ("en", ["Announcement of a meeting", "Saturday, 14 June 2025", "Where:"]),
    ],
)
def test_alt_text_is_written_in_the_cards_language(language: str, expected: list[str]) -> None:
    spec = example_spec("announce", language, "VON")
    alt = alt_text_for(spec)
    for fragment in expected:
        assert fragment in alt
    assert spec.title.rstrip(".") in alt and "Vluchtelingen-Organisaties Nederland" in alt


def test_alt_text_mentions_attendance_and_can_be_overridden() -> None:
    assert "Aantal deelnemers: 42." in alt_text_for(example_spec("recap", "nl"))
    assert alt_text_for(example_spec("recap", "nl", alt_text="Groepsfoto zonder gezichten.")) == (
        "Groepsfoto zonder gezichten."
    )


def test_every_language_has_alt_text_for_every_template() -> None:
    for language in LANGUAGES:
        for template in TEMPLATES:
            alt = alt_text_for(example_spec(template, language))
            assert "{" not in alt and len(alt) > 40
