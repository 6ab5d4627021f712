"""A real browser (Debian Chromium driven by Playwright) against `streamlit run` on loopback:
log in, read the overview, change a filter, approve a post in Review; screenshots go to artifacts/."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from outreach.db.models import Approval, Post
from tests.dashboard.browser import ARGS, ARTIFACTS, CHROMIUM, TIMEOUT_MS, log_in
from tests.dashboard.conftest import Seeded

pytestmark = pytest.mark.browser


def test_log_in_filter_and_approve_in_a_real_browser(dashboard: str, seeded: Seeded, tmp_path: Path) -> None:
    from playwright.sync_api import expect, sync_playwright

    shots = tmp_path / "screenshots"
    shots.mkdir()
    post_id = seeded.pending_ids[0]
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(CHROMIUM), args=ARGS, headless=True)
        page = browser.new_page(viewport={"width": 1366, "height": 1800})
        page.set_default_timeout(TIMEOUT_MS)
        try:
            log_in(page, dashboard)
            page.locator('[data-testid="stVegaLiteChart"]').first.wait_for()
            expect(page.get_by_test_id("stMetricValue").first).not_to_be_empty()
            page.screenshot(path=str(shots / "01-overview.png"))

            posts_before = page.get_by_test_id("stMetric").nth(1).inner_text()
            page.get_by_role("combobox", name="Organisatie").click()
            page.get_by_role("option", name="IOT", exact=True).click()
            page.wait_for_url("**organisation=IOT**")
            expect(page.get_by_test_id("stMetric").nth(1)).not_to_have_text(posts_before)
            page.screenshot(path=str(shots / "02-overview-iot.png"))

            phone = browser.new_page(viewport={"width": 390, "height": 2600}, is_mobile=True)
            phone.set_default_timeout(TIMEOUT_MS)
            log_in(phone, page.url)
            phone.locator('[data-testid="stVegaLiteChart"]').first.wait_for()
            phone.screenshot(path=str(shots / "03-overview-phone.png"))
            phone.close()

            page.get_by_test_id("stSidebarNav").get_by_text("Beoordelen").click()
            approve = page.locator(f".st-key-approve_{post_id} button")
            approve.wait_for()
            page.screenshot(path=str(shots / "04-review.png"))
            approve.click()
            expect(page.get_by_text(f"post {post_id} · ")).to_be_visible()
            page.screenshot(path=str(shots / "05-review-approved.png"))

            page.get_by_test_id("stSidebarNav").get_by_text("Post maken").click()
            page.get_by_label("Link (optioneel)").fill("https://verandering.example/agenda")
            page.get_by_label("Tekst (Nederlands)").fill("Kom praten over gelijkheid in {{ meeting.city }}! {{ link }}")
            page.get_by_role("combobox", name="Kaart").click()
            page.get_by_role("option", name="announce", exact=True).click()
            page.get_by_label("Alt-tekst kaart (Nederlands)").fill("Aankondiging van de bijeenkomst in Rotterdam")
            page.get_by_label("Alt-tekst kaart (Nederlands)").press("Tab")
            page.get_by_test_id("stImage").first.wait_for()  # a rerun may briefly show the old preview too
            expect(page.get_by_test_id("stImage")).to_have_count(2)  # a card preview per language (nl, tr)
            expect(page.get_by_text("Kom praten over gelijkheid in Rotterdam!").first).to_be_visible()
            page.get_by_role("combobox", name="Talen").click()  # close nothing; keep focus off the inputs
            page.keyboard.press("Escape")
            page.screenshot(path=str(shots / "06-planner.png"))
        except Exception:
            page.screenshot(path=str(shots / "failure.png"))
            raise
        finally:
            ARTIFACTS.mkdir(parents=True, exist_ok=True)
            for shot in shots.glob("*.png"):
                shutil.copy(shot, ARTIFACTS / shot.name)
            browser.close()

    db = seeded.database()
    with db.session() as s:
        assert s.get(Post, post_id).status == "approved"
        approval = s.query(Approval).filter_by(post_id=post_id).one()
        assert (approval.decision, approval.reviewer) == ("approved", "rita")
    db.dispose()
    assert (ARTIFACTS / "01-overview.png").stat().st_size > 10_000
