"""The `video:` entry of a post rule: `validate` probes the real file against every channel's video
limits and reads captions and cover; each mistake is one `file:line: field: message` line."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from outreach.config import Settings
from outreach.connectors import connector_class
from outreach.media.synthetic import write_clip
from outreach.planning import CampaignError, plan_campaign
from tests.planning.test_errors import edit

BASE = """\
campaign:
  id: video
  name: Video campaign
  channels: [peer-mastodon]
posts:
  - id: clip
    at: 2027-03-01 10:00
    channels: [peer-mastodon, peer-instagram]
    text:
      nl: Kijk onze video.
      en: Watch our video.
    video:
      file: clip.mp4
      description:
        nl: Kaarten met de datum van de bijeenkomst.
        en: Cards with the date of the meeting.
      captions:
        nl: clip.nl.srt
        en: clip.en.vtt
      cover: 1.5
      channels:
        peer-instagram: {share_to_feed: true}
"""

SRT = "1\n00:00:00,500 --> 00:00:02,000\nWelkom\n\n2\n00:00:02,000 --> 00:00:03,000\nTot ziens\n"
VTT = "WEBVTT\n\nNOTE made by hand\n\n00:00.500 --> 00:02.000 align:center\nWelcome\n"

CASES = [
    ("too short for instagram", [("file: clip.mp4", "file: short.mp4  #!")],
     "posts[0].video.file", "peer-instagram: the video is 2.0 s long, the minimum is 3 s (Instagram)"),
    # The folder rule images follow (issue 15): a campaign may not reach for files elsewhere on the machine.
    ("video outside the campaign's folder", [("file: clip.mp4", "file: ../elsewhere.mp4  #!")],
     "posts[0].video.file", "video '../elsewhere.mp4' is outside the campaign's folder; put it in "),
    ("captions outside the campaign's folder", [("nl: clip.nl.srt", "nl: /etc/hostname  #!")],
     "posts[0].video.captions.nl", "captions '/etc/hostname' are outside the campaign's folder; put them in "),
    ("file not found", [("file: clip.mp4", "file: klip.mp4  #!")],
     "posts[0].video.file", "video 'klip.mp4' not found"),
    ("not a video", [("file: clip.mp4", "file: clip.nl.srt  #!")],
     "posts[0].video.file", "clip.nl.srt: has no video stream"),
    ("missing description", [("        en: Cards with the date of the meeting.\n", ""),
                             ("      description:", "      description:  #!")],
     "posts[0].video.description", "no description (alt text) in 'en' for the video"),
    ("bad caption time", [("nl: clip.nl.srt", "nl: bad.srt  #!")],
     "posts[0].video.captions.nl", "bad.srt:6: expected a time like 00:00:01,000 --> 00:00:03,500"),
    ("caption after the end", [("en: clip.en.vtt", "en: late.vtt  #!")],
     "posts[0].video.captions.en", "late.vtt:3: caption 1 starts at 9.0 s, after the video ends (3.5 s)"),
    ("caption format", [("en: clip.en.vtt", "en: clip.en.txt  #!")],
     "posts[0].video.captions.en", "clip.en.txt:1: captions must be an .srt or .vtt file"),
    ("cover after the end", [("cover: 1.5", "cover: 12  #!")],
     "posts[0].video.cover", "cover at 12 s is after the video ends (3.5 s)"),
    ("cover not an image", [("cover: 1.5", "cover: clip.nl.srt  #!")],
     "posts[0].video.cover", "cover 'clip.nl.srt' is not an image"),
    ("option for the wrong platform", [("peer-instagram: {share_to_feed: true}",
                                        "peer-instagram: {share_to_feed: true}\n        peer-mastodon: {share_to_feed: true}  #!")],
     "posts[0].video.channels.peer-mastodon.share_to_feed", "share_to_feed does not apply to Mastodon"),
    ("option for another channel", [("peer-instagram: {share_to_feed: true}", "peer-tiktok: {share_to_feed: true}  #!")],
     "posts[0].video.channels.peer-tiktok", "'peer-tiktok' is not one of this post's channels"),
    ("unknown option", [("{share_to_feed: true}", "{share_to_fed: true}  #!")],
     "posts[0].video.channels.peer-instagram.share_to_fed", "unknown field"),
    ("connector without video upload", [("peer-instagram]", "peer-instagram, peer-tiktok]"),
                                        ("file: clip.mp4", "file: clip.mp4  #!")],
     "posts[0].video.file", "peer-tiktok: video cannot be published on TikTok yet"),
    ("burn captions without captions", [("        en: clip.en.vtt\n", ""),
                                        ("{share_to_feed: true}", "{burn_captions: true}  #!")],
     "posts[0].video.channels.peer-instagram.burn_captions", "no captions in 'en' to burn in"),
    ("video and card", [("    video:", "    card: announce\n    video:"), ("  - id: clip", "  - id: clip  #!")],
     "posts[0]", "a post with a `video` has no `card` or `image`"),
]


@pytest.fixture(autouse=True)
def video_connectors(monkeypatch) -> None:
    """Connectors opt in to video upload with `uploads_video`; these tests opt in the two platforms they
    use (tiktok stays out, as a platform without video upload)."""
    for platform in ("mastodon", "instagram"):
        monkeypatch.setattr(connector_class(platform), "uploads_video", True)
    monkeypatch.setattr(connector_class("tiktok"), "uploads_video", False)  # stands for one without upload


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    write_clip(tmp_path / "clip.mp4", seconds=3.5)
    write_clip(tmp_path / "short.mp4", seconds=2)
    (tmp_path / "clip.nl.srt").write_text(SRT, encoding="utf-8")
    (tmp_path / "clip.en.vtt").write_text(VTT, encoding="utf-8")
    (tmp_path / "bad.srt").write_text(SRT.replace("00:00:02,000 --> 00:00:03,000", "2s --> 3s"))
    (tmp_path / "clip.en.txt").write_text("Welcome\n")
    (tmp_path / "late.vtt").write_text("WEBVTT\n\n00:09.000 --> 00:10.000\nToo late\n")
    return tmp_path


def test_valid_video_entry_becomes_media_of_every_post(folder, write_campaign: Callable[..., Path],
                                                        settings: Settings) -> None:
    plan = plan_campaign(write_campaign(BASE), settings)
    by_key = {(p.channel, p.language): p.media for p in plan.posts}
    assert sorted(by_key) == [(c, lang) for c in ("peer-instagram", "peer-mastodon") for lang in ("en", "nl")]
    media = by_key[("peer-instagram", "nl")]
    assert media == [{"video": str(folder / "clip.mp4"), "alt_text": "Kaarten met de datum van de bijeenkomst.",
                      "captions": {"nl": str(folder / "clip.nl.srt"), "en": str(folder / "clip.en.vtt")},
                      "cover": 1.5, "options": {"share_to_feed": True}}]
    assert by_key[("peer-mastodon", "en")][0]["options"] == {}
    assert by_key[("peer-mastodon", "en")][0]["alt_text"] == "Cards with the date of the meeting."


@pytest.mark.parametrize(("replacements", "path", "message"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_one_error_line_with_file_line_and_field(folder, replacements, path, message,
                                                 write_campaign: Callable[..., Path], settings: Settings) -> None:
    text = edit(BASE, replacements)
    line = next(n for n, row in enumerate(text.splitlines(), 1) if "#!" in row)
    file = write_campaign(text)
    with pytest.raises(CampaignError) as caught:
        plan_campaign(file, settings)
    assert len(caught.value.errors) == 1, caught.value.errors
    error = caught.value.errors[0]
    assert error.startswith(f"{file}:{line}: {path}: "), error
    assert message in error, error
    assert "\n" not in error and "Traceback" not in error


def test_captions_a_channel_would_drop_are_a_warning_per_channel(folder, write_campaign: Callable[..., Path],
                                                                  settings: Settings) -> None:
    """Instagram and Mastodon take no caption files: without burn_captions the captions are lost there,
    and validate says so (a warning, the plan still stands); Instagram burning them in is not warned."""
    text = BASE.replace("peer-instagram: {share_to_feed: true}", "peer-instagram: {burn_captions: true}")
    plan = plan_campaign(write_campaign(text), settings)
    line = next(n for n, row in enumerate(text.splitlines(), 1) if row.strip() == "captions:")
    assert len(plan.posts) == 4
    [warning] = plan.warnings
    assert warning.startswith(f"{folder / 'c.yaml'}:{line}: posts[0].video.captions: warning: peer-mastodon: "), warning
    assert "'nl', 'en'" in warning and "burn_captions" in warning and "Mastodon takes no caption files" in warning
    both = plan_campaign(write_campaign(BASE), settings).warnings
    assert [w.split("warning: ")[1].split(":")[0] for w in both] == ["peer-mastodon", "peer-instagram"]
    knowingly = BASE.replace("peer-instagram: {share_to_feed: true}", "peer-instagram: {burn_captions: false}")
    assert [w.split("warning: ")[1].split(":")[0] for w in plan_campaign(write_campaign(knowingly), settings).warnings
            ] == ["peer-mastodon"]  # false: left out knowingly, not warned


def test_no_warning_where_the_captions_go_up(folder, write_campaign: Callable[..., Path], settings: Settings) -> None:
    text = BASE.replace("[peer-mastodon, peer-instagram]", "[peer-youtube, peer-bluesky]").replace(
        "        peer-instagram: {share_to_feed: true}\n", "").replace("      channels:\n", "")
    assert plan_campaign(write_campaign(text), settings).warnings == ()


BLUESKY = BASE.replace("[peer-mastodon, peer-instagram]", "[peer-bluesky]").replace(
    "        peer-instagram: {share_to_feed: true}\n", "").replace("      channels:\n", "")


def test_bluesky_caption_bytes_are_checked_at_validate(folder, write_campaign: Callable[..., Path],
                                                       settings: Settings) -> None:
    """20,000 bytes as WebVTT (the SRT file is converted first): found by validate, not at publish."""
    cues = "".join(f"{i}\n00:00:00,{i:03d} --> 00:00:03,000\n{'woord ' * 20}\n\n" for i in range(1, 180))
    (folder / "long.srt").write_text(cues, encoding="utf-8")
    text = BLUESKY.replace("nl: clip.nl.srt", "nl: long.srt  #!")
    with pytest.raises(CampaignError) as caught:
        plan_campaign(write_campaign(text), settings)
    [error] = caught.value.errors
    line = next(n for n, row in enumerate(text.splitlines(), 1) if "#!" in row)
    assert error.startswith(f"{folder / 'c.yaml'}:{line}: posts[0].video.captions.nl: peer-bluesky: long.srt is "), error
    assert "bytes as WebVTT, the platform takes at most 20,000" in error


def test_bluesky_takes_at_most_20_caption_languages(folder, write_campaign: Callable[..., Path],
                                                    settings: Settings) -> None:
    languages = ["nl", "en", "ar", "tr", "fr", "de", "es", "it", "pl", "ro", "so", "ti", "fa", "ps", "ur", "hi",
                 "bn", "zh", "ru", "uk", "pt"]
    extra = "".join(f"        {lang}: clip.nl.srt\n" for lang in languages[2:])
    text = BLUESKY.replace("        en: clip.en.vtt\n", "        en: clip.en.vtt\n" + extra)
    with pytest.raises(CampaignError) as caught:
        plan_campaign(write_campaign(text), settings)
    [error] = caught.value.errors
    assert "posts[0].video.captions: peer-bluesky: 21 caption languages, the platform takes at most 20" in error


def test_validate_prints_the_warning_and_exits_0(folder, write_campaign: Callable[..., Path], capsys) -> None:
    from outreach.cli import main

    file = write_campaign(BASE)
    assert main(["--config", str(Path(__file__).parent / "outreach.toml"), "validate", str(file)]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0] == f"{file}: ok · 0 meetings · 4 posts"
    assert [line.split(": ")[3] for line in out[1:]] == ["peer-mastodon", "peer-instagram"]
    assert all(line.startswith(f"{file}:") and "warning: " in line for line in out[1:])
