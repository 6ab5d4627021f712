"""Create or upgrade the database schema with Alembic (`outreach init`)."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory

from outreach.db.engine import Database, missing_sqlite_file, redact_url
from outreach.errors import DatabaseError

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
    if revision == "head":  # months the migration named (or writes before it) built now, not by the first reader
        from outreach import rollup

        rollup.refresh(db)
    return before, head or ""


def current_revision(db: Database) -> str | None:
    with db.engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


def is_current(db: Database) -> bool:
    head = ScriptDirectory.from_config(alembic_config(db.url)).get_current_head()
    return current_revision(db) == head


def open_ready(url: str, *, source: str | None, must_exist: bool = True) -> Database:
    """The database at `url`; with `must_exist`, refused in one line (DatabaseError, password hidden) when it is
    missing or out of date, and always when its driver is not installed. The CLI and the dashboard both ask here."""
    missing = missing_sqlite_file(url)
    if must_exist and missing is not None:  # connecting would create an empty file: say where we looked
        raise DatabaseError(f"database {missing} does not exist: run `outreach init` first, or check "
                            f"[database] url in {source}")
    try:
        db = Database(url)
    except ImportError as exc:  # a URL for a database whose driver is not installed
        raise DatabaseError(f"database {redact_url(url)}: no driver installed ({exc.name}); "
                            "use sqlite:/// or postgresql+psycopg:// (pip install 'outreach[postgres]')") from None
    if must_exist and not is_current(db):
        raise DatabaseError("the database is missing or out of date: run `outreach init` first "
                            f"(database: {redact_url(url)})")
    return db
