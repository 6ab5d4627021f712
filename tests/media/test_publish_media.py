"""The dispatcher's media step with a `video:` entry: a connector that uploads video (`uploads_video`) gets a
stripped MP4 (and a stripped cover); any other connector refuses the post with the reason."""

from __future__ import annotations

from pathlib import Path

import pytest
from PIL import Image

from outreach.config import MediaSettings, Settings
from outreach.connectors.bluesky import BlueskyConnector
from outreach.connectors.mastodon import MastodonConnector
from outreach.db.models import Post
from outreach.domain import Platform
from outreach.media.synthetic import PHONE_TAGS, write_clip
from outreach.publishing.media import MediaPreparer


def _post(tmp_path: Path) -> Post:
    clip = write_clip(tmp_path / "phone.mov", container="mov", tags=PHONE_TAGS)
    cover = tmp_path / "cover.jpg"
    exif = Image.Exif()
    exif[0x010F], exif[0x0110] = "Apple", "iPhone 15 Pro"  # Make, Model
    Image.new("RGB", (64, 112), (200, 30, 30)).save(cover, exif=exif)
    assert b"iPhone" in cover.read_bytes()
    return Post(language="nl", text="Kijk", media=[{
        "video": str(clip), "alt_text": "Kaarten", "captions": {"nl": str(tmp_path / "c.nl.srt")},
        "cover": str(cover), "options": {"share_to_feed": True}}])


def _preparer(tmp_path: Path) -> MediaPreparer:
    return MediaPreparer(Settings(media=MediaSettings(directory=str(tmp_path / "media"))))


def test_connector_without_video_upload_refuses_with_the_reason(tmp_path, monkeypatch):
    monkeypatch.setattr(BlueskyConnector, "uploads_video", False)
    with pytest.raises(ValueError, match="video cannot be published on bluesky yet"):
        _preparer(tmp_path)(_post(tmp_path), Platform("bluesky"))
    assert not (tmp_path / "media").exists()


def test_connector_that_uploads_video_gets_a_clean_mp4(tmp_path, monkeypatch):
    monkeypatch.setattr(MastodonConnector, "uploads_video", True)
    (item,) = _preparer(tmp_path)(_post(tmp_path), Platform("mastodon"))
    data = Path(item.path).read_bytes()
    assert Path(item.path).parent == tmp_path / "media" / "video"
    assert item.mime_type == "video/mp4" and (item.width, item.height) == (64, 112)
    assert [s for s in (b"+52.3676", b"\xa9xyz", b"iPhone", b"Apple") if s in data] == []
    assert item.cover_path and b"iPhone" not in Path(item.cover_path).read_bytes()
    assert item.captions == (("nl", str(tmp_path / "c.nl.srt")),)
    assert (item.alt_text, item.options, item.cover_s) == ("Kaarten", (("share_to_feed", True),), None)


def test_burned_captions_replace_the_caption_track(tmp_path, monkeypatch):
    monkeypatch.setattr(MastodonConnector, "uploads_video", True)
    post = _post(tmp_path)
    (tmp_path / "c.nl.srt").write_text("1\n00:00:00,000 --> 00:00:00,500\nWelkom\n", encoding="utf-8")
    post.media = [{**post.media[0], "options": {"burn_captions": True}}]
    (item,) = _preparer(tmp_path)(post, Platform("mastodon"))
    assert (item.width, item.height, item.captions) == (1080, 1920, ())
