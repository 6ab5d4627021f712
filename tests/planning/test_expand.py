"""Expansion into posts: the example campaign, DST edges, recurring rules, languages, UTM, shifting."""

from __future__ import annotations

import dataclasses
from collections import Counter
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import regex

from outreach.config import Settings
from outreach.domain import Platform
from outreach.planning import format_plan, plan_campaign, shift_to_now
from outreach.planning.expand import campaign_files
from outreach.planning.render import tag_text, tag_url
from tests.planning.conftest import CAMPAIGNS

EXAMPLE = CAMPAIGNS / "voorjaar-2027.yaml"
HEADER = """\
campaign:
  id: t
  name: T
  channels: [peer-mastodon]
"""


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


def graphemes(text: str) -> int:
    return len(regex.findall(r"\X", text))


# -- the example campaign ---------------------------------------------------------------------


@pytest.fixture(scope="module")
def example(request: pytest.FixtureRequest) -> object:
    from outreach.config import load_settings

    return plan_campaign(EXAMPLE, load_settings(Path(__file__).parent / "outreach.toml", environ={}))


def test_example_campaign_counts(example) -> None:  # type: ignore[no-untyped-def]
    # 8 community meetings with 2+3+2+2+3+3+2+3 = 20 language variants; 1 training + 1 municipal (nl).
    assert len(example.meetings) == 10
    assert Counter(m.kind for m in example.meetings) == {"community": 8, "training": 1, "municipal": 1}
    assert {m.organisation for m in example.meetings} == {"IOT", "Kezban", "FSAN", "SMN", "Mudawwanah",
                                                          "HTIB", "VON"}
    assert Counter(p.rule_key for p in example.posts) == {
        "announce": 20 * 6, "reminder": 20 * 5, "recap": 20 * 5,
        "professionals": 2 * 3,  # nl only
        "kickoff": 2 * 8,  # nl + en (the text's languages) on all 8 channels
        "weekly-tip": 13 * 2 * 3,  # Fridays 5 March .. 28 May 2027, nl + en, 3 channels
        "video": 2 * 7,  # nl + en on the 7 channels that upload video (LinkedIn: the clip is under its 75 KB)
    }
    assert len({p.key for p in example.posts}) == len(example.posts) == 434
    assert Counter(p.language for p in example.posts if p.rule_key == "announce") == {
        "nl": 48, "tr": 18, "ar": 18, "zgh": 12, "so": 12, "ti": 6, "en": 6}


def test_example_campaign_exact_posts(example) -> None:  # type: ignore[no-untyped-def]
    posts = {(p.source_key, p.channel, p.language): p for p in example.posts}
    card = posts["kickoff", "peer-instagram", "nl"].media[0]
    assert card["card"] == "quote" and card["title"] == "Samen veranderen, van binnenuit"  # matches its alt text
    kickoff = posts["kickoff", "peer-mastodon", "nl"]
    assert kickoff.due_at == utc(2027, 3, 1, 9, 0)  # 10:00 CET
    assert kickoff.text == (
        "Vandaag begint het voorjaar van Verandering van binnenuit: tien bijeenkomsten in zes steden, "
        "van Rotterdam tot Zwolle, over gelijkheid, veiligheid en acceptatie. https://verandering.example/"
        "agenda?utm_source=mastodon&utm_medium=social&utm_campaign=voorjaar-2027")
    assert kickoff.approval_required is False and kickoff.media[0]["card"] == "quote"

    tr = posts["announce/iot-rotterdam-2027-03", "peer-bluesky", "tr"]
    assert tr.due_at == utc(2027, 3, 5, 17, 0)  # -7 days, 18:00 CET
    assert tr.text == (
        "Buluşmaya davetlisiniz! IOT, 12 Mart Cuma, saat 19:00, Rotterdam. Konu: eşitlik ve herkes için "
        "güvenlik. https://verandering.example/agenda/iot-rotterdam-2027-03?utm_source=bluesky"
        "&utm_medium=social&utm_campaign=voorjaar-2027")
    assert tr.media == [{"card": "announce",
                         "alt_text": "IOT buluşmasının duyurusu: Rotterdam, 12 Mart Cuma, saat 19:00."}]
    assert tr.approval_required is True and tr.platform == "bluesky"

    zgh = posts["reminder/mudawwanah-zwolle-2027-04", "peer-mastodon", "zgh"]
    assert zgh.due_at == utc(2027, 4, 16, 10, 0)  # -1 day, 12:00 CEST
    assert zgh.text.startswith("ⴰⵣⴽⴽⴰ, 19:00: ⴰⵏⵎⵓⴳⴳⴰⵔ ⵏ Mudawwanah, Wijkcentrum Holtenbroek, Zwolle.")

    whatsapp = posts["announce/von-eindhoven-2027-04", "peer-whatsapp", "ti"]
    assert whatsapp.platform == Platform.MANUAL and whatsapp.approval_required is False
    assert "utm_source=whatsapp" in whatsapp.text  # the channel's utm_source option

    training = posts["professionals/training-utrecht-2027-05", "peer-linkedin", "nl"]
    assert training.text.startswith("Training voor professionals:")
    assert "dinsdag 11 mei, Vergaderzalen Utrecht Centraal." in training.text
    assert training.due_at == utc(2027, 4, 27, 7, 0)  # -14 days, 09:00 CEST


