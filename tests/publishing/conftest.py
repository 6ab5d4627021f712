"""Fixtures for dispatcher tests: a Mastodon sandbox on loopback, settings pointing at it, a clock."""

from __future__ import annotations

import hashlib
import json
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime

import pytest

from outreach.config import parse_settings
from outreach.db import Database
from outreach.db.models import Post
from outreach.domain import PostStatus
from outreach.publishing import ConnectorCache, Dispatcher
from outreach.publishing.retry import RetryPolicy
from outreach.sandbox.mastodon import DEMO_TOKEN, MastodonSim
from tests.clock import FakeClock

START = datetime(2027, 3, 20, 12, 0, tzinfo=UTC)



@dataclass
class World:
    db: Database
    clock: FakeClock
    sim: MastodonSim
    sandbox: object
    url: str
    settings: object

    def dispatcher(self, *, worker_id: str = "w1", lease_s: float = 300.0, timeout_s: float = 2.0) -> Dispatcher:
        connectors = ConnectorCache(self.settings, clock=self.clock, credentials=_NoCredentials())
        connectors("peer-mastodon").timeout_s = timeout_s
        return Dispatcher(self.db, self.settings, worker_id=worker_id, clock=self.clock, connectors=connectors,
                          retry=RetryPolicy(max_attempts=4, backoff_base_s=60, backoff_max_s=600),
                          lease_s=lease_s)

    def statuses(self) -> list[dict]:
        return self.sim.state()["statuses"]


class _NoCredentials:
    def load(self, channel: str) -> dict:
        return {}

    def save(self, channel: str, data: dict) -> None:
        pass


def settings_for(url: str, *, token_env: str = "TEST_MASTODON_TOKEN"):  # type: ignore[no-untyped-def]
    return parse_settings({
        "channels": {
            "peer-mastodon": {"platform": "mastodon", "base_url": f"{url}/mastodon", "token_env": token_env},
            "peer-whatsapp": {"platform": "manual"},
        },
    }, source="test")


@pytest.fixture
def world(serve_sandbox, sqlite_db, monkeypatch) -> World:  # type: ignore[no-untyped-def]
    clock = FakeClock(START)
    sim = MastodonSim(clock=clock)
    sandbox, url = serve_sandbox(sim)
    monkeypatch.setenv("TEST_MASTODON_TOKEN", DEMO_TOKEN)
    return World(sqlite_db, clock, sim, sandbox, url, settings_for(url))


def add_post(db: Database, *, text: str, due_at: datetime, channel: str = "peer-mastodon",
             platform: str = "mastodon", language: str = "nl",
             status: PostStatus = PostStatus.APPROVED, approval_required: bool = False,
             media: list[dict[str, str]] | None = None) -> int:
    with db.write() as s:
        post = Post(source_key=f"test/{uuid.uuid4().hex[:8]}", rule_key="test", channel=channel,
                    platform=platform, language=language, text=text, media=media or [],
                    content_hash=hashlib.sha256(text.encode()).hexdigest(), due_at=due_at,
                    status=status.value, approval_required=approval_required,
                    idempotency_key=str(uuid.uuid4()))
        s.add(post)
        s.flush()
        return post.id


def get_post(db: Database, post_id: int) -> Post:
    with db.session() as s:
        post = s.get(Post, post_id)
        assert post is not None
        return post


def write_config(tmp_path, body: str):  # type: ignore[no-untyped-def]
    """An outreach.toml for a worker process: state and SQLite database in `tmp_path`, then `body`."""
    config = tmp_path / "outreach.toml"
    config.write_text(f'state_dir = "{tmp_path / "state"}"\n[database]\nurl = "sqlite:///{tmp_path / "outreach.db"}"\n'
                      + body, encoding="utf-8")
    return config


def account_table(account, env: dict[str, str], prefix: str, *extra: str) -> str:  # type: ignore[no-untyped-def]
    """A sandbox demo account as a `[channels.NAME]` table (options keep their TOML types: `audited = true`);
    its secrets go into `env` as `{prefix}_{PLATFORM}_{KEY}`."""
    lines = [f"[channels.{account.channel}]", f'platform = "{account.platform}"', f'base_url = "{account.base_url}"',
             *extra, *(f"{key} = {json.dumps(value)}" for key, value in account.options.items())]
    for key, value in account.secrets.items():
        var = f"{prefix}_{account.platform.upper()}_{key.upper()}"
        env[var] = value
        lines.append(f'{key}_env = "{var}"')
    return "\n".join(lines)


def killable_worker(tmp_path, env: dict[str, str], body: str, *, max_attempts: int = 50) -> Database:  # type: ignore[no-untyped-def]
    """The config of worker processes that a test kills with SIGKILL: leases of 1.5 s and quick retries, so
    a killed worker's posts are taken over within seconds. Points `env` at it; returns its (migrated) database."""
    from outreach.config import load_settings
    from outreach.db.migrate import upgrade

    config = write_config(tmp_path, body + f"""
[worker]
dispatch_interval_s = 0.5
lease_s = 1.5
http_timeout_s = 0.5
[worker.retry]
backoff_base_s = 0.2
backoff_max_s = 1
max_attempts = {max_attempts}
""")
    env["OUTREACH_CONFIG"] = str(config)
    env.pop("OUTREACH_DATABASE_URL", None)
    db = Database(load_settings(config).database_url)
    upgrade(db)
    return db


def youtube_channel(url: str, env: str, **options: str) -> tuple[str, dict[str, str]]:
    """The `[channels.peer-youtube]` table on the YouTube simulation at `url`, and the env vars (named
    `{env}_ID`, `_SECRET`, `_REFRESH`) holding its demo OAuth client and refresh token."""
    from outreach.sandbox.youtube import DEMO_CLIENT_ID, DEMO_CLIENT_SECRET, DEMO_REFRESH_TOKEN

    lines = ["[channels.peer-youtube]", 'platform = "youtube"', f'base_url = "{url}/youtube"',
             f'token_url = "{url}/youtube/token"', f'client_id_env = "{env}_ID"',
             f'client_secret_env = "{env}_SECRET"', f'refresh_token_env = "{env}_REFRESH"']
    lines += [f'{key} = "{value}"' for key, value in options.items()]
    secrets = {f"{env}_ID": DEMO_CLIENT_ID, f"{env}_SECRET": DEMO_CLIENT_SECRET, f"{env}_REFRESH": DEMO_REFRESH_TOKEN}
    return "\n".join(lines) + "\n", secrets
