"""Helpers for the browser tests: Debian Chromium driven by Playwright against `streamlit run` on loopback."""

from __future__ import annotations

import os
import queue
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from outreach.sandbox.http import free_port
from tests.dashboard.conftest import APP, PASSWORD, ROOT
from tests.system import unavailable

CHROMIUM = Path("/usr/bin/chromium")
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync"]
ARTIFACTS = ROOT / "artifacts" / "dashboard"
TIMEOUT_MS = 30_000

def need_browser() -> None:
    try:
        import playwright  # noqa: F401
    except ImportError:
        missing = "Playwright for Python (pip install playwright; never `playwright install`)"
    else:
        missing = "" if CHROMIUM.exists() else "Chromium (apt-get install chromium)"
    if missing:
        unavailable(missing)


@contextmanager
def serve(config: Path, *, app: Path = APP) -> Iterator[str]:
    """`streamlit run dashboard/app.py` (or `app`) on a free loopback port; yields its URL once it serves."""
    need_browser()
    port = free_port()
    env = {**os.environ, "OUTREACH_CONFIG": str(config), "PYTHONUNBUFFERED": "1"}
    proc = subprocess.Popen(
        [sys.executable, "-m", "streamlit", "run", str(app), "--server.headless", "true",
         "--server.address", "127.0.0.1", "--server.port", str(port), "--browser.gatherUsageStats", "false"],
        cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        wait_for_line(proc, ("URL:", "server started on"), deadline_s=60)
        yield f"http://127.0.0.1:{port}"
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()


def wait_for_line(proc: subprocess.Popen[str], markers: tuple[str, ...], *, deadline_s: float) -> None:
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


def log_in(page: Any, url: str) -> None:
    from playwright.sync_api import expect

    page.goto(url)
    page.get_by_label("Gebruikersnaam").fill("rita")
    page.get_by_label("Wachtwoord").fill(PASSWORD)
    page.get_by_role("button", name="Inloggen").click()
    expect(page.get_by_text("Bijeenkomsten gehouden")).to_be_visible()


def wait_idle(page: Any) -> None:
    """Until the Streamlit script has finished its run (the app's own marker, no sleeping)."""
    page.locator('[data-testid="stApp"][data-test-script-state="notRunning"]').wait_for()


@contextmanager
def chromium(name: str) -> Iterator[Any]:
    """A headless Debian Chromium; when the test fails, every open page is screenshot to artifacts/
    as `<name>-failure-<n>.png`."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(CHROMIUM), args=ARGS, headless=True)
        try:
            yield browser
        except Exception:
            ARTIFACTS.mkdir(parents=True, exist_ok=True)
            for number, page in enumerate(p for c in browser.contexts for p in c.pages):
                page.screenshot(path=str(ARTIFACTS / f"{name}-failure-{number}.png"))
            raise
        finally:
            browser.close()


def open_page(browser_or_context: Any, *, height: int = 1400, **options: Any) -> Any:
    """A new page (in a browser, or in a context that already has its viewport and options)."""
    if hasattr(browser_or_context, "browser"):  # a context
        page = browser_or_context.new_page()
        page.set_viewport_size({"width": 1366, "height": height})
    else:
        page = browser_or_context.new_page(viewport={"width": 1366, "height": height}, **options)
    page.set_default_timeout(TIMEOUT_MS)
    return page


def sign_in(page: Any, url: str, *, user: str = "rita", password: str = PASSWORD) -> None:
    """Open `url` (any page, with its query) and sign in; waits until the page has drawn."""
    page.goto(url)
    page.get_by_label("Gebruikersnaam").fill(user)
    page.get_by_label("Wachtwoord").fill(password)
    page.get_by_role("button", name="Inloggen").click()
    page.get_by_test_id("stSidebarNav").wait_for()
    wait_idle(page)
