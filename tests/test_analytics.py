"""Analytics on hand-built data: youth reach per kind (never silently mixed), privacy suppression
of small counts everywhere, meetings against the plan, top posts, attention, schedule."""

from __future__ import annotations

import hashlib
import uuid
from dataclasses import fields
from datetime import UTC, datetime, timedelta

import pytest

from outreach import analytics
from outreach.analytics import Dimension, Filters
from outreach.db.models import Campaign, Meeting, MeetingOutcome, Organisation, Post
from outreach.domain import MeetingKind, PostStatus
from outreach.harvest import Count, HarvestSettings, ReachKind
from outreach.harvest.storage import upsert_rollup, upsert_youth_estimates

NOW = datetime(2027, 6, 1, 12, tzinfo=UTC)


def add_post(db, *, campaign_id: int | None, meeting_id: int | None, platform: str, channel: str,  # type: ignore[no-untyped-def]
             language: str = "nl", status: PostStatus = PostStatus.PUBLISHED, published: datetime | None = None,
             due: datetime | None = None, error: str | None = None) -> int:
    published = published or NOW - timedelta(days=10)
    with db.write() as s:
        post = Post(campaign_id=campaign_id, meeting_id=meeting_id, source_key=f"t/{uuid.uuid4().hex[:8]}",
                    channel=channel, platform=platform, language=language, text=f"post on {channel}", media=[],
                    content_hash=hashlib.sha256(b"x").hexdigest(), due_at=due or published, status=status.value,
                    idempotency_key=str(uuid.uuid4()), last_error=error,
                    remote_id=uuid.uuid4().hex if status is PostStatus.PUBLISHED else None,
                    published_at=published if status is PostStatus.PUBLISHED else None)
        s.add(post)
        s.flush()
        return post.id


def metrics(db, post_id: int, *, estimate: tuple[float, int] | None = None, **values: int) -> None:  # type: ignore[no-untyped-def]
    with db.engine.begin() as conn:
        upsert_rollup(conn, [{"post_id": post_id, "captured_at": int(NOW.timestamp()), **values}])
        if estimate:
            share, estimated = estimate
            upsert_youth_estimates(conn, [{"post_id": post_id, "share": share, "estimated": estimated,
                                           "source_metric": "follower_demographics",
                                           "source_captured_at": int(NOW.timestamp()), "young": "13-24"}])


@pytest.fixture
def programme(sqlite_db):  # type: ignore[no-untyped-def]
    """Two organisations; campaign A (Rotterdam) with three kinds of youth reach; campaign B tiny."""
    db = sqlite_db
    with db.write() as s:
        iot, smn = Organisation(code="IOT", name="IOT"), Organisation(code="SMN", name="SMN")
        a, b = Campaign(slug="a", name="Campaign A", timezone="UTC"), Campaign(slug="b", name="Campaign B",
                                                                               timezone="UTC")
        s.add_all([iot, smn, a, b])
        s.flush()
        m1 = Meeting(campaign_id=a.id, key="m1", kind=MeetingKind.COMMUNITY.value, organisation_id=iot.id,
                     community="Turkish", city="Rotterdam", venue="x", starts_at=NOW - timedelta(days=9),
                     themes=["safety", "lgbti-acceptance"])
        m2 = Meeting(campaign_id=b.id, key="m2", kind=MeetingKind.COMMUNITY.value, organisation_id=smn.id,
                     community="Moroccan", city="Utrecht", venue="y", starts_at=NOW - timedelta(days=3),
                     themes=["safety"])
        s.add_all([m1, m2])
        s.flush()
        s.add(MeetingOutcome(meeting_id=m1.id, age_under_18=5, age_18_24=12, age_25_34=8, age_35_plus=3,
                             age_unknown=2, gender_woman=20, gender_man=10, evaluation=8.0))
        s.add(MeetingOutcome(meeting_id=m2.id, age_under_18=1, age_18_24=2, age_25_34=4, age_35_plus=0,
                             gender_woman=4, gender_man=3))
        ids = {"a": a.id, "b": b.id, "m1": m1.id, "m2": m2.id}
    ig = add_post(db, campaign_id=ids["a"], meeting_id=ids["m1"], platform="instagram", channel="peer-instagram")
    metrics(db, ig, reach=1000, likes=40, comments=5, estimate=(0.4, 400))
    measured = add_post(db, campaign_id=ids["a"], meeting_id=ids["m1"], platform="threads", channel="peer-threads",
                        language="tr")
    metrics(db, measured, reach=500, likes=20, youth_reach=120, estimate=(0.3, 150))  # measured wins
    masto = add_post(db, campaign_id=ids["a"], meeting_id=ids["m1"], platform="mastodon", channel="peer-mastodon")
    metrics(db, masto, likes=12, comments=3)
    small = add_post(db, campaign_id=ids["b"], meeting_id=ids["m2"], platform="instagram", channel="peer-instagram")
    metrics(db, small, reach=7, likes=2, estimate=(0.4, 3))
    ids.update(ig=ig, measured=measured, masto=masto, small=small)
    return db, ids


