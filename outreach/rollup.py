"""Published posts summed per month: the rollup behind the dashboard's and the report's figures.

A figure over published posts (reach, views, engagement, youth reach per kind, watch time, the ratios'
parts, the first and last publication) is a sum per group. Summed per month of publication and per what
views group and filter by (campaign, organisation, community, city, platform, channel, language), the
sums do not grow with the posts: a national network's five years are tens of thousands of rows, not
hundreds of thousands of posts with their metrics and meetings joined.

Exact, whatever writes the database: triggers on posts, their latest metrics and youth estimates, and
meetings (migration 0015) append the months a write touches to `post_rollup_changes`. A reader takes
those months, and the part of a month its period cuts, from the posts themselves, with the query that
builds the rollup (`_source`); everything else from the rollup. `refresh` (after each harvest pass, after
`outreach init` and the synthetic history) rebuilds the months named there, so the posts part stays a
month or two. Every figure is a measure of `MEASURES`, defined here once for both sides.

`outreach.analytics` is the only reader (`read`); nothing else queries these tables.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import (
    BigInteger,
    and_,
    case,
    cast,
    delete,
    func,
    insert,
    literal,
    select,
    text,
    true,
    union_all,
)

from outreach.db import Database
from outreach.db.models import (
    Campaign,
    Meeting,
    Organisation,
    Post,
    PostMetricsLatest,
    PostMonthRollup,
    PostRollupChange,
    PostYouthEstimate,
)
from outreach.domain import PostStatus

if TYPE_CHECKING:
    from outreach.analytics import Filters

R, Y, U, C = PostMetricsLatest, PostYouthEstimate, PostMonthRollup, PostRollupChange
ENGAGEMENT = (R.likes, R.comments, R.shares, R.saves)  # interactions: what "engagement" adds up
NO_TIME = ""  # the month of a published post without a publication time (counted only in views without a period)
FORMATS = {"year": ("%Y", "YYYY"), "month": ("%Y-%m", "YYYY-MM"), "day": ("%Y-%m-%d", "YYYY-MM-DD")}
CHUNK = 500  # ids and months per statement


def bucket(db: Database, column: Any, size: str) -> Any:
    """A UTC datetime column as its period ("2027", "2027-03", "2027-03-20"): stored naive UTC on both
    databases, so the text is the UTC period. The triggers of migration 0015 write the same month text."""
    fmt = FORMATS[size]
    return func.strftime(fmt[0], column) if db.is_sqlite else func.to_char(column, fmt[1])


def engaged() -> Any:
    return sum((func.coalesce(c, 0) for c in ENGAGEMENT), literal(0))


def estimated() -> Any:
    """A post's estimated youth reach, counted only where the platform measured none (kinds never mix)."""
    return case((R.youth_reach.is_(None), Y.estimated))


def _aged() -> Any:
    return and_(R.reach.is_not(None), func.coalesce(R.youth_reach, Y.estimated).is_not(None))


@dataclass(frozen=True, slots=True)
class Measure:
    name: str
    post_sum: Any  # the aggregate over posts (with their latest metrics and youth estimate)
    adds: str = "sum"  # how rows of the rollup combine: "sum" (sums and counts), "min", "max"


def _measures() -> tuple[Measure, ...]:
    aged = _aged()
    return (
        Measure("posts", func.count(Post.id)),
        Measure("reach", func.sum(R.reach)), Measure("reach_n", func.count(R.reach)),
        Measure("views", func.sum(R.views)), Measure("views_n", func.count(R.views)),
        Measure("engagement", func.sum(engaged())),
        Measure("youth_measured", func.sum(R.youth_reach)), Measure("youth_measured_n", func.count(R.youth_reach)),
        Measure("youth_estimated", func.sum(estimated())), Measure("youth_estimated_n", func.count(estimated())),
        Measure("watch_time_s", func.sum(R.watch_time_s)), Measure("watch_time_n", func.count(R.watch_time_s)),
        Measure("engagement_reached", func.sum(case((R.reach.is_not(None), engaged())))),
        Measure("aged_n", func.sum(case((aged, 1), else_=0))),
        Measure("aged_youth", func.sum(case((aged, func.coalesce(R.youth_reach, Y.estimated))))),
        Measure("aged_reach", func.sum(case((aged, R.reach)))),
        Measure("first_published", func.min(Post.published_at), "min"),
        Measure("last_published", func.max(Post.published_at), "max"),
    )


