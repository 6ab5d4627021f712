"""One post for one meeting, written in the dashboard's planner instead of a campaign file.

The draft is rendered with the same Jinja2 environment, UTM tagging, platform limits and content
hash as campaign files, and stored with the same insert/update rules as `schedule_campaign` (changed
approved content goes back to review). Every dashboard post waits for a reviewer.

Dashboard posts carry `rule_key` "dashboard:<id>" so a campaign file reload can tell them apart.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import func, or_, select

from outreach.config import Settings
from outreach.db import Database
from outreach.db.models import Campaign, Meeting, Organisation, Post
from outreach.domain import Platform
from outreach.errors import InputError
from outreach.planning.draft_video import DraftVideo, from_entries, post_entry, video_checks
from outreach.planning.limits import platform_validator, text_limit
from outreach.planning.plan import CampaignInfo, Plan, PlannedPost, content_hash
from outreach.planning.render import (
    Fields,
    RenderProblem,
    compile_template,
    make_environment,
    render,
    tag_text,
    tag_url,
)
from outreach.planning.schedule import DASHBOARD_RULE_PREFIX, Loader, ScheduleReport
from outreach.planning.spec import CARD_TEMPLATES, ORGANISATIONS
from outreach.publishing.media import card_spec

RULE_PREFIX = DASHBOARD_RULE_PREFIX
_SLUG = re.compile(r"[a-z0-9][a-z0-9._-]{0,60}")
# The UTM tags planning added (undone when a saved post is loaded for editing, then added afresh).
_UTM = re.compile(r"[?&]utm_source=[^&\s]*&utm_medium=[^&\s]*&utm_campaign=[^&\s#]*")


class DraftError(InputError):
    """A draft that cannot be saved; `problems` lists every reason."""

    def __init__(self, problems: Sequence[str]) -> None:
        super().__init__("; ".join(problems))
        self.problems = list(problems)


@dataclass(frozen=True, slots=True)
class MeetingChoice:
    """A meeting the planner can write about (what the form shows and the templates see)."""

    id: int
    key: str
    campaign: str
    campaign_name: str
    timezone: str
    organisation: str
    community: str
    city: str
    venue: str
    starts_at: datetime
    languages: tuple[str, ...]
    kind: str = "community"
    themes: tuple[str, ...] = ()
    audience: str = ""
    link: str | None = None  # the campaign's link: `{{ link }}` when the volunteer gives none

    def label(self) -> str:
        local = self.starts_at.astimezone(ZoneInfo(self.timezone))
        return f"{local:%Y-%m-%d %H:%M} · {self.organisation} · {self.city} · {self.key}"


@dataclass(frozen=True, slots=True)
class DraftPost:
    """What a volunteer fills in: texts and alt texts per language, channels, local time, card."""

    meeting_id: int
    name: str  # slug, unique per meeting: "announce", "extra-reminder"
    texts: Mapping[str, str]  # language -> Jinja2 text
    channels: Sequence[str]
    due_local: datetime  # naive wall-clock time in the campaign's time zone
    card: str | None = None  # one of CARD_TEMPLATES
    alt_texts: Mapping[str, str] = field(default_factory=dict)
    link: str | None = None
    video: DraftVideo | None = None  # instead of a card

    @property
    def rule_key(self) -> str:
        return f"{RULE_PREFIX}{self.name}"


@dataclass(frozen=True, slots=True)
class Check:
    """One problem found while the volunteer types; `language`/`channel` say where (None: whole draft).
    `code` and `values` let the dashboard say it in the volunteer's language ("" : only `message`)."""

    message: str
    language: str | None = None
    channel: str | None = None
    code: str = ""
    values: Mapping[str, Any] = field(default_factory=dict)
    warning: bool = False  # said, but saving is allowed (captions a channel drops)


@dataclass(frozen=True, slots=True)
class RenderedDraft:
    posts: list[PlannedPost]
    checks: list[Check]

    @property
    def ok(self) -> bool:
        return not any(not c.warning for c in self.checks)