def by_key(rows):  # type: ignore[no-untyped-def]
    return {r.key: r for r in rows}


def test_youth_reach_per_post_for_each_kind(programme) -> None:  # type: ignore[no-untyped-def]
    db, ids = programme
    assert analytics.post_youth(db, ids["ig"]).kind is ReachKind.ESTIMATED
    assert analytics.post_youth(db, ids["ig"]).count.value == 400
    measured = analytics.post_youth(db, ids["measured"])
    assert measured.kind is ReachKind.MEASURED and measured.count.value == 120
    assert analytics.post_youth(db, ids["masto"]).kind is ReachKind.UNKNOWN


def test_youth_reach_per_campaign_keeps_kinds_apart(programme) -> None:  # type: ignore[no-untyped-def]
    db, _ = programme
    (a,) = analytics.totals(db, filters=Filters(campaign="a"))  # by campaign, B's "<10" hides A's reach
    assert a.posts == 3 and a.reach.value == 1500 and a.engagement.value == 40 + 5 + 20 + 12 + 3
    assert a.youth.get(ReachKind.MEASURED).value == 120
    assert a.youth.get(ReachKind.ESTIMATED).value == 400  # the measured post's estimate is not added
    assert a.youth.get(ReachKind.OFFLINE).value == 17  # 5 under 18 + 12 aged 18-24; unknown ages not counted
    assert a.youth.posts == {ReachKind.MEASURED: 1, ReachKind.ESTIMATED: 1, ReachKind.UNKNOWN: 1}
    assert ReachKind.UNKNOWN not in a.youth.by_kind  # unknown has no figure, only a post count
    assert not any(f.name in ("total", "youth_total") for f in fields(a.youth))  # no silent sum offered


def test_kinds_are_added_only_when_asked(programme) -> None:  # type: ignore[no-untyped-def]
    db, _ = programme
    only_a = Filters(campaign="a")
    assert analytics.youth_reach_combined(db, [ReachKind.MEASURED, ReachKind.ESTIMATED], filters=only_a).value == 520
    everything = analytics.youth_reach_combined(db, list(ReachKind)[:3], filters=only_a)
    assert everything.value == 537
    with pytest.raises(ValueError):
        analytics.youth_reach_combined(db, [ReachKind.UNKNOWN])


def test_offline_youth_reach_is_absent_where_it_cannot_apply(programme) -> None:  # type: ignore[no-untyped-def]
    db, _ = programme
    rows = by_key(analytics.totals(db, by=Dimension.PLATFORM))
    assert rows["instagram"].youth.get(ReachKind.OFFLINE).value is None
    overall = analytics.totals(db, filters=Filters(platform="threads"))[0]
    assert overall.youth.get(ReachKind.OFFLINE).value is None and overall.posts == 1


