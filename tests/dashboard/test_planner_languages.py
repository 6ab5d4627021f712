"""The planner names languages in the reader's language ("Turks", "Turkish"), not by code, and a switch of the
page's language keeps the languages chosen (and so every field written in)."""

from __future__ import annotations

from tests.dashboard.conftest import Seeded
from tests.dashboard.test_pages import app, visit


def test_languages_are_named_and_kept_across_a_language_switch(seeded: Seeded) -> None:
    at = visit(app().run(), "planner")
    at.multiselect(key="plan_languages").set_value(["nl", "tr"]).run()
    chips = at.multiselect(key="plan_languages")
    assert chips.options == ["Engels", "Nederlands", "Turks"] and chips.value == ["nl", "tr"]
    at.get("button_group")[0].set_value("en").run()
    for _ in range(2):  # the switch, then a run as a key typed causes: the page sends back what it showed
        chips = at.multiselect(key="plan_languages")
        assert chips.options == ["English", "Dutch", "Turkish"] and chips.value == ["nl", "tr"]
        at.run()
    assert not at.exception
