"""Keep the project honest: every command and connector is documented and tested."""

from __future__ import annotations

import argparse
import re
from pathlib import Path

from outreach.cli import build_parser
from outreach.connectors import connector_classes

ROOT = Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text(encoding="utf-8")


def _commands(parser: argparse.ArgumentParser, prefix: str = "") -> dict[str, argparse.ArgumentParser]:
    found = {}
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                full = f"{prefix}{name}"
                found[full] = sub
                found.update(_commands(sub, f"{full} "))
    return found


def test_every_command_has_help_and_a_readme_mention() -> None:
    commands = _commands(build_parser())
    assert {"init", "validate", "plan", "schedule", "approve", "reject", "run", "status", "channels check",
            "sandbox", "demo"} <= set(commands)
    for name, sub in commands.items():
        assert sub.description, f"`outreach {name}` has no help text"
        assert f"outreach {name}" in README, f"`outreach {name}` is not mentioned in README.md"


def test_every_connector_has_a_readme_row_and_a_test_module() -> None:
    for cls in connector_classes():
        name = cls.platform
        assert re.search(rf"^\|\s*\*?\*?{name}", README, re.I | re.M), f"README has no connector row for {name}"
        assert (ROOT / "tests" / "connectors" / f"test_{name}.py").exists(), f"no test module for {name}"


def test_ci_runs_the_readme_test_command() -> None:
    ci = (ROOT / ".ci" / "run").read_text()
    assert "make test" in ci and "make test" in README
