"""The opt-in script-run timing the P4 benchmark reads (dashboard/profiling.py): one line per script run,
naming the page it drew; nothing at all when the variable is unset."""

from __future__ import annotations

from pathlib import Path

import pytest

from dashboard import profiling
from tests.dashboard.conftest import Seeded
from tests.dashboard.test_pages import app, visit


def test_every_script_run_is_recorded_with_its_page(seeded: Seeded, tmp_path: Path,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    profile = tmp_path / "runs.jsonl"
    monkeypatch.setenv(profiling.ENV, str(profile))
    app(user=None).run()  # the sign-in form
    at = app().run()  # overview, signed in
    visit(at, "schedule")
    visit(at, "review")
    recorded = profiling.runs(profile)
    assert [r["page"] for r in recorded] == ["sign-in", "overview", "schedule", "review"]
    assert all(0 < float(r["ms"]) < 60_000 for r in recorded)  # milliseconds, not seconds or nanoseconds
    assert profiling.runs(profile, after=float(recorded[-1]["at"])) == []


def test_nothing_is_written_unless_asked(seeded: Seeded, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(profiling.ENV, raising=False)
    here = tmp_path / "cwd"
    here.mkdir()
    monkeypatch.chdir(here)
    visit(app().run(), "schedule")
    assert list(here.iterdir()) == []
