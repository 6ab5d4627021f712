"""P4: every dashboard page in a real browser (Chromium via Playwright) on the five-year synthetic database:
the time from the click in the sidebar until the app is idle, cold (first visit after a server start)
and warm (a repeat visit), next to a bare one-metric Streamlit page served and measured the same way."""

from __future__ import annotations

import os
import tempfile
import time
from pathlib import Path
from typing import Any

from bench.bench_analytics import database
from bench.bench_dashboard import _config
from tests.dashboard.browser import chromium, open_page, serve, sign_in, wait_idle

# Overview last: signing in has just drawn it, so its cold figure is the first page after the others.
PAGES = ("Campagnes", "Bijeenkomsten", "Gemeenschappen & platforms", "Planning", "Post maken", "Beoordelen",
         "Archief", "Overzicht")


def _visit(page: Any, title: str) -> float:
    started = time.perf_counter()
    page.get_by_test_id("stSidebarNav").get_by_text(title, exact=True).click()
    page.get_by_role("heading", name=title, exact=True, level=1).wait_for()  # the new page's own title
    wait_idle(page)
    return time.perf_counter() - started


def _bare(directory: Path, config: Path) -> float:
    """A one-metric Streamlit app in the same kind of server: load until idle, best warm load of three."""
    app = directory / "bare.py"
    app.write_text("import streamlit as st\nst.metric('posts', 1)\n", encoding="utf-8")
    with serve(config, app=app) as url, chromium("bench-bare") as browser:
        page = open_page(browser)
        best = float("inf")
        for _ in range(3):
            started = time.perf_counter()
            page.goto(url)
            page.get_by_test_id("stMetric").wait_for()
            wait_idle(page)
            best = min(best, time.perf_counter() - started)
        return best


def main(quick: bool = False) -> None:
    db = database(0.1 if quick else 1.0)
    with tempfile.TemporaryDirectory() as tmp:
        config = _config(db.url, Path(tmp))
        os.environ["OUTREACH_CONFIG"] = str(config)
        baseline = _bare(Path(tmp), config)
        print(f"P4 dashboard pages in Chromium on the {'1/10-scale' if quick else 'five-year'} synthetic database")
        print(f"  bare one-metric page (warm)            {baseline * 1000:7.0f} ms")
        with serve(config) as url, chromium("bench-pages") as browser:
            page = open_page(browser)
            started = time.perf_counter()
            sign_in(page, url, user="bench", password="bench-password")
            first = time.perf_counter() - started
            print(f"  sign-in to overview drawn (cold)       {first * 1000:7.0f} ms")
            cold = {title: _visit(page, title) for title in PAGES}
            rounds = [{title: _visit(page, title) for title in PAGES} for _ in range(2)]  # each click changes page
            warm = {title: min(r[title] for r in rounds) for title in PAGES}
        for title in PAGES:
            print(f"  {title:<28} cold {cold[title] * 1000:6.0f} ms   warm {warm[title] * 1000:6.0f} ms   "
                  f"{warm[title] / baseline:5.1f}x bare")
        print(f"  slowest warm page {max(warm.values()) * 1000:.0f} ms; slowest cold {max(cold.values()) * 1000:.0f} ms")
