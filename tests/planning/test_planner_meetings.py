"""The meetings the planner offers: those to come and just held, found in the database (a search, earlier ones
on request), never the whole history; a meeting asked for is always there."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from outreach.db.models import Campaign, Meeting, Organisation
from outreach.domain import MeetingKind
from outreach.planning.dashboard_posts import find_meetings, meeting_choices

NOW = datetime(2027, 6, 1, 12, tzinfo=UTC)


def add_meetings(db, days: list[int], *, city: str = "Rotterdam", org: str = "IOT") -> list[int]:  # type: ignore[no-untyped-def]
    """Meetings `days` from NOW (negative: held), in one campaign of `org`; their ids in the same order."""
    with db.write() as s:
        organisation = Organisation(code=org, name=f"{org} landelijk")
        campaign = Campaign(slug=f"{org.lower()}-{city.lower()}", name=f"{org} in {city}", timezone="Europe/Amsterdam")
        s.add_all([organisation, campaign])
        s.flush()
        meetings = [Meeting(campaign_id=campaign.id, key=f"{org.lower()}-{city.lower()}-{day}", kind=MeetingKind.COMMUNITY.value,
                            organisation_id=organisation.id, community="Turkish", city=city, venue="Buurthuis 100%",
                            starts_at=NOW + timedelta(days=day), languages=["nl", "tr"])
                    for day in days]
        s.add_all(meetings)
        s.flush()
        return [m.id for m in meetings]


def test_by_default_the_meetings_to_come_soonest_first_then_the_last_thirty_days(sqlite_db) -> None:  # type: ignore[no-untyped-def]
    ids = dict(zip([-400, -31, -29, -2, 1, 5, 300], add_meetings(sqlite_db, [-400, -31, -29, -2, 1, 5, 300]),
                   strict=True))
    found = find_meetings(sqlite_db, now=NOW)
    assert [m.id for m in found.meetings] == [ids[1], ids[5], ids[300], ids[-2], ids[-29]]
    assert found.total == 5 and not found.kept
    earlier = find_meetings(sqlite_db, now=NOW, earlier=True)
    assert [m.id for m in earlier.meetings] == [ids[-31], ids[-400]] and earlier.total == 2  # latest first
    assert len(meeting_choices(sqlite_db)) == 7  # everything, for whoever asks for everything


def test_the_list_is_capped_and_says_how_many_there_are(sqlite_db) -> None:  # type: ignore[no-untyped-def]
    add_meetings(sqlite_db, list(range(1, 31)) + [-1, -2, -3])
    found = find_meetings(sqlite_db, now=NOW, limit=10)
    assert [round((m.starts_at - NOW).days) for m in found.meetings] == [*range(1, 11), -1, -2, -3]
    assert found.total == 33


def test_a_search_asks_the_database_word_by_word_in_any_case(sqlite_db) -> None:  # type: ignore[no-untyped-def]
    rotterdam = add_meetings(sqlite_db, [3, -60])
    utrecht = add_meetings(sqlite_db, [4, -90], city="Utrecht", org="SMN")
    assert [m.id for m in find_meetings(sqlite_db, now=NOW, search="utrecht").meetings] == utrecht[:1]
    assert [m.id for m in find_meetings(sqlite_db, now=NOW, search="smn UTRECHT", earlier=True).meetings] == utrecht[1:]
    assert [m.id for m in find_meetings(sqlite_db, now=NOW, search="iot-rotterdam-3").meetings] == rotterdam[:1]
    assert [m.id for m in find_meetings(sqlite_db, now=NOW, search="landelijk rotterdam").meetings] == rotterdam[:1]
    assert find_meetings(sqlite_db, now=NOW, search="Rotterdam Utrecht").total == 0  # every word must be found
    assert find_meetings(sqlite_db, now=NOW, search="buurthuis 1%").total == 0  # % is a character, not a wildcard
    assert find_meetings(sqlite_db, now=NOW, search="buurthuis 100%").total == 2


def test_a_meeting_asked_for_is_offered_outside_the_range_and_the_search(sqlite_db) -> None:  # type: ignore[no-untyped-def]
    old, soon = add_meetings(sqlite_db, [-400, 2])
    found = find_meetings(sqlite_db, now=NOW, keep=(old, soon))
    assert [m.id for m in found.meetings] == [soon] and [m.id for m in found.kept] == [old]
    assert [m.id for m in found.choices] == [soon, old] and found.total == 1
    assert [m.id for m in find_meetings(sqlite_db, now=NOW, search="nothing", keep=(old,)).choices] == [old]