def test_example_texts_fit_every_platform_and_script(example) -> None:  # type: ignore[no-untyped-def]
    limits = {"peer-bluesky": 300, "peer-mastodon": 500, "peer-threads": 500}
    for post in example.posts:
        if post.channel in limits:
            assert graphemes(post.text) <= limits[post.channel], (post.source_key, post.language)
        if post.language == "zgh":
            assert regex.search(r"\p{Tifinagh}{3}", post.text), post.text
        if post.language == "ar":
            assert regex.search(r"\p{Arabic}{3}", post.text), post.text
        if post.language == "ti":
            assert regex.search(r"\p{Ethiopic}{3}", post.text), post.text
        if post.platform in (Platform("instagram"), Platform("tiktok")):
            assert post.media and post.media[0]["alt_text"], post.source_key


def test_every_campaign_file_in_the_repository_plans(settings: Settings) -> None:
    files = campaign_files(CAMPAIGNS)
    assert EXAMPLE in files
    for file in files:
        assert plan_campaign(file, settings).posts


# -- DST and timing ---------------------------------------------------------------------------

DST_FILE = HEADER + """\
meetings:
  - id: spring-sunday
    organisation: SMN
    community: c
    city: Amsterdam
    venue: v
    start: 2027-03-29 19:00
    languages: [nl]
  - id: autumn-monday
    organisation: VON
    community: c
    city: Zwolle
    venue: v
    start: 2027-11-01 19:00
    languages: [nl]
posts:
  - id: day-before
    at: {days: -1}
    text: {nl: "Morgen!"}
  - id: hours-before
    at: {hours: -24}
    text: {nl: "Over 24 uur"}
  - id: before-spring
    at: 2027-03-27 10:00
    text: {nl: a}
  - id: spring
    at: 2027-03-28 10:00
    text: {nl: b}
  - id: spring-gap
    at: 2027-03-28 02:30
    text: {nl: c}
  - id: before-autumn
    at: 2027-10-30 10:00
    text: {nl: d}
  - id: autumn
    at: 2027-10-31 10:00
    text: {nl: e}
  - id: autumn-twice
    at: 2027-10-31 02:30
    text: {nl: f}
"""


def test_dst_edges_land_on_the_right_instant(write_campaign: Callable[..., Path], settings: Settings) -> None:
    plan = plan_campaign(write_campaign(DST_FILE), settings)
    due = {p.source_key: p.due_at for p in plan.posts}
    assert due["before-spring"] == utc(2027, 3, 27, 9, 0)  # CET, UTC+1
    assert due["spring"] == utc(2027, 3, 28, 8, 0)  # last Sunday of March: CEST, UTC+2
    assert due["spring-gap"] == utc(2027, 3, 28, 1, 30)  # 02:30 does not exist: it is 03:30 CEST
    assert due["before-autumn"] == utc(2027, 10, 30, 8, 0)  # CEST
    assert due["autumn"] == utc(2027, 10, 31, 9, 0)  # last Sunday of October: CET again
    assert due["autumn-twice"] == utc(2027, 10, 31, 0, 30)  # 02:30 happens twice: the first (CEST)
    # `days` moves the calendar and keeps the local clock; `hours` is an exact duration.
    assert due["day-before/spring-sunday"] == utc(2027, 3, 28, 17, 0)  # Sunday 19:00 CEST
    assert due["hours-before/spring-sunday"] == utc(2027, 3, 28, 17, 0)  # 24 h before Mon 19:00 CEST
    assert due["day-before/autumn-monday"] == utc(2027, 10, 31, 18, 0)  # Sunday 19:00 CET
    assert due["hours-before/autumn-monday"] == utc(2027, 10, 31, 18, 0)
    meetings = {m.key: m for m in plan.meetings}
    assert meetings["spring-sunday"].starts_at == utc(2027, 3, 29, 17, 0)
    assert meetings["autumn-monday"].starts_at == utc(2027, 11, 1, 18, 0)


