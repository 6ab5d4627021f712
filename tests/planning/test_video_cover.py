"""A video's cover drawn by a card template (`cover: {card: ...}`): `validate` draws it per post, language
and channel at the shape of the video within the platform's image box (so a broken one is a `file:line`
error on the cover), and the media step later finds it in the card cache and uploads those pixels."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

import pytest
from PIL import Image

from outreach.cards import supported_languages
from outreach.config import MediaSettings, Settings
from outreach.db.models import Post
from outreach.domain import Platform
from outreach.media.synthetic import write_clip
from outreach.planning import CampaignError, plan_campaign
from outreach.planning.cards import render_plan_cards
from outreach.publishing.media import MediaPreparer
from tests.planning.test_errors import edit

BASE = """\
campaign:
  id: cover
  name: Cover campaign
  channels: [peer-youtube]
posts:
  - id: clip
    at: 2027-03-01 10:00
    channels: [peer-youtube, peer-mastodon, peer-instagram]
    text:
      nl: Verandering van binnenuit in zes seconden. Kijk mee.
      en: Change from within in six seconds. Watch.
      ar: التغيير من الداخل في ست ثوان. شاهدوا.
    video:
      file: clip.mp4
      description:
        nl: Kaarten.
        en: Cards.
        ar: بطاقات.
      cover:
        card: quote
        title:
          nl: Samen veranderen
          en: Changing together
"""


@pytest.fixture
def cover_settings(settings: Settings, tmp_path: Path) -> Settings:
    return replace(settings, media=MediaSettings(directory=str(tmp_path / "media")))


def _cards(settings: Settings) -> dict[Path, tuple[int, int]]:
    folder = Path(settings.media.directory) / "cards"
    return {p: Image.open(p).size for p in sorted(folder.rglob("*.png"))}


@pytest.mark.parametrize(("clip_size", "sizes"), [
    ((108, 192), {(720, 1280), (1080, 1920), (1012, 1800)}),  # youtube, mastodon, instagram: all 9:16
    ((192, 108), {(1280, 720), (1920, 1080), (1800, 1012)}),  # all 16:9
], ids=["vertical", "landscape"])
def test_validate_draws_each_cover_at_the_video_shape(clip_size, sizes, tmp_path: Path, cover_settings: Settings,
                                                      write_campaign: Callable[..., Path]) -> None:
    write_clip(tmp_path / "clip.mp4", width=clip_size[0], height=clip_size[1], seconds=3.2)
    plan = plan_campaign(write_campaign(BASE), cover_settings)
    covers = {(p.channel, p.language): p.media[0]["cover"] for p in plan.posts}
    assert covers[("peer-youtube", "nl")] == {"card": "quote", "title": "Samen veranderen"}
    assert covers[("peer-mastodon", "ar")] == {"card": "quote"}  # no title in ar: the text's first sentence
    drawn = _cards(cover_settings)
    assert set(drawn.values()) == sizes
    assert len(drawn) == 3 * 3  # three languages (Arabic drawn right to left) on three sizes


def test_the_media_step_reuses_validates_cover_and_uploads_it(tmp_path: Path, cover_settings: Settings,
                                                               write_campaign: Callable[..., Path]) -> None:
    write_clip(tmp_path / "clip.mp4", width=108, height=192, seconds=3.2)
    plan = plan_campaign(write_campaign(BASE), cover_settings)
    before = {p: p.stat().st_mtime_ns for p in _cards(cover_settings)}
    planned = next(p for p in plan.posts if (p.channel, p.language) == ("peer-youtube", "ar"))
    post = Post(language=planned.language, text=planned.text, media=planned.media, channel=planned.channel)
    (item,) = MediaPreparer(cover_settings)(post, Platform("youtube"))
    assert {p: p.stat().st_mtime_ns for p in _cards(cover_settings)} == before  # nothing drawn again
    assert item.cover_path and item.cover_s is None
    with Image.open(item.cover_path) as cover:
        assert (cover.format, cover.size) == ("PNG", (720, 1280))
        drawn = next(p for p, size in _cards(cover_settings).items() if size == (720, 1280)
                     and Image.open(p).tobytes() == cover.convert("RGB").tobytes())
    assert drawn  # the very pixels validate drew (for this language: only one card matches)


CASES = [
    ("TikTok takes only a frame", [("peer-instagram]", "peer-instagram, peer-tiktok]"),
                                   ("card: quote", "card: quote  #!")],
     "posts[0].video.cover.card", "peer-tiktok: TikTok takes only a frame of the video as its cover, not a "
                                  "drawn card; add `frame: <seconds>` to the cover"),
    ("tiktok and an image cover", [("peer-instagram]", "peer-instagram, peer-tiktok]"), (
        "      cover:\n        card: quote\n        title:\n          nl: Samen veranderen\n          en: Changing together\n",
        "      cover: poster.png  #!\n")],
     "posts[0].video.cover", "peer-tiktok: TikTok takes only a frame of the video as its cover, not an image"),
    ("unknown variable in the title", [("nl: Samen veranderen", "nl: Samen in {{ meeting.city }}  #!")],
     "posts[0].video.cover.title.nl", "unknown variable"),
    ("unknown template", [("card: quote", "card: poster  #!")],
     "posts[0].video.cover.card", "unknown card template 'poster'"),
    ("title without card", [("card: quote", "frame: 0.1"), ("cover:", "cover:  #!")],
     "posts[0].video.cover", "`title` needs a `card`"),
    ("card and image", [("card: quote", "card: quote\n        image: x.png"), ("cover:", "cover:  #!")],
     "posts[0].video.cover", "give the cover a `card` or an `image`, not both"),
    ("frame after the end", [("card: quote", "card: quote\n        frame: 9  #!")],
     "posts[0].video.cover.frame", "cover at 9 s is after the video ends"),
    ("a card that cannot be drawn", [("  - id: clip\n    at: 2027-03-01 10:00",
                                      "  - id: clip\n    at: {days: 0, time: \"10:00\"}"),
                                     ("card: quote", "card: quote  #!")],
     "posts[0].video.cover.card", "the cover card in 'nl' cannot be drawn: no card design for organisation 'Nieuw'"),
]
MEETING = """\
organisations: {Nieuw: Een nieuwe stichting}
meetings:
  - id: m1
    organisation: Nieuw
    community: Eritrees
    city: Utrecht
    venue: Buurthuis
    start: 2027-03-08 19:00
    languages: [nl]
