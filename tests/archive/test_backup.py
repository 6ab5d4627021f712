"""Backups: a consistent SQLite copy while a writer holds the database, restored and compared;
pg_dump for PostgreSQL."""

from __future__ import annotations

import shutil
import sqlite3
import subprocess
from pathlib import Path

import pytest
from sqlalchemy import func, select

from outreach.archive import BackupError, backup_database, restore_database
from outreach.config import parse_settings
from outreach.db import Database
from outreach.db.models import Organisation, Post
from tests.archive.seed import Published, seed
from tests.system import unavailable


def counts(db: Database) -> dict[str, int]:
    with db.session() as s:
        return {"organisations": s.scalar(select(func.count(Organisation.id))) or 0,
                "posts": s.scalar(select(func.count(Post.id))) or 0}


def test_sqlite_backup_while_writing_then_restore(sqlite_db: Database, tmp_path: Path) -> None:
    seed(sqlite_db, published=[Published("a", "nl", "1", None), Published("b", "tr", "2", None)],
         media_dir=tmp_path / "media")
    settings = parse_settings({"database": {"url": sqlite_db.url}}, environ={})
    before = counts(sqlite_db)
    # a worker in the middle of a write transaction: its uncommitted row must not be in the copy
    writer = sqlite3.connect(sqlite_db.url.split("///", 1)[1], timeout=30)
    writer.execute("BEGIN IMMEDIATE")
    writer.execute("INSERT INTO organisations (code, name) VALUES ('VON', 'Vluchtelingen Organisaties')")
    report = backup_database(settings, tmp_path / "backups" / "outreach-2026-06-30.db")
    writer.commit()
    writer.close()
    assert report.kind == "sqlite" and report.tables["posts"] == before["posts"] == 7
    assert report.tables["organisations"] == 2 and "integrity ok" in report.line()
    with pytest.raises(BackupError, match="never overwrite"):
        backup_database(settings, report.path)

    # restore into a fresh location and over the live database, then compare
    fresh = Database(f"sqlite:///{tmp_path / 'restored' / 'outreach.db'}")
    restore_database(settings, report.path, database_url=fresh.url)
    assert counts(fresh) == before
    fresh.dispose()
    assert counts(sqlite_db)["organisations"] == 3
    sqlite_db.dispose()
    restored = restore_database(settings, report.path)
    assert restored.tables["organisations"] == 2
    live = Database(sqlite_db.url)
    assert counts(live) == before
    with live.write() as s:  # the restored database is writable by the app again
        s.add(Organisation(code="VON", name="VON"))
    live.dispose()


def test_missing_sqlite_database_is_a_clear_error(tmp_path: Path) -> None:
    settings = parse_settings({"database": {"url": f"sqlite:///{tmp_path / 'none.db'}"}}, environ={})
    with pytest.raises(BackupError, match="does not exist"):
        backup_database(settings, tmp_path / "out.db")


@pytest.mark.postgres
def test_pg_dump_backup(pg_db: Database, tmp_path: Path) -> None:
    if shutil.which("pg_dump") is None:
        unavailable("pg_dump (apt-get install postgresql-client)")
    with pg_db.write() as s:
        s.add(Organisation(code="IOT", name="IOT"))
    settings = parse_settings({"database": {"url": pg_db.url}}, environ={})
    report = backup_database(settings, tmp_path / "outreach.dump")
    assert report.kind == "pg_dump" and report.path.read_bytes().startswith(b"PGDMP")
    listing = subprocess.run(["pg_restore", "--list", str(report.path)], capture_output=True, text=True,
                             check=True).stdout
    assert "TABLE DATA public organisations" in listing and "TABLE DATA public posts" in listing
