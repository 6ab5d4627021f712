"""Every page in a real browser, in Dutch and English: the app contacts no host but its own (it works
offline), and the rendered text carries no raw status code or "None". Screenshots go to artifacts/."""

from __future__ import annotations

import re
import shutil
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest

from outreach.db.models import Post
from tests.dashboard.browser import ARTIFACTS, chromium, log_in, open_page, sign_in, wait_idle
from tests.dashboard.conftest import Seeded

pytestmark = pytest.mark.browser

PAGES = {"nl": ("Overzicht", "Campagnes", "Bijeenkomsten", "Gemeenschappen & platforms", "Planning",
                "Post maken", "Beoordelen", "Archief"),
         "en": ("Overview", "Campaigns", "Meetings", "Communities & platforms", "Schedule", "Planner",
                "Review", "Archive")}
# What the page loads itself: scripts, styles, images, frames, the favicon (links to posts are not loads).
LOADED = ("() => Array.from(document.querySelectorAll('link[href], script[src], img[src], iframe[src], "
          "source[src], video[src], audio[src]')).map(e => e.href || e.src)")


STATUS_CODES = ("draft", "pending_review", "approved", "rejected", "publishing", "retrying", "published", "failed",
                "manual_due", "manual_overdue", "cancelled")
ENGLISH_ON_DUTCH = re.compile(r"\b(?:" + "|".join(STATUS_CODES) + r"|None|new|card|alt|post \d+)\b")
RAW = re.compile(r"\b(?:None|[a-z]+_[a-z_]+)\b")  # "None" or a snake_case code, outside links
LINK = re.compile(r"(?:https?://|www\.)\S+")


def raw_words(lang: str, text: str) -> list[str]:
    """What no reader should see: a raw code or "None"; on a Dutch page also English status words."""
    text = LINK.sub(" ", text)
    found = RAW.findall(text)
    return sorted(set(found + (ENGLISH_ON_DUTCH.findall(text) if lang == "nl" else [])))


NUMBER_IN_OTHER_LANGUAGE = {"nl": re.compile(r"\d\.\d+ ?%|\b\d{1,3}(?:,\d{3})+\b|\b\d{1,2}\.\d\b"),  # 9.5
                            "en": re.compile(r"\d,\d+ ?%|\b\d{1,3}(?:\.\d{3})+\b")}  # 20,6%, 25.931
# The main area's text as a reader sees it: icons (drawn from a font by their names) left out.
SHOWN_TEXT = """() => { const main = document.querySelector('[data-testid="stMain"]').cloneNode(true);
  main.querySelectorAll('[data-testid="stIconMaterial"]').forEach(e => e.remove());
  document.body.appendChild(main); const text = main.innerText; main.remove(); return text; }"""


def wrong_numbers(lang: str, text: str) -> list[str]:
    """Numbers written the other language's way, outside links."""
    return sorted(set(NUMBER_IN_OTHER_LANGUAGE[lang].findall(LINK.sub(" ", text))))


def _foreign(url: str, own: str) -> bool:
    parts = urlsplit(url)
    return parts.scheme not in ("data", "blob", "about") and parts.netloc != own


def _visit_every_page(page: Any, shots: Path, *, on_page: Any) -> None:
    for lang in ("nl", "en"):
        if lang == "en":
            page.get_by_test_id("stSidebar").get_by_test_id("stButtonGroup").get_by_text("EN", exact=True).click()
        for number, title in enumerate(PAGES[lang], start=1):
            page.get_by_test_id("stSidebarNav").get_by_text(title, exact=True).click()
            page.get_by_role("heading", name=title, exact=True, level=1).wait_for()  # the new page's own title
            wait_idle(page)
            page.screenshot(path=str(shots / f"page-{lang}-{number:02d}.png"), full_page=True)
            on_page(lang, title)


def test_every_page_contacts_only_the_dashboard_itself(dashboard: str, seeded: Seeded, tmp_path: Path) -> None:
    own = urlsplit(dashboard).netloc
    requested: list[str] = []
    loaded: dict[str, list[str]] = {}
    shots = tmp_path / "screenshots"
    shots.mkdir()

    def record(route: Any) -> None:
        requested.append(route.request.url)
        route.abort() if _foreign(route.request.url, own) else route.continue_()  # offline: nothing else answers

    with chromium("offline") as browser:
        context = browser.new_context()
        context.route("**/*", record)
        page = open_page(context)
        page.on("websocket", lambda ws: requested.append(ws.url))
        log_in(page, dashboard)
        _visit_every_page(page, shots, on_page=lambda lang, title: loaded.update(
            {f"{lang}/{title}": page.evaluate(LOADED)}))
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    for shot in shots.glob("*.png"):
        shutil.copy(shot, ARTIFACTS / shot.name)

    assert len(loaded) == 16 and requested
    assert [url for url in requested if _foreign(url, own)] == []
    assert {where: [u for u in urls if _foreign(u, own)] for where, urls in loaded.items()
            if any(_foreign(u, own) for u in urls)} == {}