def test_breakdowns_by_every_dimension(programme) -> None:  # type: ignore[no-untyped-def]
    db, ids = programme
    assert set(by_key(analytics.totals(db, by=Dimension.ORGANISATION))) == {"IOT", "SMN"}
    cities = by_key(analytics.totals(db, by=Dimension.CITY))
    assert (cities["Rotterdam"].reach.display, cities["Utrecht"].reach.display) == ("×", "<10")
    assert by_key(analytics.totals(db, by=Dimension.LANGUAGE))["tr"].youth.get(ReachKind.MEASURED).value == 120
    themes = by_key(analytics.totals(db, by=Dimension.THEME))
    assert themes["lgbti-acceptance"].reach.value == 1500 and themes["safety"].posts == 4
    assert themes["safety"].youth.get(ReachKind.OFFLINE).value == 17 + 3  # both meetings' young attendees
    assert by_key(analytics.totals(db, by=Dimension.MEETING))[str(ids["m1"])].label == "m1"
    assert analytics.totals(db, filters=Filters(organisation="SMN"))[0].posts == 1
    assert analytics.totals(db, filters=Filters(start=NOW, end=NOW + timedelta(days=1))) == []


def test_small_counts_are_suppressed_everywhere(programme) -> None:  # type: ignore[no-untyped-def]
    db, ids = programme
    b = by_key(analytics.totals(db, by=Dimension.CAMPAIGN))["b"]
    for count in (b.reach, b.engagement, b.youth.get(ReachKind.ESTIMATED), b.youth.get(ReachKind.OFFLINE)):
        assert count.suppressed and count.value is None and count.display == "<10"
    assert analytics.post_youth(db, ids["small"]).count.display == "<10"
    a = by_key(analytics.totals(db, by=Dimension.CAMPAIGN))["a"]  # else the total 1507 minus A gives B away
    assert a.reach.display == "×" and a.reach.value is None and a.youth.get(ReachKind.OFFLINE).display == "×"
    series = analytics.timeseries(db, metric="reach", by=Dimension.CAMPAIGN)
    assert {p.key: p.value.display for p in series} == {"a": "×", "b": "<10"}
    offline = analytics.timeseries(db, metric="youth_offline", by=Dimension.CAMPAIGN)
    assert {p.key: p.value.display for p in offline} == {"a": "×", "b": "<10"}
    top = {p.post_id: p for p in analytics.top_posts(db)}
    assert top[ids["small"]].reach.display == "<10" and top[ids["small"]].youth.count.display == "<10"
    progress = analytics.meetings_progress(db, now=NOW, filters=Filters(campaign="b"))
    assert progress.attendance.display == "<10" and progress.young_attendance.display == "<10"
    looser = by_key(analytics.totals(db, by=Dimension.CAMPAIGN, hs=HarvestSettings(privacy_threshold=5)))["b"]
    assert looser.reach.value == 7 and looser.youth.get(ReachKind.ESTIMATED).display == "<5"


def test_count_display() -> None:
    assert Count.of(0).display == "0" and Count.of(None).display == "–" and Count.of(9.6).display == "10"
    assert str(Count.of(3)) == "<10" and Count.of(3).value is None and Count.of(1234).value == 1234


def test_meetings_against_the_plan(programme) -> None:  # type: ignore[no-untyped-def]
    db, ids = programme
    with db.write() as s:
        s.add(Meeting(campaign_id=ids["a"], key="t1", kind=MeetingKind.TRAINING.value, organisation_id=1,
                      community="x", city="x", venue="x", starts_at=NOW - timedelta(days=1)))
        s.add(Meeting(campaign_id=ids["a"], key="m3", kind=MeetingKind.COMMUNITY.value, organisation_id=1,
                      community="x", city="x", venue="x", starts_at=NOW + timedelta(days=30)))
    start = NOW - timedelta(days=365.25)  # one fifth into a five-year plan
    hs = HarvestSettings(meetings_target=10, programme_start=start)
    progress = analytics.meetings_progress(db, now=NOW, hs=hs)
    assert (progress.held, progress.planned, progress.with_outcome) == (2, 3, 2)  # training does not count
    assert progress.expected_by_now == pytest.approx(2.0) and progress.on_track
    behind = analytics.meetings_progress(db, now=NOW, hs=HarvestSettings(meetings_target=20, programme_start=start))
    assert behind.expected_by_now == pytest.approx(4.0) and not behind.on_track
    assert progress.attendance.value == 30 + 7 and progress.young_attendance.value == 17 + 3


