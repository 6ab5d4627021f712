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