def test_filters_survive_page_changes_and_a_copied_link(dashboard: str, seeded: Seeded) -> None:
    from playwright.sync_api import expect

    with chromium("filters") as browser:
        page = open_page(browser)
        log_in(page, dashboard)
        sidebar = page.get_by_test_id("stSidebar")
        for label, option, param in (("Organisatie", "IOT", "organisation=IOT"),
                                     ("Platform", "Mastodon", "platform=mastodon")):
            sidebar.get_by_role("combobox", name=label).click()
            page.get_by_role("option", name=option, exact=True).click()
            page.wait_for_url(f"**{param}**")
            wait_idle(page)
        for title in ("Campagnes", "Planning", "Bijeenkomsten", "Gemeenschappen & platforms"):
            page.get_by_test_id("stSidebarNav").get_by_text(title, exact=True).click()
            page.get_by_role("heading", name=title, exact=True, level=1).wait_for()  # the new page's own title
            wait_idle(page)
            assert "organisation=IOT" in page.url and "platform=mastodon" in page.url, (title, page.url)
            expect(sidebar.get_by_role("combobox", name="Organisatie")).to_have_value("IOT")
        copied = page.url
        assert "/communities" in copied
        other = open_page(browser)
        sign_in(other, copied)
        other.get_by_role("heading", name="Gemeenschappen & platforms").first.wait_for()
        other_bar = other.get_by_test_id("stSidebar")
        expect(other_bar.get_by_role("combobox", name="Organisatie")).to_have_value("IOT")
        expect(other_bar.get_by_role("combobox", name="Platform")).to_have_value("Mastodon")
        assert "organisation=IOT" in other.url and "platform=mastodon" in other.url


def test_every_page_in_both_languages_shows_words_not_codes(dashboard: str, seeded: Seeded, tmp_path: Path) -> None:
    """Rendered text, tables included (each table's CSV is exactly what it shows), has no code or None."""
    seen: dict[str, list[str]] = {}
    shots = tmp_path / "screenshots"
    shots.mkdir()
    ARTIFACTS.mkdir(parents=True, exist_ok=True)

    def check(lang: str, title: str) -> None:
        text = page.evaluate(SHOWN_TEXT)
        if found := wrong_numbers(lang, text):
            seen[f"{lang}/{title} numbers"] = found
        if title in ("Gemeenschappen & platforms", "Communities & platforms"):  # platforms without reach
            no_data = {"nl": "geen gegevens", "en": "no data"}[lang]
            if no_data not in text:
                seen[f"{lang}/{title} empty bars"] = [f"no '{no_data}'"]
        for button in page.get_by_test_id("stDownloadButton").all():
            with page.expect_download() as download:
                button.click()
            text += "\n" + Path(download.value.path()).read_text(encoding="utf-8")
        (ARTIFACTS / f"text-{lang}-{title.split()[0]}.txt").write_text(text, encoding="utf-8")
        if found := raw_words(lang, text):
            seen[f"{lang}/{title}"] = found

    with chromium("words") as browser:
        page = open_page(browser, accept_downloads=True)
        log_in(page, dashboard)
        _visit_every_page(page, shots, on_page=check)
    for shot in shots.glob("*.png"):
        shutil.copy(shot, ARTIFACTS / shot.name)
    assert seen == {}


def test_planner_says_what_is_wrong_in_the_volunteers_language(dashboard: str, seeded: Seeded) -> None:
    from playwright.sync_api import expect

    with chromium("planner") as browser:
        page = open_page(browser)
        log_in(page, dashboard)
        page.get_by_test_id("stSidebarNav").get_by_text("Post maken", exact=True).click()
        page.get_by_role("heading", name="Post maken", exact=True, level=1).wait_for()  # slow on a busy machine
        expect(page.get_by_text("peer-bluesky", exact=True).first).to_be_visible()  # the first channel, chosen
        page.get_by_label("Tekst (Nederlands)").fill("Kom ook! " * 40 + "{{ link }}")
        page.get_by_label("Tekst (Nederlands)").press("Tab")
        expect(page.get_by_text("Te lang voor Bluesky:").first).to_be_visible()
        expect(page.get_by_text("(peer-bluesky, Nederlands). Haal er").first).to_be_visible()
        page.get_by_label("Tekst (Nederlands)").fill("Kom ook! {{ link }}")
        page.get_by_label("Tekst (Nederlands)").press("Tab")
        expect(page.get_by_text("Te lang voor Bluesky:")).to_have_count(0)
        expect(page.get_by_text("Kom ook! https://verandering.example/agenda").first).to_be_visible()
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / "planner-checks.png"), full_page=True)