def test_top_posts_attention_and_schedule(programme) -> None:  # type: ignore[no-untyped-def]
    db, ids = programme
    assert [p.post_id for p in analytics.top_posts(db, limit=2)] == [ids["ig"], ids["measured"]]
    assert analytics.top_posts(db, metric="engagement", limit=1)[0].engagement.value == 45
    failed = add_post(db, campaign_id=ids["a"], meeting_id=None, platform="mastodon", channel="peer-mastodon",
                      status=PostStatus.FAILED, error="rejected: text too long (HTTP 422)")
    later = add_post(db, campaign_id=ids["a"], meeting_id=None, platform="mastodon", channel="peer-mastodon",
                     status=PostStatus.APPROVED, due=NOW + timedelta(days=2))
    attention = analytics.needs_attention(db, now=NOW)
    assert [(a.what, a.post_id) for a in attention] == [("failed", failed)]
    assert "too long" in attention[0].message
    assert [u.post_id for u in analytics.upcoming(db, now=NOW)] == [later]
    assert analytics.upcoming(db, now=NOW, filters=Filters(platform="instagram")) == []
    assert analytics.count_upcoming(db, now=NOW) == 1
    assert analytics.count_upcoming(db, now=NOW, filters=Filters(platform="instagram")) == 0
    view = analytics.overview(db, now=NOW)
    assert view.totals.posts == 4 and view.upcoming[0].post_id == later and view.meetings.held == 2
    last = add_post(db, campaign_id=ids["a"], meeting_id=None, platform="mastodon", channel="peer-mastodon",
                    status=PostStatus.PENDING_REVIEW, due=NOW + timedelta(days=3))
    assert analytics.count_upcoming(db, now=NOW) == 2  # a page at a time, soonest first: "1 of 2", then the next
    assert [u.post_id for u in analytics.upcoming(db, now=NOW, limit=1)] == [later]
    assert [u.post_id for u in analytics.upcoming(db, now=NOW, limit=1, offset=1)] == [last]


def test_manual_posts_are_late_only_an_hour_after_their_time_and_each_item_comes_once(programme) -> None:  # type: ignore[no-untyped-def]
    from outreach.db.models import Approval, ChannelState

    db, ids = programme
    just_due = add_post(db, campaign_id=ids["a"], meeting_id=None, platform="manual", channel="whatsapp",
                        status=PostStatus.MANUAL_DUE, due=NOW - timedelta(minutes=10))
    late = add_post(db, campaign_id=ids["a"], meeting_id=None, platform="manual", channel="whatsapp",
                    status=PostStatus.MANUAL_DUE, due=NOW - analytics.MANUAL_LATE_AFTER - timedelta(minutes=1))
    rejected = add_post(db, campaign_id=ids["a"], meeting_id=None, platform="mastodon", channel="peer-mastodon",
                        status=PostStatus.REJECTED, due=NOW + timedelta(days=1))
    with db.write() as s:
        for when, reason in ((NOW - timedelta(days=2), "eerste versie"), (NOW - timedelta(days=1), "Turks klopt niet")):
            s.add(Approval(post_id=rejected, decision="rejected", reviewer="rita", reason=reason,
                           content_hash="x", decided_at=when))
        s.add(ChannelState(channel="peer-threads", token_expires_at=NOW + timedelta(days=3)))
    attention = {(a.what, a.post_id or a.channel): a for a in analytics.needs_attention(db, now=NOW)}
    assert set(attention) == {("manual_due", just_due), ("manual_overdue", late), ("rejected", rejected),
                              ("token_expiring", "peer-threads")}
    assert attention["manual_due", just_due].since == NOW - timedelta(minutes=10)
    assert attention["rejected", rejected].message == "Turks klopt niet"  # the latest review's reason
    assert attention["token_expiring", "peer-threads"].message == "token expires in 3 days"


