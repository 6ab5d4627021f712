"""The planner's checks: figures the dashboard can put in words, and `{{ link }}` with or without a link."""

from __future__ import annotations

from datetime import UTC, datetime

from outreach.config import parse_settings
from outreach.planning.dashboard_posts import DraftPost, MeetingChoice, render_draft

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
