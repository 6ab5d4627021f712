"""Ratios with their basis, and row lists for the dashboard's tables (meetings, a meeting's posts, the
review queue, the audit trail, filter choices); part of `outreach.analytics`, which re-exports them. Counts of people go through
`outreach.privacy`, young attendees through the one youth definition (`[youth] young`)."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy import case, func, literal, select, text

from outreach import rollup
from outreach.db import Database
from outreach.db.models import (
    Approval,
    AudienceSnapshot,
    Campaign,
    EngagementSnapshot,
    Meeting,
    MeetingOutcome,
    Organisation,
    Post,
    PostMetricsLatest,
)
from outreach.domain import PostStatus
from outreach.harvest.definitions import Definition, changes_within, definitions, definitions_in
from outreach.harvest.settings import HarvestSettings
from outreach.harvest.youth import OFFLINE_BUCKETS, offline_young
from outreach.lifecycle import ALLOWED
from outreach.privacy import Count

if TYPE_CHECKING:
    from outreach.analytics import Dimension, Filters

AGE_COLUMNS = (*OFFLINE_BUCKETS, "age_unknown")


@dataclass(frozen=True, slots=True)
class Ratio:
    """A share whose two parts come from the same posts (its basis): `basis_posts` posts on `platforms`.
    No value when either part is a small count (the ratio would give it away) or the basis is empty."""

    value: float | None
    numerator: Count
    denominator: Count
    basis_posts: int
    platforms: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Ratios:
    engagement_rate: Ratio  # interactions / reach, over posts that report reach
    youth_share: Ratio  # youth reach (measured + estimated) / reach, over posts with age data


def _ratio(per_platform: dict[str, list[float]], threshold: int) -> Ratio:
    """[posts, numerator, denominator] per platform -> one Ratio over the platforms with posts."""
    used = {p: v for p, v in per_platform.items() if v[0]}
    posts = int(sum(v[0] for v in used.values()))
    top, bottom = (Count.of(sum(v[i] for v in used.values()) if used else None, threshold=threshold)
                   for i in (1, 2))
    value = top.value / bottom.value if top.value is not None and bottom.value else None
    return Ratio(value, top, bottom, posts, tuple(sorted(used)))


def ratios(db: Database, *, filters: Filters | None = None, hs: HarvestSettings | None = None) -> Ratios:
    """Engagement rate and youth share for the filters, each over the posts where both parts exist."""
    from outreach.analytics import Filters

    f, t = filters or Filters(), (hs or HarvestSettings()).privacy_threshold
    rows = rollup.read(db, keys=("platform",), filters=f, measures=(
        "reach_n", "engagement_reached", "reach", "aged_n", "aged_youth", "aged_reach"))
    return Ratios(_ratio({r[0]: [r[1] or 0, r[2] or 0, r[3] or 0] for r in rows}, t),
                  _ratio({r[0]: [r[4] or 0, r[5] or 0, r[6] or 0] for r in rows}, t))


@dataclass(frozen=True, slots=True)
class FilterOptions:
    organisations: tuple[str, ...] = ()
    communities: tuple[str, ...] = ()
    platforms: tuple[str, ...] = ()
    campaigns: tuple[str, ...] = ()
    languages: tuple[str, ...] = ()
    years: tuple[int, ...] = ()


def filter_options(db: Database) -> FilterOptions:
    """What the filter bar offers: every organisation, community, platform, campaign, language, year."""
    from outreach.analytics import Filters, _bucket

    others = [status.value for status in PostStatus if status is not PostStatus.PUBLISHED]
    year = _bucket(db, Meeting.starts_at, "year")
    with db.session() as s:
        def distinct(column: Any) -> tuple[str, ...]:
            return tuple(sorted(str(v) for v in s.scalars(select(column).distinct()) if v))

        years = tuple(sorted((int(y) for y in s.scalars(select(year).group_by(year)) if y), reverse=True))
        named = distinct(Organisation.code), distinct(Meeting.community), distinct(Campaign.slug)
        # platform and language: published posts by their rollup groups, the others by the status index
        pairs = {tuple(r) for r in s.execute(select(Post.platform, Post.language).distinct()
                                              .where(Post.status.in_(others)))}
    pairs |= {tuple(r) for r in rollup.read(db, keys=("platform", "language"), measures=(), filters=Filters())}
    return FilterOptions(named[0], named[1], tuple(sorted({str(p) for p, _ in pairs if p})), named[2],
                         tuple(sorted({str(lang) for _, lang in pairs if lang})), years)


def _meetings(query: Any, filters: Filters) -> Any:
    """Meetings (with organisation and campaign) in the filters' period, organisation, campaign, community, city."""
    from outreach.analytics import _meeting_filters

    return _meeting_filters(query.select_from(Meeting).join(Organisation, Organisation.id == Meeting.organisation_id)
                            .join(Campaign, Campaign.id == Meeting.campaign_id), filters)