def test_community_and_city_filters_narrow_the_figures(tmp_path) -> None:  # type: ignore[no-untyped-def]
    from outreach.analytics import Filters, meetings_progress
    from outreach.db import Database
    from outreach.db.migrate import upgrade
    from outreach.harvest.synthetic import generate_history

    db = Database(f"sqlite:///{tmp_path / 'f.db'}")
    upgrade(db)
    generate_history(db, scale=0.05, seed=11)
    from outreach.db.models import Meeting

    with db.session() as s:
        community, city = s.query(Meeting.community, Meeting.city).first()
        held_in_city = s.query(Meeting).filter(Meeting.city == city, Meeting.kind == "community").count()
        in_community = s.query(Meeting).filter(Meeting.community == community, Meeting.kind == "community").count()
    everything = meetings_progress(db, now=datetime(2031, 1, 1, tzinfo=UTC))
    by_city = meetings_progress(db, now=datetime(2031, 1, 1, tzinfo=UTC), filters=Filters(city=city))
    by_community = meetings_progress(db, now=datetime(2031, 1, 1, tzinfo=UTC), filters=Filters(community=community))
    assert 0 < by_city.planned < everything.planned and by_city.planned == held_in_city
    assert 0 < by_community.planned < everything.planned and by_community.planned == in_community


def test_a_post_published_before_its_first_harvest_counts_as_published(programme) -> None:  # type: ignore[no-untyped-def]
    db, ids = programme
    [before] = analytics.totals(db)
    fresh = add_post(db, campaign_id=ids["a"], meeting_id=ids["m1"], platform="bluesky", channel="peer-bluesky")
    [after] = analytics.totals(db)
    assert after.posts == before.posts + 1  # no metrics yet, published all the same
    assert after.reach.value == before.reach.value  # and it adds no made-up reach
    assert after.youth.posts[ReachKind.UNKNOWN] == before.youth.posts[ReachKind.UNKNOWN] + 1
    assert fresh not in {p.post_id for p in analytics.top_posts(db, limit=50)}


def test_watch_time_is_summed_only_over_posts_that_report_it(sqlite_db) -> None:  # type: ignore[no-untyped-def]
    """Hours of the summed seconds; a platform without watch time adds nothing and shows no figure (None,
    "geen gegevens"), never 0."""
    db = sqlite_db
    youtube = add_post(db, campaign_id=None, meeting_id=None, platform="youtube", channel="peer-youtube")
    reel = add_post(db, campaign_id=None, meeting_id=None, platform="instagram", channel="peer-instagram")
    toot = add_post(db, campaign_id=None, meeting_id=None, platform="mastodon", channel="peer-mastodon")
    metrics(db, youtube, views=400, watch_time_s=5400)
    metrics(db, reel, views=900, watch_time_s=1800)
    metrics(db, toot, likes=30)
    [overall] = analytics.totals(db)
    assert (overall.watch_time_s, overall.posts_with_watch_time, overall.watch_time_h) == (7200, 2, 2.0)
    per = {t.key: t for t in analytics.totals(db, by=Dimension.PLATFORM)}
    assert per["youtube"].watch_time_h == 1.5 and per["instagram"].watch_time_h == 0.5
    assert per["mastodon"].watch_time_s is None and per["mastodon"].watch_time_h is None


def test_several_series_in_one_pass_are_each_series_exactly(sqlite_db) -> None:  # type: ignore[no-untyped-def]
    """The dashboard's trend reads three metrics in one pass: the same points, suppression included."""
    from outreach.harvest.synthetic import generate_history

    generate_history(sqlite_db, years=1, scale=0.03)
    metrics = ("reach", "youth_measured", "youth_estimated", "youth_offline", "engagement")
    for filters, hs in ((Filters(), HarvestSettings()), (Filters(organisation="IOT", platform="instagram"),
                                                         HarvestSettings(privacy_threshold=500))):
        together = analytics.timeseries_many(sqlite_db, metrics=metrics, filters=filters, hs=hs)
        assert list(together) == list(metrics)
        for metric in metrics:
            alone = analytics.timeseries(sqlite_db, metric=metric, filters=filters, hs=hs)
            assert together[metric] == alone, metric
            assert alone or (metric == "youth_offline" and filters.platform), metric  # offline has no platform
    strict = analytics.timeseries_many(sqlite_db, metrics=("reach",), hs=HarvestSettings(privacy_threshold=10**6))
    assert any(p.value.suppressed for p in strict["reach"])  # the comparison above covers suppressed points too
