"""The report's numbers, gathered in one place (`gather_figures`).

Reach, engagement, youth reach and the top posts come from `outreach.analytics` (the one reader
the dashboard uses too), as privacy-safe `Count`s, and so do the post tallies; only the meeting
tallies and attendance (from `meetings` and `meeting_outcomes`) are still read here.
"""

from __future__ import annotations

import io
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from outreach import analytics, privacy
from outreach.analytics import Dimension, Filters
from outreach.analytics_rows import GENDERS
from outreach.db import Database
from outreach.db.models import (
    Meeting,
    Organisation,
    Post,
    PostMetricsLatest,
)
from outreach.domain import PostStatus
from outreach.harvest.settings import AgeRange, HarvestSettings, harvest_settings
from outreach.harvest.values import ReachKind
from outreach.privacy import Count


@dataclass(frozen=True, slots=True)
class Programme:
    """Programme-wide numbers the report needs: the meetings target, privacy threshold, who is young."""

    meetings_target: int = 700
    threshold: int = 10
    young: str = "13-24"
    young_range: tuple[int, int] = (13, 24)  # the `[youth] young` range every output counts
    organisation_targets: tuple[tuple[str, int], ...] = ()  # `[programme.organisation_targets]`


def programme(settings: Any) -> Programme:
    """Read `[programme]`, `[privacy]`, `[youth]` through the harvest settings."""
    hs = harvest_settings(settings)
    return Programme(meetings_target=hs.meetings_target, threshold=hs.privacy_threshold, young=hs.young.label,
                     young_range=(hs.young.low, hs.young.high), organisation_targets=hs.organisation_targets)


@dataclass(slots=True)
class PlatformReach:
    """Reach per platform with youth reach split by kind (kinds are never added together); counts
    come from `outreach.analytics`, protected by `outreach.privacy`."""

    platform: str
    posts: int = 0
    reach: Count = field(default_factory=lambda: Count(None))
    views: Count = field(default_factory=lambda: Count(None))
    posts_with_reach: int = 0  # Mastodon and Bluesky report no reach: "—", not 0
    posts_with_views: int = 0
    engagement: Count = field(default_factory=lambda: Count(None))  # likes + comments + shares + saves
    youth_measured: Count = field(default_factory=lambda: Count(None))
    posts_measured: int = 0
    youth_estimated: Count = field(default_factory=lambda: Count(None))
    posts_estimated: int = 0
    posts_unknown: int = 0  # published posts with no youth figure of either kind
    watch_time_h: float | None = None  # analytics.watch_hours: None where the platform reports no watch time


@dataclass(slots=True)
class OrgRow:
    code: str
    name: str
    meetings_held: int = 0
    meetings_planned: int = 0
    attendance: int | Count = 0  # a protected Count once gathered (protect_people)
    youth_offline: int | Count = 0
    posts: int = 0
    reach: Count = field(default_factory=lambda: Count(None))
    held_by_month: dict[str, int] = field(default_factory=dict)  # its page's chart
    with_outcome: int = 0


@dataclass(slots=True)
class TopPost:
    post_id: int
    channel: str
    platform: str
    language: str
    text: str
    published_at: datetime | None
    permalink: str | None
    reach: Count
    views: Count
    engagement: Count
    youth: Count
    youth_kind: str  # measured | estimated | unknown
    card_png: bytes | None = None
    card_alt: str = ""


