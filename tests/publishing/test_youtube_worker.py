"""YouTube through the real worker: a campaign file with a `video:` post → `outreach schedule` → the
dispatcher's media step (strip, fit) → the YouTube simulation over HTTP (resumable upload, captions per
language, Shorts for a vertical clip, privacy) → a harvest pass → measured youth reach in analytics."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta
from pathlib import Path

from PIL import Image

from outreach import analytics
from outreach.cli import main
from outreach.config import load_settings
from outreach.connectors.base import MemoryCredentialStore
from outreach.db import Database
from outreach.db.models import Post
from outreach.harvest import HarvestSettings, ReachKind, harvest_due
from outreach.media.synthetic import PHONE_TAGS, write_clip
from outreach.publishing import ConnectorCache, Dispatcher
from outreach.sandbox.youtube import YouTubeSim
from outreach.sandbox.youtube_wire import viewer_percentages
from tests.clock import FakeClock
from tests.publishing.conftest import write_config, youtube_channel

DUE = datetime(2027, 3, 1, 9, 0, tzinfo=UTC)  # 10:00 in Amsterdam
CAMPAIGN = """\
campaign:
  id: video
  name: Video campaign
  channels: [peer-youtube]
  approval: none
posts:
  - id: {rule}
    at: 2027-03-01 10:00
    text:
      nl: Bijeenkomst in Rotterdam {rule}
      en: Meeting in Rotterdam {rule}
    video:
      file: {rule}.mov
      description:
        nl: Kaarten met de datum van de bijeenkomst.
        en: Cards with the date of the meeting.
      captions:
        nl: clip.nl.srt
        en: clip.en.vtt
"""
SRT = "1\n00:00:00,200 --> 00:00:01,000\nWelkom\n"
VTT = "WEBVTT\n\n00:00.200 --> 00:01.000\nWelcome\n"


def test_video_post_from_campaign_file_to_measured_youth_reach(tmp_path: Path, serve_sandbox, monkeypatch,
                                                                capsys) -> None:  # type: ignore[no-untyped-def]
    clock = FakeClock(DUE + timedelta(minutes=1))
    sim = YouTubeSim(clock=clock)
    _, url = serve_sandbox(sim)
    channel, secrets = youtube_channel(url, "E2E_YT", analytics_url=f"{url}/youtube/analytics", privacy_status="public")
    for key, value in secrets.items():
        monkeypatch.setenv(key, value)
    campaigns = tmp_path / "campaigns"
    campaigns.mkdir()
    write_clip(campaigns / "vertical.mov", container="mov", width=64, height=112, seconds=1.5, tags=PHONE_TAGS)
    write_clip(campaigns / "landscape.mov", container="mov", width=112, height=64, seconds=1.5)
    (campaigns / "clip.nl.srt").write_text(SRT, encoding="utf-8")
    (campaigns / "clip.en.vtt").write_text(VTT, encoding="utf-8")
    (campaigns / "vertical.yaml").write_text(CAMPAIGN.format(rule="vertical"), encoding="utf-8")
    exif = Image.Exif()
    exif[0x010F], exif[0x0110] = "Apple", "iPhone 15 Pro"  # Make, Model
    Image.new("RGB", (1280, 720), (200, 30, 30)).save(campaigns / "cover.jpg", exif=exif)
    landscape = CAMPAIGN.format(rule="landscape").replace("id: video", "id: video2") + "      cover: cover.jpg\n"
    (campaigns / "landscape.yaml").write_text(landscape, encoding="utf-8")
    config = write_config(tmp_path, f'[media]\ndirectory = "{tmp_path / "media"}"\n' + channel)
    monkeypatch.setenv("OUTREACH_CONFIG", str(config))
    monkeypatch.delenv("OUTREACH_DATABASE_URL", raising=False)
    assert main(["init"]) == 0
    assert main(["validate", str(campaigns)]) == 0, capsys.readouterr()
    assert main(["schedule", str(campaigns)]) == 0, capsys.readouterr()

    settings = load_settings(config)
    db = Database(settings.database_url)
    connectors = ConnectorCache(settings, clock=clock, credentials=MemoryCredentialStore())
    dispatcher = Dispatcher(db, settings, worker_id="e2e-youtube", clock=clock, connectors=connectors)
    outcomes = dispatcher.run_due()
    dispatcher.close(wait=True)
    assert sorted(o.status for o in outcomes) == ["published"] * 4, [o.line() for o in outcomes]

    videos = sim.state()["videos"]
    assert sorted(v["description"] for v in videos) == sorted(
        f"{text} {rule}" for text in ("Bijeenkomst in Rotterdam", "Meeting in Rotterdam")
        for rule in ("vertical", "landscape"))
    for video in videos:  # captions per language; unaudited project: private whatever was asked
        assert sorted(c["language"] for c in video["captions"]) == ["en", "nl"]
        assert video["privacy"] == "private"
        assert (video["thumbnail"] is not None) == video["description"].endswith("landscape")  # the cover image
    [cover] = {p for p in (tmp_path / "media").glob("*.jpg")}
    assert {v["thumbnail"] for v in videos} - {None} == {hashlib.sha256(cover.read_bytes()).hexdigest()}
    assert b"iPhone" not in cover.read_bytes()  # stripped like any photo
    uploaded = b"".join(p.read_bytes() for p in (tmp_path / "media" / "video").glob("*.mp4"))
    assert uploaded and not [s for s in (b"+52.3676", b"iPhone", b"Apple") if s in uploaded]
    with db.session() as s:
        posts = s.query(Post).all()
    urls = {p.text.rsplit(" ", 1)[1]: p.remote_url for p in posts}
    assert "/shorts/" in urls["vertical"] and "watch?v=" in urls["landscape"], urls

    clock.advance(hours=72)  # YouTube Analytics is 2-3 days behind
    report = harvest_due(db, settings, connectors, now=clock(), hs=HarvestSettings())
    assert [c.status for c in report.channels] == ["ok"], report.lines()
    expected = 0
    for post in posts:
        youth = analytics.post_youth(db, post.id)
        assert youth.kind is ReachKind.MEASURED, youth
        rows = viewer_percentages(post.remote_id)
        share = sum(p for age, _, p in rows if age in ("age13-17", "age18-24")) / 100
        expected += youth.count.value
        assert youth.count.value == round(sim._views(sim.videos[post.remote_id]) * share)
    overall = analytics.totals(db)[0]
    assert overall.youth.get(ReachKind.MEASURED).value == expected > 0
    assert overall.youth.posts[ReachKind.ESTIMATED] == 0  # measured and estimated stay apart
    db.dispose()
