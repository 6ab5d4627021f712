"""The planner checks while the volunteer types, in a real browser: key by key past Bluesky's limit, the message
with its figures appears and Save is disabled while the focus never leaves the field; deleting brings Save back.
Reruns that arrive mid-typing lose no keystroke and leave the caret where it was. Dutch, then English."""

from __future__ import annotations

import re
from typing import Any

import pytest

from tests.dashboard.browser import ARTIFACTS, chromium, log_in, open_page, wait_idle
from tests.dashboard.conftest import Seeded

pytestmark = pytest.mark.browser

# The focused element, through shadow roots (a component may draw its field in one).
FOCUSED = """() => { let a = document.activeElement;
  while (a && a.shadowRoot && a.shadowRoot.activeElement) a = a.shadowRoot.activeElement;
  return a ? {tag: a.tagName, id: a.id, value: a.value ?? null,
              label: a.labels && a.labels.length ? a.labels[0].innerText : null} : null; }"""
# Count every time the field loses focus (a blur would send Streamlit's own fields; it must not be needed), and
# every key pressed while the page's script runs (a rerun arriving mid-typing).
WATCH = """(field) => { window.__blurs = 0; window.__keysInRerun = 0;
  field.addEventListener('blur', () => { window.__blurs += 1; });
  if (!window.__watching) window.__watching = document.addEventListener('keydown', () => { const app = document.querySelector('[data-testid="stApp"]');
    if (app && app.dataset.testScriptState === 'running') window.__keysInRerun += 1; }, true); }"""
SEND_MS = 350  # longer than the field's debounce (300 ms): the text goes to Python and the page runs again
WORDS = {
    "nl": {"text": "Tekst", "dutch": "Nederlands", "turkish": "Turks", "save": "Opslaan en ter beoordeling", "too_long": "Te lang voor Bluesky: {n} van de 300 tekens",
           "page": "Post maken"},
    "en": {"text": "Text", "dutch": "Dutch", "turkish": "Turkish", "save": "Save and send to review", "too_long": "Too long for Bluesky: {n} of 300 characters",
           "page": "Planner"},
}
BASE = "Kom ook naar de bijeenkomst! " * 10  # 290 characters, under Bluesky's 300


def focused(page: Any) -> dict[str, Any]:
    return page.evaluate(FOCUSED)


def type_keys(page: Any, keys: str | list[str], *, field_label: str) -> None:
    """Press key by key, a pause after every other key (the text is sent, the page reruns) and the next keys
    right away (into that rerun); after every key the focus is still in the field."""
    for number, key in enumerate(keys):
        page.keyboard.press(key)
        if number % 2 == 0:
            page.wait_for_timeout(SEND_MS)
        assert focused(page)["label"] == field_label, focused(page)


def over_the_limit_and_back(page: Any, lang: str) -> None:
    from playwright.sync_api import expect

    words = WORDS[lang]
    label = f"{words['text']} ({words['dutch']})"  # languages by name in the page's language
    field = page.get_by_label(label, exact=True)
    field.wait_for()
    expect(page.get_by_test_id("stMultiSelect").first).to_contain_text(words["turkish"])  # the chips too
    for other in page.get_by_label(re.compile(rf"^{words['text']} \((?!{words['dutch']}\))")).all():  # other languages: short
        other.fill("Kom ook!")
    field.fill(BASE)
    wait_idle(page)
    page.get_by_text(label, exact=True).click()  # the visible label is tied to its field (<label for>)
    assert focused(page)["label"] == label
    page.keyboard.press("Tab")  # keyboard only: on to the next language's field and back
    assert focused(page)["label"] == f"{words['text']} ({words['turkish']})"
    page.keyboard.press("Shift+Tab")
    page.keyboard.press("Control+End")
    field.evaluate(WATCH)
    save = page.get_by_role("button", name=words["save"])

    type_keys(page, "abcdefghijklmn", field_label=label)  # 304 characters
    message = page.get_by_text(words["too_long"].format(n=304))
    expect(message.first).to_be_visible(timeout=15_000)
    expect(save).to_be_disabled()
    assert focused(page)["label"] == label and page.evaluate("window.__blurs") == 0
    page.screenshot(path=str(ARTIFACTS / f"planner-typing-{lang}-over.png"), full_page=True)

    for _ in range(3):  # the caret moves back three characters and stays there across reruns
        page.keyboard.press("ArrowLeft")
    type_keys(page, "XYZ", field_label=label)
    expect(page.get_by_text(words["too_long"].format(n=307)).first).to_be_visible(timeout=15_000)
    assert focused(page)["value"] == BASE + "abcdefghijkXYZlmn"  # no key lost, none out of place

    page.keyboard.press("Control+End")
    type_keys(page, ["Backspace"] * 8, field_label=label)  # Backspace: back to 299 characters
    wait_idle(page)
    expect(page.get_by_text(re.compile(words["too_long"].split(":")[0]))).to_have_count(0, timeout=15_000)
    expect(save).to_be_enabled()
    assert focused(page)["value"] == BASE + "abcdefghi"
    assert focused(page)["label"] == label and page.evaluate("window.__blurs") == 0
    assert page.evaluate("window.__keysInRerun") > 0  # reruns did arrive while keys were typed
    page.screenshot(path=str(ARTIFACTS / f"planner-typing-{lang}-fits.png"), full_page=True)