@dataclass(slots=True)
class ReportFigures:
    start: datetime
    end: datetime
    organisation: str | None
    generated_at: datetime
    programme: Programme
    meetings_held: int = 0  # community meetings in the period, already held
    meetings_planned: int = 0  # community meetings in the period, still ahead
    meetings_other: int = 0  # trainings and municipal sessions in the period
    meetings_held_to_date: int = 0  # community meetings held since the start, up to the period's end
    alliance_held_to_date: int | None = None  # the same for the whole alliance, in a report for one organisation
    meetings_with_outcome: int = 0
    attendance: int | Count | None = 0  # protected Counts once gathered (protect_people)
    attendance_youth: int | Count | None = 0  # offline youth reach: attendees in the `[youth]` range (harvest.youth)
    attendance_by_gender: dict[str, int | Count] = field(default_factory=dict)
    evaluation_mean: float | None = None
    posts_published: int = 0
    posts_by_platform: dict[str, int] = field(default_factory=dict)
    posts_by_language: dict[str, int] = field(default_factory=dict)
    posts_by_platform_language: dict[tuple[str, str], int] = field(default_factory=dict)
    reach: list[PlatformReach] = field(default_factory=list)
    reach_total: Count = field(default_factory=lambda: Count(None))
    definition_changes: list[Any] = field(default_factory=list)  # harvest.definitions.Definition
    meetings_by_month: dict[str, int] = field(default_factory=dict)  # "2026-03" -> held
    posts_by_month: dict[str, int] = field(default_factory=dict)
    organisations: list[OrgRow] = field(default_factory=list)
    top_posts: list[TopPost] = field(default_factory=list)
    sources: Any = None  # analytics.Sources: definitions, estimate sources, measured youth reach


def plan_of(fig: ReportFigures) -> int | None:
    """The plan the report judges against: the programme's for the alliance, an organisation's own
    (`[programme.organisation_targets]`) for one organisation, else None (count and share, no verdict)."""
    if fig.organisation is None:
        return fig.programme.meetings_target
    return HarvestSettings(organisation_targets=fig.programme.organisation_targets).organisation_target(
        fig.organisation)


def resolve_organisation(session: Session, organisation: str | None) -> Organisation | None:
    """An organisation by code (case-insensitive) or name; a clear error lists the known codes."""
    if organisation is None:
        return None
    wanted = organisation.strip().lower()
    orgs = list(session.scalars(select(Organisation)))
    for org in orgs:
        if wanted in (org.code.lower(), org.name.lower()):
            return org
    known = ", ".join(sorted(o.code for o in orgs)) or "none in the database"
    raise ValueError(f"unknown organisation {organisation!r} (known: {known})")


def gather_figures(db: Database, settings: Any, *, start: datetime, end: datetime,
                   organisation: str | None = None, now: datetime | None = None,
                   top: int = 5, cards: bool = True) -> ReportFigures:
    """Every number in the report for [start, end), optionally for one organisation."""
    now = now or datetime.now(UTC)
    with db.session() as s:
        org = resolve_organisation(s, organisation)
        fig = ReportFigures(start=start, end=end, organisation=org.code if org else None,
                            generated_at=now, programme=programme(settings))
        orgs = {o.id: OrgRow(o.code, o.name) for o in s.scalars(select(Organisation).order_by(Organisation.code))
                if org is None or o.id == org.id}
        _meetings(db, fig, orgs, org, now)
        _posts(db, s, fig, orgs, org)
        if top:
            fig.top_posts = _top_posts(db, s, fig, top, settings=settings, cards=cards)
        fig.organisations = [row for row in orgs.values() if row.meetings_held or row.meetings_planned or row.posts]
    protect_people(fig)
    return fig


def protect_people(fig: ReportFigures) -> None:
    """Attendance, young attendees and the gender split as privacy-safe Counts, protected together with
    the per-organisation rows that add up to them: no "<10" follows from a total minus the rest."""
    t = fig.programme.threshold
    if not fig.meetings_with_outcome:  # no attendance list in the period: unknown ("—"), not 0
        fig.attendance = fig.attendance_youth = None
    for total, of_org in (("attendance", "attendance"), ("attendance_youth", "youth_offline")):
        values: dict[Any, Any] = {"total": getattr(fig, total)}
        values.update({("org", o.code): getattr(o, of_org) for o in fig.organisations})
        sums = [privacy.Sum("total", tuple(k for k in values if k != "total"))]
        if total == "attendance":
            values.update({("gender", g): v for g, v in fig.attendance_by_gender.items()})
            sums.append(privacy.Sum("total", tuple(k for k in values if isinstance(k, tuple) and k[0] == "gender")))
        safe = privacy.protect(values, sums, threshold=t)
        setattr(fig, total, safe["total"])
        for o in fig.organisations:
            setattr(o, of_org, safe[("org", o.code)])
        if total == "attendance":
            fig.attendance_by_gender = {g: safe[("gender", g)] for g in fig.attendance_by_gender}