def meeting_rows(db: Database, *, filters: Filters, hs: HarvestSettings | None = None, limit: int | None = None,
                 offset: int = 0, meeting_id: int | None = None) -> list[dict[str, Any]]:
    """One row per meeting in the filters' period (organisation, campaign, community): where, when,
    attendance and young attendees (privacy-safe) and evaluation, newest first. `limit`/`offset` read one
    page of them (`count_meetings` says how many there are); `meeting_id` reads that one meeting, if the
    filters hold it."""
    hs = hs or HarvestSettings()
    o = MeetingOutcome  # columns, not ORM objects: a national network has thousands of meetings
    query = _meetings(select(Meeting.id, Meeting.key, Meeting.kind, Meeting.community, Meeting.city, Meeting.venue,
                             Meeting.starts_at, Organisation.code, Campaign.slug, o.id.label("outcome"), o.evaluation,
                             o.notes, *(getattr(o, c) for c in AGE_COLUMNS))
                      .outerjoin(MeetingOutcome, MeetingOutcome.meeting_id == Meeting.id), filters)
    if meeting_id is not None:
        query = query.where(Meeting.id == meeting_id)
    query = query.order_by(Meeting.starts_at.desc(), Meeting.id.desc())  # the id: a page holds the same meetings
    if limit is not None or offset:
        query = query.offset(offset).limit(limit)
    t = hs.privacy_threshold
    with db.session() as s:
        rows = []
        for m in s.execute(query):
            outcome = m.outcome is not None
            ages = {c: getattr(m, c) or 0 for c in AGE_COLUMNS} if outcome else None
            attended = sum(ages.values()) if ages else None
            young = offline_young(ages, hs.young) if ages else None
            rows.append({"id": m.id, "key": m.key, "kind": m.kind, "campaign": m.slug, "organisation": m.code,
                         "community": m.community, "city": m.city, "venue": m.venue, "starts_at": m.starts_at,
                         "attendance": Count.of(attended, threshold=t).display,
                         "young": Count.of(young, threshold=t).display,
                         "evaluation": None if not outcome or m.evaluation is None else round(m.evaluation, 1),
                         "notes": (m.notes or "") if outcome else ""})
        return rows


def count_meetings(db: Database, *, filters: Filters) -> int:
    """How many meetings `meeting_rows` lists in all (for "50 of 7,700")."""
    with db.session() as s:
        return s.scalar(_meetings(select(func.count(Meeting.id)), filters)) or 0


def _one_decimal(mean: float) -> float:
    """A mean to one decimal, half up (7.65 -> 7.7), whatever the database's float sum left in the last bits
    (7.6499999999 from 7.6 and 7.7 would otherwise round down)."""
    return math.floor(mean * 10 + 0.5 + 1e-9) / 10


def campaign_meetings(db: Database, *, filters: Filters) -> list[dict[str, Any]]:
    """Per campaign in the filters: its slug and name, how many meetings and their mean evaluation (over the
    meetings with one, to one decimal as a meeting's own; None when none has one), in one grouped read;
    by name, as a reader looks them up (sorted here: the same order on both databases)."""
    query = _meetings(select(Campaign.slug, Campaign.name, func.count(Meeting.id), func.avg(MeetingOutcome.evaluation))
                      .outerjoin(MeetingOutcome, MeetingOutcome.meeting_id == Meeting.id), filters)
    with db.session() as s:
        rows = [{"campaign": slug, "name": name or slug, "meetings": int(n),
                 "evaluation": None if mean is None else _one_decimal(float(mean))}
                for slug, name, n, mean in s.execute(query.group_by(Campaign.slug, Campaign.name))]
    return sorted(rows, key=lambda r: (r["name"].casefold(), r["campaign"]))