MEASURES = _measures()
BY_NAME = {m.name: m for m in MEASURES}
KEYS = ("month", "campaign_id", "organisation_id", "community", "city", "platform", "channel", "language")


def _post_keys(db: Database) -> dict[str, Any]:
    """The rollup's key columns as read from a post and its meeting."""
    return {"month": func.coalesce(bucket(db, Post.published_at, "month"), literal(NO_TIME)),
            "campaign_id": Post.campaign_id, "organisation_id": Meeting.organisation_id,
            "community": Meeting.community, "city": Meeting.city, "platform": Post.platform,
            "channel": Post.channel, "language": Post.language}


def _source(db: Database, where: Any) -> Any:
    """Published posts matching `where`, summed per rollup key: what `refresh` stores and what a reader
    takes from the posts for the months the rollup cannot answer (the same query, so they cannot differ)."""
    keys = _post_keys(db)
    return (select(*(column.label(name) for name, column in keys.items()),
                   *(m.post_sum.label(m.name) for m in MEASURES))
            .select_from(Post).outerjoin(R, R.post_id == Post.id).outerjoin(Y, Y.post_id == Post.id)
            .outerjoin(Meeting, Meeting.id == Post.meeting_id)
            .where(Post.status == PostStatus.PUBLISHED.value, where).group_by(*keys.values()))


# -- months and periods ---------------------------------------------------------------------------