def test_bulk_cancel_needs_a_planner_and_a_confirmation(dashboard: str, seeded: Seeded) -> None:
    from playwright.sync_api import expect

    with chromium("bulk") as browser:
        viewer = open_page(browser)
        sign_in(viewer, f"{dashboard}/schedule", user="vera")
        viewer.get_by_role("heading", name="Vraagt aandacht").wait_for()
        expect(viewer.get_by_text("2 van 2 · pagina 1 van 1")).to_be_visible()  # she sees them, cannot act
        expect(viewer.get_by_role("button", name="Annuleren", exact=False)).to_have_count(0)
        expect(viewer.get_by_text("Posts kiezen")).to_have_count(0)
        page = open_page(browser, height=1600)
        log_in(page, dashboard)
        page.get_by_test_id("stSidebarNav").get_by_text("Planning", exact=True).click()
        expect(page.get_by_text("2 van 2 · pagina 1 van 1")).to_be_visible()
        page.get_by_text("Alle 2 op deze pagina kiezen").click()
        page.get_by_role("button", name="Annuleren (2)").click()
        expect(page.get_by_text("Weet je het zeker? 2 post(s) annuleren.")).to_be_visible()
        page.get_by_role("button", name="Ja: Annuleren").click()
        expect(page.get_by_text("2 post(s): Annuleren.")).to_be_visible()
        expect(page.get_by_text(f"post {seeded.failed_id} · peer-bluesky · ")).to_be_visible()
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / "schedule-bulk-cancelled.png"), full_page=True)
    db = seeded.database()
    with db.session() as s:
        assert {s.get(Post, i).status for i in (seeded.failed_id, seeded.manual_id)} == {"cancelled"}
    db.dispose()


def test_meetings_are_paged_in_both_languages_and_a_copied_link_keeps_page_and_meeting(dashboard: str,
                                                                                       seeded: Seeded) -> None:
    from playwright.sync_api import expect

    from tests.dashboard.test_meeting_pages import more_meetings

    rows = more_meetings(seeded, 60)
    total, rest = len(rows), len(rows) - 50
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    with chromium("meetings") as browser:
        page = open_page(browser)
        sign_in(page, f"{dashboard}/meetings")
        expect(page.get_by_text(f"50 van {total} · pagina 1 van 2")).to_be_visible()
        page.get_by_label("Pagina · Bijeenkomsten").fill("2")
        page.get_by_label("Pagina · Bijeenkomsten").press("Enter")
        expect(page.get_by_text(f"{rest} van {total} · pagina 2 van 2")).to_be_visible()
        page.wait_for_url("**page=2**")
        wait_idle(page)
        page.screenshot(path=str(ARTIFACTS / "meetings-page-2-nl.png"), full_page=True)
        page.get_by_test_id("stSidebar").get_by_test_id("stButtonGroup").get_by_text("EN", exact=True).click()
        expect(page.get_by_text(f"{rest} of {total} · page 2 of 2")).to_be_visible()
        wait_idle(page)
        page.screenshot(path=str(ARTIFACTS / "meetings-page-2-en.png"), full_page=True)
        shown = page.get_by_test_id("stHeading").filter(has_text=" · ").first.inner_text()
        copied = page.url
        assert "page=2" in copied and "meeting=" in copied
        other = open_page(browser)
        sign_in(other, copied.replace("lang=en", "lang=nl"))  # the sign-in form is asked in Dutch
        expect(other.get_by_text(f"{rest} van {total} · pagina 2 van 2")).to_be_visible()
        expect(other.get_by_test_id("stHeading").filter(has_text=shown)).to_be_visible()
        for lang, title in (("nl", "Campagnes"), ("en", "Campaigns")):
            if lang == "en":
                other.get_by_test_id("stSidebar").get_by_test_id("stButtonGroup").get_by_text("EN", exact=True).click()
            other.get_by_test_id("stSidebarNav").get_by_text(title, exact=True).click()
            other.get_by_role("heading", name=title, exact=True, level=1).wait_for()
            wait_idle(other)
            other.screenshot(path=str(ARTIFACTS / f"campaigns-meetings-{lang}.png"), full_page=True)
