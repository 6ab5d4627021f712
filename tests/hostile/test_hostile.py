"""Hostile and broken input: every case ends in one clear line and an exit code, within budget,
with the database byte-for-byte unchanged."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.hostile.cases import CASES, Case
from tests.hostile.harness import MAX_BYTES, MAX_SECONDS, run, template_db

COST: list[tuple[float, int, str]] = []  # (seconds, peak bytes, case): printed with -s


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    yield template_db(tmp_path_factory.mktemp("template"))
    if COST:
        slow, big = max(COST), max(COST, key=lambda c: c[1])
        print(f"\nhostile: {len(COST)} cases, slowest {slow[0]:.2f} s ({slow[2]}), "
              f"largest peak {big[1] / 1e6:.1f} MB ({big[2]})")


def test_the_table_is_large_and_names_are_unique() -> None:
    assert len(CASES) >= 60
    assert len({c.name for c in CASES}) == len(CASES)


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_hostile_input(case: Case, template: Path, tmp_path: Path) -> None:
    kwargs = {"config": case.config} if case.config is not None else {}
    result = run(tmp_path, list(case.argv), case.files, template=template, **kwargs)
    COST.append((result.seconds, result.peak_bytes, case.name))
    shown = "\n".join(result.lines)
    assert result.code == case.code, shown
    assert result.lines, "no message at all"
    assert "Traceback" not in shown and "internal error" not in shown, shown
    assert case.message in shown, shown
    assert all(len(line) < 400 for line in result.lines), shown
    assert not result.db_changed
    assert result.seconds < MAX_SECONDS, f"{result.seconds:.1f} s"
    assert result.peak_bytes < MAX_BYTES, f"{result.peak_bytes / 1e6:.0f} MB"


def test_the_harness_sees_a_write(template: Path, tmp_path: Path) -> None:
    """The unchanged-database check can fail: scheduling a valid campaign does change it."""
    from tests.hostile.harness import CAMPAIGN

    result = run(tmp_path, ["schedule", "c.yaml"], {"c.yaml": CAMPAIGN}, template=template)
    assert result.code == 0 and result.db_changed, result.lines
