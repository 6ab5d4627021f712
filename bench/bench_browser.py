"""P4: every dashboard page in a real browser (Chromium via Playwright) on the five-year synthetic database.

Per page, cold and warm:
- browser: from the click in the sidebar until the app is idle;
- script: the Streamlit script's own run time, written by the app itself (`OUTREACH_PROFILE_SCRIPT`,
  dashboard/profiling.py: `time.perf_counter` from the script's first line to the end of the page), the
  sum of the runs the visit caused.
Cold is the first visit after a server start: for each page a fresh `streamlit run`, signed in on the
Archive page (which reads nothing), then the click (Archive itself: signed in on Overview). Warm is the
best of two repeat visits in one server. Next to them, a bare one-metric Streamlit page served, timed and
profiled the same way in the same run. `--scale 1 --scale 10` runs both sizes and prints the ratio per page.

    python -m bench browser            # five-year database, cold and warm
    python -m bench browser --quick    # 1/10 scale, cold = first visits in one server (no restarts)
    python -m bench.bench_browser --scale 1 --scale 10
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bench.bench_analytics import database
from bench.bench_dashboard import _config
from dashboard.profiling import ENV, runs
from tests.dashboard.browser import chromium, open_page, serve, sign_in, wait_idle

ROOT = Path(__file__).resolve().parent.parent
# (sidebar title, URL path); Overview last: in the warm rounds it follows the others.
PAGES = (("Campagnes", "campaigns"), ("Bijeenkomsten", "meetings"), ("Gemeenschappen & platforms", "communities"),
         ("Planning", "schedule"), ("Post maken", "planner"), ("Beoordelen", "review"), ("Archief", "archive"),
         ("Overzicht", "overview"))
TIMEOUT_MS = 300_000  # a cold page at 10x on a busy machine takes tens of seconds: measured, not failed
BARE = ("import sys, time\nstarted = time.perf_counter()\nsys.path.insert(0, {root!r})\n"
        "import streamlit as st\nfrom dashboard.profiling import record\n"
        "st.metric('posts', 1)\nrecord('bare', started)\n")


@dataclass
class Timing:
    """One page's figures in seconds (browser) and milliseconds (script)."""

    browser: float = 0.0
    script_ms: float = 0.0
    runs: int = 0


@dataclass
class Result:
    scale: float
    bare_cold: Timing = field(default_factory=Timing)
    bare_warm: Timing = field(default_factory=Timing)
    first_run_ms: float = 0.0  # the sign-in form after a start: imports and set-up
    cold: dict[str, Timing] = field(default_factory=dict)
    warm: dict[str, Timing] = field(default_factory=dict)


def _script(profile: Path, since: float, page: str) -> tuple[float, int]:
    done = [r for r in runs(profile, after=since) if r["page"] == page]
    return sum(float(r["ms"]) for r in done), len(done)  # type: ignore[arg-type]


def _visit(page: Any, title: str, path: str, profile: Path) -> Timing:
    since = time.time()
    started = time.perf_counter()
    page.get_by_test_id("stSidebarNav").get_by_text(title, exact=True).click()
    page.get_by_role("heading", name=title, exact=True, level=1).wait_for()  # the new page's own title
    wait_idle(page)
    browser = time.perf_counter() - started
    return Timing(browser, *_script(profile, since, path))


def _bare(directory: Path, config: Path, profile: Path, result: Result) -> None:
    """A one-metric Streamlit app in the same kind of server: the first load after its start (cold) and
    the best of three reloads (warm)."""
    app = directory / "bare.py"
    app.write_text(BARE.format(root=str(ROOT)), encoding="utf-8")
    with serve(config, app=app) as url, chromium("bench-bare") as browser:
        page = open_page(browser)
        loads = []
        for _ in range(4):
            since, started = time.time(), time.perf_counter()
            page.goto(url)
            page.get_by_test_id("stMetric").wait_for()
            wait_idle(page)
            loads.append(Timing(time.perf_counter() - started, *_script(profile, since, "bare")))
    result.bare_cold = loads[0]
    result.bare_warm = min(loads[1:], key=lambda t: t.browser)
    result.bare_warm.script_ms = min(t.script_ms for t in loads[1:])


def _signed_in(browser: Any, url: str, path: str, profile: Path, result: Result) -> Any:
    """Signed in on `path` of a server just started; notes its first script run (the sign-in form)."""
    since = time.time()
    page = open_page(browser)
    page.set_default_timeout(TIMEOUT_MS)
    sign_in(page, f"{url}/{path}", user="bench", password="bench-password")
    first = [r for r in runs(profile, after=since) if r["page"] == "sign-in"]
    result.first_run_ms = max(result.first_run_ms, float(first[0]["ms"]) if first else 0.0)  # type: ignore[arg-type]
    return page


