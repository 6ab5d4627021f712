"""Migrations: the models and the Alembic history agree, and 0001 → head keeps existing data and
leaves the dispatcher able to claim it (on SQLite and on PostgreSQL)."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import JSON, bindparam, text

from outreach.config import parse_settings
from outreach.db import Database
from outreach.db.migrate import alembic_config, current_revision, upgrade
from outreach.db.models import Base
from outreach.publishing import Dispatcher
from tests.publishing.conftest import get_post


def _at(db: Database, revision: str, action=command.upgrade) -> None:  # type: ignore[no-untyped-def]
    cfg = alembic_config(db.url)
    with db.engine.begin() as conn:
        cfg.attributes["connection"] = conn
        action(cfg, revision)


def _has_index(db: Database, name: str) -> bool:
    """Asked of the catalogue: SQLAlchemy's inspector skips expression indexes on SQLite."""
    query = ("SELECT 1 FROM sqlite_master WHERE type = 'index' AND name = :name" if db.is_sqlite
             else "SELECT 1 FROM pg_indexes WHERE indexname = :name")
    with db.engine.connect() as conn:
        return conn.execute(text(query), {"name": name}).first() is not None


def test_upgrading_an_existing_database_keeps_its_posts_and_serves_the_queue(empty_db: Database) -> None:
    _at(empty_db, "0001")
    post_id = _old_post(empty_db, text="Van voor de index", due_at=datetime.now(UTC) - timedelta(minutes=1))
    assert not _has_index(empty_db, "ix_posts_ready")
    before, after = upgrade(empty_db)
    assert (before, after) == ("0001", current_revision(empty_db))
    assert _has_index(empty_db, "ix_posts_ready")
    assert get_post(empty_db, post_id).may_exist_since is None  # never tried: nothing to reconcile
    settings = parse_settings({"channels": {"peer-mastodon": {"platform": "mastodon",
                                                              "base_url": "http://127.0.0.1:9/mastodon",
                                                              "token_env": "UNUSED_TOKEN"}}}, source="test")
    [claim] = Dispatcher(empty_db, settings).claim(5)  # the claim query runs on the new index
    assert claim.post_id == post_id and get_post(empty_db, post_id).status == "publishing"
    _at(empty_db, "0001", command.downgrade)  # and back
    assert not _has_index(empty_db, "ix_posts_ready")


def _old_post(db: Database, *, text: str, due_at: datetime) -> int:
    """A post as schema 0001 stores it (the models now have more columns)."""
    from sqlalchemy import text as sql

    now = datetime.now(UTC).replace(tzinfo=None)
    with db.engine.begin() as conn:
        conn.execute(sql(
            "INSERT INTO posts (source_key, rule_key, channel, platform, language, text, media, content_hash, "
            "due_at, status, approval_required, idempotency_key, attempts, rate_limited_count, needs_reconcile, "
            "handle, created_at, updated_at) VALUES ('old/1', 'old', 'peer-mastodon', 'mastodon', 'nl', :text, "
            "'[]', 'h', :due, 'approved', false, 'old-key-1', 0, 0, false, '{}', :now, :now)"),
            {"text": text, "due": due_at.astimezone(UTC).replace(tzinfo=None), "now": now})
        return int(conn.execute(sql("SELECT id FROM posts WHERE idempotency_key = 'old-key-1'")).scalar_one())


@pytest.mark.filterwarnings("ignore:.*expression-based index:UserWarning",
                            "ignore:Skipped unsupported reflection of expression-based index")
def test_the_models_and_the_migrations_agree(empty_db: Database) -> None:
    """What autogenerate would add to a migration now: nothing. (SQLite cannot reflect the expression
    index; PostgreSQL can, so between them every index is compared.)"""
    upgrade(empty_db)
    with empty_db.engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), Base.metadata)
    assert diff == []


def test_upload_capabilities_stored_before_resume_files_are_scrubbed(empty_db: Database) -> None:
    """0014: handles written when upload URLs still went into the database lose them; ids stay."""
    from sqlalchemy import text as sql

    _at(empty_db, "0013")
    secret = "https://upload.example/up?upload_id=SECRET-1"
    handles = {
        "youtube": {"marker": "m-1", "session_uri": secret, "video_id": None},
        "tiktok": {"publish_id": "p-1", "upload_url": secret, "video_size": 10},
        "linkedin": {"video": {"urn": "urn:li:video:1", "token": "SECRET-2", "etags": {"0": "e"},
                               "parts": [[secret, 0, 9]], "captions_url": secret, "thumbnail_url": None}},
        "facebook": {"video_id": "v-1", "upload_url": "https://rupload.example/video-upload/v25.0/v-1"},
    }
    now = datetime.now(UTC).replace(tzinfo=None)
    with empty_db.engine.begin() as conn:
        for i, (platform, handle) in enumerate(handles.items()):
            conn.execute(sql(
                "INSERT INTO posts (source_key, rule_key, channel, platform, language, text, media, content_hash, "
                "due_at, status, approval_required, idempotency_key, attempts, rate_limited_count, "
                "needs_reconcile, handle, created_at, updated_at) VALUES (:key, 'old', :channel, :platform, 'nl', "
                "'t', '[]', 'h', :now, 'retrying', false, :key, 1, 0, true, :handle, :now, :now)")
                .bindparams(bindparam("handle", type_=JSON)),
                {"key": f"old/{i}", "channel": f"peer-{platform}", "platform": platform, "handle": handle,
                 "now": now})
    upgrade(empty_db)
    with empty_db.engine.connect() as conn:
        stored = {row.platform: row.handle for row in conn.execute(sql("SELECT platform, handle FROM posts"))}
    stored = {k: v if isinstance(v, dict) else json.loads(v) for k, v in stored.items()}
    assert "SECRET" not in repr(stored)
    assert stored["youtube"] == {"marker": "m-1", "session_uri": None, "video_id": None}
    assert stored["tiktok"] == {"publish_id": "p-1", "upload_url": None, "video_size": 10}
    assert stored["linkedin"]["video"] == {"urn": "urn:li:video:1", "token": None, "etags": {"0": "e"},
                                           "parts": [[None, 0, 9]], "captions_url": None, "thumbnail_url": None}
    assert stored["facebook"] == handles["facebook"]  # its upload address carries nothing secret

