"""Every dashboard page on the five-year synthetic database, rendered by Streamlit's AppTest: time per
page once its loaders are cached (goal: within 1 s), next to a bare one-line Streamlit page measured
in the same run, and the first (uncached) render for comparison."""

from __future__ import annotations

import os
import tempfile
import time
from pathlib import Path

from streamlit.testing.v1 import AppTest

from bench.bench_analytics import database

ROOT = Path(__file__).resolve().parent.parent
APP = ROOT / "dashboard" / "app.py"
PAGES = ("overview", "campaigns", "meetings", "communities", "schedule", "planner", "review", "archive")
REPEATS = 3


def _config(db_url: str, directory: Path) -> Path:
    """A config with one reviewer account (so the dashboard accepts the session without a login form)."""
    from argon2 import PasswordHasher

    digest = PasswordHasher().hash("bench-password")
    path = directory / "outreach.toml"
    path.write_text(f'state_dir = "{directory}"\n[database]\nurl = "{db_url}"\n'
                    f'[dashboard.users.bench]\npassword_hash = "{digest}"\nroles = ["planner", "reviewer"]\n',
                    encoding="utf-8")
    return path


def _best(render) -> float:  # type: ignore[no-untyped-def]
    best = float("inf")
    for _ in range(REPEATS):
        started = time.perf_counter()
        render()
        best = min(best, time.perf_counter() - started)
    return best


def main(quick: bool = False) -> None:
    from dashboard import auth

    db = database(0.1 if quick else 1.0)
    with tempfile.TemporaryDirectory() as tmp:
        os.environ["OUTREACH_CONFIG"] = str(_config(db.url, Path(tmp)))
        bare = Path(tmp) / "bare.py"
        bare.write_text("import streamlit as st\nst.metric('posts', 1)\n", encoding="utf-8")
        baseline_app = AppTest.from_file(str(bare), default_timeout=60)
        baseline = _best(lambda: baseline_app.run())
        user = auth.User("bench", frozenset({auth.Role.PLANNER, auth.Role.REVIEWER}))
        at = AppTest.from_file(str(APP), default_timeout=120)
        at.session_state[auth.SESSION_KEY] = user
        at.run()
        print(f"dashboard pages on the {'1/10-scale' if quick else 'five-year'} synthetic database "
              f"(AppTest, best of {REPEATS} cached renders)")
        print(f"  bare one-metric page                 {baseline * 1000:8.0f} ms")
        slowest = 0.0
        for page in PAGES:
            started = time.perf_counter()
            at.switch_page(f"app_pages/{page}.py").run()
            first = time.perf_counter() - started
            if at.exception:
                print(f"  {page:<12} FAILED: {at.exception[0].value}")
                continue
            cached = _best(lambda: at.run())
            slowest = max(slowest, cached)
            print(f"  {page:<12} first {first * 1000:7.0f} ms   cached {cached * 1000:6.0f} ms   "
                  f"{cached / baseline:5.1f}x bare")
        print(f"  slowest cached page {slowest * 1000:.0f} ms (goal: within 1000 ms)")