def meeting_choices(db: Database, *, since: datetime | None = None) -> list[MeetingChoice]:
    """Meetings to plan posts for (from `since`, default all), soonest first."""
    query = _choice_query()
    if since is not None:
        query = query.where(Meeting.starts_at >= since)
    with db.session() as s:
        return _choices(s, query.order_by(Meeting.starts_at), links=True)


RECENT_DAYS = 30  # the planner offers meetings from this many days ago on (posts about one just held)
SHOWN = 100  # at most this many of each part of the list; the volunteer searches for the rest


@dataclass(frozen=True, slots=True)
class MeetingList:
    """The meetings the planner offers: those found (at most SHOWN of each part) of how many match in all, and
    the ones asked to be kept that the range or search does not hold."""

    meetings: list[MeetingChoice]
    total: int
    kept: list[MeetingChoice] = field(default_factory=list)

    @property
    def choices(self) -> list[MeetingChoice]:
        return [*self.meetings, *self.kept]


def find_meetings(db: Database, *, now: datetime, earlier: bool = False, search: str = "",
                  keep: Sequence[int] = (), limit: int = SHOWN) -> MeetingList:
    """The meetings a volunteer plans for, without reading years of them: by default those to come (soonest
    first), then those of the last RECENT_DAYS (latest first); `earlier`: the ones before that (latest
    first). Every word of `search` must be found in the meeting's code, city, venue, community, organisation
    or campaign. `keep` (the meeting in the link, the one being edited) is always offered (`kept` when the
    range or search does not hold it). The campaigns' links are left out (`with_link` adds the
    chosen meeting's)."""
    since = now - timedelta(days=RECENT_DAYS)
    words = [_matching(word) for word in search.split()]
    query = _choice_query().where(*words)
    counted = (select(func.count(Meeting.id)).select_from(Meeting) if not words  # no join: the start index alone
               else query.with_only_columns(func.count(Meeting.id)))
    with db.session() as s:
        if earlier:
            before = query.where(Meeting.starts_at < since)
            found = _choices(s, before.order_by(Meeting.starts_at.desc(), Meeting.id).limit(limit))
            total = s.scalar(counted.where(Meeting.starts_at < since))
        else:
            found = (_choices(s, query.where(Meeting.starts_at >= now).order_by(Meeting.starts_at, Meeting.id)
                              .limit(limit))
                     + _choices(s, query.where(Meeting.starts_at >= since, Meeting.starts_at < now)
                                .order_by(Meeting.starts_at.desc(), Meeting.id).limit(limit)))
            total = s.scalar(counted.where(Meeting.starts_at >= since))
        missing = [i for i in keep if i not in {m.id for m in found}]
        kept = _choices(s, _choice_query().where(Meeting.id.in_(missing)).order_by(Meeting.starts_at)) if missing else []
    return MeetingList(found, total or 0, kept)


def _matching(word: str) -> Any:
    columns = (Meeting.key, Meeting.city, Meeting.venue, Meeting.community, Organisation.code, Organisation.name,
               Campaign.slug, Campaign.name)
    return or_(*(column.icontains(word, autoescape=True) for column in columns))


def _choice_query() -> Any:
    return (select(Meeting, Campaign, Organisation)
            .join(Campaign, Meeting.campaign_id == Campaign.id)
            .join(Organisation, Meeting.organisation_id == Organisation.id))


def with_link(db: Database, meeting: MeetingChoice) -> MeetingChoice:
    """The meeting with its campaign's link (`{{ link }}` when the volunteer gives none)."""
    with db.session() as s:
        (campaign_id,) = s.execute(select(Campaign.id).where(Campaign.slug == meeting.campaign)).one()
        return replace(meeting, link=_campaign_links(s, {campaign_id}).get(campaign_id))