def meeting_posts(db: Database, meeting_id: int, *, hs: HarvestSettings | None = None) -> list[dict[str, Any]]:
    """A meeting's posts with their status, permalink and reach."""
    t = (hs or HarvestSettings()).privacy_threshold
    query = (select(Post, PostMetricsLatest.reach).outerjoin(PostMetricsLatest, PostMetricsLatest.post_id == Post.id)
             .where(Post.meeting_id == meeting_id).order_by(Post.due_at, Post.channel, Post.language))
    with db.session() as s:
        return [{"id": p.id, "rule": p.rule_key, "channel": p.channel, "platform": p.platform,
                 "language": p.language, "status": p.status, "due_at": p.due_at, "published_at": p.published_at,
                 "url": p.remote_url, "reach": Count.of(reach, threshold=t).display, "text": p.text}
                for p, reach in s.execute(query)]


def review_queue(db: Database) -> list[dict[str, Any]]:
    """Language variants waiting for a reviewer, soonest due first, with their meeting."""
    query = (select(Post, Meeting.key, Campaign.slug).outerjoin(Meeting, Meeting.id == Post.meeting_id)
             .outerjoin(Campaign, Campaign.id == Post.campaign_id)
             .where(Post.status == PostStatus.PENDING_REVIEW.value).order_by(Post.due_at, Post.id))
    with db.session() as s:
        return [{"id": p.id, "campaign": slug, "meeting": key, "source_key": p.source_key, "channel": p.channel,
                 "platform": p.platform, "language": p.language, "due_at": p.due_at, "text": p.text,
                 "link": p.link, "media": p.media} for p, key, slug in s.execute(query)]


def audit_trail(db: Database, *, limit: int = 200) -> list[dict[str, Any]]:
    """Who approved, rejected or confirmed what, newest first."""
    query = (select(Approval, Post.channel, Post.language).join(Post, Post.id == Approval.post_id)
             .order_by(Approval.decided_at.desc(), Approval.id.desc()).limit(limit))
    with db.session() as s:
        return [{"post": a.post_id, "channel": channel, "language": language, "decision": a.decision,
                 "who": a.reviewer, "reason": a.reason, "when": a.decided_at}
                for a, channel, language in s.execute(query)]


def definition_changes(db: Database, *, filters: Filters) -> list[Definition]:
    """Metric definitions that change inside the view's period on a platform it shows (Meta's
    `impressions` -> `views`): its series mix two meanings, so dashboard and report footnote them."""
    rows = rollup.read(db, keys=("platform",), measures=("first_published", "last_published"), filters=filters)
    found: list[Definition] = []
    for platform, first, last in rows:
        start = (filters.start or first).date()
        end = (filters.end or last + timedelta(days=1)).date()
        found += changes_within((platform,), start, end)
    return sorted(found, key=lambda d: (d.valid_to, d.platform, d.raw_name))


def post_counts(db: Database, *, filters: Filters, rows: Dimension, columns: Dimension | None = None,
                bucket: str | None = None) -> dict[tuple[str | None, str | None], int]:
    """Published posts per (row, column) group, or per (row, period) with `bucket` ("month"): counts of
    posts, not of people, so nothing is suppressed. The report's platform × language table and the
    posts-per-month line read this, as the dashboard does."""
    from outreach.analytics import ROLLUP_KEYS, _bucket, _group_columns, _joined_posts, _post_filters

    if rows in ROLLUP_KEYS and rows is not None and (columns is None or columns in ROLLUP_KEYS) \
            and bucket in (None, "month", "year"):  # from the monthly rollup
        second = (bucket,) if bucket else ROLLUP_KEYS[columns][:1] if columns is not None else ()
        found = rollup.read(db, keys=(ROLLUP_KEYS[rows][0], *second), measures=("posts",), filters=filters)

        def text_of(value: Any) -> str | None:
            return None if value is None or value == rollup.NO_TIME else str(value)

        return {(text_of(r[0]), text_of(r[1]) if second else None): int(r[-1]) for r in found}
    first = _group_columns(rows)[0]
    second = _bucket(db, Post.published_at, bucket) if bucket else _group_columns(columns)[0] if columns \
        else literal(None)
    query = _post_filters(_joined_posts(first, second, func.count(Post.id)).group_by(first, second), filters)
    with db.session() as s:
        return {(None if a is None else str(a), None if b is None else str(b)): int(n) for a, b, n in s.execute(query)}


