"""The planner after switching the page's language: every label and every chosen value in the new
language, in a real browser (Streamlit's select box kept showing the words it was first drawn with)."""

from __future__ import annotations

from tests.dashboard.browser import ARTIFACTS, chromium, open_page
from tests.dashboard.conftest import Seeded
from tests.dashboard.test_browser_planner import on_the_planner, switch_to_english

DUTCH = ("geen kaart", "optioneel", "Tekst (", "Kaart", "Naam", "Talen", "Kanalen", "Bijeenkomst")


def test_switching_to_english_leaves_no_dutch_word_in_fields_or_choices(dashboard: str, seeded: Seeded) -> None:
    with chromium("planner-switch") as browser:
        page = open_page(browser, height=1800)
        on_the_planner(page, dashboard)
        main = page.get_by_test_id("stMain")
        assert "geen kaart" in [box.input_value() for box in main.get_by_role("combobox").all()]
        switch_to_english(page)
        page.screenshot(path=str(ARTIFACTS / "planner-switched-en.png"), full_page=True)
        words = [main.inner_text(), *(box.input_value() for box in main.get_by_role("combobox").all()),
                 *(frame.locator("body").inner_text() for frame in page.frames[1:] if frame.url)]
        found = [w for w in DUTCH if any(w in text for text in words)]
        assert found == [], found
        assert "no card" in [box.input_value() for box in main.get_by_role("combobox").all()]
