"""Create or upgrade the database schema with Alembic (`outreach init`)."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory

from outreach.db.engine import Database

MIGRATIONS = Path(__file__).parent / "migrations"


def alembic_config(url: str) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return cfg


def upgrade(db: Database, revision: str = "head") -> tuple[str | None, str]:
    """Upgrade to `revision`; returns (revision before, revision after)."""
    cfg = alembic_config(db.url)
    with db.engine.begin() as conn:
        before = MigrationContext.configure(conn).get_current_revision()
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, revision)
    head = ScriptDirectory.from_config(cfg).get_current_head()
    return before, head or ""


def current_revision(db: Database) -> str | None:
    with db.engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


def is_current(db: Database) -> bool:
    head = ScriptDirectory.from_config(alembic_config(db.url)).get_current_head()
    return current_revision(db) == head