def on_the_planner(page: Any, dashboard: str) -> None:
    """Signed in, on the planner in Dutch."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    log_in(page, dashboard)
    page.get_by_test_id("stSidebarNav").get_by_text(WORDS["nl"]["page"], exact=True).click()
    page.get_by_role("heading", name=WORDS["nl"]["page"], exact=True, level=1).wait_for()
    wait_idle(page)


def switch_to_english(page: Any) -> None:
    page.get_by_test_id("stSidebar").get_by_test_id("stButtonGroup").get_by_text("EN", exact=True).click()
    page.get_by_role("heading", name=WORDS["en"]["page"], exact=True, level=1).wait_for()
    wait_idle(page)


def test_planner_checks_every_key_without_leaving_the_field(dashboard: str, seeded: Seeded) -> None:
    with chromium("planner-typing") as browser:
        page = open_page(browser, height=1800)
        on_the_planner(page, dashboard)
        over_the_limit_and_back(page, "nl")
        switch_to_english(page)
        over_the_limit_and_back(page, "en")


def test_planner_field_takes_a_saved_draft_and_runs_arabic_right_to_left(dashboard: str, seeded: Seeded) -> None:
    """Text put in the field from Python (a saved draft loaded) replaces what was typed; Arabic runs right to left
    in its field while Dutch stays left to right, and the field carries the page's language."""
    from playwright.sync_api import expect

    with chromium("planner-load") as browser:
        page = open_page(browser, height=1800)
        log_in(page, dashboard)
        page.get_by_test_id("stSidebarNav").get_by_text("Post maken", exact=True).click()
        dutch, other = page.get_by_label("Tekst (Nederlands)", exact=True), page.get_by_label("Tekst (Turks)", exact=True)
        dutch.wait_for()
        other.fill("تعالوا إلى اللقاء في روتردام")
        dutch.fill("Kom ook naar de bijeenkomst!")
        assert other.evaluate("e => e.matches(':dir(rtl)')") and dutch.evaluate("e => e.matches(':dir(ltr)')")
        assert dutch.evaluate("e => e.closest('[lang]').lang") == "nl"
        save = page.get_by_role("button", name="Opslaan en ter beoordeling")
        expect(save).to_be_enabled()
        save.click()
        expect(page.get_by_text("Opgeslagen:").first).to_be_visible()
        dutch.fill("Iets anders")
        wait_idle(page)
        page.get_by_role("button", name="↺ Naam (uniek per bijeenkomst): extra").click()
        wait_idle(page)
        expect(dutch).to_have_value("Kom ook naar de bijeenkomst!", timeout=15_000)
        expect(other).to_have_value("تعالوا إلى اللقاء في روتردام")
        page.screenshot(path=str(ARTIFACTS / "planner-loaded-draft.png"), full_page=True)