def _cold(config: Path, profile: Path, result: Result) -> None:
    """Each page as the first page drawn after a server start (the sign-in lands on a page reading nothing)."""
    for title, path in PAGES:
        with serve(config) as url, chromium("bench-cold") as browser:
            page = _signed_in(browser, url, "" if path == "archive" else "archive", profile, result)  # "": Overview
            result.cold[path] = _visit(page, title, path, profile)


def _warm(config: Path, profile: Path, result: Result, *, rounds: int, cold_too: bool) -> None:
    with serve(config) as url, chromium("bench-pages") as browser:
        page = _signed_in(browser, url, "archive", profile, result)
        first = {path: _visit(page, title, path, profile) for title, path in PAGES}
        if cold_too:
            result.cold = first
        measured = [{path: _visit(page, title, path, profile) for title, path in PAGES} for _ in range(rounds)]
    for _, path in PAGES:
        result.warm[path] = Timing(min(r[path].browser for r in measured), min(r[path].script_ms for r in measured),
                                   max(r[path].runs for r in measured))


def measure(scale: float, *, quick: bool = False) -> Result:
    db = database(scale)
    result = Result(scale)
    with tempfile.TemporaryDirectory() as tmp:
        config = _config(db.url, Path(tmp))
        profile = Path(tmp) / "script-runs.jsonl"
        os.environ["OUTREACH_CONFIG"], os.environ[ENV] = str(config), str(profile)
        try:
            _bare(Path(tmp), config, profile, result)
            if not quick:
                _cold(config, profile, result)
            _warm(config, profile, result, rounds=1 if quick else 2, cold_too=quick)
        finally:
            del os.environ[ENV]
    return result


def _ms(seconds: float) -> str:
    return f"{seconds * 1000:6.0f}"


def report(result: Result, *, quick: bool) -> None:
    size = f"x{result.scale:g} synthetic database" + (" (quick: cold = first visit, no restart)" if quick else "")
    print(f"P4 dashboard pages in Chromium, {size}; ms; script = the app's own run time (sum of its runs)")
    print(f"  {'page':<28} {'browser cold':>12} {'warm':>6}   {'script cold':>11} {'warm':>6}")
    rows = [("bare one-metric page", result.bare_cold, result.bare_warm)]
    rows += [(title, result.cold[path], result.warm[path]) for title, path in PAGES]
    for name, cold, warm in rows:
        runs_note = f"  ({max(cold.runs, warm.runs)} runs)" if max(cold.runs, warm.runs) > 1 else ""
        print(f"  {name:<28} {_ms(cold.browser):>12} {_ms(warm.browser)}   {cold.script_ms:11.0f} "
              f"{warm.script_ms:6.0f}{runs_note}")
    print(f"  first script run after a start (sign-in form, imports): {result.first_run_ms:.0f} ms")
    slow_cold = [t for t, p in PAGES if result.cold[p].script_ms > 1000]
    slow_warm = [t for t, p in PAGES if result.warm[p].script_ms > 300]
    print("  goals (script <= 1000 ms cold, <= 300 ms warm): "
          + ("met on every page" if not slow_cold + slow_warm else
             f"cold over: {', '.join(slow_cold) or '-'}; warm over: {', '.join(slow_warm) or '-'}"))


def ratios(base: Result, big: Result) -> None:
    print(f"P4 ratio x{big.scale:g} / x{base.scale:g} per page (goal <= 2.0)")
    print(f"  {'page':<28} {'browser cold':>12} {'warm':>6}   {'script cold':>11} {'warm':>6}")
    for title, path in PAGES:
        b, c = (base.cold[path], base.warm[path]), (big.cold[path], big.warm[path])
        print(f"  {title:<28} {c[0].browser / b[0].browser:12.2f} {c[1].browser / b[1].browser:6.2f}   "
              f"{c[0].script_ms / max(b[0].script_ms, 0.1):11.2f} {c[1].script_ms / max(b[1].script_ms, 0.1):6.2f}")


def main(quick: bool = False, scales: tuple[float, ...] = ()) -> None:
    scales = scales or ((0.1,) if quick else (1.0,))
    results = []
    for scale in scales:
        results.append(measure(scale, quick=quick))
        report(results[-1], quick=quick)
    for big in results[1:]:
        ratios(results[0], big)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(prog="python -m bench.bench_browser", description=__doc__.split("\n")[0])
    parser.add_argument("--scale", type=float, action="append", help="database scale (repeat: ratios to the first)")
    parser.add_argument("--quick", action="store_true", help="cold = first visits in one server; one warm round")
    args = parser.parse_args(sys.argv[1:])
    main(quick=args.quick, scales=tuple(args.scale or ()))
