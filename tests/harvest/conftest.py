"""A world for harvest tests: the Mastodon sandbox on loopback, a fake clock shared by the
simulation, the dispatcher and the harvester, and posts published through the real dispatcher."""

from __future__ import annotations

import hashlib
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime

import pytest

from outreach.config import Settings, parse_settings
from outreach.connectors.base import MemoryCredentialStore
from outreach.db import Database
from outreach.db.models import Post
from outreach.domain import PostStatus
from outreach.harvest import HarvestReport, HarvestSettings, harvest_due
from outreach.publishing import ConnectorCache, Dispatcher
from outreach.sandbox.mastodon import DEMO_TOKEN, MastodonSim
from tests.clock import FakeClock

START = datetime(2027, 3, 20, 12, 0, tzinfo=UTC)
SECOND_TOKEN = "second-sandbox-token-0000"



@dataclass
class World:
    db: Database
    clock: FakeClock
    sim: MastodonSim
    sandbox: object
    url: str
    settings: Settings
    hs: HarvestSettings = field(default_factory=HarvestSettings)
    connectors: ConnectorCache | None = None

    def restart(self) -> None:
        """A new worker process: fresh connectors (no in-memory rate-limit state)."""
        self.connectors = ConnectorCache(self.settings, clock=self.clock, credentials=MemoryCredentialStore())

    def harvest(self) -> HarvestReport:
        if self.connectors is None:
            self.restart()
        return harvest_due(self.db, self.settings, self.connectors, now=self.clock(), hs=self.hs)

    def publish(self, n: int, *, channel: str = "peer-mastodon") -> list[int]:
        """Publish `n` posts now through the real dispatcher; returns their ids."""
        ids = [add_post(self.db, text=f"Bijeenkomst {uuid.uuid4().hex[:6]}", due_at=self.clock(), channel=channel)
               for _ in range(n)]
        if self.connectors is None:
            self.restart()
        Dispatcher(self.db, self.settings, clock=self.clock, connectors=self.connectors).run_due()
        return ids

    def requests(self, path_part: str = "/api/v1/statuses/") -> int:
        return sum(1 for _, method, path in self.sandbox.requests_seen if method == "GET" and path_part in path)


def add_post(db: Database, *, text: str, due_at: datetime, channel: str = "peer-mastodon",
             platform: str = "mastodon", language: str = "nl") -> int:
    with db.write() as s:
        post = Post(source_key=f"test/{uuid.uuid4().hex[:8]}", rule_key="test", channel=channel, platform=platform,
                    language=language, text=text, media=[], content_hash=hashlib.sha256(text.encode()).hexdigest(),
                    due_at=due_at, status=PostStatus.APPROVED.value, idempotency_key=str(uuid.uuid4()))
        s.add(post)
        s.flush()
        return post.id


@pytest.fixture
def world(serve_sandbox, sqlite_db, monkeypatch) -> World:  # type: ignore[no-untyped-def]
    clock = FakeClock(START)
    sim = MastodonSim(clock=clock)
    sim.control("add_token", {"username": "second", "token": SECOND_TOKEN})
    sandbox, url = serve_sandbox(sim)
    monkeypatch.setenv("TEST_MASTODON_TOKEN", DEMO_TOKEN)
    monkeypatch.setenv("TEST_MASTODON_TOKEN_2", SECOND_TOKEN)
    settings = parse_settings({"channels": {
        "peer-mastodon": {"platform": "mastodon", "base_url": f"{url}/mastodon", "token_env": "TEST_MASTODON_TOKEN"},
        "kezban-mastodon": {"platform": "mastodon", "base_url": f"{url}/mastodon",
                            "token_env": "TEST_MASTODON_TOKEN_2"},
    }}, source="test")
    return World(sqlite_db, clock, sim, sandbox, url, settings)
