"""`outreach backup OUT`: a consistent copy of the database while the worker keeps running.

SQLite: the online backup API copies a single consistent snapshot (WAL included) page by page,
letting writers continue between steps. PostgreSQL: `pg_dump -Fc` (custom format, one consistent
transaction); restore with `pg_restore`. Restoring SQLite is the same API in reverse.
"""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy.engine import make_url

from outreach.db.engine import sqlite_path
from outreach.errors import OutputError

PAGES_PER_STEP = 4096  # ~16 MB per step at 4 KiB pages; writers get the lock between steps


class BackupError(OutputError, RuntimeError):
    """The backup could not be made; the message says what to do (never contains a password)."""


@dataclass(frozen=True, slots=True)
class BackupReport:
    path: Path
    kind: str  # sqlite | pg_dump
    bytes: int
    tables: dict[str, int] = field(default_factory=dict)  # SQLite: rows per table in the copy

    def line(self) -> str:
        rows = sum(self.tables.values())
        extra = f", {len(self.tables)} tables, {rows:,} rows, integrity ok" if self.tables else ""
        return f"backup written to {self.path} ({self.kind}, {self.bytes:,} bytes{extra})"


def backup_database(settings: Any, out_path: str | os.PathLike[str], *,
                    database_url: str | None = None) -> BackupReport:
    """Back up the configured database to `out_path` (a new file)."""
    url = database_url or settings.database_url
    out = Path(out_path)
    if out.exists():
        raise BackupError(f"{out} already exists; backups never overwrite a file")
    out.parent.mkdir(parents=True, exist_ok=True)
    if url.startswith("sqlite"):
        return _sqlite_backup(url, out)
    if url.startswith("postgresql"):
        return _pg_dump(url, out)
    raise BackupError(f"backups support SQLite and PostgreSQL, not {make_url(url).get_backend_name()}")


def restore_database(settings: Any, backup_path: str | os.PathLike[str], *,
                     database_url: str | None = None) -> BackupReport:
    """Restore a backup into the configured database. Stop the worker and dashboard first.

    SQLite: the backup API copies the backup over the live file (its WAL is reset consistently).
    PostgreSQL: `pg_restore --clean --if-exists --no-owner -d URL BACKUP`.
    """
    url = database_url or settings.database_url
    source = Path(backup_path)
    if not source.is_file():
        raise BackupError(f"{source} does not exist")
    if url.startswith("sqlite"):
        target = sqlite_path(url)
        if target is None:
            raise BackupError("cannot restore into an in-memory SQLite database")
        target.parent.mkdir(parents=True, exist_ok=True)
        _copy_sqlite(source, target)
        return BackupReport(target, "sqlite", target.stat().st_size, _check(target))
    if url.startswith("postgresql"):
        tool = shutil.which("pg_restore")
        if tool is None:
            raise BackupError("pg_restore is not on PATH (Debian: apt-get install postgresql-client)")
        _run([tool, "--clean", "--if-exists", "--no-owner", "-d", _libpq_url(url), str(source)], url)
        return BackupReport(source, "pg_restore", source.stat().st_size)
    raise BackupError(f"restore supports SQLite and PostgreSQL, not {make_url(url).get_backend_name()}")


def _sqlite_backup(url: str, out: Path) -> BackupReport:
    source = sqlite_path(url)
    if source is None or not source.is_file():
        raise BackupError(f"SQLite database {source or url} does not exist")
    _copy_sqlite(source, out)
    return BackupReport(out, "sqlite", out.stat().st_size, _check(out))


def _copy_sqlite(source: Path, target: Path) -> None:
    src = sqlite3.connect(source, timeout=30)  # read-write open: a read-only one cannot join a WAL
    dst = sqlite3.connect(target, timeout=30)
    try:
        src.backup(dst, pages=PAGES_PER_STEP)
        dst.execute("PRAGMA journal_mode=DELETE")  # one self-contained file, no -wal beside it
    finally:
        dst.close()
        src.close()


def _check(path: Path) -> dict[str, int]:
    """Open the copy, run SQLite's integrity check and count rows per table."""
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        status = conn.execute("PRAGMA integrity_check").fetchone()[0]
        if status != "ok":
            raise BackupError(f"{path}: integrity check failed: {status}")
        names = [r[0] for r in conn.execute(
            "SELECT name FROM sqlite_master WHERE type='table' AND name NOT LIKE 'sqlite_%' ORDER BY name")]
        return {name: conn.execute(f'SELECT count(*) FROM "{name}"').fetchone()[0] for name in names}
    finally:
        conn.close()


def _pg_dump(url: str, out: Path) -> BackupReport:
    tool = shutil.which("pg_dump")
    if tool is None:
        raise BackupError("pg_dump is not on PATH (Debian: apt-get install postgresql-client); or run "
                          "`pg_dump -Fc -f OUT postgresql://…` yourself")
    _run([tool, "-Fc", "--no-owner", "-f", str(out), _libpq_url(url)], url)
    return BackupReport(out, "pg_dump", out.stat().st_size)


def _libpq_url(url: str) -> str:
    """SQLAlchemy's `postgresql+psycopg://` as libpq understands it."""
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


def _run(args: list[str], url: str) -> None:
    done = subprocess.run(args, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        password = make_url(url).password
        message = (done.stderr or done.stdout).strip()
        if password:
            message = message.replace(str(password), "***")
        raise BackupError(f"{Path(args[0]).name} failed ({done.returncode}): {message}")
