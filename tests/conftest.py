"""Shared fixtures: sandbox servers on loopback, temporary databases."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from outreach.sandbox.core import PlatformSim, Sandbox, serve
from outreach.sandbox.http import SandboxHTTPServer


@pytest.fixture
def serve_sandbox() -> Iterator[Callable[..., tuple[Sandbox, str]]]:
    """Factory: `sandbox, url = serve_sandbox(SomeSim(), media_dir=...)` serves on a free loopback port."""
    servers: list[SandboxHTTPServer] = []

    def start(*sims: PlatformSim, media_dir: Path | None = None, seed: int = 0) -> tuple[Sandbox, str]:
        sandbox = Sandbox(list(sims), media_dir=media_dir, seed=seed)
        server = serve(sandbox)
        servers.append(server)
        return sandbox, server.url

    yield start
    for server in servers:
        server.stop()


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """A real PostgreSQL server for the session: $OUTREACH_TEST_POSTGRES_URL, or one started here.
    Skips where PostgreSQL is not installed, except in CI, where that is a failure."""
    import os

    from tests.postgres import TempPostgres, find_bin
    from tests.system import unavailable

    if os.environ.get("OUTREACH_TEST_POSTGRES_URL"):
        yield os.environ["OUTREACH_TEST_POSTGRES_URL"]
        return
    if find_bin() is None:
        unavailable("PostgreSQL (apt-get install postgresql)")
    server = TempPostgres().start()
    try:
        yield server.url
    finally:
        server.stop()


@pytest.fixture
def sqlite_db(tmp_path: Path):  # type: ignore[no-untyped-def]
    """A fresh, migrated SQLite database in a temp dir."""
    from outreach.db import Database
    from outreach.db.migrate import upgrade

    db = Database(f"sqlite:///{tmp_path / 'outreach.db'}")
    upgrade(db)
    yield db
    db.dispose()


@pytest.fixture
def pg_db(postgres_url: str):  # type: ignore[no-untyped-def]
    """A fresh, migrated database in its own schema-less PostgreSQL database."""
    import uuid

    from sqlalchemy import create_engine, text

    from outreach.db import Database
    from outreach.db.migrate import upgrade

    name = f"t_{uuid.uuid4().hex[:12]}"
    admin = create_engine(postgres_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    db = Database(postgres_url.rsplit("/", 1)[0] + f"/{name}")
    upgrade(db)
    yield db
    db.dispose()
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE "{name}" WITH (FORCE)'))
    admin.dispose()


@pytest.fixture(params=["sqlite", "postgresql"])
def empty_db(request, tmp_path, postgres_url):  # type: ignore[no-untyped-def]
    """An empty database (no schema) on SQLite and on PostgreSQL: migrations are run by the test."""
    from sqlalchemy import text

    from outreach.db import Database

    if request.param == "sqlite":
        db = Database(f"sqlite:///{tmp_path / 'old.db'}")
        yield db
        db.dispose()
        return
    import uuid

    from sqlalchemy import create_engine

    name = f"m_{uuid.uuid4().hex[:12]}"
    admin = create_engine(postgres_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    db = Database(postgres_url.rsplit("/", 1)[0] + f"/{name}")
    yield db
    db.dispose()
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE "{name}" WITH (FORCE)'))
    admin.dispose()



@pytest.fixture(autouse=True)
def no_polling_pauses(monkeypatch: pytest.MonkeyPatch) -> None:
    """No test waits on a platform: connectors poll multi-step flows (containers, uploads) without
    pausing. Tests about polling pass their own `poll_interval_s`; real processes are not affected."""
    from outreach.connectors.base import Connector

    def subclasses(cls: type) -> list[type]:
        return [cls, *(sub for child in cls.__subclasses__() for sub in subclasses(child))]

    for cls in subclasses(Connector):
        if "poll_interval_s" in cls.__dict__:
            monkeypatch.setattr(cls, "poll_interval_s", 0.0)
