"""A cover drawn by a card (`cover: {card: quote}`) through the real dispatcher and media step to each
simulation that takes a cover image, over real HTTP: the simulation receives the drawn card as an image
of the video's shape (9:16 here) within the platform's box and in a type it takes, and the post's
`published_media` keeps those exact bytes for the archive."""

from __future__ import annotations

import hashlib
import io
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from PIL import Image

from outreach.db.models import Post
from outreach.media.synthetic import write_clip
from outreach.sandbox import build_sandbox, serve
from outreach.sandbox.facebook import FacebookSim
from outreach.sandbox.instagram import InstagramSim
from outreach.sandbox.linkedin import LinkedInSim
from outreach.sandbox.mastodon import MastodonSim
from outreach.sandbox.youtube import YouTubeSim
from tests.publishing.conftest import FakeClock
from tests.publishing.drain import drain
from tests.publishing.video_world import add_video_posts, video_dispatcher


def _by_sha(media_dir: Path, sha: str) -> bytes:
    """The file of the media folder with this content hash: what the simulation recorded it received."""
    found = [p.read_bytes() for p in media_dir.glob("*.*") if hashlib.sha256(p.read_bytes()).hexdigest() == sha]
    assert len(found) == 1, f"no uploaded file has the sha256 the simulation recorded ({sha})"
    return found[0]


# platform -> (simulation, the cover bytes it received, (format, width, height) expected)
Received = Callable[[Any, Path], bytes]
PLATFORMS: dict[str, tuple[Any, Received, tuple[str, int, int]]] = {
    "youtube": (YouTubeSim, lambda sim, media: _by_sha(media, sim.state()["videos"][0]["thumbnail"]),
                ("PNG", 720, 1280)),  # thumbnails.set: <= 2 MB; the 1280x720 box turned upright
    "facebook": (FacebookSim, lambda sim, media: _by_sha(media, sim.state()["reels"][0]["cover_sha"]),
                 ("PNG", 1080, 1920)),
    "linkedin": (LinkedInSim, lambda sim, media: next(iter(sim.video.videos.values())).thumbnail,
                 ("PNG", 1080, 1920)),
    "mastodon": (MastodonSim, lambda sim, media: _by_sha(media, next(
        m["thumbnail"][2] for m in sim.state()["media"] if m["thumbnail"])), ("PNG", 1080, 1920)),
    "instagram": (InstagramSim, lambda sim, media: (media / sim.state()["posts"][0]["cover_url"].rsplit(
        "/media/", 1)[1]).read_bytes(), ("JPEG", 1012, 1800)),  # cover_url: JPEG, fetched by the simulation
}


@pytest.mark.parametrize("platform", sorted(PLATFORMS))
def test_drawn_cover_reaches_the_platform(platform: str, tmp_path: Path, sqlite_db, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    sim_class, received, (fmt, width, height) = PLATFORMS[platform]
    clock = FakeClock()
    media_dir = tmp_path / "media"
    sandbox = build_sandbox(clock=clock, media_dir=media_dir)
    server = serve(sandbox)
    try:
        account = sim_class.demo_account(server.url)
        dispatcher = video_dispatcher(account, db=sqlite_db, clock=clock, tmp_path=tmp_path, monkeypatch=monkeypatch,
                                      media={"directory": str(media_dir), "public_base_url": f"{server.url}/media"})
        # 9:16, 3.2 s, lossless: Facebook wants >= 540x960, Instagram and LinkedIn >= 3 s, LinkedIn >= 75 KB
        clip = write_clip(tmp_path / "clip.mp4", width=540, height=960, seconds=3.2,
                          options={"preset": "ultrafast", "qp": "0"})
        [text] = add_video_posts(sqlite_db, account, clock, clip, 1, spacing_s=1, alt_text="Kaarten",
                                 cover={"card": "quote", "title": "Samen veranderen"})
        clock.advance(seconds=10)
        assert not drain(dispatcher, sqlite_db, clock)
        assert sandbox.published()[platform] == {text: 1}
        data = received(sandbox.sims[platform], media_dir)
        with Image.open(io.BytesIO(data)) as cover:
            assert (cover.format, cover.width, cover.height) == (fmt, width, height)
            assert cover.getpixel((width // 2, height // 3)) != cover.getpixel((width // 2, height - 2))  # drawn, not blank
        with sqlite_db.session() as s:
            [post] = s.query(Post).all()
            kept = {f["role"]: f for f in post.published_media}
        assert kept["cover"]["sha256"] == hashlib.sha256(data).hexdigest()  # the archive has the exact cover
        assert kept["cover"]["mime_type"] == f"image/{fmt.lower()}"
    finally:
        server.stop()
