"""Fixtures for the planning tests: demo-safe settings, a temporary SQLite database, campaign files."""

from __future__ import annotations

import textwrap
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from outreach.config import Settings, load_settings
from outreach.db.engine import Database
from outreach.db.migrate import upgrade

HERE = Path(__file__).parent
CAMPAIGNS = HERE.parents[1] / "campaigns"


@pytest.fixture
def settings() -> Settings:
    return load_settings(HERE / "outreach.toml", environ={})


@pytest.fixture
def db(tmp_path: Path) -> Iterator[Database]:
    database = Database(f"sqlite:///{tmp_path}/t.db")
    upgrade(database)
    yield database
    database.dispose()


@pytest.fixture
def write_campaign(tmp_path: Path) -> Callable[..., Path]:
    """`write_campaign(yaml_text, name="c.yaml")`: dedent, write under tmp_path, return the path."""

    def write(text: str, name: str = "c.yaml") -> Path:
        path = tmp_path / name
        path.write_text(textwrap.dedent(text).lstrip("\n"), encoding="utf-8")
        return path

    return write
