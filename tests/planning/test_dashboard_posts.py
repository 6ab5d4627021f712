"""The planner's checks: figures the dashboard can put in words, and `{{ link }}` with or without a link."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import select

from outreach.config import Settings, parse_settings
from outreach.db import Database
from outreach.db.models import Post
from outreach.media.synthetic import write_clip
from outreach.planning import plan_campaign, schedule_campaign
from outreach.planning.dashboard_posts import (
    DraftPost,
    MeetingChoice,
    load_draft,
    meeting_choices,
    render_draft,
    save_draft,
)
from outreach.planning.draft_video import DraftVideo, UploadError, save_upload, video_files

SETTINGS = parse_settings({"channels": {"peer-bluesky": {"platform": "bluesky", "base_url": "https://b.example",
                                                         "handle": "peer.example", "password_env": "P"}}},
                          source="outreach.toml", environ={})


def meeting(link: str | None) -> MeetingChoice:
    return MeetingChoice(id=1, key="iot-rotterdam", campaign="voorjaar", campaign_name="Voorjaar",
                         timezone="Europe/Amsterdam", organisation="IOT", community="Turks", city="Rotterdam",
                         venue="Huis", starts_at=datetime(2027, 3, 21, 13, 0, tzinfo=UTC), languages=("nl",),
                         link=link)


def draft(text: str, *, link: str | None = None) -> DraftPost:
    return DraftPost(meeting_id=1, name="extra", texts={"nl": text}, channels=["peer-bluesky"],
                     due_local=datetime(2027, 3, 19, 18, 0), link=link)


def test_a_too_long_text_says_how_long_and_how_much_is_allowed() -> None:
    checks = render_draft(draft("a" * 384), meeting(None), SETTINGS).checks
    assert [(c.code, dict(c.values), c.channel, c.language) for c in checks] == [
        ("too_long", {"platform": "bluesky", "length": 384, "max": 300}, "peer-bluesky", "nl")]


def test_link_works_with_the_campaigns_link_with_its_own_and_without_any() -> None:
    campaign_link = "https://verandering.example/agenda"
    for given, mine, expected in ((None, campaign_link, campaign_link), ("https://x.example/a", campaign_link,
                                                                          "https://x.example/a"), (None, None, "")):
        rendered = render_draft(draft("Kom! {{ link }}", link=given), meeting(mine), SETTINGS, utm=False)
        assert rendered.ok, rendered.checks
        assert rendered.posts[0].text == f"Kom! {expected}".strip()  # no link: nothing left dangling


def test_the_planners_card_preview_is_the_card_that_will_be_published() -> None:
    """One card builder: the preview's title, alt text and time are those of the published card (the
    preview once kept hashtags and a second sentence in the title and showed the alt text unrendered)."""
    from outreach.cards import render_card
    from outreach.db.models import Campaign, Meeting, Organisation, Post
    from outreach.planning.dashboard_posts import preview_card
    from outreach.publishing.media import card_spec_for

    text = "Praat mee over gelijkwaardigheid! Iedereen is welkom #samen {{ link }}"
    planned = DraftPost(meeting_id=1, name="extra", texts={"nl": text}, channels=["peer-bluesky"],
                        due_local=datetime(2027, 3, 19, 18, 0), card="announce",
                        alt_texts={"nl": "Aankondiging: {{ meeting.city }}"})
    choice = meeting("https://verandering.example/agenda")
    rendered = render_draft(planned, choice, SETTINGS)
    assert rendered.ok, rendered.checks
    (saved,) = rendered.posts
    post = Post(language="nl", text=saved.text, media=saved.media,
                campaign=Campaign(slug="voorjaar", name="Voorjaar", timezone=choice.timezone),
                meeting=Meeting(organisation=Organisation(code="IOT", name="IOT"), starts_at=choice.starts_at,
                                venue=choice.venue, city=choice.city))
    published = render_card(card_spec_for(post, saved.media[0], timezone="UTC"), size="landscape")
    preview = preview_card(planned, choice, "nl")
    assert preview.alt_text == published.alt_text == "Aankondiging: Rotterdam"
    assert preview.data == published.data


def test_a_card_shows_the_meeting_time_in_the_campaigns_time_zone_like_the_post_text() -> None:
    """A campaign in another time zone than the installation: the card's time is the text's time."""
    from outreach.cards.text import card_texts
    from outreach.db.models import Campaign, Meeting, Organisation, Post
    from outreach.publishing.media import card_spec_for

    starts = datetime(2027, 3, 21, 18, 0, tzinfo=UTC)  # 15:00 in Paramaribo, 19:00 in Amsterdam
    post = Post(language="nl", text="Kom om 15:00", media=[{"card": "announce"}],
                campaign=Campaign(slug="sr", name="Suriname", timezone="America/Paramaribo"),
                meeting=Meeting(organisation=Organisation(code="IOT", name="IOT"), starts_at=starts,
                                venue="Huis", city="Paramaribo"))
    when = card_texts(card_spec_for(post, post.media[0], timezone="Europe/Amsterdam"))["when"]
    assert "15:00" in when and "19:00" not in when


# --- a video planned in the dashboard (issue 18 part 2) -------------------------------------------------

VIDEO_CAMPAIGN = """\
campaign:
  id: small
  name: Small campaign
  channels: [peer-bluesky]