@dataclass(frozen=True, slots=True)
class EstimateSource:
    """Where the estimated youth reach of some posts came from: one audience breakdown of one platform."""

    platform: str
    metric: str  # the platform's audience metric (follower_demographics, ...)
    young: str  # the age range the share was taken over ("13-24")
    posts: int
    first: datetime  # the earliest and latest audience snapshots used
    last: datetime


@dataclass(frozen=True, slots=True)
class Sources:
    """What the figures of a view stand on, for the report's methods page: the metric definitions its
    snapshots were taken under, the audience breakdowns behind each estimate, the platforms that measured
    youth reach themselves (posts per platform). Snapshots taken before definitions were recorded (or
    generated) name none: for them `unrecorded` holds the definitions valid while they were taken."""

    definitions: list[Definition]
    estimates: list[EstimateSource]
    measured: dict[str, int]
    unrecorded: list[Definition] = field(default_factory=list)


def sources(db: Database, *, filters: Filters) -> Sources:
    from outreach.analytics import _joined_posts, _post_filters
    from outreach.db.models import EngagementSnapshot as S
    from outreach.db.models import PostYouthEstimate as Y

    with db.session() as s:
        sets = s.execute(_post_filters(select(Post.platform, S.definition, func.min(S.captured_at),
                                              func.max(S.captured_at)).select_from(S).join(Post, Post.id == S.post_id)
                                       .outerjoin(Meeting, Meeting.id == Post.meeting_id)
                                       .outerjoin(Campaign, Campaign.id == Post.campaign_id)
                                       .outerjoin(Organisation, Organisation.id == Meeting.organisation_id)
                                       .group_by(Post.platform, S.definition), filters)).all()
        estimates = s.execute(_post_filters(_joined_posts(
            Post.platform, Y.source_metric, Y.young, func.count(Post.id), func.min(Y.source_captured_at),
            func.max(Y.source_captured_at)).where(Y.post_id.is_not(None), PostMetricsLatest.youth_reach.is_(None))
            .group_by(Post.platform, Y.source_metric, Y.young), filters)).all()
        measured = s.execute(_post_filters(_joined_posts(Post.platform, func.count(Post.id))
                                           .where(PostMetricsLatest.youth_reach.is_not(None))
                                           .group_by(Post.platform), filters)).all()
    used = {d.id: d for _, set_id, _, _ in sets if set_id for d in definitions_in(set_id)}
    unrecorded = {d.id: d for platform, set_id, first, last in sets if not set_id for d in definitions()
                  if d.platform == platform and d.valid_from <= datetime.fromtimestamp(last, UTC).date()
                  and (d.valid_to is None or d.valid_to > datetime.fromtimestamp(first, UTC).date())
                  and d.id not in used}

    def order(found: dict[str, Definition]) -> list[Definition]:
        return sorted(found.values(), key=lambda d: (d.platform, d.measure, d.valid_from))

    return Sources(order(used),
                   [EstimateSource(p, m, y, n, datetime.fromtimestamp(a, UTC), datetime.fromtimestamp(b, UTC))
                    for p, m, y, n, a, b in sorted(estimates, key=lambda r: (r[0], r[1]))],
                   {p: n for p, n in sorted(measured)}, order(unrecorded))


GENDERS = ("woman", "man", "other", "unknown")


@dataclass(slots=True)
class MeetingTally:
    """One organisation's meetings in a view: community meetings held (per month) and still ahead, other
    kinds, and the raw sums of their recorded outcomes (protected by the caller, who knows which rows
    add up to which totals)."""

    held: int = 0
    planned: int = 0
    other: int = 0  # trainings and municipal sessions
    held_by_month: dict[str, int] = field(default_factory=dict)
    with_outcome: int = 0
    attendance: int = 0
    young: float = 0.0  # attendees in the `[youth]` range, unrounded (harvest.youth's definition)
    genders: dict[str, int] = field(default_factory=dict)
    evaluation_sum: float = 0.0
    evaluations: int = 0


