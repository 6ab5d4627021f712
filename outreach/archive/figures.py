"""The report's numbers, gathered in one place (`gather_figures`).

Written against `outreach.db.models` directly so the archive works on its own; when
`outreach.analytics` settles, this is the one function to switch over. Raw integers are kept
here; suppression of small counts of people ("<10") happens where figures are shown.
"""

from __future__ import annotations

import io
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from outreach.db import Database
from outreach.db.models import Meeting, Organisation, Post, PostMetricsLatest
from outreach.domain import MeetingKind, PostStatus
from outreach.harvest.settings import AgeRange
from outreach.harvest.youth import OFFLINE_BUCKETS, offline_young

try:  # issue 4's additions; the report degrades to "unknown" without them
    from outreach.db.models import MeetingOutcome, PostYouthEstimate
except ImportError:  # pragma: no cover - older schema
    MeetingOutcome = PostYouthEstimate = None  # type: ignore[assignment,misc]


@dataclass(frozen=True, slots=True)
class Programme:
    """Programme-wide numbers the report needs: the meetings target, privacy threshold, who is young."""

    meetings_target: int = 700
    threshold: int = 10
    young: str = "13-24"
    young_range: tuple[int, int] = (13, 24)  # the `[youth] young` range every output counts


def programme(settings: Any) -> Programme:
    """Read `[programme]`, `[privacy]`, `[youth]` through issue 4's harvest settings when present."""
    try:
        from outreach.harvest.settings import harvest_settings
    except ImportError:  # pragma: no cover
        return Programme()
    hs = harvest_settings(settings)
    return Programme(meetings_target=hs.meetings_target, threshold=hs.privacy_threshold, young=hs.young.label,
                     young_range=(hs.young.low, hs.young.high))


@dataclass(slots=True)
class PlatformReach:
    """Reach per platform with youth reach split by kind; kinds are never added together."""

    platform: str
    posts: int = 0
    reach: int = 0
    views: int = 0
    posts_with_reach: int = 0  # Mastodon and Bluesky report no reach: "—", not 0
    posts_with_views: int = 0
    engagement: int = 0  # likes + comments + shares + saves
    youth_measured: int = 0
    posts_measured: int = 0
    youth_estimated: int = 0
    posts_estimated: int = 0
    posts_unknown: int = 0  # published posts with no youth figure of either kind


@dataclass(slots=True)
class OrgRow:
    code: str
    name: str
    meetings_held: int = 0
    meetings_planned: int = 0
    attendance: int = 0
    youth_offline: int = 0
    posts: int = 0
    reach: int = 0


@dataclass(slots=True)
class TopPost:
    post_id: int
    channel: str
    platform: str
    language: str
    text: str
    published_at: datetime | None
    permalink: str | None
    reach: int | None
    views: int | None
    engagement: int
    youth: int | None
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
    meetings_with_outcome: int = 0
    attendance: int = 0
    attendance_youth: int = 0  # offline youth reach: attendees in the `[youth]` range (outreach.harvest.youth)
    attendance_by_gender: dict[str, int] = field(default_factory=dict)
    evaluation_mean: float | None = None
    posts_published: int = 0
    posts_by_platform: dict[str, int] = field(default_factory=dict)
    posts_by_language: dict[str, int] = field(default_factory=dict)
    posts_by_platform_language: dict[tuple[str, str], int] = field(default_factory=dict)
    reach: list[PlatformReach] = field(default_factory=list)
    meetings_by_month: dict[str, int] = field(default_factory=dict)  # "2026-03" -> held
    posts_by_month: dict[str, int] = field(default_factory=dict)
    organisations: list[OrgRow] = field(default_factory=list)
    top_posts: list[TopPost] = field(default_factory=list)


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
        _meetings(s, fig, orgs, org, now)
        _posts(s, fig, orgs, org)
        if top:
            fig.top_posts = _top_posts(s, org, start, end, top, settings=settings, cards=cards)
        fig.organisations = [row for row in orgs.values() if row.meetings_held or row.meetings_planned or row.posts]
    return fig


