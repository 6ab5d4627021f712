"""The dashboard's imports run one way (DESIGN.md): pages read through analytics and write through planning, via
dashboard/loaders.py; only loaders touches `outreach.db` and `outreach.connectors`, and only for the names its
docstring gives."""

from __future__ import annotations

import ast
from pathlib import Path

DASHBOARD = Path(__file__).resolve().parents[2] / "dashboard"
FORBIDDEN = ("outreach.db", "outreach.connectors")
ALLOWED = {("loaders.py", "outreach.db"): {"Database"}, ("loaders.py", "outreach.db.migrate"): {"open_ready"},
           ("loaders.py", "outreach.connectors"): {"check_channel_options"}}


def imports(path: Path) -> list[tuple[str, set[str]]]:
    """(module, names) for every import in the file, functions included."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module:
            found.append((node.module, {alias.name for alias in node.names}))
        elif isinstance(node, ast.Import):
            found.extend((alias.name, set()) for alias in node.names)
    return found


def test_only_loaders_opens_the_database_and_checks_the_config() -> None:
    wrong = {}
    for path in sorted(DASHBOARD.rglob("*.py")):
        where = str(path.relative_to(DASHBOARD))
        for module, names in imports(path):
            if module == "outreach" and names & {"db", "connectors"}:
                wrong[f"{where}: from outreach import"] = sorted(names)
            for forbidden in FORBIDDEN:
                if module == forbidden or module.startswith(forbidden + "."):
                    allowed = ALLOWED.get((where, module), set())
                    if not names or names - allowed:
                        wrong[f"{where}: {module}"] = sorted(names - allowed) or ["(whole module)"]
    assert wrong == {}
    assert ("outreach.db", {"Database"}) in imports(DASHBOARD / "loaders.py")  # the test reads what is there