def _choices(s: Any, query: Any, *, links: bool = False) -> list[MeetingChoice]:
    rows = s.execute(query).all()
    found = _campaign_links(s, {c.id for _, c, _ in rows}) if links else {}
    return [MeetingChoice(id=m.id, key=m.key, campaign=c.slug, campaign_name=c.name, timezone=c.timezone,
                          organisation=o.code, community=m.community, city=m.city, venue=m.venue,
                          starts_at=m.starts_at, languages=tuple(m.languages or ()), kind=m.kind,
                          themes=tuple(m.themes or ()), audience=m.audience, link=found.get(c.id))
            for m, c, o in rows]


def _campaign_links(s: Any, campaign_ids: set[int]) -> dict[int, str]:
    """Each campaign's link: the latest link its campaign-file posts carry, without the UTM tags (a walk back
    along the campaign's posts until one carries a link)."""
    links = {}
    for campaign_id in sorted(campaign_ids):
        link = s.scalar(select(Post.link).where(Post.campaign_id == campaign_id, Post.link.is_not(None),
                                                Post.rule_key.not_like(f"{RULE_PREFIX}%"))
                        .order_by(Post.id.desc()).limit(1))
        if link is not None:
            links[campaign_id] = _UTM.sub("", link)
    return links


def load_draft(db: Database, meeting_id: int, name: str, *, timezone: str) -> DraftPost | None:
    """The dashboard post `name` of a meeting as a draft again (for editing), or None."""
    with db.session() as s:
        rows = list(s.scalars(select(Post).where(Post.meeting_id == meeting_id,
                                                 Post.rule_key == f"{RULE_PREFIX}{name}")))
    if not rows:
        return None
    texts = {p.language: _UTM.sub("", p.text) for p in sorted(rows, key=lambda p: p.id)}
    alts = {p.language: p.media[0].get("alt_text", "") for p in rows if p.media and not p.media[0].get("video")}
    card = next((p.media[0].get("card") for p in rows if p.media and not p.media[0].get("video")), None)
    video = from_entries({(p.channel, p.language): p.media[0] for p in rows if p.media and p.media[0].get("video")})
    due = rows[0].due_at.astimezone(ZoneInfo(timezone)).replace(tzinfo=None)
    return DraftPost(meeting_id=meeting_id, name=name, texts=texts, channels=sorted({p.channel for p in rows}),
                     due_local=due, card=card, alt_texts=alts, link=rows[0].link, video=video)


