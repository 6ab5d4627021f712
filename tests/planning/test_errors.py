"""Every kind of campaign-file mistake yields one line `file:line: field.path: message`.

Each case edits a valid base file; the line marked `#!` is where the error must be reported.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from outreach.config import Settings
from outreach.planning import CampaignError, plan_campaign, validate_campaign

BASE = """\
campaign:
  id: test
  name: Test campaign
  channels: [peer-mastodon]
meetings:
  - id: iot-rotterdam
    organisation: IOT
    community: Turkse Nederlanders
    city: Rotterdam
    venue: Wijkcentrum Feijenoord
    start: 2027-03-12 19:00
    end: "21:30"
    languages: [nl, tr]
posts:
  - id: announce
    at: {days: -7, time: "18:00"}
    channels: [peer-mastodon, peer-bluesky]
    text:
      nl: "Bijeenkomst in {{ meeting.city }} op {{ meeting.start | date }}."
      tr: "{{ meeting.city }} buluşması, {{ meeting.start | date }}."
  - id: kickoff
    at: 2027-03-01 10:00
    text:
      nl: Vandaag begint het voorjaar.
"""

SECOND_MEETING = """\
  - id: iot-rotterdam  #!
    organisation: IOT
    community: Turkse Nederlanders
    city: Rotterdam
    venue: Buurthuis
    start: 2027-04-12 19:00
    languages: [nl]