def meeting_tallies(db: Database, *, filters: Filters, now: datetime, hs: HarvestSettings) -> dict[str, MeetingTally]:
    """Meetings per organisation code for the report: held by `now`, ahead, other kinds, outcomes."""
    from outreach.analytics import _bucket, _meeting_filters, _young_expr
    from outreach.domain import MeetingKind

    m, o = Meeting, MeetingOutcome
    tallies: dict[str, MeetingTally] = {}

    def joined(query: Any) -> Any:
        return _meeting_filters(query.outerjoin(Campaign, Campaign.id == m.campaign_id)
                                .join(Organisation, Organisation.id == m.organisation_id), filters)

    held = case((m.starts_at <= now, 1), else_=0)
    month = _bucket(db, m.starts_at, "month")
    ages = sum((func.coalesce(getattr(o, c), 0) for c in (*OFFLINE_BUCKETS, "age_unknown")), literal(0))
    genders = [func.sum(func.coalesce(getattr(o, f"gender_{g}"), 0)) for g in GENDERS]
    with db.session() as s:
        meetings = s.execute(joined(select(Organisation.code, m.kind, held, month, func.count(m.id)).select_from(m))
                             .group_by(text("1, 2, 3, 4"))).all()  # by position: the same SQL on both dialects
        outcomes = s.execute(joined(select(Organisation.code, func.count(o.id), func.sum(ages), func.sum(_young_expr(hs)),
                                           *genders, func.sum(o.evaluation), func.count(o.evaluation))
                                    .select_from(o).join(m, m.id == o.meeting_id))
                             .group_by(Organisation.code)).all()
    for code, kind, is_held, bucket, count in meetings:
        tally = tallies.setdefault(code, MeetingTally())
        if kind != MeetingKind.COMMUNITY.value:
            tally.other += count
        elif is_held:
            tally.held += count
            tally.held_by_month[bucket] = tally.held_by_month.get(bucket, 0) + count
        else:
            tally.planned += count
    for code, with_outcome, attendance, young, *rest in outcomes:
        tally = tallies.setdefault(code, MeetingTally())
        tally.with_outcome, tally.attendance, tally.young = with_outcome, int(attendance or 0), float(young or 0)
        tally.genders = dict(zip(GENDERS, (int(v or 0) for v in rest[:4]), strict=True))
        tally.evaluation_sum, tally.evaluations = float(rest[4] or 0), int(rest[5] or 0)
    return tallies


# Every status a post can still leave (published is final): data_version counts only these.
MOVING = tuple(sorted(status.value for status, onward in ALLOWED.items() if onward))


def data_version(db: Database) -> tuple[Any, ...]:
    """A fingerprint of everything the figures are computed from, cheap enough to take on every page
    run (index steps only): it changes with every publish, status change, harvest, audience snapshot,
    campaign load, meeting outcome and review decision. The dashboard keys its cached reads on it, so a
    figure is never older than the data (a time limit alone would show stale figures). The posts' latest
    update time alone would miss a write stamped by a clock behind the others (a second machine); the count
    per status catches every publish, failure and retry. Published is final (`lifecycle.ALLOWED`) and posts
    are not deleted, so only the posts still moving are counted (a search of the status index, not a pass
    over years of published posts): every change moves a post out of a counted status, and a new post
    raises the highest id."""
    latest = [select(func.max(column)).scalar_subquery() for column in (
        EngagementSnapshot.id, AudienceSnapshot.id, Post.updated_at, Post.id, Campaign.loaded_at, Meeting.id,
        MeetingOutcome.recorded_at, MeetingOutcome.id, Approval.id)]
    with db.session() as s:
        found = tuple(s.execute(select(*latest, select(func.count(MeetingOutcome.id)).scalar_subquery())).one())
        statuses = s.execute(select(Post.status, func.count()).where(Post.status.in_(MOVING))
                             .group_by(Post.status).order_by(Post.status)).all()
    return found + tuple(tuple(row) for row in statuses)