def test_days_and_hours_differ_across_a_dst_change(write_campaign: Callable[..., Path],
                                                   settings: Settings) -> None:
    plan = plan_campaign(write_campaign(DST_FILE.replace("2027-03-29 19:00", "2027-03-28 19:00")), settings)
    due = {p.source_key: p.due_at for p in plan.posts}
    assert due["day-before/spring-sunday"] == utc(2027, 3, 27, 18, 0)  # Saturday 19:00 CET
    assert due["hours-before/spring-sunday"] == utc(2027, 3, 27, 17, 0)  # Saturday 18:00 CET = 24 h before


def test_recurring_rule_across_dst(write_campaign: Callable[..., Path], settings: Settings) -> None:
    text = HEADER + """\
posts:
  - id: tip
    cron: "0 16 * * sun"
    from: 2027-03-21
    until: 2027-04-04
    text: {nl: "Tip op {{ due | date }}", en: "Tip on {{ due | date }}"}
"""
    plan = plan_campaign(write_campaign(text), settings)
    nl = sorted((p.due_at, p.source_key, p.text) for p in plan.posts if p.language == "nl")
    assert nl == [
        (utc(2027, 3, 21, 15, 0), "tip/2027-03-21-1600", "Tip op zondag 21 maart"),
        (utc(2027, 3, 28, 14, 0), "tip/2027-03-28-1600", "Tip op zondag 28 maart"),  # DST day
        (utc(2027, 4, 4, 14, 0), "tip/2027-04-04-1600", "Tip op zondag 4 april"),  # `until` is inclusive
    ]
    assert {p.language for p in plan.posts} == {"nl", "en"}  # the text's languages


def test_recurring_rule_with_crontab_weekday_numbers(write_campaign: Callable[..., Path],
                                                     settings: Settings) -> None:
    text = HEADER + """\
posts:
  - id: tip
    cron: "30 9 * * 1-5"
    from: 2027-03-05 12:00
    until: 2027-03-09 09:30
    text: {nl: tip}
"""
    plan = plan_campaign(write_campaign(text), settings)
    # crontab 1-5 is Monday..Friday; from Friday noon (after 09:30) to Tuesday 09:30 inclusive.
    assert [p.due_at for p in sorted(plan.posts, key=lambda p: p.due_at)] == [
        utc(2027, 3, 8, 8, 30), utc(2027, 3, 9, 8, 30)]


def test_date_filters_per_language(write_campaign: Callable[..., Path], settings: Settings) -> None:
    languages = ["nl", "tr", "ar", "zgh", "tzm", "so", "ti", "en"]
    texts = "\n".join(f'      {lang}: "{{{{ meeting.start | date }}}}, {{{{ meeting.start | time }}}}"'
                      for lang in languages)
    text = HEADER + f"""\
meetings:
  - id: m
    organisation: SMN
    community: c
    city: Amsterdam
    venue: v
    start: 2027-03-28 19:30
    languages: [{", ".join(languages)}]
posts:
  - id: a
    at: {{days: 0}}
    text:
{texts}
"""
    plan = plan_campaign(write_campaign(text), settings)
    assert {p.language: p.text for p in plan.posts} == {
        "nl": "zondag 28 maart, 19:30",
        "tr": "28 Mart Pazar, 19:30",
        "ar": "الأحد 28 مارس, 19:30",
        "zgh": "ⴰⵙⴰⵎⴰⵙ 28 ⵎⴰⵕⵚ, 19:30",
        "tzm": "Asamas 28 Mars, 19:30",
        "so": "Axad, 28 Maarso, 19:30",
        "ti": "ሰንበት 28 መጋቢት, 19:30",
        "en": "Sunday 28 March, 19:30",
    }


