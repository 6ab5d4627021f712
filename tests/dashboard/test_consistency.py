"""Dashboard, report and archive give the same figures, for several filter combinations
(organisation, period, platform), on the seeded synthetic history: with the monthly rollup up to date, and
with months a harvest changed after its last refresh (read from the posts); posts and reach also against
sums taken here straight from the posts."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import func, select

from dashboard import loaders
from outreach import rollup
from outreach.analytics import Dimension, Filters
from outreach.archive import export_archive
from outreach.archive.figures import gather_figures
from outreach.db.models import Meeting, Organisation, Post, PostMetricsLatest
from outreach.harvest import storage
from outreach.harvest.values import ReachKind


def combinations(seeded) -> list[tuple[str | None, int | None, str | None]]:  # type: ignore[no-untyped-def]
    options = loaders.filter_options()
    org_a, org_b = options.organisations[0], options.organisations[-1]
    year, earlier = options.years[1], options.years[2]
    platform = "instagram" if "instagram" in options.platforms else options.platforms[0]
    return [(None, None, None), (org_a, None, None), (org_b, year, None), (None, earlier, platform),
            (org_a, year, platform), (org_b, None, "facebook")]


def window(year: int | None) -> tuple[datetime, datetime]:
    if year is None:
        return datetime(2000, 1, 1, tzinfo=UTC), datetime(2100, 1, 1, tzinfo=UTC)
    return datetime(year, 1, 1, tzinfo=UTC), datetime(year + 1, 1, 1, tzinfo=UTC)


def harvest_without_refresh(db) -> None:  # type: ignore[no-untyped-def]
    """The harvester's own writes (snapshots, latest values, estimates) for every 7th published post, new
    reach and watch time, without the refresh that follows a pass: those months are stale in the rollup."""
    with db.session() as s:
        ids = s.scalars(select(Post.id).where(Post.status == "published").order_by(Post.id)).all()[::7]
    at = int(datetime.now(UTC).timestamp())
    values = {pid: {"reach": 40 + pid % 500, "views": 90 + pid % 700, "likes": pid % 13, "watch_time_s": pid % 3 * 60}
              for pid in ids}
    with db.engine.begin() as conn:
        storage.append_snapshots(conn, [storage.snapshot_row(pid, at, v, {"x": 1}) for pid, v in values.items()])
        storage.upsert_rollup(conn, [{"post_id": pid, "captured_at": at, **v} for pid, v in values.items()])
    assert len(rollup.stale_months(db)) > 3


def straight_from_posts(db, start, end, org, platform) -> tuple[int, int]:  # type: ignore[no-untyped-def]
    """(published posts, summed reach) in the view, one SQL query over the posts written here."""
    query = (select(func.count(Post.id), func.coalesce(func.sum(PostMetricsLatest.reach), 0)).select_from(Post)
             .outerjoin(PostMetricsLatest, PostMetricsLatest.post_id == Post.id)
             .outerjoin(Meeting, Meeting.id == Post.meeting_id)
             .outerjoin(Organisation, Organisation.id == Meeting.organisation_id)
             .where(Post.status == "published", Post.published_at >= start, Post.published_at < end))
    if org:
        query = query.where(Organisation.code == org)
    if platform:
        query = query.where(Post.platform == platform)
    with db.session() as s:
        posts, reach = s.execute(query).one()
    return int(posts), int(reach)


@pytest.mark.parametrize("stale", [False, True], ids=["rollup-current", "months-stale"])
def test_dashboard_report_and_archive_agree(seeded, tmp_path: Path, stale: bool) -> None:  # type: ignore[no-untyped-def]
    settings = loaders.settings()
    db = loaders.database()
    now = datetime.now(UTC)
    checked = 0
    if stale:
        harvest_without_refresh(db)
    else:
        assert rollup.stale_months(db) == set()
    for org, year, platform in combinations(seeded):
        start, end = window(year)
        view = Filters(start=start, end=end, organisation=org)
        report = gather_figures(db, settings, start=start, end=end, organisation=org, now=now, top=5, cards=False)
        dashboard = loaders.overview(view)
        posts, reach = straight_from_posts(db, start, end, org, None)
        assert dashboard.totals.posts == posts, (org, year)
        assert dashboard.totals.reach.value in (reach, None), (org, year)  # None: "<10"
        by_platform = {t.key: t for t in loaders.totals(view, Dimension.PLATFORM)}
        assert report.posts_published == dashboard.totals.posts, (org, year)
        assert {r.platform: r.watch_time_h for r in report.reach} == \
            {k: t.watch_time_h for k, t in by_platform.items()}, (org, year)  # hours of YouTube's videos, None elsewhere
        assert report.reach_total == dashboard.totals.reach, (org, year)
        assert report.meetings_held == dashboard.meetings.held, (org, year)
        assert [p.post_id for p in report.top_posts] == [p.post_id for p in loaders.top_posts(view, 5)]
        assert report.attendance_youth.value == dashboard.meetings.young_attendance.value, (org, year)
        assert report.meetings_held + report.meetings_planned == dashboard.meetings.planned, (org, year)
        assert sum(report.meetings_by_month.values()) == report.meetings_held, (org, year)
        assert report.meetings_with_outcome == dashboard.meetings.with_outcome, (org, year)
        assert report.attendance.value in (dashboard.meetings.attendance.value, None), (org, year)  # None: "×"
        if dashboard.meetings.attendance.value is not None and report.attendance.value is not None:
            assert report.attendance.value == sum(o.attendance.value or 0 for o in report.organisations) or any(
                o.attendance.value is None for o in report.organisations), (org, year)
        whole = loaders.overview(Filters(end=end, organisation=org)).meetings
        assert report.meetings_held_to_date == whole.held, (org, year)
        if platform:
            row = next((r for r in report.reach if r.platform == platform), None)
            alone = loaders.overview(Filters(start=start, end=end, organisation=org, platform=platform)).totals
            assert (row.posts if row else 0) == alone.posts, (org, year, platform)
            if row is not None:
                same = by_platform[platform]
                assert (row.reach, row.engagement, row.youth_measured, row.youth_estimated) == \
                    (same.reach, same.engagement, same.youth.get(ReachKind.MEASURED),
                     same.youth.get(ReachKind.ESTIMATED)), (org, year, platform)
                assert row.reach.value in (alone.reach.value, None)  # "×" beside a "<10" platform in the table
                assert row.watch_time_h == same.watch_time_h == alone.watch_time_h, (org, year, platform)
        if year is not None and checked < 2:  # two full exports: the archive counts the same posts and meetings
            bag = export_archive(db, settings, tmp_path / f"bag{checked}", start=start, end=end, organisation=org,
                                 report=False, pdf=False, now=now)
            assert bag.counts["posts_published"] == dashboard.totals.posts, (org, year)
            meetings = loaders.count_meetings(view, None)  # what the Meetings page counts ("50 van 154 ...")
            assert bag.counts["meetings"] == meetings == len(loaders.meetings(view, None)), (org, year)
        checked += 1
    assert checked >= 5