"""


@pytest.mark.parametrize(("replacements", "path", "message"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_one_error_line_on_the_cover(replacements, path, message, tmp_path: Path, cover_settings: Settings,
                                     write_campaign: Callable[..., Path]) -> None:
    write_clip(tmp_path / "clip.mp4", width=108, height=192, seconds=3.2)
    Image.new("RGB", (108, 192), (200, 30, 30)).save(tmp_path / "poster.png")
    text = edit(BASE, replacements)
    if "days: 0" in text:
        text = text.replace("posts:\n", MEETING + "posts:\n")
    line = next(n for n, row in enumerate(text.splitlines(), 1) if "#!" in row)
    file = write_campaign(text)
    with pytest.raises(CampaignError) as caught:
        plan_campaign(file, cover_settings)
    assert len(caught.value.errors) == 1, caught.value.errors
    error = caught.value.errors[0]
    assert error.startswith(f"{file}:{line}: {path}: "), error
    assert message in error, error


def test_a_frame_serves_the_platforms_that_take_only_a_frame(tmp_path: Path, cover_settings: Settings,
                                                             write_campaign: Callable[..., Path]) -> None:
    write_clip(tmp_path / "clip.mp4", width=108, height=192, seconds=3.2)
    text = edit(BASE, [("peer-instagram]", "peer-instagram, peer-tiktok]"), ("card: quote", "card: quote\n        frame: 0.2")])
    plan = plan_campaign(write_campaign(text), cover_settings)
    covers = {(p.channel, p.language): p.media[0]["cover"] for p in plan.posts}
    assert covers[("peer-tiktok", "en")] == {"card": "quote", "frame": 0.2, "title": "Changing together"}
    assert len(_cards(cover_settings)) == 3 * 3  # tiktok draws nothing: youtube, mastodon, instagram


def test_a_media_folder_validate_may_not_write_still_checks_the_cover(tmp_path: Path, settings: Settings,
                                                                     write_campaign: Callable[..., Path]) -> None:
    write_clip(tmp_path / "clip.mp4", width=108, height=192, seconds=3.2)
    (tmp_path / "media").write_text("a file where the media folder should be")
    unwritable = replace(settings, media=MediaSettings(directory=str(tmp_path / "media")))
    assert plan_campaign(write_campaign(BASE), unwritable).posts  # drawn, not kept
    german = edit(BASE, [("      ar: التغيير من الداخل في ست ثوان. شاهدوا.\n", "      de: Veränderung von innen.\n"),
                         ("        ar: بطاقات.\n", "        de: Karten.\n")])
    with pytest.raises(CampaignError) as caught:
        plan_campaign(write_campaign(german, name="de.yaml"), unwritable)
    assert [e.split(": ", 2)[2] for e in caught.value.errors] == [
        "the cover card in 'de' cannot be drawn: no card phrases for language 'de'; supported: "
        + ", ".join(supported_languages())]


def test_render_writes_the_covers_for_review(tmp_path: Path, cover_settings: Settings,
                                             write_campaign: Callable[..., Path]) -> None:
    write_clip(tmp_path / "clip.mp4", width=108, height=192, seconds=3.2)
    written = render_plan_cards(plan_campaign(write_campaign(BASE), cover_settings), tmp_path / "out")
    assert sorted(p.name for p in written) == sorted(
        f"clip-{lang}-cover-{size}.png" for lang in ("ar", "en", "nl") for size in ("1012x1800", "1080x1920", "720x1280"))
    with Image.open(tmp_path / "out" / "clip-ar-cover-720x1280.png") as cover:
        assert cover.size == (720, 1280)


def test_an_image_cover_with_a_frame(tmp_path: Path, cover_settings: Settings,
                                     write_campaign: Callable[..., Path]) -> None:
    write_clip(tmp_path / "clip.mp4", width=108, height=192, seconds=3.2)
    Image.new("RGB", (1080, 1350), (200, 30, 30)).save(tmp_path / "poster.png")
    text = edit(BASE, [("peer-instagram]", "peer-instagram, peer-tiktok]"), (
        "      cover:\n        card: quote\n        title:\n          nl: Samen veranderen\n          en: Changing together\n",
        "      cover: {image: poster.png, frame: 0.2}\n")])
    plan = plan_campaign(write_campaign(text), cover_settings)
    planned = next(p for p in plan.posts if (p.channel, p.language) == ("peer-mastodon", "nl"))
    assert planned.media[0]["cover"] == {"image": str(tmp_path / "poster.png"), "frame": 0.2}
    post = Post(language="nl", text=planned.text, media=planned.media, channel=planned.channel)
    (item,) = MediaPreparer(cover_settings)(post, Platform("mastodon"))
    assert item.cover_s == 0.2
    with Image.open(item.cover_path) as cover:
        assert cover.size == (1080, 1350)  # a 4:5 image stays 4:5 (fitted, never padded or cropped)