def month_of(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m")


def month_start(month: str) -> datetime:
    return datetime(int(month[:4]), int(month[5:7]), 1, tzinfo=UTC)


def next_month(month: str) -> str:
    year, number = int(month[:4]), int(month[5:7])
    return f"{year + number // 12}-{number % 12 + 1:02d}"


def _ranges(months: Iterable[str]) -> list[tuple[datetime, datetime]]:
    """Months as the fewest [start, end) ranges (consecutive months joined)."""
    found: list[list[str]] = []
    for month in sorted(set(months)):
        if found and next_month(found[-1][1]) == month:
            found[-1][1] = month
        else:
            found.append([month, month])
    return [(month_start(a), month_start(next_month(b))) for a, b in found]


@dataclass(frozen=True, slots=True)
class Plan:
    """Which rows a read takes from where: rollup months (a condition on `month`) and publication ranges
    read from the posts (with `posts_without_time` for a view without a period)."""

    rollup: list[Any]  # conditions on U.month; None: nothing from the rollup
    from_posts: list[tuple[datetime | None, datetime | None]]
    posts_without_time: bool


def plan(start: datetime | None, end: datetime | None, stale: set[str], *, live: bool = False) -> Plan:
    """Split the period [start, end) (None: open) into whole months the rollup answers (unless stale) and
    the rest, read from the posts: the months its ends cut, and stale months inside it."""
    if live:  # (None, None) takes the posts without a publication time too
        return Plan([], [(start, end)], False)
    if start is not None and end is not None and start >= end:
        return Plan([], [], False)
    first = None if start is None else month_of(start) if start == month_start(month_of(start)) \
        else next_month(month_of(start))  # the first whole month
    stop = None if end is None else month_of(end)  # months before it end before `end`
    conditions = [U.month != NO_TIME] if (start or end) else []
    conditions += [U.month >= first] if first else []
    conditions += [U.month < stop] if stop else []
    ranges: list[tuple[datetime | None, datetime | None]] = []
    if start is not None and first != month_of(start):  # the start cuts its month
        ranges.append((start, min(month_start(first), end) if end else month_start(first)))
    if end is not None and end != month_start(stop) and (first is None or stop >= first):  # the end cuts its month
        ranges.append((max(month_start(stop), start) if start else month_start(stop), end))
    inside = {m for m in stale if m != NO_TIME and (first is None or m >= first) and (stop is None or m < stop)}
    ranges += _ranges(inside)
    if inside:
        conditions.append(U.month.not_in(sorted(inside)))
    without_time = NO_TIME in stale and start is None and end is None
    if without_time:
        conditions.append(U.month != NO_TIME)
    if first is not None and stop is not None and first >= stop:
        return Plan([], ranges, without_time)  # the period lies within one month (or two partial ones)
    return Plan(conditions or [true()], ranges, without_time)


def _period(start: datetime | None, end: datetime | None) -> Any:
    column = Post.published_at
    return and_(true(), *([column >= start] if start else []), *([column < end] if end else []))


# -- reading --------------------------------------------------------------------------------------

def stale_months(db: Database) -> set[str]:
    with db.session() as s:
        return set(s.scalars(select(C.month).distinct()))


def _outer_keys(rows: Any) -> dict[str, Any]:
    return {"month": rows.c.month, "year": func.substr(rows.c.month, 1, 4), "campaign": Campaign.slug,
            "campaign_name": Campaign.name, "organisation": Organisation.code, "organisation_name": Organisation.name,
            "community": rows.c.community, "city": rows.c.city, "platform": rows.c.platform,
            "channel": rows.c.channel, "language": rows.c.language}


def read(db: Database, *, keys: Sequence[str], measures: Sequence[str], filters: Filters,
         live: bool = False) -> list[tuple[Any, ...]]:
    """Rows (key values..., measure values...) per group of `keys` ("month", "year", "campaign",
    "campaign_name", "organisation", "organisation_name", "community", "city", "platform", "channel",
    "language") for the published posts in `filters`, exactly as a pass over the posts would give them.
    Sums and counts come back as int (None where no post has a value), first/last publication as datetimes.
    `live`: everything from the posts (what the rollup is checked against)."""
    f = filters
    with db.session() as s:  # one transaction: the stale months and the rows are read together
        stale = set() if live else set(s.scalars(select(C.month).distinct()))
        p = plan(f.start, f.end, stale, live=live)
        parts = [select(*(getattr(U, k).label(k) for k in KEYS), *(getattr(U, m.name).label(m.name) for m in MEASURES))
                 .where(*p.rollup)] if p.rollup else []
        parts += [_source(db, _period(a, b)) for a, b in p.from_posts]
        if p.posts_without_time:
            parts.append(_source(db, Post.published_at.is_(None)))
        if not parts:
            return []
        rows = (parts[0] if len(parts) == 1 else union_all(*parts)).subquery("rows")
        outer = _outer_keys(rows)
        columns = [outer[k] for k in keys]
        adds = {"sum": lambda c: cast(func.sum(c), BigInteger), "min": func.min, "max": func.max}
        sums = [adds[BY_NAME[m].adds](rows.c[m]) for m in measures]
        query = (select(*columns, *sums).select_from(rows)
                 .outerjoin(Campaign, Campaign.id == rows.c.campaign_id)
                 .outerjoin(Organisation, Organisation.id == rows.c.organisation_id)
                 .where(*_conditions(f, rows)))
        if columns:
            query = query.group_by(*columns).order_by(*columns)
        return [tuple(r) for r in s.execute(query)]


def _conditions(f: Filters, rows: Any) -> list[Any]:
    named = ((f.organisation, Organisation.code), (f.community, rows.c.community), (f.city, rows.c.city),
             (f.campaign, Campaign.slug), (f.platform, rows.c.platform), (f.language, rows.c.language),
             (f.channel, rows.c.channel))
    return [column == value for value, column in named if value]


# -- keeping it -----------------------------------------------------------------------------------

def refresh(db: Database) -> int:
    """Rebuild the months named in `post_rollup_changes` from the posts and delete exactly the change
    rows read (a change committed meanwhile stays for the next refresh, and its month is read from the
    posts until then). One refresh at a time: SQLite's write lock, PostgreSQL's table lock (readers and
    writers of posts are not held up). Returns the number of months rebuilt."""
    with db.session() as s:
        if s.scalar(select(C.id).limit(1)) is None:
            return 0  # nothing to rebuild: no write lock taken
    with db.write() as s:
        if not db.is_sqlite:
            s.execute(text("LOCK TABLE post_month_rollup IN SHARE ROW EXCLUSIVE MODE"))
        changes = s.execute(select(C.id, C.month)).all()
        months = sorted({m for _, m in changes})
        for i in range(0, len(months), CHUNK):
            chunk = months[i:i + CHUNK]
            s.execute(delete(U).where(U.month.in_(chunk)))
            where = [_period(a, b) for a, b in _ranges(m for m in chunk if m != NO_TIME)]
            if NO_TIME in chunk:
                where.append(Post.published_at.is_(None))
            for condition in where:
                s.execute(insert(U).from_select([*KEYS, *(m.name for m in MEASURES)], _source(db, condition)))
        ids = [i for i, _ in changes]
        for i in range(0, len(ids), CHUNK):
            s.execute(delete(C).where(C.id.in_(ids[i:i + CHUNK])))
    return len(months)

