"""Read-only queries shared by the dashboard, the report and the archive.

Everything reads the rollups (`post_metrics_latest`, `post_youth_estimates`, `meeting_outcomes`),
never the snapshot history, so cost does not grow with five years of harvests; sums over published posts
come from the monthly rollup (`outreach.rollup`: per month, campaign, organisation, community, city,
platform, channel, language), so they do not grow with the posts either (per meeting and per theme they
are a pass over the posts). Counts of people
and interactions come back as `Count` (below the privacy threshold: "<10", no number), youth reach
per kind in `YouthTotals`; kinds are added together only by `youth_reach_combined`, on request.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Any

from sqlalchemy import case, func, literal, select

from outreach import privacy, rollup
from outreach.connectors import display_name
from outreach.db import Database
from outreach.db.models import (
    Approval,
    Campaign,
    ChannelState,
    HarvestChannel,
    Meeting,
    MeetingOutcome,
    Organisation,
    Post,
    PostMetricsLatest,
    PostYouthEstimate,
)
from outreach.domain import ErrorKind, MeetingKind, PostStatus
from outreach.harvest.settings import HarvestSettings
from outreach.harvest.values import Count, ReachKind, YouthReach, YouthTotals
from outreach.harvest.youth import OFFLINE_BUCKETS, post_youth_reach

R, Y = PostMetricsLatest, PostYouthEstimate
ENGAGEMENT = rollup.ENGAGEMENT


class Dimension(StrEnum):
    CAMPAIGN = "campaign"
    MEETING = "meeting"
    ORGANISATION = "organisation"
    COMMUNITY = "community"
    CITY = "city"
    PLATFORM = "platform"
    CHANNEL = "channel"
    LANGUAGE = "language"
    THEME = "theme"


POST_ONLY = (Dimension.PLATFORM, Dimension.CHANNEL, Dimension.LANGUAGE)  # no offline figures there


@dataclass(frozen=True, slots=True)
class Filters:
    """Period (UTC, on publication / meeting time), organisation code, community, city, platform,
    campaign slug, language, channel."""

    start: datetime | None = None
    end: datetime | None = None
    organisation: str | None = None
    community: str | None = None
    city: str | None = None
    platform: str | None = None
    campaign: str | None = None
    language: str | None = None
    channel: str | None = None

    @property
    def online_only(self) -> bool:
        return bool(self.platform or self.language or self.channel)


@dataclass(frozen=True, slots=True)
class Totals:
    key: str | None  # None: the overall row or "no meeting"
    label: str
    posts: int
    reach: Count
    views: Count
    engagement: Count
    youth: YouthTotals
    posts_with_reach: int = 0  # platforms that report no reach (Mastodon, Bluesky) show "–", not 0
    posts_with_views: int = 0
    watch_time_s: int | None = None  # seconds watched, summed over the posts that report it (None: none does)
    posts_with_watch_time: int = 0

    @property
    def watch_time_h(self) -> float | None:
        """Watch time in hours, the unit dashboard and report show (`watch_hours`)."""
        return watch_hours(self.watch_time_s)


def watch_hours(seconds: float | None) -> float | None:
    """The one definition of the watch time shown: the summed seconds of the posts whose platform reports
    watch time (YouTube, Instagram Reels, Facebook Reels), in hours; None where none reports it ("geen
    gegevens", never 0). Watch time is time, not a count of people, so the privacy threshold does not
    apply; an average view duration is never summed (it stays in the raw snapshots)."""
    return None if seconds is None else seconds / 3600


@dataclass(frozen=True, slots=True)
class Point:
    period: str  # "2027-03" (month), "2027-03-20" (day), "2027" (year)
    key: str | None
    value: Count


@dataclass(frozen=True, slots=True)
class MeetingsProgress:
    """Community meetings held in the view against the plan that fits it: the programme target
    prorated for the period shown, or one organisation's own plan; no plan (None), no verdict."""

    held: int
    planned: int  # community meetings in the database, held or to come
    target: int  # the programme's five-year target
    expected_by_now: float | None  # the plan's part up to now (or the period's end)
    on_track: bool | None  # None: no plan fits this view
    with_outcome: int
    attendance: Count
    young_attendance: Count
    plan: float | None = None  # the plan for the whole period shown
    alliance_held: int | None = None  # for a part of the alliance (one organisation, city, ...): all held

    @property
    def share_of_alliance(self) -> float | None:
        return self.held / self.alliance_held if self.alliance_held else None


@dataclass(frozen=True, slots=True)
class TopPost:
    post_id: int
    channel: str
    platform: str
    language: str
    published_at: datetime | None
    url: str | None
    text: str
    reach: Count
    engagement: Count
    youth: YouthReach


@dataclass(frozen=True, slots=True)
class Attention:
    what: str  # failed | retrying | manual_due | manual_overdue | auth | token_expiring | rejected | …
    channel: str
    message: str
    post_id: int | None = None
    since: datetime | None = None


@dataclass(frozen=True, slots=True)
class Upcoming:
    post_id: int
    due_at: datetime
    channel: str
    language: str
    status: str
    text: str


@dataclass(frozen=True, slots=True)
class Overview:
    totals: Totals
    meetings: MeetingsProgress
    top_posts: list[TopPost] = field(default_factory=list)
    attention: list[Attention] = field(default_factory=list)
    upcoming: list[Upcoming] = field(default_factory=list)


# -- building blocks ------------------------------------------------------------------------------

def _group_columns(by: Dimension | None) -> tuple[Any, Any]:
    """(key expression, label expression) for a dimension; THEME groups by meeting, exploded later."""
    return {
        None: (literal(None), literal("all")),
        Dimension.CAMPAIGN: (Campaign.slug, Campaign.name),
        Dimension.MEETING: (Meeting.id, Meeting.key),
        Dimension.ORGANISATION: (Organisation.code, Organisation.name),
        Dimension.COMMUNITY: (Meeting.community, Meeting.community),
        Dimension.CITY: (Meeting.city, Meeting.city),
        Dimension.PLATFORM: (Post.platform, Post.platform),
        Dimension.CHANNEL: (Post.channel, Post.channel),
        Dimension.LANGUAGE: (Post.language, Post.language),
        Dimension.THEME: (Meeting.id, Meeting.id),
    }[by]


def _conditions(f: Filters, *, time_column: Any, post_level: bool) -> list[Any]:
    """The WHERE conditions for the filters that are set (period on `time_column`)."""
    found = []
    if f.start:
        found.append(time_column >= f.start)
    if f.end:
        found.append(time_column < f.end)
    if f.organisation:
        found.append(Organisation.code == f.organisation)
    if f.community:
        found.append(Meeting.community == f.community)
    if f.city:
        found.append(Meeting.city == f.city)
    if f.campaign:
        found.append(Campaign.slug == f.campaign)
    if post_level:
        found += [c for v, c in ((f.platform, Post.platform), (f.language, Post.language),
                                 (f.channel, Post.channel)) if v for c in [c == v]]
    return found


def _post_filters(query: Any, f: Filters) -> Any:
    """Published posts in the filters; the meeting, campaign and organisation joined only when the query
    or the filters name them (each join is a lookup per post: at 10x that is 40 % of a pass)."""
    query = query.where(Post.status == PostStatus.PUBLISHED.value,
                        *_conditions(f, time_column=Post.published_at, post_level=True))
    if any(from_ in MEETING_TABLES for from_ in query.get_final_froms()):  # named, not joined yet
        query = (query.outerjoin(Meeting, Meeting.id == Post.meeting_id)
                 .outerjoin(Campaign, Campaign.id == Post.campaign_id)
                 .outerjoin(Organisation, Organisation.id == Meeting.organisation_id))
    return query


MEETING_TABLES = (Meeting.__table__, Campaign.__table__, Organisation.__table__)


def _meeting_filters(query: Any, f: Filters) -> Any:
    return query.where(*_conditions(f, time_column=Meeting.starts_at, post_level=False))


def _joined_posts(*columns: Any) -> Any:
    """Posts with their latest metrics and youth estimate (`_post_filters` adds the meeting where needed).
    Outer: a post published a minute ago has no metrics yet, but it is published all the same."""
    return select(*columns).select_from(Post).outerjoin(R, R.post_id == Post.id).outerjoin(Y, Y.post_id == Post.id)


# [posts, reach, views, engagement, measured, n measured, estimated, n estimated, n with reach, n with views,
# watch time s, n with watch time]: the rollup's measures, also summed per meeting from the posts
SUMS = ("posts", "reach", "views", "engagement", "youth_measured", "youth_measured_n", "youth_estimated",
        "youth_estimated_n", "reach_n", "views_n", "watch_time_s", "watch_time_n")
# a dimension's (key, label) in the rollup; meeting and theme are not in it
ROLLUP_KEYS: dict[Dimension | None, tuple[str, ...]] = {
    None: (), Dimension.CAMPAIGN: ("campaign", "campaign_name"),
    Dimension.ORGANISATION: ("organisation", "organisation_name"), Dimension.COMMUNITY: ("community",),
    Dimension.CITY: ("city",), Dimension.PLATFORM: ("platform",), Dimension.CHANNEL: ("channel",),
    Dimension.LANGUAGE: ("language",)}


def _post_sums() -> list[Any]:
    return [rollup.BY_NAME[name].post_sum for name in SUMS]


def _young_expr(hs: HarvestSettings) -> Any:
    o = MeetingOutcome
    return sum((getattr(o, col) * hs.young.overlap(*bounds) for col, bounds in OFFLINE_BUCKETS.items()), literal(0.0))


def _offline(db: Database, by: Dimension | None, f: Filters, hs: HarvestSettings) -> dict[Any, float]:
    """Young attendees (offline youth reach) per group key; {} where offline does not apply."""
    if by in POST_ONLY or f.online_only:
        return {}
    young = func.sum(_young_expr(hs))
    columns = [young] if by is None else [_group_columns(by)[0], young]
    query = (select(*columns).select_from(MeetingOutcome).join(Meeting, Meeting.id == MeetingOutcome.meeting_id)
             .join(Campaign, Campaign.id == Meeting.campaign_id)
             .join(Organisation, Organisation.id == Meeting.organisation_id))
    if by is not None:
        query = query.group_by(columns[0])
    with db.session() as s:
        rows = s.execute(_meeting_filters(query, f)).all()
    if by is None:
        return {None: rows[0][0]} if rows and rows[0][0] is not None else {}
    return dict(rows)


def _post_rows(db: Database, by: Dimension | None, f: Filters) -> list[list[Any]]:
    """[key, label, posts, reach, views, engagement, measured, n measured, estimated, n estimated,
    n with reach, n with views, watch time s, n with watch time]."""
    if by in ROLLUP_KEYS:
        keys = ROLLUP_KEYS[by]
        found = rollup.read(db, keys=keys, measures=SUMS, filters=f)
        if by is None:
            return [[None, "all", *r] for r in found if r[0]]
        return [list(r) if len(keys) == 2 else [r[0], *r] for r in found]
    key, label = _group_columns(by)
    query = _post_filters(_joined_posts(key, label, *_post_sums()).group_by(key, label), f)
    with db.session() as s:
        return [list(r) for r in s.execute(query)]


def _themes(db: Database) -> dict[int, list[str]]:
    with db.session() as s:
        return {mid: list(themes or []) for mid, themes in s.execute(select(Meeting.id, Meeting.themes))}


# -- public queries -------------------------------------------------------------------------------

def totals(db: Database, *, by: Dimension | None = None, filters: Filters | None = None,
           hs: HarvestSettings | None = None) -> list[Totals]:
    """Reach, views, engagement and youth reach (per kind) per group, largest reach first.
    Without `by`: one overall row (none when nothing matches)."""
    f, hs = filters or Filters(), hs or HarvestSettings()
    rows = _post_rows(db, by, f)
    offline = _offline(db, by, f, hs)
    labels = {r[0]: r[1] for r in rows}
    if by is Dimension.THEME:
        rows, offline, labels = _explode_themes(db, rows, offline)
    grouped = {r[0]: r for r in rows}
    empty = [None, None, 0, None, None, None, None, 0, None, 0, 0, 0, None, 0]
    raw: dict[Any, dict[str, Any]] = {}
    for k in {*grouped, *offline}:
        _, _, n, reach, views, engaged, measured, n_measured, estimated, n_estimated, *with_, watch, n_watch = \
            grouped.get(k, empty)
        raw[k] = {"posts": n, "with": with_, "watch": (watch, n_watch), "reach": reach, "views": views, "engagement": engaged, ReachKind.MEASURED: measured,
                  ReachKind.ESTIMATED: estimated, ReachKind.OFFLINE: offline.get(k),
                  "youth_posts": {ReachKind.MEASURED: n_measured, ReachKind.ESTIMATED: n_estimated,
                                  ReachKind.UNKNOWN: n - n_measured - n_estimated}}
    counts = _protected(raw, additive=by not in (None, Dimension.THEME), threshold=hs.privacy_threshold)
    result = []
    for k, r in raw.items():
        c = counts[k]
        label = "all" if by is None else str(labels.get(k) or k or "(no meeting)")
        youth = YouthTotals({kind: c[kind] for kind in (ReachKind.MEASURED, ReachKind.ESTIMATED, ReachKind.OFFLINE)},
                            r["youth_posts"])
        result.append((-(r["reach"] or 0), label, Totals(None if k is None else str(k), label, r["posts"],
                                                         c["reach"], c["views"], c["engagement"], youth,
                                                         int(r["with"][0] or 0), int(r["with"][1] or 0),
                                                         _seconds(*r["watch"]), int(r["watch"][1] or 0))))
    return [item for *_, item in sorted(result, key=lambda r: (r[0], r[1]))]


def _seconds(total: Any, posts: Any) -> int | None:
    return int(total) if posts and total is not None else None


MEASURES = ("reach", "views", "engagement", ReachKind.MEASURED, ReachKind.ESTIMATED, ReachKind.OFFLINE)


def _protected(raw: dict[Any, dict[str, Any]], *, additive: bool, threshold: int) -> dict[Any, dict[str, Count]]:
    """Each measure as privacy-safe counts. Groups that add up to the overall figure (every dimension
    but theme) are protected together with that total, so the total minus the others reveals no "<10"."""
    result: dict[Any, dict[str, Count]] = {k: {} for k in raw}
    for measure in MEASURES:
        values: dict[Any, Any] = {("group", k): r[measure] for k, r in raw.items()}
        known = [v for v in values.values() if v is not None]
        values["total"] = sum(known) if known else None
        sums = [privacy.Sum("total", tuple(k for k in values if k != "total"))] if additive else []
        cells = privacy.protect(values, sums, threshold=threshold)
        for (_, k), count in ((key, c) for key, c in cells.items() if key != "total"):
            result[k][measure] = count
    return result


def _explode_themes(db: Database, rows: list[list[Any]], offline: dict[Any, float]) -> tuple[Any, Any, Any]:
    themes = _themes(db)
    merged: dict[Any, list[Any]] = {}
    for row in rows:
        for theme in themes.get(row[0], []) or [None]:
            acc = merged.setdefault(theme, [theme, theme] + [None] * (len(row) - 2))
            acc[2:] = [a if b is None else (b if a is None else a + b) for a, b in zip(acc[2:], row[2:], strict=True)]
    off: dict[Any, float] = defaultdict(float)
    for mid, value in offline.items():
        for theme in themes.get(mid, []) or [None]:
            off[theme] += value or 0
    return list(merged.values()), dict(off), {k: k for k in merged}


def youth_reach_combined(db: Database, kinds: Iterable[ReachKind], *, filters: Filters | None = None,
                         hs: HarvestSettings | None = None) -> Count:
    """An explicit sum over the named kinds (e.g. measured + estimated); the caller chooses to mix."""
    kinds = set(kinds)
    if ReachKind.UNKNOWN in kinds:
        raise ValueError("unknown youth reach has no figure to add")
    f, hs = filters or Filters(), hs or HarvestSettings()
    rows = _post_rows(db, None, f)
    measured, estimated = (rows[0][6], rows[0][8]) if rows else (None, None)
    values = {ReachKind.MEASURED: measured, ReachKind.ESTIMATED: estimated,
              ReachKind.OFFLINE: _offline(db, None, f, hs).get(None)}
    known = [values[k] for k in kinds if values[k] is not None]
    return Count.of(sum(known) if known else None, threshold=hs.privacy_threshold)


_bucket = rollup.bucket


def timeseries(db: Database, *, metric: str = "reach", bucket: str = "month", by: Dimension | None = None,
               filters: Filters | None = None, hs: HarvestSettings | None = None) -> list[Point]:
    """Per period (of publication, or of the meeting for offline youth reach). metric: reach | views |
    engagement | youth_measured | youth_estimated | youth_offline."""
    f, hs = filters or Filters(), hs or HarvestSettings()
    if by is Dimension.THEME:
        raise ValueError("time series by theme: filter by campaign instead, themes overlap")
    if metric != "youth_offline":
        return _protected_points(_post_series(db, (metric,), bucket, by, f), threshold=hs.privacy_threshold)
    if by in POST_ONLY or f.online_only:
        return []
    key, _ = _group_columns(by)
    period = _bucket(db, Meeting.starts_at, bucket)
    query = (select(period, key, func.sum(_young_expr(hs))).select_from(MeetingOutcome)
             .join(Meeting, Meeting.id == MeetingOutcome.meeting_id)
             .join(Campaign, Campaign.id == Meeting.campaign_id)
             .join(Organisation, Organisation.id == Meeting.organisation_id).group_by(period, key))
    query = _meeting_filters(query, f)
    with db.session() as s:
        rows = s.execute(query.order_by(period)).all()
    return _protected_points(rows, threshold=hs.privacy_threshold)


SERIES = ("reach", "views", "engagement", "youth_measured", "youth_estimated")  # post metrics, rollup measures


def _post_series(db: Database, metrics: tuple[str, ...], bucket: str, by: Dimension | None,
                 f: Filters) -> list[tuple[Any, ...]]:
    """(period, group key, value per metric) of the published posts; a post without a publication time has
    no period. By month or year from the rollup, by day or meeting from the posts."""
    unknown = [m for m in metrics if m not in SERIES]
    if unknown:
        raise KeyError(unknown[0])
    if bucket in ("month", "year") and by in ROLLUP_KEYS:
        keys = (bucket, *ROLLUP_KEYS[by][:1])
        found = rollup.read(db, keys=keys, measures=metrics, filters=f)
        return [(r[0], r[1] if by else None, *r[len(keys):]) for r in found if r[0] != rollup.NO_TIME]
    period, key = _bucket(db, Post.published_at, bucket), _group_columns(by)[0]
    sums = (rollup.BY_NAME[m].post_sum for m in metrics)
    query = _post_filters(_joined_posts(period, key, *sums).group_by(period, key), f)
    with db.session() as s:
        return [tuple(r) for r in s.execute(query.order_by(period)) if r[0] is not None]


def timeseries_many(db: Database, *, metrics: tuple[str, ...], bucket: str = "month", filters: Filters | None = None,
                    hs: HarvestSettings | None = None) -> dict[str, list[Point]]:
    """Several metrics per period, each exactly as `timeseries` gives it, the post metrics in one read
    instead of one each (a trend chart with three lines: a third of the reading)."""
    f, hs = filters or Filters(), hs or HarvestSettings()
    online = [m for m in metrics if m != "youth_offline"]
    found = {m: timeseries(db, metric=m, bucket=bucket, filters=f, hs=hs) for m in metrics if m not in online}
    if online:
        rows = _post_series(db, tuple(online), bucket, None, f)
        for i, metric in enumerate(online, start=2):
            found[metric] = _protected_points([(row[0], None, row[i]) for row in rows],
                                              threshold=hs.privacy_threshold)
    return {m: found[m] for m in metrics}


def _protected_points(rows: list[Any], *, threshold: int) -> list[Point]:
    """Periods × groups as a table whose margins (per period, per group, overall) others show: no
    "<10" point can be recovered from them."""
    periods = list(dict.fromkeys(str(p) for p, _, _ in rows))
    keys = list(dict.fromkeys(None if k is None else str(k) for _, k, _ in rows))
    values: dict[Any, Any] = {(p, k): 0 for p in periods for k in keys}
    for p, k, v in rows:
        values[(str(p), None if k is None else str(k))] = v
    margin_keys = ["__group__" if k is None else k for k in keys]  # None marks margins in table_sums
    cells = {(p, m): values[(p, k)] for p in periods for k, m in zip(keys, margin_keys, strict=True)}
    for p in periods:
        cells[(p, None)] = sum(v or 0 for (q, _), v in cells.items() if q == p and _ is not None)
    for m in margin_keys:
        cells[(None, m)] = sum(v or 0 for (q, n), v in cells.items() if n == m and q is not None)
    cells[(None, None)] = sum(v or 0 for (q, n), v in cells.items() if q is not None and n is not None)
    safe = privacy.protect(cells, privacy.table_sums(periods, margin_keys), threshold=threshold)
    return [Point(str(p), None if k is None else str(k),
                  safe[(str(p), "__group__" if k is None else str(k))]) for p, k, _ in rows]


def post_youth(db: Database, post_id: int, *, hs: HarvestSettings | None = None) -> YouthReach:
    """The youth-reach figure of one post, with its kind and source."""
    hs = hs or HarvestSettings()
    with db.session() as s:
        row = s.execute(select(R.youth_reach, Y.estimated, Y.share, Y.source_metric, Y.source_captured_at)
                        .select_from(Post).outerjoin(R, R.post_id == Post.id).outerjoin(Y, Y.post_id == Post.id)
                        .where(Post.id == post_id)).first()
    if row is None:
        raise KeyError(f"no post {post_id}")
    return post_youth_reach(measured=row[0], estimated=row[1], share=row[2], source_metric=row[3],
                            source_at=row[4], threshold=hs.privacy_threshold)


def meetings_progress(db: Database, *, now: datetime, filters: Filters | None = None,
                      hs: HarvestSettings | None = None, tolerance: float = 0.1) -> MeetingsProgress:
    """Community meetings only, held by `now`, against the plan that fits the view: the target spread
    linearly over the programme (configured start, else the first community meeting) and prorated for the
    period shown; for one organisation its own plan if configured, else no verdict but its share of
    all meetings held in the period. On track if within `tolerance` of the plan's part up to now."""
    f, hs = filters or Filters(), hs or HarvestSettings()
    m, o = Meeting, MeetingOutcome
    attendance = sum((getattr(o, c) for c in OFFLINE_BUCKETS), literal(0)) + o.age_unknown
    query = (select(func.count(m.id), func.sum(case((m.starts_at <= now, 1), else_=0)), func.min(m.starts_at),
                    func.count(o.id), func.sum(attendance), func.sum(_young_expr(hs)))
             .select_from(m).outerjoin(o, o.meeting_id == m.id).join(Campaign, Campaign.id == m.campaign_id)
             .join(Organisation, Organisation.id == m.organisation_id).where(m.kind == MeetingKind.COMMUNITY.value))
    with db.session() as s:
        planned, held, first, with_outcome, attended, young = s.execute(_meeting_filters(query, f)).one()
        part = bool(f.organisation or f.community or f.city or f.campaign)
        alliance = replace(f, organisation=None, community=None, city=None, campaign=None)
        alliance_held = s.execute(_meeting_filters(query, alliance)).one()[1] if part else None
    held = int(held or 0)
    start = hs.programme_start or first or now
    span = timedelta(days=365.25 * hs.programme_years)
    whole = hs.meetings_target if not part else hs.organisation_target(f.organisation) if f.organisation else None
    plan = expected = on_track = None
    if whole is not None:
        view_start, view_end = max(start, f.start or start), min(start + span, f.end or start + span)
        def part_of(until: datetime) -> float:
            return whole * min(1.0, max(0.0, (until - view_start) / span))
        plan, expected = part_of(view_end), part_of(min(view_end, now))
        on_track = held >= expected * (1 - tolerance)
    t = hs.privacy_threshold
    return MeetingsProgress(held, int(planned or 0), hs.meetings_target, expected, on_track, int(with_outcome or 0),
                            Count.of(attended if with_outcome else None, threshold=t),
                            Count.of(young if with_outcome else None, threshold=t), plan,
                            None if alliance_held is None else int(alliance_held or 0))


def top_posts(db: Database, *, metric: str = "reach", limit: int = 10, filters: Filters | None = None,
              hs: HarvestSettings | None = None) -> list[TopPost]:
    """The posts with the highest reach (or engagement, views) in their latest snapshot."""
    f, hs = filters or Filters(), hs or HarvestSettings()
    engagement = rollup.engaged()
    order = {"reach": R.reach, "views": R.views, "engagement": engagement}[metric]
    query = (select(Post.id, Post.channel, Post.platform, Post.language, Post.published_at, Post.remote_url,
                    Post.text, R.reach, engagement, R.youth_reach, Y.estimated, Y.share, Y.source_metric,
                    Y.source_captured_at)
             .select_from(R).join(Post, Post.id == R.post_id).outerjoin(Y, Y.post_id == R.post_id))
    if metric == "reach":  # down the reach index from the largest until `limit` posts match (SQLite without
        # statistics would rather read every published post and sort them: 10x slower at ten times the data)
        query = query.with_hint(R, "INDEXED BY ix_post_metrics_latest_reach", "sqlite")
    query = _post_filters(query, f)
    query = query.where(order.is_not(None)).order_by(order.desc(), R.post_id).limit(limit)
    t = hs.privacy_threshold
    with db.session() as s:
        rows = s.execute(query).all()
    return [TopPost(r[0], r[1], r[2], r[3], r[4], r[5], r[6][:120], Count.of(r[7], threshold=t),
                    Count.of(r[8], threshold=t),
                    post_youth_reach(measured=r[9], estimated=r[10], share=r[11], source_metric=r[12],
                                     source_at=r[13], threshold=t)) for r in rows]


def platform_name(platform: str) -> str:
    """A platform as people write it ("YouTube" for "youtube"), from its connector class: the dashboard and
    the report name platforms through here, so a new platform brings its own name."""
    return display_name(platform)


TOKEN_WARNING_DAYS = 14
MANUAL_LATE_AFTER = timedelta(hours=1)  # a post to place by hand still not confirmed this long after its time


def needs_attention(db: Database, *, now: datetime, limit: int = 50, offset: int = 0) -> list[Attention]:
    """Failed posts, posts still retrying, manual posts due (`manual_due`; `manual_overdue` once
    MANUAL_LATE_AFTER has passed without a confirmation; on TikTok `tiktok_app`, `tiktok_app_overdue`:
    a draft to finish in the TikTok app, or a post to check there), rejected posts, channels with auth or
    harvest errors, tokens expiring within TOKEN_WARNING_DAYS. In that order, the posts latest first;
    `offset` and `limit` page through it (`count_attention` says how many there are), so a page reads only
    the posts it shows however many have failed over the years."""
    items: list[Attention] = []
    with db.session() as s:
        for count, rows in _attention_parts(s, now):
            if len(items) >= limit:
                break
            found = count()
            if offset >= found:
                offset -= found
                continue
            items.extend(rows(offset, limit - len(items)))
            offset = 0
    return items


def count_attention(db: Database, *, now: datetime) -> int:
    """How many items `needs_attention` lists in all (for "50 of 312")."""
    with db.session() as s:
        return sum(count() for count, _ in _attention_parts(s, now))


_STUCK = (PostStatus.FAILED.value, PostStatus.RETRYING.value, PostStatus.MANUAL_DUE.value)


def _attention_parts(s: Any, now: datetime) -> list[tuple[Callable[[], int], Callable[[int, int], list[Attention]]]]:
    """needs_attention's parts in order, each as (how many, rows [offset, offset + limit)): the posts are
    counted and paged in the database (the status index), the channels' few rows are read whole."""

    def posts(offset: int, limit: int) -> list[Attention]:
        items = []
        for pid, channel, status, error, updated, due, platform, kind in s.execute(
                select(Post.id, Post.channel, Post.status, Post.last_error, Post.updated_at, Post.due_at,
                       Post.platform, Post.error_kind)
                .where(Post.status.in_(_STUCK)).order_by(Post.updated_at.desc(), Post.id.desc())
                .offset(offset).limit(limit)):
            if status == PostStatus.MANUAL_DUE.value:  # on TikTok: a draft in the app's inbox, or to check there
                late = due < now - MANUAL_LATE_AFTER
                if platform == "tiktok":  # its inbox flow: the draft waits in the TikTok app
                    what = "tiktok_app_overdue" if late else "tiktok_app"
                else:
                    what = "manual_overdue" if late else "manual_due"
                items.append(Attention(what, channel, error or "to be posted by hand", pid, due))
            else:  # a post not sent because its meeting began is "too_late", not refused by the platform
                what = "too_late" if kind == ErrorKind.TOO_LATE.value else status
                items.append(Attention(what, channel, error or status, pid, updated))
        return items

    def channels() -> list[Attention]:
        items = [Attention("auth", channel, error or "credentials refused", None, checked)
                 for channel, error, checked in s.execute(select(ChannelState.channel, ChannelState.last_error,
                                                                 ChannelState.checked_at)
                                                          .where(ChannelState.last_error_kind == "auth"))]
        soon = now + timedelta(days=TOKEN_WARNING_DAYS)
        for channel, expires in s.execute(select(ChannelState.channel, ChannelState.token_expires_at)
                                          .where(ChannelState.token_expires_at < soon)):
            days = max(0, round((expires - now).total_seconds() / 86400))
            items.append(Attention("token_expiring", channel, f"token expires in {days} days", None, expires))
        return items

    def rejected(offset: int, limit: int) -> list[Attention]:
        reason = (select(Approval.reason).where(Approval.post_id == Post.id, Approval.decision == "rejected")
                  .order_by(Approval.decided_at.desc()).limit(1).scalar_subquery())
        return [Attention("rejected", channel, why or error or "rejected in review", pid, updated)
                for pid, channel, why, error, updated in s.execute(
                    select(Post.id, Post.channel, reason, Post.last_error, Post.updated_at)
                    .where(Post.status == PostStatus.REJECTED.value)
                    .order_by(Post.updated_at.desc(), Post.id.desc()).offset(offset).limit(limit))]

    def harvest() -> list[Attention]:
        return [Attention("harvest_error", channel, error, None, datetime.fromtimestamp(at, UTC) if at else None)
                for channel, error, at in s.execute(
                    select(HarvestChannel.channel, HarvestChannel.last_error,
                           func.coalesce(HarvestChannel.last_error_since, HarvestChannel.last_pass_at))
                    .where(HarvestChannel.last_error.is_not(None)))]

    def counted(statuses: tuple[str, ...]) -> Callable[[], int]:
        return lambda: s.scalar(select(func.count(Post.id)).where(Post.status.in_(statuses))) or 0

    def listed(items: list[Attention]) -> tuple[Callable[[], int], Callable[[int, int], list[Attention]]]:
        return (lambda: len(items)), (lambda offset, limit: items[offset:offset + limit])

    return [(counted(_STUCK), posts), listed(channels()), (counted((PostStatus.REJECTED.value,)), rejected),
            listed(harvest())]


def upcoming(db: Database, *, now: datetime, limit: int = 20, offset: int = 0,
             filters: Filters | None = None) -> list[Upcoming]:
    """What is scheduled next: approved, waiting for review, retrying or to post by hand (soonest first;
    `offset` pages on, `count_upcoming` says how many there are)."""
    query = _upcoming(select(Post.id, Post.due_at, Post.channel, Post.language, Post.status, Post.text), now, filters)
    query = query.order_by(Post.due_at, Post.id).limit(limit).offset(offset)
    with db.session() as s:
        return [Upcoming(r[0], r[1], r[2], r[3], r[4], r[5][:120]) for r in s.execute(query)]


def count_upcoming(db: Database, *, now: datetime, filters: Filters | None = None) -> int:
    """How many posts `upcoming` lists in all (for "50 of 312")."""
    with db.session() as s:
        return s.scalar(_upcoming(select(func.count(Post.id)), now, filters)) or 0


def _upcoming(query: Any, now: datetime, filters: Filters | None) -> Any:
    waiting = [PostStatus.APPROVED, PostStatus.PENDING_REVIEW, PostStatus.RETRYING, PostStatus.MANUAL_DUE]
    query = (query.select_from(Post)
             .outerjoin(Meeting, Meeting.id == Post.meeting_id).outerjoin(Campaign, Campaign.id == Post.campaign_id)
             .outerjoin(Organisation, Organisation.id == Meeting.organisation_id)
             .where(Post.status.in_([s.value for s in waiting]), Post.due_at >= now - timedelta(hours=1)))
    f = filters or Filters()
    return query.where(*_conditions(replace(f, start=None, end=None), time_column=Post.due_at, post_level=True))


def overview(db: Database, *, now: datetime, filters: Filters | None = None,
             hs: HarvestSettings | None = None) -> Overview:
    """The dashboard's first screen in one call."""
    f, hs = filters or Filters(), hs or HarvestSettings()
    (overall,) = totals(db, filters=f, hs=hs) or [Totals(None, "all", 0, Count(None), Count(None), Count(None),
                                                        YouthTotals())]
    return Overview(overall, meetings_progress(db, now=now, filters=f, hs=hs), top_posts(db, limit=5, filters=f, hs=hs),
                    needs_attention(db, now=now, limit=20), upcoming(db, now=now, limit=10, filters=f))


# The dashboard's row lists live next door (size); they are part of this reader all the same.
from outreach.analytics_rows import (  # noqa: E402
    FilterOptions,
    Ratio,
    Ratios,
    Sources,
    audit_trail,
    campaign_meetings,
    count_meetings,
    data_version,
    definition_changes,
    filter_options,
    meeting_posts,
    meeting_rows,
    meeting_tallies,
    post_counts,
    ratios,
    review_queue,
    sources,
)

__all__ = ["Dimension", "FilterOptions", "Filters", "audit_trail", "campaign_meetings", "count_attention", "count_meetings",
           "data_version", "filter_options", "meeting_posts", "meeting_rows", "needs_attention", "post_counts", "overview",
           "Ratio", "Ratios", "Sources", "definition_changes", "ratios", "review_queue", "meeting_tallies", "sources",
           "timeseries", "timeseries_many", "top_posts", "totals"]