def _meetings(db: Database, fig: ReportFigures, orgs: dict[int, OrgRow], org: Organisation | None,
              now: datetime) -> None:
    """Meeting tallies and outcomes through `outreach.analytics`, the reader the dashboard uses."""
    view = Filters(start=fig.start, end=fig.end, organisation=org.code if org else None)
    hs = harvest_settings_of(fig.programme)
    by_code = {row.code: row for row in orgs.values()}
    months: Counter[str] = Counter()
    by_gender: Counter[str] = Counter()
    young, scores, n_scores = 0.0, 0.0, 0
    for code, tally in analytics.meeting_tallies(db, filters=view, now=now, hs=hs).items():
        fig.meetings_held += tally.held
        fig.meetings_planned += tally.planned
        fig.meetings_other += tally.other
        months.update(tally.held_by_month)
        fig.meetings_with_outcome += tally.with_outcome
        fig.attendance += tally.attendance
        young += tally.young
        by_gender.update(tally.genders)
        scores, n_scores = scores + tally.evaluation_sum, n_scores + tally.evaluations
        if code in by_code:
            row = by_code[code]
            row.meetings_held, row.meetings_planned = tally.held, tally.planned
            row.attendance, row.youth_offline = tally.attendance, round(tally.young)
            row.held_by_month, row.with_outcome = tally.held_by_month, tally.with_outcome
    fig.meetings_by_month = dict(sorted(months.items()))
    fig.attendance_by_gender = {g: by_gender.get(g, 0) for g in GENDERS} if fig.meetings_with_outcome else {}
    fig.attendance_youth = round(young)  # summed unrounded, as analytics does
    fig.evaluation_mean = scores / n_scores if n_scores else None
    to_date = analytics.meetings_progress(db, now=now, hs=hs, filters=Filters(end=fig.end,
                                                                              organisation=view.organisation))
    fig.meetings_held_to_date = to_date.held
    fig.alliance_held_to_date = to_date.alliance_held


def published_filter(org: Organisation | None, start: datetime, end: datetime) -> list[Any]:
    """Published posts in [start, end) (by publication time), for one organisation's meetings if given."""
    where = [Post.status == PostStatus.PUBLISHED.value, Post.published_at >= start, Post.published_at < end]
    if org is not None:
        where.append(Post.meeting_id.in_(select(Meeting.id).where(Meeting.organisation_id == org.id)))
    return where


def _posts(db: Database, s: Session, fig: ReportFigures, orgs: dict[int, OrgRow], org: Organisation | None) -> None:
    view = Filters(start=fig.start, end=fig.end, organisation=org.code if org else None)
    for (platform, language), count in analytics.post_counts(db, filters=view, rows=Dimension.PLATFORM,
                                                             columns=Dimension.LANGUAGE).items():
        fig.posts_by_platform_language[(platform, language)] = count
        fig.posts_by_platform[platform] = fig.posts_by_platform.get(platform, 0) + count
        fig.posts_by_language[language] = fig.posts_by_language.get(language, 0) + count
        fig.posts_published += count
    fig.posts_by_platform = dict(sorted(fig.posts_by_platform.items(), key=lambda kv: -kv[1]))
    fig.posts_by_language = dict(sorted(fig.posts_by_language.items(), key=lambda kv: -kv[1]))
    monthly = analytics.post_counts(db, filters=view, rows=Dimension.ORGANISATION, bucket="month")
    months: Counter[str] = Counter()
    for (_, month), count in monthly.items():
        months[month] += count
    fig.posts_by_month = dict(sorted(months.items()))

    hs = harvest_settings_of(fig.programme)
    rows = analytics.totals(db, by=Dimension.PLATFORM, filters=view, hs=hs)
    fig.reach = [PlatformReach(
        r.label, r.posts, r.reach, r.views, r.posts_with_reach, r.posts_with_views, r.engagement,
        r.youth.get(ReachKind.MEASURED), r.youth.posts.get(ReachKind.MEASURED, 0),
        r.youth.get(ReachKind.ESTIMATED), r.youth.posts.get(ReachKind.ESTIMATED, 0),
        r.youth.posts.get(ReachKind.UNKNOWN, 0), r.watch_time_h) for r in sorted(rows, key=lambda r: (-r.posts, r.label))]
    overall = analytics.totals(db, filters=view, hs=hs)
    fig.reach_total = overall[0].reach if overall and overall[0].posts_with_reach else Count(None)
    fig.definition_changes = analytics.definition_changes(db, filters=view)
    fig.sources = analytics.sources(db, filters=view)
    by_code = {o.code: o for o in orgs.values()}
    for r in analytics.totals(db, by=Dimension.ORGANISATION, filters=view, hs=hs):
        if r.key in by_code:
            by_code[r.key].posts, by_code[r.key].reach = r.posts, r.reach


