"""Ratios whose parts match (each with its basis) and targets that fit the view."""

from __future__ import annotations

from datetime import timedelta

import pytest

from outreach import analytics
from outreach.analytics import Filters
from outreach.db.models import Meeting
from outreach.domain import MeetingKind
from outreach.harvest.settings import HarvestSettings, parse_harvest_settings
from tests.test_analytics import NOW, programme  # noqa: F401  (the fixture)


def test_engagement_rate_counts_only_posts_that_report_reach(programme) -> None:  # noqa: F811  # type: ignore[no-untyped-def]
    db, _ = programme
    rate = analytics.ratios(db).engagement_rate
    # instagram 1000 reach / 45 engagement, threads 500 / 20, small instagram 7 / 2; Mastodon's 15 has no reach
    assert rate.denominator.value == 1507 and rate.numerator.value == 67
    assert rate.value == pytest.approx(67 / 1507)
    assert rate.basis_posts == 3 and rate.platforms == ("instagram", "threads")


def test_youth_share_counts_only_posts_with_age_data(programme) -> None:  # noqa: F811  # type: ignore[no-untyped-def]
    db, _ = programme
    share = analytics.ratios(db).youth_share
    # measured 120 of 500 (threads) + estimated 400 of 1000 and 3 of 7 (instagram)
    assert share.numerator.value == 523 and share.denominator.value == 1507
    assert share.basis_posts == 3
    only_ig = analytics.ratios(db, filters=Filters(platform="instagram")).youth_share
    assert only_ig.value == pytest.approx(403 / 1007) and only_ig.platforms == ("instagram",)


def test_a_ratio_over_a_small_count_is_not_shown(programme) -> None:  # noqa: F811  # type: ignore[no-untyped-def]
    db, _ = programme
    rate = analytics.ratios(db, filters=Filters(campaign="b")).engagement_rate
    assert rate.value is None and rate.numerator.display == "<10"  # 2/7 would give the 2 away


def test_the_plan_is_prorated_for_the_period_shown(programme) -> None:  # noqa: F811  # type: ignore[no-untyped-def]
    db, _ = programme
    start = NOW - timedelta(days=365.25 * 2)
    hs = HarvestSettings(meetings_target=700, programme_start=start)
    year = Filters(start=NOW - timedelta(days=365.25), end=NOW + timedelta(days=1))
    progress = analytics.meetings_progress(db, now=NOW, filters=year, hs=hs)
    assert progress.plan == pytest.approx(140, rel=0.01)  # a fifth of 700 for one year
    assert progress.on_track is False  # 2 held against ~140


def test_one_organisation_gets_its_share_and_a_verdict_only_with_its_own_plan(programme) -> None:  # noqa: F811  # type: ignore[no-untyped-def]
    db, _ = programme
    with db.write() as s:
        s.add(Meeting(campaign_id=1, key="m9", kind=MeetingKind.COMMUNITY.value, organisation_id=1,
                      community="x", city="x", venue="x", starts_at=NOW - timedelta(days=2)))
    start = NOW - timedelta(days=365.25)
    hs = HarvestSettings(meetings_target=10, programme_start=start)
    iot = analytics.meetings_progress(db, now=NOW, filters=Filters(organisation="IOT"), hs=hs)
    assert (iot.held, iot.alliance_held) == (2, 3) and iot.share_of_alliance == pytest.approx(2 / 3)
    assert iot.plan is None and iot.on_track is None  # no plan for IOT: no verdict
    planned = parse_harvest_settings({"programme": {"meetings_target": 10, "start": start.isoformat(),
                                                    "organisation_targets": {"IOT": 5}}})
    iot = analytics.meetings_progress(db, now=NOW, filters=Filters(organisation="IOT"), hs=planned)
    assert iot.plan == pytest.approx(5) and iot.expected_by_now == pytest.approx(1.0) and iot.on_track is True
