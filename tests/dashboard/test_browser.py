"""A real browser (Debian Chromium driven by Playwright) against `streamlit run` on loopback:
log in, read the overview, change a filter, approve a post in Review; screenshots go to artifacts/."""

from __future__ import annotations

import os
import queue
import shutil
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from outreach.db.models import Approval, Post
from outreach.sandbox.http import free_port
from tests.dashboard.conftest import APP, PASSWORD, ROOT, Seeded
from tests.system import unavailable

CHROMIUM = Path("/usr/bin/chromium")
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync"]
ARTIFACTS = ROOT / "artifacts" / "dashboard"
TIMEOUT_MS = 30_000

pytestmark = pytest.mark.browser


def _need_browser() -> None:
    try:
        import playwright  # noqa: F401
    except ImportError:
        missing = "Playwright for Python (pip install playwright; never `playwright install`)"
    else:
        missing = "" if CHROMIUM.exists() else "Chromium (apt-get install chromium)"
    if missing:
        unavailable(missing)


@pytest.fixture
def dashboard(seeded: Seeded) -> Iterator[str]:
    """`streamlit run dashboard/app.py` on a free loopback port; yields its URL once it says it serves."""
    _need_browser()
    port = free_port()
    env = {**os.environ, "OUTREACH_CONFIG": str(seeded.config), "PYTHONUNBUFFERED": "1"}
    proc = subprocess.Popen(
        [sys.executable, "-m", "streamlit", "run", str(APP), "--server.headless", "true",
         "--server.address", "127.0.0.1", "--server.port", str(port), "--browser.gatherUsageStats", "false"],
        cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        _wait_for_line(proc, ("URL:", "server started on"), deadline_s=60)
        yield f"http://127.0.0.1:{port}"
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()


def _wait_for_line(proc: subprocess.Popen[str], markers: tuple[str, ...], *, deadline_s: float) -> None:
    """Block on the server's output (a reader thread and a queue, no sleeping) until it prints a marker."""
    assert proc.stdout is not None
    lines: queue.Queue[str] = queue.Queue()
    threading.Thread(target=lambda: [lines.put(line) for line in proc.stdout], daemon=True).start()
    end = time.monotonic() + deadline_s
    seen = []
    while (left := end - time.monotonic()) > 0:
        try:
            line = lines.get(timeout=left)
        except queue.Empty:
            break
        seen.append(line)
        if any(marker in line for marker in markers):
            return
    raise AssertionError("streamlit did not start:\n" + "".join(seen[-30:]))


def _log_in(page: Any, url: str) -> None:
    from playwright.sync_api import expect

    page.goto(url)
    page.get_by_label("Gebruikersnaam").fill("rita")
    page.get_by_label("Wachtwoord").fill(PASSWORD)
    page.get_by_role("button", name="Inloggen").click()
    expect(page.get_by_text("Bijeenkomsten gehouden")).to_be_visible()


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
            _log_in(page, dashboard)
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
            _log_in(phone, page.url)
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
            page.get_by_label("Tekst (nl)").fill("Kom praten over gelijkheid in {{ meeting.city }}! {{ link }}")
            page.get_by_role("combobox", name="Kaart").click()
            page.get_by_role("option", name="announce", exact=True).click()
            page.get_by_label("Alt-tekst kaart (nl)").fill("Aankondiging van de bijeenkomst in Rotterdam")
            page.get_by_label("Alt-tekst kaart (nl)").press("Tab")
            page.get_by_test_id("stImage").first.wait_for()  # a rerun may briefly show the old preview too
            expect(page.get_by_test_id("stImage")).to_have_count(1)  # one language: one card preview
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