def render_draft(draft: DraftPost, meeting: MeetingChoice, settings: Settings, *, utm: bool = True) -> RenderedDraft:
    """Render every language × channel of the draft and check it against each platform's limits."""
    checks: list[Check] = []
    if not _SLUG.fullmatch(draft.name):
        checks.append(Check(f"name {draft.name!r}: use lowercase letters, digits, '-', '.' or '_'", code="name",
                            values={"name": draft.name}))
    if not draft.texts:
        checks.append(Check("choose at least one language", code="no_language"))
    if not draft.channels:
        checks.append(Check("choose at least one channel", code="no_channel"))
    if draft.card is not None and draft.video is not None:
        checks.append(Check("a post with a video has no card (give the video a cover)", code="video_and_card"))
    if draft.card is not None and draft.card not in CARD_TEMPLATES:
        checks.append(Check(f"unknown card template {draft.card!r} (known: {', '.join(CARD_TEMPLATES)})",
                            code="unknown_card", values={"card": draft.card}))
    channels = []
    for name in draft.channels:
        if name in settings.channels:
            channels.append(settings.channels[name])
        else:
            checks.append(Check(f"unknown channel {name!r}", channel=name, code="unknown_channel"))
    video = None
    if draft.video is not None:
        video, found = video_checks(draft.video, channels, list(draft.texts), settings)
        checks.extend(Check(f.message, language=f.values.get("language"), channel=f.channel, code=f.code,
                            values=f.values, warning=f.warning) for f in found)
    tz = ZoneInfo(meeting.timezone)
    due = draft.due_local.replace(tzinfo=tz).astimezone(UTC)
    env = make_environment()
    posts = []
    link_given = draft.link or meeting.link
    for lang, source in draft.texts.items():
        ctx = _context(meeting, lang, due.astimezone(tz), link_given)
        text = _render(env, source, ctx, lang, checks)
        alt = _render(env, draft.alt_texts.get(lang, ""), ctx, lang, checks) if draft.card else ""
        if text is None or alt is None:
            continue
        if not text:
            checks.append(Check("text is empty", language=lang, code="empty"))
            continue
        if draft.card and not alt:
            checks.append(Check("alt text is required for the card", language=lang, code="alt_required"))
        for channel in channels:
            source_tag = str(channel.options.get("utm_source", channel.platform))
            body = tag_text(text, source=source_tag, campaign=meeting.campaign) if utm else text
            link = tag_url(link_given, source=source_tag, campaign=meeting.campaign) if utm and link_given \
                else link_given
            media = [{"card": draft.card, "alt_text": alt}] if draft.card else []
            if draft.video is not None:
                media = [post_entry(draft.video, video, language=lang, channel=channel.name,
                                    channels=draft.channels)]
            checks.extend(_platform_checks(channel, body, media, lang, state_dir=settings.state_dir))
            posts.append(PlannedPost(
                source_key=f"{RULE_PREFIX}{draft.name}/{meeting.key}", rule_key=draft.rule_key,
                meeting_key=meeting.key, channel=channel.name, platform=channel.platform, language=lang,
                text=body, link=link, media=media, due_at=due,
                approval_required=channel.platform != Platform.MANUAL,
                content_hash=content_hash(text=body, link=link, media=media)))
    return RenderedDraft(posts=posts, checks=checks)


def save_draft(db: Database, draft: DraftPost, settings: Settings, *, now: datetime | None = None
               ) -> ScheduleReport:
    """Store the draft's posts (new, or updating the same draft); they wait for review.
    Languages or channels dropped from the draft are cancelled. Raises DraftError with every problem."""
    now = now or datetime.now(UTC)
    meeting = _meeting(db, draft.meeting_id)
    rendered = render_draft(draft, meeting, settings)
    if not rendered.ok:
        raise DraftError([_line(c) for c in rendered.checks])
    if rendered.posts and rendered.posts[0].due_at < now:
        raise DraftError(["the time has already passed"])
    info = CampaignInfo(slug=meeting.campaign, name=meeting.campaign_name, timezone=meeting.timezone,
                        source_file="dashboard", source_hash="",
                        organisations={meeting.organisation: ORGANISATIONS.get(meeting.organisation,
                                                                               meeting.organisation)})
    plan = Plan(campaign=info, meetings=[], posts=rendered.posts)
    report = ScheduleReport(campaign=meeting.campaign)
    with db.write() as s:
        loader = Loader(s, plan, report, now=now, include_past=False)
        campaign = s.scalar(select(Campaign).where(Campaign.slug == meeting.campaign))
        assert campaign is not None
        existing = {(p.channel, p.language): p for p in s.scalars(
            select(Post).where(Post.meeting_id == meeting.id, Post.rule_key == draft.rule_key))}
        for planned in rendered.posts:
            post = existing.pop((planned.channel, planned.language), None)
            if post is None:
                loader.insert(campaign, planned, meeting.id)
            else:
                loader.update(post, planned, meeting.id)
        for post in existing.values():
            loader.remove(post)
        s.flush()
    return report