def _meetings(s: Session, fig: ReportFigures, orgs: dict[int, OrgRow], org: Organisation | None,
              now: datetime) -> None:
    where = [Meeting.starts_at >= fig.start, Meeting.starts_at < fig.end]
    if org is not None:
        where.append(Meeting.organisation_id == org.id)
    months: Counter[str] = Counter()
    for kind, org_id, starts_at in s.execute(select(Meeting.kind, Meeting.organisation_id, Meeting.starts_at)
                                             .where(*where)):
        if kind != MeetingKind.COMMUNITY.value:
            fig.meetings_other += 1
            continue
        held = starts_at <= now
        row = orgs.get(org_id)
        if held:
            fig.meetings_held += 1
            months[starts_at.strftime("%Y-%m")] += 1
        else:
            fig.meetings_planned += 1
        if row is not None:
            row.meetings_held += held
            row.meetings_planned += not held
    fig.meetings_by_month = dict(sorted(months.items()))
    to_date = select(func.count(Meeting.id)).where(
        Meeting.kind == MeetingKind.COMMUNITY.value, Meeting.starts_at < min(fig.end, now))
    if org is not None:
        to_date = to_date.where(Meeting.organisation_id == org.id)
    fig.meetings_held_to_date = s.scalar(to_date) or 0
    if MeetingOutcome is None:
        return
    o = MeetingOutcome
    young = AgeRange(*fig.programme.young_range)
    ages = (o.age_under_18, o.age_18_24, o.age_25_34, o.age_35_plus, o.age_unknown)
    genders = {"woman": o.gender_woman, "man": o.gender_man, "other": o.gender_other,
               "unknown": o.gender_unknown}
    query = (select(Meeting.organisation_id, *ages, *genders.values(), o.evaluation)
             .join(Meeting, Meeting.id == o.meeting_id).where(*where))
    scores: list[float] = []
    by_gender: Counter[str] = Counter()
    for row in s.execute(query):
        org_id, age_values, gender_values = row[0], row[1:6], row[6:10]
        total = sum(v or 0 for v in age_values)
        youth = offline_young(dict(zip(OFFLINE_BUCKETS, (v or 0 for v in age_values), strict=False)), young)
        fig.meetings_with_outcome += 1
        fig.attendance += total
        fig.attendance_youth += youth
        by_gender.update(dict(zip(genders, (v or 0 for v in gender_values), strict=True)))
        if row[10] is not None:
            scores.append(float(row[10]))
        if org_id in orgs:
            orgs[org_id].attendance += total
            orgs[org_id].youth_offline += youth
    fig.attendance_by_gender = dict(by_gender)
    fig.attendance_youth = round(fig.attendance_youth)  # summed unrounded, as analytics does
    for row in orgs.values():
        row.youth_offline = round(row.youth_offline)
    fig.evaluation_mean = sum(scores) / len(scores) if scores else None


def published_filter(org: Organisation | None, start: datetime, end: datetime) -> list[Any]:
    """Published posts in [start, end) (by publication time), for one organisation's meetings if given."""
    where = [Post.status == PostStatus.PUBLISHED.value, Post.published_at >= start, Post.published_at < end]
    if org is not None:
        where.append(Post.meeting_id.in_(select(Meeting.id).where(Meeting.organisation_id == org.id)))
    return where


