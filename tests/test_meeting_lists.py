"""The meeting lists read a page, one meeting or a grouped summary in SQL, and give what the whole list gives:
pages of `meeting_rows` put together are the list, `count_meetings` its length, `campaign_meetings` its
per-campaign count and mean evaluation; the filter bar's years are the meetings' years (SQLite and PostgreSQL)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal

import pytest
from sqlalchemy import select

from outreach import analytics
from outreach.analytics import Filters
from outreach.db.models import Meeting
from outreach.harvest.synthetic import generate_history

START = datetime(2025, 1, 6, tzinfo=UTC)


@pytest.fixture(params=["sqlite", "postgresql"])
def history(request):  # type: ignore[no-untyped-def]
    """Three years of the synthetic programme (about 50 meetings), written as the generator writes it."""
    db = request.getfixturevalue("sqlite_db" if request.param == "sqlite" else "pg_db")
    generate_history(db, years=3, scale=0.07, start=START)
    return db


def views(db) -> list[Filters]:  # type: ignore[no-untyped-def]
    options = analytics.filter_options(db)
    year = options.years[1]
    return [Filters(), Filters(organisation=options.organisations[0]),
            Filters(start=datetime(year, 1, 1, tzinfo=UTC), end=datetime(year + 1, 1, 1, tzinfo=UTC)),
            Filters(campaign=options.campaigns[-1], community=options.communities[0])]


def test_pages_put_together_are_the_whole_list_newest_first(history) -> None:  # type: ignore[no-untyped-def]
    db = history
    with db.write() as s:  # two meetings at the same moment: the order (and so each page) must still be fixed
        first, second = s.scalars(select(Meeting).order_by(Meeting.id).limit(2)).all()
        second.starts_at = first.starts_at
    for view in views(db):
        whole = analytics.meeting_rows(db, filters=view)
        assert whole and analytics.count_meetings(db, filters=view) == len(whole), view
        pages = [analytics.meeting_rows(db, filters=view, limit=7, offset=at) for at in range(0, len(whole), 7)]
        assert [len(p) for p in pages[:-1]] == [7] * (len(pages) - 1)
        assert [r for p in pages for r in p] == whole, view
        starts = [r["starts_at"] for r in whole]
        assert starts == sorted(starts, reverse=True)
    assert analytics.meeting_rows(db, filters=Filters(), limit=5, offset=10_000) == []
    assert analytics.count_meetings(db, filters=Filters(organisation="nobody")) == 0


def test_one_meeting_by_id_is_its_row_of_the_list_and_only_in_its_filters(history) -> None:  # type: ignore[no-untyped-def]
    db = history
    whole = analytics.meeting_rows(db, filters=Filters())
    oldest, newest = whole[-1], whole[0]
    assert analytics.meeting_rows(db, filters=Filters(), meeting_id=oldest["id"]) == [oldest]
    own = Filters(organisation=oldest["organisation"])
    assert analytics.meeting_rows(db, filters=own, meeting_id=oldest["id"]) == [oldest]
    other = next(o for o in analytics.filter_options(db).organisations if o != oldest["organisation"])
    assert analytics.meeting_rows(db, filters=Filters(organisation=other), meeting_id=oldest["id"]) == []
    after = Filters(start=newest["starts_at"] - timedelta(days=1))
    assert analytics.meeting_rows(db, filters=after, meeting_id=oldest["id"]) == []


def test_campaign_summary_is_what_the_rows_give(history) -> None:  # type: ignore[no-untyped-def]
    db = history
    for view in views(db):
        rows = analytics.meeting_rows(db, filters=view)
        expected = {}
        for slug in sorted({r["campaign"] for r in rows}):
            mine = [r for r in rows if r["campaign"] == slug]
            scores = [Decimal(str(r["evaluation"])) for r in mine if r["evaluation"] is not None]
            average = (sum(scores) / len(scores)).quantize(Decimal("0.1"), ROUND_HALF_UP) if scores else None
            expected[slug] = (len(mine), None if average is None else float(average))
        summary = analytics.campaign_meetings(db, filters=view)
        assert [r["name"].casefold() for r in summary] == sorted(r["name"].casefold() for r in summary), view
        assert {r["campaign"]: (r["meetings"], r["evaluation"]) for r in summary} == expected, view
        assert all(r["name"] and r["name"] != r["campaign"] for r in summary)  # the campaign's name to show


def test_the_years_offered_are_the_years_meetings_start_in(history) -> None:  # type: ignore[no-untyped-def]
    db = history
    years = sorted({r["starts_at"].year for r in analytics.meeting_rows(db, filters=Filters())}, reverse=True)
    assert analytics.filter_options(db).years == tuple(years) and len(years) >= 2
