"""Engine and sessions. SQLite gets WAL, a busy timeout, and `BEGIN IMMEDIATE` for write transactions."""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterator
from pathlib import Path

from sqlalchemy import Connection, Engine, create_engine, event
from sqlalchemy.dialects.sqlite.base import SQLiteCompiler
from sqlalchemy.orm import Session, sessionmaker


def make_engine(url: str, *, echo: bool = False) -> Engine:
    if url.startswith("sqlite"):
        path = url.split("///", 1)[-1]
        if path and path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, echo=echo, connect_args={"timeout": 30, "check_same_thread": False})
        engine.dialect.statement_compiler = _HintingSQLiteCompiler
        _sqlite_pragmas(engine)
        return engine
    return create_engine(url, echo=echo, pool_pre_ping=True)


class _HintingSQLiteCompiler(SQLiteCompiler):
    """Renders `select(...).with_hint(table, "INDEXED BY ix", "sqlite")`, which SQLAlchemy's SQLite
    dialect drops: SQLite's planner cannot always see that a partial index serves a query."""

    def get_from_hint_text(self, table, text):  # type: ignore[no-untyped-def]
        return text


def _sqlite_pragmas(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def on_connect(dbapi_conn, _record):  # type: ignore[no-untyped-def]
        # SQLAlchemy, not the driver, decides when a transaction begins, so BEGIN IMMEDIATE works.
        dbapi_conn.isolation_level = None
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA journal_mode=WAL")
        cur.execute("PRAGMA synchronous=NORMAL")
        cur.execute("PRAGMA foreign_keys=ON")
        cur.execute("PRAGMA busy_timeout=30000")
        cur.close()

    @event.listens_for(engine, "begin")
    def on_begin(conn):  # type: ignore[no-untyped-def]
        immediate = conn.get_execution_options().get("sqlite_immediate", False)
        conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")


class Database:
    """One engine and its session factories: `session()` for reads and ordinary writes,
    `write()` for claim-style transactions that must hold the write lock from their first read."""

    def __init__(self, url: str, *, echo: bool = False) -> None:
        self.url = url
        self.engine = make_engine(url, echo=echo)
        self.is_sqlite = self.engine.dialect.name == "sqlite"
        self._sessions = sessionmaker(self.engine, expire_on_commit=False)
        immediate = self.engine.execution_options(sqlite_immediate=True) if self.is_sqlite else self.engine
        self._immediate = immediate
        self._writes = sessionmaker(immediate, expire_on_commit=False)
        self._writer_lock = threading.RLock()

    def session(self) -> Session:
        return self._sessions()

    @contextlib.contextmanager
    def write(self) -> Iterator[Session]:
        """A transaction that commits on success and rolls back on any error.
        On SQLite it begins IMMEDIATE (takes the write lock at once); on PostgreSQL use
        `with_for_update(skip_locked=True)` in the queries that claim rows."""
        with self._one_writer(), self._writes() as session:
            try:
                yield session
                session.commit()
            except BaseException:
                session.rollback()
                raise

    @contextlib.contextmanager
    def write_connection(self) -> Iterator[Connection]:
        """Like `write()`, for Core statements on the hot path (no ORM unit of work)."""
        with self._one_writer(), self._immediate.begin() as conn:
            yield conn

    def _one_writer(self) -> contextlib.AbstractContextManager[object]:
        """SQLite has one writer at a time: threads of this process queue on a lock (woken the moment
        it is free) rather than in SQLite's busy handler, which sleeps in steps of milliseconds."""
        return self._writer_lock if self.is_sqlite else contextlib.nullcontext()

    def dispose(self) -> None:
        self.engine.dispose()


def sqlite_path(url: str) -> Path | None:
    if not url.startswith("sqlite"):
        return None
    path = url.split("///", 1)[-1]
    return None if path in ("", ":memory:") else Path(path)


def missing_sqlite_file(url: str) -> Path | None:
    """The SQLite file the URL names when it does not exist (connecting would create an empty one), else None."""
    path = sqlite_path(url)
    return path if path is not None and not path.exists() else None


def redact_url(url: str) -> str:
    """The URL with its password replaced by ***, for messages."""
    if "@" in url and "://" in url:
        scheme, rest = url.split("://", 1)
        creds, host = rest.rsplit("@", 1)
        user = creds.split(":", 1)[0]
        return f"{scheme}://{user}:***@{host}" if ":" in creds else url
    return url
