"""One youth definition (`[youth] young`), used alike by the dashboard's loaders, the report and the archive."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from outreach import analytics
from outreach.analytics import Filters
from outreach.archive.figures import gather_figures
from outreach.config import parse_settings
from outreach.db.models import Campaign, Meeting, MeetingOutcome, Organisation
from outreach.domain import MeetingKind
from outreach.harvest.settings import harvest_settings

NOW = datetime(2026, 6, 1, tzinfo=UTC)


def seed(db) -> None:  # type: ignore[no-untyped-def]
    with db.write() as s:
        org, camp = Organisation(code="IOT", name="IOT"), Campaign(slug="a", name="A", timezone="UTC")
        s.add_all([org, camp])
        s.flush()
        m = Meeting(campaign_id=camp.id, key="m1", kind=MeetingKind.COMMUNITY.value, organisation_id=org.id,
                    community="Turkish", city="Rotterdam", venue="x", starts_at=NOW - timedelta(days=9), themes=[])
        s.add(m)
        s.flush()
        s.add(MeetingOutcome(meeting_id=m.id, age_under_18=20, age_18_24=30, age_25_34=40, age_35_plus=10,
                             age_unknown=0, gender_woman=50, gender_man=50))


def test_the_configured_youth_range_is_what_every_output_counts(sqlite_db) -> None:  # type: ignore[no-untyped-def]
    seed(sqlite_db)
    settings = parse_settings({"youth": {"young": "18-24"}}, source="<test>", environ={})
    hs = harvest_settings(settings)
    window = Filters(start=NOW - timedelta(days=30), end=NOW)
    dashboard = analytics.meetings_progress(sqlite_db, now=NOW, filters=window, hs=hs).young_attendance
    rows = analytics.meeting_rows(sqlite_db, filters=window, hs=hs)
    report = gather_figures(sqlite_db, settings, start=window.start, end=window.end, now=NOW, top=0)
    assert dashboard.value == 30  # only the 18-24 group: under-18s are not young under this setting
    assert rows[0]["young"] == "30"
    assert report.attendance_youth.value == 30 and report.organisations[0].youth_offline.value == 30
    assert report.programme.young == "18-24"
