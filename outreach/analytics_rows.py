"""Ratios with their basis, and row lists for the dashboard's tables (meetings, a meeting's posts, the
review queue, the audit trail, filter choices); part of `outreach.analytics`, which re-exports them. Counts of people go through
`outreach.privacy`, young attendees through the one youth definition (`[youth] young`)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy import and_, case, func, literal, select, text

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
    from outreach.analytics import ENGAGEMENT, Filters, R, Y, _joined_posts, _post_filters

    f, t = filters or Filters(), (hs or HarvestSettings()).privacy_threshold
    engaged = sum((func.coalesce(c, 0) for c in ENGAGEMENT), literal(0))
    youth = func.coalesce(R.youth_reach, Y.estimated)
    with_reach = R.reach.is_not(None)
    with_age = and_(with_reach, youth.is_not(None))
    query = _post_filters(_joined_posts(
        Post.platform, func.sum(case((with_reach, 1), else_=0)), func.sum(case((with_reach, engaged))),
        func.sum(case((with_reach, R.reach))), func.sum(case((with_age, 1), else_=0)),
        func.sum(case((with_age, youth))), func.sum(case((with_age, R.reach)))).group_by(Post.platform), f)
    with db.session() as s:
        rows = s.execute(query).all()
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
    with db.session() as s:
        def distinct(column: Any) -> tuple[str, ...]:
            return tuple(sorted(str(v) for v in s.scalars(select(column).distinct()) if v))

        starts = [m for m in s.scalars(select(Meeting.starts_at)) if m]
        pairs = s.execute(select(Post.platform, Post.language).distinct()).all()  # one pass over the posts, not two
        return FilterOptions(distinct(Organisation.code), distinct(Meeting.community),
                             tuple(sorted({str(p) for p, _ in pairs if p})), distinct(Campaign.slug),
                             tuple(sorted({str(lang) for _, lang in pairs if lang})),
                             tuple(sorted({m.year for m in starts}, reverse=True)))


def meeting_rows(db: Database, *, filters: Filters, hs: HarvestSettings | None = None) -> list[dict[str, Any]]:
    """One row per meeting in the filters' period (organisation, campaign, community): where, when,
    attendance and young attendees (privacy-safe) and evaluation, newest first."""
    hs = hs or HarvestSettings()
    o = MeetingOutcome  # columns, not ORM objects: a national network has thousands of meetings
    query = (select(Meeting.id, Meeting.key, Meeting.kind, Meeting.community, Meeting.city, Meeting.venue,
                    Meeting.starts_at, Organisation.code, Campaign.slug, o.id.label("outcome"), o.evaluation, o.notes,
                    *(getattr(o, c) for c in AGE_COLUMNS))
             .join(Organisation, Organisation.id == Meeting.organisation_id)
             .join(Campaign, Campaign.id == Meeting.campaign_id)
             .outerjoin(MeetingOutcome, MeetingOutcome.meeting_id == Meeting.id).order_by(Meeting.starts_at.desc()))
    f = filters
    if f.start:
        query = query.where(Meeting.starts_at >= f.start)
    if f.end:
        query = query.where(Meeting.starts_at < f.end)
    for value, column in ((f.organisation, Organisation.code), (f.campaign, Campaign.slug),
                          (f.community, Meeting.community), (f.city, Meeting.city)):
        if value:
            query = query.where(column == value)
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
    from outreach.analytics import _post_filters

    query = _post_filters(select(Post.platform, func.min(Post.published_at), func.max(Post.published_at))
                          .select_from(Post).outerjoin(Meeting, Meeting.id == Post.meeting_id)
                          .outerjoin(Campaign, Campaign.id == Post.campaign_id)
                          .outerjoin(Organisation, Organisation.id == Meeting.organisation_id)
                          .group_by(Post.platform), filters)
    with db.session() as s:
        rows = s.execute(query).all()
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
    from outreach.analytics import _bucket, _group_columns, _joined_posts, _post_filters

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