def _meeting(db: Database, meeting_id: int) -> MeetingChoice:
    with db.session() as s:
        row = s.execute(select(Meeting, Campaign, Organisation)
                        .join(Campaign, Meeting.campaign_id == Campaign.id)
                        .join(Organisation, Meeting.organisation_id == Organisation.id)
                        .where(Meeting.id == meeting_id)).first()
    if row is None:
        raise DraftError([f"meeting {meeting_id} does not exist"])
    m, c, o = row
    return MeetingChoice(id=m.id, key=m.key, campaign=c.slug, campaign_name=c.name, timezone=c.timezone,
                         organisation=o.code, community=m.community, city=m.city, venue=m.venue,
                         starts_at=m.starts_at, languages=tuple(m.languages or ()), kind=m.kind,
                         themes=tuple(m.themes or ()), audience=m.audience)


def _platform_checks(channel: Any, body: str, media: list[dict[str, str]], lang: str, *,
                     state_dir: str | None = None) -> list[Check]:
    """The platform's objections; a too-long text with its figures ("384 of 300") for the dashboard.
    Both use the limits `outreach validate` uses (a platform's self-reported ones kept in `state_dir`)."""
    validate = platform_validator(channel, state_dir=state_dir)
    limit = text_limit(channel, state_dir=state_dir)
    problems = validate(body, media) if validate else []
    checks = []
    if limit is not None and (length := limit[0](body)) > limit[1]:
        problems = [p for p in problems if not p.startswith("text is ")]  # said below, with its figures
        checks.append(Check(f"text is {length} long; {channel.platform} allows {limit[1]}", language=lang,
                            channel=channel.name, code="too_long",
                            values={"platform": channel.platform, "length": length, "max": limit[1]}))
    return checks + [Check(p, language=lang, channel=channel.name) for p in problems]


def _context(meeting: MeetingChoice, lang: str, due: datetime, link: str | None) -> dict[str, Any]:
    tz = ZoneInfo(meeting.timezone)
    ctx: dict[str, Any] = {
        "campaign": Fields("campaign", {"id": meeting.campaign, "name": meeting.campaign_name, "link": link}),
        "lang": lang, "due": due,
        "meeting": Fields("meeting", {
            "id": meeting.key, "kind": meeting.kind, "organisation": meeting.organisation,
            "organisation_name": ORGANISATIONS.get(meeting.organisation, meeting.organisation),
            "community": meeting.community, "city": meeting.city, "venue": meeting.venue,
            "start": meeting.starts_at.astimezone(tz), "end": None, "languages": list(meeting.languages),
            "themes": list(meeting.themes), "audience": meeting.audience, "link": link}),
    }
    ctx["link"] = link or ""  # `{{ link }}` works with or without a link
    return ctx


def _render(env: Any, source: str, ctx: dict[str, Any], lang: str, checks: list[Check]) -> str | None:
    try:
        return render(compile_template(env, source), ctx)
    except RenderProblem as exc:
        message = exc.message
        if "unknown variable" in message:
            message += f" (available: {', '.join(sorted(ctx))})"
        checks.append(Check(message, language=lang, code="template", values={"detail": message}))
        return None


def _line(check: Check) -> str:
    where = " · ".join(x for x in (check.channel, check.language) if x)
    return f"{where}: {check.message}" if where else check.message


def preview_card(draft: DraftPost, meeting: MeetingChoice, language: str, *, size: str = "landscape") -> Any:
    """The card the draft would get in `language` (a `RenderedCard`), built as publishing builds it
    (`card_spec`: same title, rendered alt text, time zone); raises CardError/TemplateError."""
    from outreach.cards import render_card

    due = draft.due_local.replace(tzinfo=ZoneInfo(meeting.timezone))
    ctx = _context(meeting, language, due, draft.link or meeting.link)
    env = make_environment()
    text = _render(env, draft.texts.get(language, ""), ctx, language, []) or ""
    alt = _render(env, draft.alt_texts.get(language, ""), ctx, language, []) or ""
    spec = card_spec({"card": draft.card or "announce", "alt_text": alt}, language=language, text=text,
                     timezone=meeting.timezone, organisation=meeting.organisation, starts_at=meeting.starts_at,
                     venue=meeting.venue, city=meeting.city)
    return render_card(spec, size=size)
