"""A seeded database and config for the dashboard tests, written through the real storage paths:
the synthetic history generator, then a campaign file planned and scheduled (posts waiting for review),
then review actions and a failed / manual post as the worker would leave them."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from argon2 import PasswordHasher
from sqlalchemy import select

from outreach import lifecycle
from outreach.config import load_settings
from outreach.db import Database
from outreach.db.migrate import upgrade
from outreach.db.models import Post
from outreach.domain import PostStatus
from outreach.harvest.synthetic import generate_history
from outreach.planning import plan_campaign, schedule_campaign, shift_to_now

ROOT = Path(__file__).resolve().parents[2]
APP = ROOT / "dashboard" / "app.py"
CAMPAIGN = Path(__file__).with_name("campaign.yaml")
PASSWORD = "correct horse battery staple"
HASH = PasswordHasher(time_cost=1, memory_cost=8192).hash(PASSWORD)

CONFIG = """\
timezone = "Europe/Amsterdam"
state_dir = "{state}"

[database]
url = "sqlite:///{db}"

[channels.peer-mastodon]
platform = "mastodon"
base_url = "http://127.0.0.1:1/mastodon"
token_env = "DASHBOARD_TEST_TOKEN_NEVER_SET"

[channels.peer-bluesky]
platform = "bluesky"
base_url = "http://127.0.0.1:1/bluesky"
handle = "peer.bsky.example"
password_env = "DASHBOARD_TEST_PASSWORD_NEVER_SET"

[channels.peer-whatsapp]
platform = "manual"
utm_source = "whatsapp"

[dashboard.users.rita]
password_hash = "{hash}"
roles = ["planner", "reviewer"]

[dashboard.users.vera]
password_hash = "{hash}"
roles = ["viewer"]
"""


@dataclass
class Seeded:
    config: Path
    db_url: str
    failed_id: int
    manual_id: int
    pending_ids: list[int]

    def database(self) -> Database:
        return Database(self.db_url)


def seed(directory: Path, *, now: datetime) -> Seeded:
    db_path = directory / "outreach.db"
    config = directory / "outreach.toml"
    config.write_text(CONFIG.format(state=directory / "state", db=db_path, hash=HASH), encoding="utf-8")
    settings = load_settings(config)
    db = Database(settings.database_url)
    upgrade(db)
    generate_history(db, scale=0.02, start=now - timedelta(days=4 * 365), as_of=now - timedelta(hours=1))
    plan = plan_campaign(CAMPAIGN, settings)
    plan = plan_campaign(CAMPAIGN, settings, shift=shift_to_now(plan, now, lead=timedelta(days=3)))
    schedule_campaign(db, plan, now=now)
    with db.write() as s:
        pending = list(s.scalars(select(Post).where(Post.status == PostStatus.PENDING_REVIEW.value)
                                 .order_by(Post.due_at, Post.id)))
        failed, manual = pending[-1], pending[-2]
        for post, route in ((failed, [PostStatus.APPROVED, PostStatus.PUBLISHING, PostStatus.FAILED]),
                            (manual, [PostStatus.APPROVED, PostStatus.MANUAL_DUE])):
            for status in route:
                lifecycle.transition(post, status)
        failed.last_error = "peer-mastodon: content rejected (422): text too long"
        failed.error_kind = "rejected"
        ids = [p.id for p in pending[:-2]]
        failed_id, manual_id = failed.id, manual.id
    db.dispose()
    return Seeded(config, settings.database_url, failed_id, manual_id, ids)


@pytest.fixture(scope="session")
def seeded_template(tmp_path_factory: pytest.TempPathFactory) -> Seeded:
    return seed(tmp_path_factory.mktemp("dashboard-seed"), now=datetime.now(UTC))


@pytest.fixture
def seeded(seeded_template: Seeded, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Seeded:
    """A private copy of the seeded database and its config; OUTREACH_CONFIG points at it."""
    source = Path(seeded_template.db_url.split("///", 1)[1])
    db_path = tmp_path / "outreach.db"
    shutil.copy(source, db_path)
    config = tmp_path / "outreach.toml"
    text = seeded_template.config.read_text(encoding="utf-8")
    config.write_text(text.replace(str(source), str(db_path)).replace(str(source.parent / "state"),
                                                                      str(tmp_path / "state")), encoding="utf-8")
    monkeypatch.setenv("OUTREACH_CONFIG", str(config))
    # One dashboard process serves one config: start each test with the caches of a fresh process.
    import streamlit as st

    st.cache_data.clear()
    st.cache_resource.clear()
    return Seeded(config, f"sqlite:///{db_path}", seeded_template.failed_id, seeded_template.manual_id,
                  seeded_template.pending_ids)


@pytest.fixture
def dashboard(seeded: Seeded) -> Iterator[str]:
    """The dashboard served by `streamlit run` on loopback for the seeded config; yields its URL."""
    from tests.dashboard.browser import serve

    with serve(seeded.config) as url:
        yield url