def test_languages_rule_override_and_kind_filter(write_campaign: Callable[..., Path],
                                                 settings: Settings) -> None:
    text = HEADER + """\
meetings:
  - {id: a, organisation: iot, community: c, city: Rotterdam, venue: v, start: 2027-03-12 19:00,
     languages: [nl, tr]}
  - {id: b, kind: training, organisation: SMN, community: c, city: Utrecht, venue: v,
     start: 2027-03-13 10:00, languages: [nl]}
posts:
  - id: only-dutch
    at: {days: -1, time: "09:00"}
    languages: [nl]
    text: {nl: "{{ meeting.organisation_name }}"}
  - id: community-only
    at: {days: 1}
    kinds: [community]
    text: {nl: x, tr: y}
"""
    plan = plan_campaign(write_campaign(text), settings)
    assert sorted((p.source_key, p.language, p.text) for p in plan.posts) == [
        ("community-only/a", "nl", "x"), ("community-only/a", "tr", "y"),
        ("only-dutch/a", "nl", "Inspraakorgaan Turken"),  # organisation codes match case-insensitively
        ("only-dutch/b", "nl", "Samenwerkingsverband Marokkaanse Nederlanders"),
    ]


# -- UTM ----------------------------------------------------------------------------------------


def test_tag_url_keeps_query_and_fragment() -> None:
    assert tag_url("https://x.example/a?lang=nl#top", source="mastodon", campaign="c") == (
        "https://x.example/a?lang=nl&utm_source=mastodon&utm_medium=social&utm_campaign=c#top")
    assert tag_url("https://x.example/", source="bluesky", campaign="c") == (
        "https://x.example/?utm_source=bluesky&utm_medium=social&utm_campaign=c")
    already = "https://x.example/?utm_source=poster&utm_campaign=print"
    assert tag_url(already, source="mastodon", campaign="c") == already


def test_tag_text_leaves_punctuation_outside_the_url() -> None:
    text = "Kijk op https://x.example/a. Of (https://x.example/b?x=1), of https://x.example/wiki/A_(b)!"
    assert tag_text(text, source="threads", campaign="c") == (
        "Kijk op https://x.example/a?utm_source=threads&utm_medium=social&utm_campaign=c. "
        "Of (https://x.example/b?x=1&utm_source=threads&utm_medium=social&utm_campaign=c), "
        "of https://x.example/wiki/A_(b)?utm_source=threads&utm_medium=social&utm_campaign=c!")


def test_utm_per_channel_and_switch_off(write_campaign: Callable[..., Path], settings: Settings) -> None:
    text = HEADER + """\
posts:
  - id: a
    at: 2027-03-01 10:00
    link: https://x.example/p?id=1
    channels: [peer-mastodon, peer-linkedin]
    text: {nl: "Lees https://x.example/q en {{ link }}"}
  - id: b
    at: 2027-03-01 11:00
    utm: false
    link: https://x.example/p
    text: {nl: "Lees {{ link }}"}
"""
    plan = plan_campaign(write_campaign(text), settings)
    posts = {(p.source_key, p.channel): p for p in plan.posts}
    linkedin = posts["a", "peer-linkedin"]
    assert linkedin.link == "https://x.example/p?id=1&utm_source=linkedin&utm_medium=social&utm_campaign=t"
    assert linkedin.text == ("Lees https://x.example/q?utm_source=linkedin&utm_medium=social&utm_campaign=t "
                             "en https://x.example/p?id=1&utm_source=linkedin&utm_medium=social&utm_campaign=t")
    assert "utm_source=mastodon" in posts["a", "peer-mastodon"].text
    assert posts["b", "peer-mastodon"].text == "Lees https://x.example/p"
    assert posts["b", "peer-mastodon"].link == "https://x.example/p"


# -- shifting the timeline ----------------------------------------------------------------------


def test_shift_moves_posts_meetings_and_texts(write_campaign: Callable[..., Path], settings: Settings) -> None:
    text = HEADER + """\
meetings:
  - {id: m, organisation: IOT, community: c, city: Rotterdam, venue: v, start: 2027-03-12 19:00,
     languages: [nl]}
posts:
  - id: a
    at: {days: -1, time: "12:00"}
    text: {nl: "{{ meeting.start | date }}"}
"""
    file = write_campaign(text)
    plain = plan_campaign(file, settings)
    shifted = plan_campaign(file, settings, shift=timedelta(days=2))
    assert plain.posts[0].text == "vrijdag 12 maart" and shifted.posts[0].text == "zondag 14 maart"
    assert shifted.posts[0].due_at == plain.posts[0].due_at + timedelta(days=2)
    assert shifted.meetings[0].starts_at == plain.meetings[0].starts_at + timedelta(days=2)
    assert shifted.posts[0].source_key == plain.posts[0].source_key  # keys stay stable