meetings:
  - id: iot-rotterdam
    organisation: IOT
    community: Turkse Nederlanders
    city: Rotterdam
    venue: Wijkcentrum Feijenoord
    start: 2027-03-21 14:00
    languages: [nl]
posts:
  - id: announce
    at: {days: -7, time: "18:00"}
    text: {nl: "Bijeenkomst in {{ meeting.city }}"}
"""


def video_settings(tmp_path: Path) -> Settings:
    (tmp_path / "campaigns").mkdir(exist_ok=True)
    return parse_settings({"campaigns_dir": "campaigns", "media": {"directory": "media"}, "channels": {
        "peer-bluesky": {"platform": "bluesky", "base_url": "https://b.example", "handle": "peer.example",
                         "password_env": "P"},
        "peer-instagram": {"platform": "instagram", "base_url": "https://g.example", "token_env": "T"}}},
        source="outreach.toml", environ={}, base_dir=tmp_path)


def video_draft(video: DraftVideo, channels: tuple[str, ...] = ("peer-bluesky", "peer-instagram")) -> DraftPost:
    return DraftPost(meeting_id=1, name="film", texts={"nl": "Kijk mee! {{ meeting.city }}"}, channels=list(channels),
                     due_local=datetime(2027, 3, 19, 18, 0), video=video)


def test_a_video_too_short_for_a_channel_is_a_check_with_its_figures(tmp_path: Path) -> None:
    settings = video_settings(tmp_path)
    clip = write_clip(tmp_path / "campaigns" / "kort.mp4", seconds=2.0)
    rendered = render_draft(video_draft(DraftVideo(file=str(clip), descriptions={"nl": "Twee mensen praten"})),
                            meeting(None), settings)
    assert not rendered.ok
    (short,) = [c for c in rendered.checks if not c.warning]
    assert (short.code, short.channel, short.values["platform"]) == ("video_too_short", "peer-instagram", "instagram")
    assert round(short.values["seconds"], 1) == 2.0 and short.values["limit"] == 3


def test_a_video_outside_the_allowed_folders_or_without_a_description_is_refused(tmp_path: Path) -> None:
    settings = video_settings(tmp_path)
    outside = write_clip(tmp_path / "elders.mp4", seconds=3.5)
    checks = render_draft(video_draft(DraftVideo(file=str(outside), descriptions={"nl": "x"})), meeting(None),
                          settings).checks
    assert [c.code for c in checks] == ["video_outside"]
    inside = write_clip(tmp_path / "campaigns" / "ok.mp4", seconds=3.5)
    checks = render_draft(video_draft(DraftVideo(file=str(inside))), meeting(None), settings).checks
    assert [(c.code, c.values["languages"]) for c in checks] == [("video_description", ["nl"])]


def test_captions_a_channel_drops_are_a_warning_and_the_post_carries_the_campaign_media_entry(tmp_path: Path) -> None:
    settings = video_settings(tmp_path)
    clip = write_clip(tmp_path / "campaigns" / "ok.mp4", seconds=3.5)
    captions = tmp_path / "campaigns" / "nl.vtt"
    captions.write_text("WEBVTT\n\n00:00.000 --> 00:02.000\nWelkom\n", encoding="utf-8")
    video = DraftVideo(file=str(clip), descriptions={"nl": "Twee mensen praten"}, captions={"nl": str(captions)},
                       frame=1.0, options={"peer-instagram": {"share_to_feed": True}})
    rendered = render_draft(video_draft(video), meeting(None), settings)
    assert rendered.ok, rendered.checks
    assert [(c.code, c.channel, c.warning) for c in rendered.checks] == [
        ("captions_dropped", "peer-instagram", True)]
    by_channel = {p.channel: p.media for p in rendered.posts}
    assert by_channel["peer-instagram"] == [{"video": str(clip.resolve()), "captions": {"nl": str(captions.resolve())},
                                            "cover": 1.0, "alt_text": "Twee mensen praten",
                                            "options": {"share_to_feed": True}}]
    assert by_channel["peer-bluesky"][0]["options"] == {}


def test_a_caption_file_with_a_broken_line_names_the_line(tmp_path: Path) -> None:
    settings = video_settings(tmp_path)
    clip = write_clip(tmp_path / "campaigns" / "ok.mp4", seconds=3.5)
    captions = tmp_path / "campaigns" / "nl.srt"
    captions.write_text("1\n00:00:02,000 --> 00:00:01,000\nWelkom\n", encoding="utf-8")
    video = DraftVideo(file=str(clip), descriptions={"nl": "x"}, captions={"nl": str(captions)})
    (check,) = render_draft(video_draft(video, ("peer-bluesky",)), meeting(None), settings).checks
    assert check.code == "captions_error" and f"{captions.resolve()}:2:" in check.values["detail"]
    assert (check.values["file"], check.values["line"]) == ("nl.srt", 2)


def test_uploads_are_kept_by_content_and_a_non_video_is_refused(tmp_path: Path) -> None:
    settings = video_settings(tmp_path)
    data = write_clip(tmp_path / "x.mp4", seconds=0.5).read_bytes()
    first, again = save_upload(settings, "film.mp4", data), save_upload(settings, "zelfde.mp4", data)
    assert first == again and first.name == "film.mp4"  # the volunteer's name, in a folder named by the content
    assert first.parent.parent == (tmp_path / "media" / "uploads").resolve()
    assert first in video_files(settings)
    with pytest.raises(UploadError, match="nep.mp4: not a video"):
        save_upload(settings, "nep.mp4", b"no video here")
    assert list(first.parent.parent.rglob("*")) == [first.parent, first]


def test_a_saved_video_post_loads_back_as_the_same_draft(tmp_path: Path, db: Database,
                                                          write_campaign: Callable[..., Path]) -> None:
    settings = video_settings(tmp_path)
    schedule_campaign(db, plan_campaign(write_campaign(VIDEO_CAMPAIGN), settings), now=datetime(2027, 1, 1, tzinfo=UTC))
    (choice,) = meeting_choices(db)
    clip = write_clip(tmp_path / "campaigns" / "ok.mp4", seconds=3.5)
    video = DraftVideo(file=str(clip.resolve()), descriptions={"nl": "Twee mensen praten"}, frame=0.5,
                       card="announce", options={"peer-instagram": {"share_to_feed": True}})
    planned = dataclasses.replace(video_draft(video), meeting_id=choice.id)
    save_draft(db, planned, settings, now=datetime(2027, 1, 1, tzinfo=UTC))
    with db.session() as s:
        media = {p.channel: p.media for p in s.scalars(select(Post).where(Post.rule_key == "dashboard:film"))}
    assert media["peer-instagram"][0]["cover"] == {"card": "announce", "frame": 0.5}
    assert media["peer-instagram"][0]["options"] == {"share_to_feed": True}
    loaded = load_draft(db, choice.id, "film", timezone=choice.timezone)
    assert loaded is not None and loaded.video == video and loaded.card is None


def test_a_caption_file_too_large_for_a_platform_is_a_check_the_planner_can_translate(tmp_path: Path) -> None:
    settings = video_settings(tmp_path)
    clip = write_clip(tmp_path / "campaigns" / "ok.mp4", seconds=3.5)
    captions = tmp_path / "campaigns" / "nl.vtt"
    cue = "00:00.000 --> 00:02.000\n" + "Welkom bij de bijeenkomst " * 40 + "\n\n"
    captions.write_text("WEBVTT\n\n" + cue * 30, encoding="utf-8")  # over Bluesky's 20,000 bytes
    video = DraftVideo(file=str(clip), descriptions={"nl": "x"}, captions={"nl": str(captions)})
    (check,) = render_draft(video_draft(video, ("peer-bluesky",)), meeting(None), settings).checks
    assert (check.code, check.language, check.values["platform"]) == ("captions_too_large", "nl", "bluesky")