posts:
"""

# (name, [(old, new), ...], expected field path, expected message fragment)
CASES = [
    ("wrong type: list", [("languages: [nl, tr]", "languages: nl  #!")],
     "meetings[0].languages", "Input should be a valid list (got 'nl')"),
    ("wrong type: integer", [('at: {days: -7, time: "18:00"}', 'at: {days: soon, time: "18:00"}  #!')],
     "posts[0].at.days", "Input should be a valid integer"),
    ("unknown channel", [("channels: [peer-mastodon, peer-bluesky]", "channels: [peer-mastodon, peer-mastdon]  #!")],
     "posts[0].channels[1]", "unknown channel 'peer-mastdon' (known: peer-bluesky, peer-facebook, "
                             "peer-instagram, peer-linkedin, peer-mastodon, peer-threads, peer-tiktok, "
                             "peer-whatsapp, peer-youtube)"),
    ("unknown default channel", [("  channels: [peer-mastodon]", "  channels: [peer-mastodon, mastodon]  #!")],
     "campaign.channels[1]", "unknown channel 'mastodon'"),
    ("unknown meeting", [('time: "18:00"}', 'time: "18:00"}\n    meetings: [iot-rotterdam, smn-amsterdam]  #!')],
     "posts[0].meetings[1]", "unknown meeting 'smn-amsterdam' (known: iot-rotterdam)"),
    ("missing language text", [('      tr: "{{ meeting.city }} buluşması, {{ meeting.start | date }}."\n', ""),
                               ("    text:\n      nl: \"Bij", "    text:  #!\n      nl: \"Bij")],
     "posts[0].text", "no text in 'tr' (meeting iot-rotterdam is in nl, tr)"),
    ("bad date", [("start: 2027-03-12 19:00", "start: 2027-02-30 19:00  #!")],
     "meetings[0].start", "'2027-02-30 19:00' is not a valid date and time: day is out of range for month"),
    ("date in the wrong format", [("at: 2027-03-01 10:00", "at: 1 maart 2027  #!")],
     "posts[1].at", "'1 maart 2027' is not a date and time; write YYYY-MM-DD HH:MM (local time)"),
    ("bad time", [('time: "18:00"}', 'time: "18:75"}  #!')],
     "posts[0].at.time", "'18:75' is not a time of day"),
    ("end before start", [('end: "21:30"', 'end: "18:30"  #!')],
     "meetings[0].end", "ends (2027-03-12 18:30) before it starts (2027-03-12 19:00)"),
    ("template: unknown field", [("Bijeenkomst in {{ meeting.city }}", "Bijeenkomst in {{ meeting.ciy }}"),
                                 ('Bijeenkomst in {{ meeting.ciy }} op {{ meeting.start | date }}."',
                                  'Bijeenkomst in {{ meeting.ciy }} op {{ meeting.start | date }}."  #!')],
     "posts[0].text.nl", "template: meeting has no field 'ciy' (fields: audience, city, community, end, "),
    ("template: unknown variable", [("Vandaag begint het voorjaar.", "Start in {{ meting.city }}  #!")],
     "posts[1].text.nl", "template: unknown variable 'meting' (available: campaign, due, lang)"),
    ("template: syntax", [("Bijeenkomst in {{ meeting.city }} op", "Bijeenkomst in {{ meeting.city } op"),
                          ('{{ meeting.start | date }}."\n      tr', '{{ meeting.start | date }}."  #!\n      tr')],
     "posts[0].text.nl", "template syntax error: unexpected '}'"),
    ("text over the platform limit", [("Vandaag begint het voorjaar.", "\"{{ 'x' * 501 }}\"  #!")],
     "posts[1].text.nl", "peer-mastodon (kickoff, nl): text is 501 graphemes long; mastodon allows 500"),
    ("YAML syntax", [("    city: Rotterdam\n", "    city: Rotterdam: Zuid  #!\n")],
     "(yaml)", "YAML syntax error: mapping values are not allowed"),
    ("duplicate meeting id", [("posts:\n", SECOND_MEETING)],
     "meetings[1].id", "duplicate meeting id 'iot-rotterdam' (first at line 6)"),
    ("duplicate rule id", [("  - id: kickoff", "  - id: announce  #!")],
     "posts[1].id", "duplicate post rule id 'announce' (first at line 15)"),
    ("duplicate key", [("    city: Rotterdam\n", "    city: Rotterdam\n    city: Utrecht  #!\n")],
     "meetings[0].city", "duplicate key 'city' (first at line 9)"),
    ("unknown organisation", [("organisation: IOT", "organisation: IOTT  #!")],
     "meetings[0].organisation", "unknown organisation 'IOTT' (known: FSAN, HTIB, IOT, Kezban, Mudawwanah, "
                                 "SMN, VON)"),
    ("unknown language code", [("languages: [nl, tr]", "languages: [nl, turks]  #!")],
     "meetings[0].languages[1]", "unknown language code 'turks'"),
    ("unknown meeting kind", [("    organisation: IOT", "    kind: lecture  #!\n    organisation: IOT")],
     "meetings[0].kind", "Input should be 'community', 'training' or 'municipal' (got 'lecture')"),
    ("missing field", [("    venue: Wijkcentrum Feijenoord\n", ""), ("  - id: iot-rotterdam", "  - id: iot-rotterdam  #!")],
     "meetings[0].venue", "required field is missing"),
    ("unknown time zone", [("  name: Test campaign", "  name: Test campaign\n  timezone: Europe/Amsterdm  #!")],
     "campaign.timezone", "unknown time zone 'Europe/Amsterdm'"),
    ("bad cron", [("at: 2027-03-01 10:00", 'cron: "0 16 * * fryday"  #!\n    from: 2027-03-01\n    until: 2027-03-31')],
     "posts[1].cron", "invalid cron expression '0 16 * * fryday'"),
    ("both at and cron", [("  - id: kickoff", "  - id: kickoff  #!"),
                          ("at: 2027-03-01 10:00", 'at: 2027-03-01 10:00\n    cron: "0 16 * * fri"')],
     "posts[1]", "give exactly one of `at`"),
    ("missing alt text", [('channels: [peer-mastodon, peer-bluesky]', 'channels: [peer-mastodon]\n    card: announce  #!')],
     "posts[0].alt_text", "no alt text in 'nl', 'tr' for the card (meeting iot-rotterdam is in nl, tr)"),
    ("card for an organisation without a card design",
     [("campaign:\n", "organisations:\n  COC: COC Rotterdam\ncampaign:\n"), ("    organisation: IOT", "    organisation: COC"),
      ('channels: [peer-mastodon, peer-bluesky]', 'card: announce  #!\n    alt_text: {nl: Kaart, tr: Kart}')],
     "posts[0].card", "no card design for organisation 'COC' (cards know IOT, Kezban, FSAN, SMN, Mudawwanah, HTIB, "
                      "VON, Peer): add it to assets/brands/brands.toml, or use image:"),
    ("unknown card", [('channels: [peer-mastodon, peer-bluesky]', 'card: annonce  #!')],
     "posts[0].card", "unknown card template 'annonce' (known: announce, reminder, recap, quote, photo)"),
    ("image not found", [("  - id: kickoff", "  - id: kickoff\n    image: poster.jpg  #!\n    alt_text: {nl: Poster}")],
     "posts[1].image", "image 'poster.jpg' not found"),
    ("rule matching no meeting", [("  - id: announce", "  - id: announce  #!"),
                                  ('time: "18:00"}', 'time: "18:00"}\n    kinds: [training]')],
     "posts[0]", "this rule matches no meeting"),
]


def edit(base: str, replacements: list[tuple[str, str]]) -> str:
    text = base
    for old, new in replacements:
        assert old in text, old
        text = text.replace(old, new, 1)
    return text


def test_base_file_is_valid(write_campaign: Callable[..., Path], settings: Settings) -> None:
    plan = plan_campaign(write_campaign(BASE), settings)
    assert len(plan.posts) == 2 * 2 + 1  # announce: 2 channels × nl, tr; kickoff: 1 channel × nl


@pytest.mark.parametrize(("replacements", "path", "message"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_one_error_line_with_file_line_and_field(replacements: list[tuple[str, str]], path: str, message: str,
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


def test_all_errors_of_a_file_are_collected(write_campaign: Callable[..., Path], settings: Settings) -> None:
    text = edit(BASE, [("    venue: Wijkcentrum Feijenoord", "    venu: Wijkcentrum Feijenoord"),
                       ("start: 2027-03-12 19:00", "start: tomorrow"),
                       ("  name: Test campaign\n", "")])
    file = write_campaign(text)
    errors = validate_campaign(file, settings)
    assert errors == [
        f"{file}:1: campaign.name: required field is missing",
        f"{file}:5: meetings[0].venue: required field is missing",
        f"{file}:9: meetings[0].venu: unknown field",
        f"{file}:10: meetings[0].start: 'tomorrow' is not a date and time; write YYYY-MM-DD HH:MM (local time)",
    ]


def test_semantic_errors_are_collected_across_rules(write_campaign: Callable[..., Path],
                                                    settings: Settings) -> None:
    text = edit(BASE, [("peer-mastodon, peer-bluesky]", "peer-mastodn, peer-bluesky]"),
                       ('      tr: "{{ meeting.city }} buluşması, {{ meeting.start | date }}."\n', ""),
                       ("Vandaag begint het voorjaar.", "Hallo {{ nope }}")])
    file = write_campaign(text)
    errors = validate_campaign(file, settings)
    assert [e.split(": ", 2)[:2] for e in errors] == [
        [f"{file}:17", "posts[0].channels[0]"],
        [f"{file}:18", "posts[0].text"],
        [f"{file}:23", "posts[1].text.nl"],
    ]


def test_template_error_in_a_block_text_points_at_its_own_line(write_campaign: Callable[..., Path],
                                                               settings: Settings) -> None:
    text = edit(BASE, [("      nl: Vandaag begint het voorjaar.\n",
                        "      nl: |\n        Vandaag begint het voorjaar.\n        Kom naar {{ meeting.city }}!\n")])
    file = write_campaign(text)
    errors = validate_campaign(file, settings)
    assert errors == [f"{file}:26: posts[1].text.nl: template: unknown variable 'meeting' "
                      "(available: campaign, due, lang)"]


def test_unquoted_template_gets_a_hint(write_campaign: Callable[..., Path], settings: Settings) -> None:
    file = write_campaign(edit(BASE, [("Vandaag begint het voorjaar.", "{{ campaign.name }}")]))
    assert validate_campaign(file, settings) == [
        f"{file}:24: posts[1].text.nl: Input should be a valid string "
        '(a text that starts with {{ must be quoted: "{{ ... }}")']


def test_missing_file_is_one_line(tmp_path: Path, settings: Settings) -> None:
    errors = validate_campaign(tmp_path / "nope.yaml", settings)
    assert errors == [f"{tmp_path / 'nope.yaml'}:1: (file): cannot read: No such file or directory"]


def test_error_message_of_the_exception_lists_every_line(write_campaign: Callable[..., Path],
                                                         settings: Settings) -> None:
    file = write_campaign(edit(BASE, [("organisation: IOT", "organisation: ABC"), ("end: \"21:30\"", "end: 1")]))
    with pytest.raises(CampaignError) as caught:
        plan_campaign(file, settings)
    assert str(caught.value).splitlines()[0] == "1 error in campaign file:"
    assert caught.value.errors == [f"{file}:12: meetings[0].end: 1 is not a date and time; "
                                   "write YYYY-MM-DD HH:MM (local time)"]


def test_media_problem_is_one_line_per_channel(write_campaign: Callable[..., Path], settings: Settings) -> None:
    file = write_campaign(edit(BASE, [("channels: [peer-mastodon, peer-bluesky]",
                                       "channels: [peer-mastodon, peer-tiktok]")]))
    assert validate_campaign(file, settings) == [
        f"{file}:17: posts[0].channels[1]: peer-tiktok: tiktok needs an image; this post has none"]
    with_card = edit(BASE, [("channels: [peer-mastodon, peer-bluesky]",
                             "channels: [peer-mastodon, peer-tiktok]\n    card: reminder\n"
                             "    alt_text: {nl: Herinnering, tr: Hatırlatma}")])
    assert validate_campaign(write_campaign(with_card), settings) == []


def test_channel_option_max_text_overrides_the_limit(write_campaign: Callable[..., Path]) -> None:
    from outreach.config import parse_settings

    wide = parse_settings({"channels": {"peer-mastodon": {"platform": "mastodon", "base_url": "http://127.0.0.1:1",
                                                          "max_text": 1000}}}, environ={})
    long = edit(BASE, [("Vandaag begint het voorjaar.", "\"{{ 'x' * 900 }}\""),
                       ("channels: [peer-mastodon, peer-bluesky]", "channels: [peer-mastodon]")])
    assert validate_campaign(write_campaign(long), wide) == []
    too_long = long.replace("* 900", "* 1001")
    file = write_campaign(too_long, "b.yaml")
    assert validate_campaign(file, wide) == [
        f"{file}:24: posts[1].text.nl: peer-mastodon (kickoff, nl): text is 1001 graphemes long; "
        "mastodon allows 1000"]


def test_templates_cannot_reach_python_internals(write_campaign: Callable[..., Path], settings: Settings) -> None:
    file = write_campaign(edit(BASE, [("Vandaag begint het voorjaar.",
                                       "\"{{ campaign.__class__.__init__.__globals__ }}\"")]))
    errors = validate_campaign(file, settings)
    assert len(errors) == 1 and errors[0].startswith(f"{file}:24: posts[1].text.nl: template: ")


def test_an_image_is_checked_by_content_and_confined_to_allowed_folders(tmp_path: Path, settings: Settings) -> None:
    """Symlinks are resolved before the folder check; a configured asset folder is allowed;
    a PNG named .jpg is fine (its real format is what counts)."""
    from dataclasses import replace

    from PIL import Image

    campaign_dir, shared, secret = tmp_path / "campaign", tmp_path / "shared", tmp_path / "secret"
    for folder in (campaign_dir, shared, secret):
        folder.mkdir()
    Image.new("RGB", (40, 30), "teal").save(secret / "private.png")
    Image.new("RGB", (40, 30), "teal").save(shared / "logo.png")
    Image.new("RGB", (40, 30), "teal").save(campaign_dir / "really-a-png.jpg", "PNG")
    (campaign_dir / "link.png").symlink_to(secret / "private.png")

    def plan_with(image: str, asset_dirs: tuple[str, ...] = ()) -> list[str]:
        path = campaign_dir / "c.yaml"
        path.write_text(BASE.replace("  - id: kickoff\n", f"  - id: kickoff\n    image: {image}\n"
                                     "    alt_text: {nl: Poster}\n"), encoding="utf-8")
        media = replace(settings.media, asset_dirs=asset_dirs)
        return validate_campaign(path, replace(settings, media=media))

    assert plan_with("really-a-png.jpg") == []
    escaped = plan_with("link.png")
    assert len(escaped) == 1 and "posts[1].image: image 'link.png' is outside the campaign's folder" in escaped[0]
    assert "outside the campaign's folder" in plan_with("../shared/logo.png")[0]
    assert plan_with("../shared/logo.png", asset_dirs=(str(shared),)) == []
