"""Stand-in read queries the dashboard needs and `outreach.analytics` does not offer yet.

REQUESTED FOR outreach.analytics (move them there, then delete this module): filter_options,
meeting_rows, meeting_posts, review_queue, audit_trail. Only `dashboard.loaders` calls these.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select

from outreach.db import Database
from outreach.db.models import (
    Approval,
    Campaign,
    Meeting,
    MeetingOutcome,
    Organisation,
    Post,
    PostMetricsLatest,
)
from outreach.domain import PostStatus
from outreach.harvest.values import Count

AGE_COLUMNS = ("age_under_18", "age_18_24", "age_25_34", "age_35_plus", "age_unknown")


@dataclass(frozen=True, slots=True)
class FilterOptions:
    organisations: tuple[str, ...] = ()
    communities: tuple[str, ...] = ()
    platforms: tuple[str, ...] = ()
    campaigns: tuple[str, ...] = ()
    languages: tuple[str, ...] = ()
    years: tuple[int, ...] = ()


def filter_options(db: Database) -> FilterOptions:
    with db.session() as s:
        def distinct(column: Any) -> tuple[str, ...]:
            return tuple(sorted(str(v) for v in s.scalars(select(column).distinct()) if v))

        starts = [m for m in s.scalars(select(Meeting.starts_at)) if m]
        return FilterOptions(distinct(Organisation.code), distinct(Meeting.community), distinct(Post.platform),
                             distinct(Campaign.slug), distinct(Post.language),
                             tuple(sorted({m.year for m in starts}, reverse=True)))


def meeting_rows(db: Database, *, start: datetime | None, end: datetime | None, organisation: str | None,
                 campaign: str | None, community: str | None, threshold: int = 10) -> list[dict[str, Any]]:
    """One row per meeting: where, when, attendance (privacy-safe) and evaluation."""
    query = (select(Meeting, Organisation.code, Campaign.slug, MeetingOutcome)
             .join(Organisation, Organisation.id == Meeting.organisation_id)
             .join(Campaign, Campaign.id == Meeting.campaign_id)
             .outerjoin(MeetingOutcome, MeetingOutcome.meeting_id == Meeting.id).order_by(Meeting.starts_at.desc()))
    if start is not None:
        query = query.where(Meeting.starts_at >= start)
    if end is not None:
        query = query.where(Meeting.starts_at < end)
    for value, column in ((organisation, Organisation.code), (campaign, Campaign.slug),
                          (community, Meeting.community)):
        if value:
            query = query.where(column == value)
    with db.session() as s:
        rows = []
        for m, org, slug, outcome in s.execute(query):
            attended = sum(getattr(outcome, c) for c in AGE_COLUMNS) if outcome else None
            young = (outcome.age_under_18 + outcome.age_18_24) if outcome else None
            rows.append({"id": m.id, "key": m.key, "kind": m.kind, "campaign": slug, "organisation": org,
                         "community": m.community, "city": m.city, "venue": m.venue, "starts_at": m.starts_at,
                         "attendance": Count.of(attended, threshold=threshold).display,
                         "young": Count.of(young, threshold=threshold).display,
                         "evaluation": None if outcome is None or outcome.evaluation is None
                         else round(outcome.evaluation, 1),
                         "notes": outcome.notes if outcome else ""})
        return rows


def meeting_posts(db: Database, meeting_id: int, *, threshold: int = 10) -> list[dict[str, Any]]:
    """A meeting's posts with their status, permalink and reach."""
    query = (select(Post, PostMetricsLatest.reach).outerjoin(PostMetricsLatest, PostMetricsLatest.post_id == Post.id)
             .where(Post.meeting_id == meeting_id).order_by(Post.due_at, Post.channel, Post.language))
    with db.session() as s:
        return [{"id": p.id, "rule": p.rule_key, "channel": p.channel, "platform": p.platform,
                 "language": p.language, "status": p.status, "due_at": p.due_at, "published_at": p.published_at,
                 "url": p.remote_url, "reach": Count.of(reach, threshold=threshold).display, "text": p.text}
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
