"""The data files in assets/ are complete: every language has every phrase, every box fits the card."""

from __future__ import annotations

import pytest
from babel import Locale

from outreach.cards.fonts import FONT_DIR, FONT_FILES
from outreach.cards.templates import Shape, TemplateError, _layer, load_phrases, load_templates
from tests.cards.examples import LANGUAGES, TEMPLATES


@pytest.mark.parametrize("language", LANGUAGES)
def test_every_language_has_every_phrase(language: str) -> None:
    phrases = load_phrases()[language]
    Locale.parse(phrases["locale"])  # Babel knows the locale used for dates
    assert phrases["direction"] in ("ltr", "rtl")
    assert set(phrases["kicker"]) == set(TEMPLATES) == set(phrases["intro"])
    assert {"card", "when", "place", "attendance", "quote_by"} <= set(phrases["alt"])
    assert all("{org}" in text for text in phrases["intro"].values())


def test_only_arabic_is_right_to_left() -> None:
    assert [code for code, p in load_phrases().items() if p["direction"] == "rtl"] == ["ar"]


def test_every_template_has_a_box_for_every_shape_inside_the_card() -> None:
    for template in load_templates().values():
        for layer in template.layers:
            for shape in Shape:
                x, y, w, h = layer.box(shape)
                assert min(x, y) >= 0 and x + w <= 1.0001 and y + h <= 1.0001, template.name


def test_a_malformed_layer_names_where_it_is() -> None:
    with pytest.raises(TemplateError, match="announce layer 3.*not one of"):
        _layer(
            {"kind": "text", "colour": "pink", "box": {"portrait": [0, 0, 1, 1]}},
            "templates.toml announce layer 3",
        )
    with pytest.raises(TemplateError, match="within the card"):
        _layer({"kind": "rect", "colour": "primary", "box": {"portrait": [0.5, 0, 0.9, 1]}}, "x")


def test_vendored_fonts_and_licence_are_present() -> None:
    for weights in FONT_FILES.values():
        for name in weights.values():
            assert (FONT_DIR / name).stat().st_size > 10_000
    assert "SIL OPEN FONT LICENSE" in (FONT_DIR / "OFL.txt").read_text(encoding="utf-8")


def test_a_card_and_its_post_write_the_time_the_same_way() -> None:
    """An Arabic card said "2:00 م" while its post said 14:00: one time-of-day pattern for both."""
    from datetime import UTC, datetime
    from zoneinfo import ZoneInfo

    from outreach.cards import CardSpec
    from outreach.cards.text import format_when
    from outreach.planning.render import make_environment, render

    start = datetime(2027, 3, 21, 13, 0, tzinfo=UTC)  # 14:00 in Amsterdam
    for language in ("ar", "en", "nl", "tr"):
        spec = CardSpec(template="announce", language=language, title="x", organisation="IOT", when=start,
                        timezone="Europe/Amsterdam", venue="Huis", city="Rotterdam")
        local = start.astimezone(ZoneInfo("Europe/Amsterdam"))
        in_post = render(make_environment().from_string("{{ t | time }}"), {"t": local, "lang": language})
        assert in_post == "14:00" and in_post in format_when(spec), (language, format_when(spec))
