"""Media fitting in the worker asks the channel's connector, so a Mastodon instance's own image limit
applies: the same photo that a fit to Mastodon's declared 16 MiB gets refused by the instance is
published once fitted to what the instance reported. Real dispatcher, real HTTP, Mastodon sandbox."""

from __future__ import annotations

import io
import random
from pathlib import Path

from PIL import Image

from outreach.config import parse_settings
from outreach.connectors.base import MemoryCredentialStore
from outreach.db.models import Post
from outreach.publishing import ConnectorCache, Dispatcher
from outreach.publishing.media import MediaPreparer
from tests.publishing.conftest import World, add_post, get_post


def test_the_instance_image_limit_reaches_media_fitting(world: World, tmp_path: Path) -> None:
    world.sim.control("set_limits", {"image_size_limit": 150_000})
    photo = tmp_path / "zaal.png"
    noise = random.Random(5).randbytes(900 * 900 * 3)
    out = io.BytesIO()
    Image.frombytes("RGB", (900, 900), noise).save(out, format="PNG")
    photo.write_bytes(out.getvalue())
    settings = parse_settings({"channels": {"peer-mastodon": {
        "platform": "mastodon", "base_url": f"{world.url}/mastodon", "token_env": "TEST_MASTODON_TOKEN"}},
        "media": {"directory": str(tmp_path / "media")}}, source="test")
    ids = []
    for text in ("met de klassieke maat", "met de maat van de instance"):
        post_id = add_post(world.db, text=text, due_at=world.clock())
        with world.db.write() as s:
            row = s.get(Post, post_id)
            assert row is not None
            row.media = [{"path": str(photo), "alt_text": "een volle zaal"}]
        ids.append(post_id)
        connectors = ConnectorCache(settings, clock=world.clock, credentials=MemoryCredentialStore())
        # The first post is fitted as before this change (the class's declared limits), the second
        # as the worker does now (the connector's live limits).
        media = MediaPreparer(settings) if len(ids) == 1 else None
        Dispatcher(world.db, settings, clock=world.clock, connectors=connectors, media=media).run_due()
    declared, live = (get_post(world.db, i) for i in ids)
    assert declared.status != "published" and "file size must be less than" in (declared.last_error or ""), declared.last_error
    assert live.status == "published"
    [status] = world.statuses()
    assert status["text"] == "met de maat van de instance" and status["media"][0]["size"] <= 150_000