def _posts(s: Session, fig: ReportFigures, orgs: dict[int, OrgRow], org: Organisation | None) -> None:
    where = published_filter(org, fig.start, fig.end)
    for platform, language, count in s.execute(
            select(Post.platform, Post.language, func.count(Post.id)).where(*where)
            .group_by(Post.platform, Post.language)):
        fig.posts_by_platform_language[(platform, language)] = count
        fig.posts_by_platform[platform] = fig.posts_by_platform.get(platform, 0) + count
        fig.posts_by_language[language] = fig.posts_by_language.get(language, 0) + count
        fig.posts_published += count
    fig.posts_by_platform = dict(sorted(fig.posts_by_platform.items(), key=lambda kv: -kv[1]))
    fig.posts_by_language = dict(sorted(fig.posts_by_language.items(), key=lambda kv: -kv[1]))
    months: Counter[str] = Counter()
    for (published_at,) in s.execute(select(Post.published_at).where(*where)
                                      .execution_options(yield_per=5000)):
        months[published_at.strftime("%Y-%m")] += 1
    fig.posts_by_month = dict(sorted(months.items()))

    m = PostMetricsLatest
    engagement = (func.coalesce(m.likes, 0) + func.coalesce(m.comments, 0)
                  + func.coalesce(m.shares, 0) + func.coalesce(m.saves, 0))
    columns = [Post.platform, Meeting.organisation_id, m.reach, m.views, engagement, m.youth_reach]
    query = select(*columns).select_from(Post).outerjoin(m, m.post_id == Post.id) \
        .outerjoin(Meeting, Meeting.id == Post.meeting_id).where(*where)
    if PostYouthEstimate is not None:
        query = query.add_columns(PostYouthEstimate.estimated) \
            .outerjoin(PostYouthEstimate, PostYouthEstimate.post_id == Post.id)
    per_platform: dict[str, PlatformReach] = {}
    for row in s.execute(query.execution_options(yield_per=5000)):
        platform, org_id, reach, views, eng, youth = row[:6]
        estimated = row[6] if len(row) > 6 else None
        pr = per_platform.setdefault(platform, PlatformReach(platform))
        pr.posts += 1
        pr.reach += reach or 0
        pr.views += views or 0
        pr.posts_with_reach += reach is not None
        pr.posts_with_views += views is not None
        pr.engagement += eng or 0
        if youth is not None:
            pr.youth_measured += youth
            pr.posts_measured += 1
        elif estimated is not None:
            pr.youth_estimated += estimated
            pr.posts_estimated += 1
        else:
            pr.posts_unknown += 1
        if org_id in orgs:
            orgs[org_id].posts += 1
            orgs[org_id].reach += reach or 0
    fig.reach = sorted(per_platform.values(), key=lambda r: -r.posts)


def _top_posts(s: Session, org: Organisation | None, start: datetime, end: datetime, top: int, *,
               settings: Any, cards: bool) -> list[TopPost]:
    m = PostMetricsLatest
    score = func.coalesce(m.reach, m.views, 0)
    engagement = (func.coalesce(m.likes, 0) + func.coalesce(m.comments, 0)
                  + func.coalesce(m.shares, 0) + func.coalesce(m.saves, 0))
    query = (select(Post, m.reach, m.views, engagement, m.youth_reach).join(m, m.post_id == Post.id)
             .where(*published_filter(org, start, end))
             .order_by(score.desc(), engagement.desc(), Post.id).limit(top))
    estimates: dict[int, int | None] = {}
    rows = list(s.execute(query))
    if PostYouthEstimate is not None and rows:
        ids = [row[0].id for row in rows]
        estimates = {pid: est for pid, est in s.execute(
            select(PostYouthEstimate.post_id, PostYouthEstimate.estimated).where(PostYouthEstimate.post_id.in_(ids)))}
    result = []
    for post, reach, views, eng, youth in rows:
        kind, value = ("measured", youth) if youth is not None else \
            ("estimated", estimates[post.id]) if estimates.get(post.id) is not None else ("unknown", None)
        item = TopPost(post.id, post.channel, post.platform, post.language, post.text, post.published_at,
                       post.remote_url, reach, views, eng or 0, value, kind)
        if cards:
            item.card_png, item.card_alt = card_thumbnail(post, settings=settings)
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
    try:
        from PIL import Image

        from outreach.cards.model import CardSpec
        from outreach.cards.render import render_card
    except ImportError:  # pragma: no cover
        return None, alt
    meeting = post.meeting
    title = post.text.strip().splitlines()[0][:90] if post.text.strip() else template
    spec = CardSpec(template=template, language=post.language, title=title,
                    organisation=meeting.organisation.code if meeting else "Peer",
                    when=meeting.starts_at if meeting else None,
                    timezone=getattr(settings, "timezone", "Europe/Amsterdam"),
                    venue=meeting.venue if meeting else "", city=meeting.city if meeting else "")
    try:
        card = render_card(spec, size=post.platform)
    except Exception:  # a card the renderer refuses must not sink the report
        return None, alt
    return Image.open(io.BytesIO(card.data)), alt or card.alt_text


def group_small(values: dict[str, int], *, keep: int = 8, other: str = "other") -> dict[str, int]:
    """The `keep` largest entries and one summed rest, for charts with many categories."""
    items = sorted(values.items(), key=lambda kv: -kv[1])
    head, rest = items[:keep], items[keep:]
    result = defaultdict(int, head)
    if rest:
        result[other] += sum(v for _, v in rest)
    return dict(result)


__all__ = ["ReportFigures", "gather_figures", "programme", "published_filter", "resolve_organisation"]
