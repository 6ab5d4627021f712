"""One seeded programme and one exported bag per test module: real sandbox publishing through a
WarcRecorder, then the export. Tests that alter the bag work on copies."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import pytest

from outreach.archive import WarcRecorder, capture_dir, capture_permalink, export_archive
from outreach.archive.export import ExportReport
from outreach.config import Settings, parse_settings
from outreach.connectors.mastodon import MastodonConnector
from outreach.db import Database
from outreach.db.migrate import upgrade
from outreach.domain import MediaItem, PublishRequest
from outreach.sandbox.core import Sandbox, serve
from outreach.sandbox.mastodon import DEMO_TOKEN, MastodonSim
from tests.archive.seed import (
    END,
    INSTAGRAM_ENV,
    INSTAGRAM_TOKEN,
    MASTODON_ENV,
    NOW,
    START,
    Published,
    Seeded,
    png,
    seed,
)

PUBLISH_TIME = datetime(2026, 2, 26, 10, 0, 5, tzinfo=UTC)
TOKENS = (DEMO_TOKEN, INSTAGRAM_TOKEN)


def make_settings(root: Path, mastodon_url: str) -> Settings:
    return parse_settings({
        "state_dir": str(root / "state"),
        "channels": {
            "peer-mastodon": {"platform": "mastodon", "base_url": mastodon_url, "token_env": MASTODON_ENV},
            "peer-instagram": {"platform": "instagram", "base_url": "http://127.0.0.1:9/ig",
                               "token_env": INSTAGRAM_ENV, "ig_user_id": "17841400000000000"},
        }}, source="<archive tests>", environ={})


@dataclass
class Programme:
    root: Path
    db: Database
    settings: Settings
    seeded: Seeded
    published: list[Published]
    bag: Path
    export: ExportReport
    permalinks: list = field(default_factory=list)
    progress: list = field(default_factory=list)

    def copy_bag(self, name: str) -> Path:
        target = self.root / name
        shutil.copytree(self.bag, target)
        return target


@pytest.fixture(scope="module")
def programme(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Programme]:
    root = tmp_path_factory.mktemp("archive")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv(MASTODON_ENV, DEMO_TOKEN)
        mp.setenv(INSTAGRAM_ENV, INSTAGRAM_TOKEN)
        server = serve(Sandbox([MastodonSim(clock=lambda: PUBLISH_TIME)]))
        db = Database(f"sqlite:///{root / 'outreach.db'}")
        try:
            upgrade(db)
            settings = make_settings(root, f"{server.url}/mastodon")
            recorder = WarcRecorder(capture_dir(settings), secrets=settings.secret_values(),
                                    clock=lambda: PUBLISH_TIME)
            connector = MastodonConnector(settings.channel("peer-mastodon"), on_exchange=recorder,
                                          sleep=lambda _s: None)
            card = png(root / "media" / "card.png", (31, 122, 140))
            published, permalinks = [], []
            for i, (language, text) in enumerate((
                    ("nl", "Kom naar onze bijeenkomst in Rotterdam op 5 maart! #veilig"),
                    ("tr", "5 Mart'ta Rotterdam'daki buluşmamıza gelin! #güvenli"))):
                result = connector.publish(PublishRequest(
                    post_id=i + 1, text=text, language=language, idempotency_key=f"archive-test-{i}",
                    media=(MediaItem(str(card), "Kaart", "image/png"),)), save_handle=lambda _h: None)
                published.append(Published(text, language, result.remote_id, result.url))
                permalinks.append(capture_permalink(result.url, recorder=recorder))
            recorder.close()
            seeded = seed(db, published=published, media_dir=root / "media")
            progress: list = []
            bag = root / "bag"
            report = export_archive(db, settings, bag, start=START, end=END, now=NOW,
                                    progress=lambda stage, done, total: progress.append((stage, done, total)))
            yield Programme(root, db, settings, seeded, published, bag, report, permalinks, progress)
        finally:
            db.dispose()
            server.stop()