def harvest_settings_of(p: Programme) -> HarvestSettings:
    """The analytics settings the report was asked for (threshold, youth range, target)."""
    return HarvestSettings(young=AgeRange(*p.young_range), privacy_threshold=p.threshold,
                           meetings_target=p.meetings_target)


def _top_posts(db: Database, s: Session, fig: ReportFigures, top: int, *, settings: Any,
               cards: bool) -> list[TopPost]:
    """The best-reaching posts, ranked exactly as the dashboard ranks them (`analytics.top_posts`)."""
    view = Filters(start=fig.start, end=fig.end, organisation=fig.organisation)
    best = analytics.top_posts(db, metric="reach", limit=top, filters=view, hs=harvest_settings_of(fig.programme))
    views = dict(s.execute(select(PostMetricsLatest.post_id, PostMetricsLatest.views)
                           .where(PostMetricsLatest.post_id.in_([p.post_id for p in best]))).all())
    result = []
    for p in best:
        item = TopPost(p.post_id, p.channel, p.platform, p.language, p.text, p.published_at, p.url, p.reach,
                       Count.of(views.get(p.post_id), threshold=fig.programme.threshold), p.engagement,
                       p.youth.count, p.youth.kind.value)
        if cards:
            item.card_png, item.card_alt = card_thumbnail(s.get(Post, p.post_id), settings=settings)
        result.append(item)
    return result


def card_thumbnail(post: Post, *, settings: Any, width: int = 360) -> tuple[bytes | None, str]:
    """A small PNG of the post's image: the published file when it is on disk, else the card
    re-rendered from its template (`outreach.cards`). None when neither is possible."""
    from PIL import Image

    for entry in post.media or []:
        alt = str(entry.get("alt_text", ""))
        image = None
        path = entry.get("path")
        if path and Path(path).is_file():
            try:
                image = Image.open(path)
                image.load()
            except OSError:
                image = None
        elif entry.get("card"):
            image, alt = _render_card(post, str(entry["card"]), alt, settings=settings)
        if image is not None:
            image = image.convert("RGB")
            image.thumbnail((width, width * 2))
            out = io.BytesIO()
            image.save(out, format="PNG", optimize=True)
            return out.getvalue(), alt
    return None, ""


def _render_card(post: Post, template: str, alt: str, *, settings: Any) -> tuple[Any, str]:
    from PIL import Image

    from outreach.cards.model import CardSpec
    from outreach.cards.render import render_card
    from outreach.connectors import platform_class

    meeting = post.meeting
    title = post.text.strip().splitlines()[0][:90] if post.text.strip() else template
    spec = CardSpec(template=template, language=post.language, title=title,
                    organisation=meeting.organisation.code if meeting else "Peer",
                    when=meeting.starts_at if meeting else None,
                    timezone=getattr(settings, "timezone", "Europe/Amsterdam"),
                    venue=meeting.venue if meeting else "", city=meeting.city if meeting else "")
    try:  # at the size the platform's card is drawn (its connector's card_size; manual channels too)
        card = render_card(spec, size=platform_class(post.platform).card_size)
    except Exception:  # a card the renderer refuses must not sink the report
        return None, alt
    return Image.open(io.BytesIO(card.data)), alt or card.alt_text


__all__ = ["ReportFigures", "gather_figures", "programme", "published_filter", "resolve_organisation"]