def test_shift_to_now_makes_the_earliest_post_due_after_the_lead(settings: Settings) -> None:
    now = utc(2026, 1, 15, 12, 0, 0)
    shift = shift_to_now(EXAMPLE, now, settings=settings)
    plan = plan_campaign(EXAMPLE, settings, shift=shift)
    assert plan.earliest_due() == now + timedelta(seconds=10)
    assert shift_to_now(plan, now, lead=timedelta(seconds=30)) == shift + timedelta(seconds=20)
    first = [p for p in plan.posts if p.due_at == plan.earliest_due()]
    assert {p.source_key for p in first} == {"kickoff", "video"}  # the meeting video goes out with the kickoff


def test_format_plan_shows_local_time(write_campaign: Callable[..., Path], settings: Settings) -> None:
    text = HEADER + """\
posts:
  - id: a
    at: 2027-03-28 10:00
    approval: none
    text: {nl: "Hallo"}
"""
    assert format_plan(plan_campaign(write_campaign(text), settings)) == [
        "2027-03-28 10:00 CEST · a · peer-mastodon · nl · no review · Hallo"]


def test_content_hash_ignores_the_time(write_campaign: Callable[..., Path], settings: Settings) -> None:
    text = HEADER + "posts:\n  - {id: a, at: 2027-03-28 10:00, text: {nl: Hallo}}\n"
    first = plan_campaign(write_campaign(text, "a.yaml"), settings).posts[0]
    later = plan_campaign(write_campaign(text.replace("10:00", "11:00"), "b.yaml"), settings).posts[0]
    changed = plan_campaign(write_campaign(text.replace("Hallo", "Hoi"), "c.yaml"), settings).posts[0]
    assert first.content_hash == later.content_hash != changed.content_hash
    assert first.due_at != later.due_at


def test_recurring_rule_on_the_night_the_clocks_go_back(write_campaign: Callable[..., Path],
                                                         settings: Settings) -> None:
    """2027-10-31 Europe/Amsterdam: 02:00-02:59 happens twice (CEST, then CET). A rule fires once per
    local day and time: at the first 02:30 (summer time, 00:30 UTC); one post, one key."""
    text = HEADER + """\
posts:
  - id: night
    cron: "30 2 * * *"
    from: 2027-10-30
    until: 2027-11-01
    text: {nl: "Nachtpost {{ due | time }}"}
"""
    plan = plan_campaign(write_campaign(text), settings)
    assert sorted((p.source_key, p.due_at) for p in plan.posts) == [
        ("night/2027-10-30-0230", utc(2027, 10, 30, 0, 30)),  # CEST
        ("night/2027-10-31-0230", utc(2027, 10, 31, 0, 30)),  # the first 02:30, still CEST; not 01:30 UTC too
        ("night/2027-11-01-0230", utc(2027, 11, 1, 1, 30)),  # CET
    ]
    assert len({p.key for p in plan.posts}) == len(plan.posts)


def test_recurring_rule_every_half_hour_through_the_repeated_hour(write_campaign: Callable[..., Path],
                                                                  settings: Settings) -> None:
    text = HEADER + """\
posts:
  - id: often
    cron: "*/30 1-3 * * *"
    from: 2027-10-31
    until: 2027-10-31
    text: {nl: "Post"}
"""
    plan = plan_campaign(write_campaign(text), settings)
    assert [(p.source_key[-4:], p.due_at.strftime("%H:%M")) for p in sorted(plan.posts, key=lambda p: p.due_at)] == [
        ("0100", "23:00"), ("0130", "23:30"), ("0200", "00:00"), ("0230", "00:30"),  # CEST
        ("0300", "02:00"), ("0330", "02:30")]  # CET; 02:00 and 02:30 CET are the same local times again


def test_any_key_collision_is_found_before_the_database(example) -> None:  # type: ignore[no-untyped-def]
    """The planner reports every key collision as a file:line problem (see `run`); the finder itself:"""
    from outreach.planning.expand import key_collisions

    assert key_collisions(example.posts) == []
    again = dataclasses.replace(example.posts[3], text="anders")
    assert key_collisions([*example.posts, again]) == [(example.posts[3], again)]


def test_spring_forward_time_that_does_not_exist(write_campaign: Callable[..., Path], settings: Settings) -> None:
    """2027-03-28: 02:30 does not exist; the post goes at 03:30 summer time (01:30 UTC), once, even for
    a rule that also fires at 03:30."""
    text = HEADER + """\
posts:
  - id: spring
    cron: "30 2,3 * * *"
    from: 2027-03-28
    until: 2027-03-28
    text: {nl: "Post"}
"""
    plan = plan_campaign(write_campaign(text), settings)
    assert sorted((p.source_key, p.due_at) for p in plan.posts) == [("spring/2027-03-28-0330", utc(2027, 3, 28, 1, 30))]
