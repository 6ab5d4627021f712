"""Expansion: a validated campaign file becomes meetings and posts (rule × occurrence × channel × language).

Everything here is pure: it reads the file and the settings, never the database. Every problem is
collected with its file line; `plan_campaign` raises one CampaignError listing them all.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from apscheduler.triggers.cron import CronTrigger
from jinja2 import Template
from pydantic import ValidationError

from outreach.cards.media import MediaError, probe_image
from outreach.config import ChannelConfig, Settings
from outreach.domain import Platform
from outreach.planning.cards import check_cards
from outreach.planning.limits import Validator, platform_validator
from outreach.planning.plan import (
    CampaignInfo,
    Plan,
    PlannedMeeting,
    PlannedPost,
    content_hash,
)
from outreach.planning.render import (
    Fields,
    RenderProblem,
    compile_template,
    make_environment,
    render,
    tag_text,
    tag_url,
)
from outreach.planning.source import CampaignError, Loc, Source, load_source, pydantic_message
from outreach.planning.spec import (
    ORGANISATIONS,
    Approval,
    CampaignFile,
    CoverSpec,
    MeetingSpec,
    RelativeAt,
    RuleSpec,
    crontab_for_apscheduler,
)
from outreach.planning.video import asset_folders, check_video, video_post_entry
from outreach.publishing.media import card_cache_dir

MAX_OCCURRENCES = 1000  # per recurring rule; more is surely a mistake in `cron` or `until`
MAX_POSTS = 10_000  # per campaign file (a season is a few hundred): counted before any text is written
OUTSIDE_CALENDAR = "the date falls outside the calendar (years 1 to 9999): check the numbers"


def campaign_files(path: str | Path) -> list[Path]:
    """A campaign file, or every *.yaml / *.yml file in a directory (sorted)."""
    path = Path(path)
    if path.is_dir():
        return sorted(p for p in path.iterdir() if p.suffix in (".yaml", ".yml") and p.is_file())
    return [path]


def plan_campaign(path: str | Path, settings: Settings, *, shift: timedelta = timedelta(0)) -> Plan:
    """Read, validate and expand one campaign file. Raises CampaignError listing every problem.

    `shift` moves the whole timeline (meetings and posts) by a fixed amount; texts then show the
    shifted dates. The demo uses it with `shift_to_now` to replay a campaign from now on.
    """
    src = load_source(path)
    src.raise_if_problems()
    try:
        spec = CampaignFile.model_validate(src.data)
    except ValidationError as exc:
        for err in exc.errors():
            src.problem(src.data_loc(err["loc"]), pydantic_message(err))
        src.raise_if_problems()
        raise  # not reached: a ValidationError always has errors
    try:
        plan = _Planner(src, spec, settings, shift).run()
    except OverflowError:  # a date computation not guarded by its own field (e.g. a huge shift)
        src.problem((), OUTSIDE_CALENDAR)
        src.raise_if_problems()
    rules = {rule.id: i for i, rule in enumerate(spec.posts)}
    check_cards(plan, cache_dir=card_cache_dir(settings), report=lambda post, is_cover, message: src.problem(
        ("posts", rules[post.rule_key], *(("video", "cover", "card") if is_cover else ("card",))), message))
    src.raise_if_problems()
    return plan


def validate_campaign(path: str | Path, settings: Settings) -> list[str]:
    """Error lines for `outreach validate` (empty when the file is fine). Never touches the DB."""
    try:
        plan_campaign(path, settings)
    except CampaignError as exc:
        return exc.errors
    return []


def shift_to_now(target: Plan | Sequence[Plan] | str | Path, now: datetime, *,
                 lead: timedelta = timedelta(seconds=10), settings: Settings | None = None) -> timedelta:
    """The shift that makes the earliest post of `target` (plans, or a campaign file) due `lead` after now."""
    if isinstance(target, str | Path):
        if settings is None:
            raise ValueError("shift_to_now(path, ...) needs settings= to read the campaign file")
        target = plan_campaign(target, settings)
    plans = [target] if isinstance(target, Plan) else list(target)
    dues = [due - plan.shift for plan in plans if (due := plan.earliest_due()) is not None]
    if not dues:
        return timedelta(0)
    return now + lead - min(dues)


def key_collisions(posts: Sequence[PlannedPost]) -> list[tuple[PlannedPost, PlannedPost]]:
    """(first, later) pairs of posts with one key (source, channel, language): one row in the database."""
    first: dict[tuple[str, str, str], PlannedPost] = {}
    return [(first[p.key], p) for p in posts if first.setdefault(p.key, p) is not p]


@dataclass
class _Occurrence:
    source_key: str
    due_at: datetime  # aware UTC, unshifted
    languages: list[str]
    meeting: PlannedMeeting | None = None


class _Planner:
    def __init__(self, src: Source, spec: CampaignFile, settings: Settings, shift: timedelta) -> None:
        self.src, self.spec, self.settings, self.shift = src, spec, settings, shift
        self.tz = ZoneInfo(spec.campaign.timezone)
        self.env = make_environment()
        self.base_dir = Path(src.file).resolve().parent
        self.organisations = {**ORGANISATIONS, **spec.organisations}
        self.meetings: dict[str, PlannedMeeting] = {}
        self.image_formats: dict[str, str] = {}  # path -> real format, read from the content
        self.post_count = 0
        self.validators: dict[str, Validator | None] = {}  # per channel: its limits are read once

    def problem(self, loc: Loc, message: str, *, line: int | None = None) -> None:
        self.src.problem(loc, message, line=line)

    def run(self) -> Plan:
        self.check_channels(self.spec.campaign.channels, ("campaign", "channels"))
        for i, meeting in enumerate(self.spec.meetings):
            self.add_meeting(i, meeting)
        posts: list[PlannedPost] = []
        rule_ids: dict[str, int] = {}
        for i, rule in enumerate(self.spec.posts):
            if rule.id in rule_ids:
                self.problem(("posts", i, "id"), f"duplicate post rule id {rule.id!r} "
                             f"(first at line {self.src.line(('posts', rule_ids[rule.id], 'id'))})")
                continue
            rule_ids[rule.id] = i
            posts.extend(self.expand_rule(i, rule))
        for first, again in key_collisions(posts):  # `schedule` would fail on the database's unique key
            self.problem(("posts", rule_ids[again.rule_key]), f"post {again.source_key} to {again.channel} in "
                         f"{again.language} is also made by the rule at line "
                         f"{self.src.line(('posts', rule_ids[first.rule_key]))} (the same key)")
        campaign = self.spec.campaign
        used = sorted({m.organisation for m in self.meetings.values()})
        info = CampaignInfo(slug=campaign.id, name=campaign.name, timezone=campaign.timezone,
                            source_file=self.src.file,
                            source_hash=hashlib.sha256(self.src.text.encode("utf-8")).hexdigest(),
                            organisations={code: self.organisations.get(code, code) for code in used})
        meetings = [replace(m, starts_at=m.starts_at + self.shift,
                            ends_at=m.ends_at + self.shift if m.ends_at else None)
                    for m in self.meetings.values()]
        warnings = tuple(str(w) for w in sorted(self.src.warnings, key=lambda w: w.line))
        return Plan(campaign=info, meetings=meetings, posts=posts, shift=self.shift, warnings=warnings)

    # -- meetings -----------------------------------------------------------------------------

    def add_meeting(self, i: int, m: MeetingSpec) -> None:
        if m.id in self.meetings:
            first = next(j for j, other in enumerate(self.spec.meetings) if other.id == m.id)
            self.problem(("meetings", i, "id"), f"duplicate meeting id {m.id!r} "
                         f"(first at line {self.src.line(('meetings', first, 'id'))})")
            return
        self.check_unique(m.languages, ("meetings", i, "languages"), "language")
        try:
            self.to_utc(m.start)
        except OverflowError:
            self.problem(("meetings", i, "start"), OUTSIDE_CALENDAR)
            return
        code = self.organisation_code(m.organisation)
        if code is None:
            self.problem(("meetings", i, "organisation"), f"unknown organisation {m.organisation!r} "
                         f"(known: {', '.join(sorted(self.organisations))})")
            code = m.organisation
        starts = self.to_utc(m.start)
        ends = None
        if m.end is not None:
            end = datetime.combine(m.start.date(), m.end) if isinstance(m.end, time) else m.end
            ends = self.to_utc(end)
            if ends <= starts:
                self.problem(("meetings", i, "end"), f"ends ({end:%Y-%m-%d %H:%M}) before it starts "
                             f"({m.start:%Y-%m-%d %H:%M})")
        self.meetings[m.id] = PlannedMeeting(
            key=m.id, kind=m.kind.value, organisation=code, community=m.community, city=m.city,
            venue=m.venue, starts_at=starts, ends_at=ends, languages=tuple(m.languages),
            themes=tuple(m.themes), audience=m.audience, link=m.link)

    def organisation_code(self, name: str) -> str | None:
        for code in self.organisations:
            if code.lower() == name.lower():
                return code
        return None

    def to_utc(self, local: datetime) -> datetime:
        """Local wall-clock time -> UTC. A time skipped by the spring DST change moves forward."""
        return local.replace(tzinfo=self.tz).astimezone(UTC)

    # -- channels -----------------------------------------------------------------------------

    def check_unique(self, items: Sequence[str] | None, loc: Loc, what: str) -> None:
        seen: set[str] = set()
        for j, item in enumerate(items or ()):
            if item in seen:
                self.problem((*loc, j), f"{what} {item!r} is listed twice")
            seen.add(item)

    def check_channels(self, names: Sequence[str], loc: Loc) -> list[ChannelConfig]:
        self.check_unique(names, loc, "channel")
        found = []
        for j, name in enumerate(names):
            if name in {c.name for c in found}:
                continue
            if name in self.settings.channels:
                found.append(self.settings.channels[name])
            else:
                self.problem((*loc, j), self.settings.unknown_channel(name))
        return found

    # -- rules --------------------------------------------------------------------------------

    def expand_rule(self, i: int, rule: RuleSpec) -> list[PlannedPost]:
        loc: Loc = ("posts", i)
        if rule.channels is not None:
            channels = self.check_channels(rule.channels, (*loc, "channels"))
        else:
            channels = [self.settings.channels[c] for c in dict.fromkeys(self.spec.campaign.channels)
                        if c in self.settings.channels]
            if not self.spec.campaign.channels:
                self.problem(loc, "no channels: set `channels` here or in campaign.channels")
        self.check_unique(rule.languages, (*loc, "languages"), "language")
        occurrences = self.occurrences(i, rule)
        self.post_count += sum(len(occ.languages) for occ in occurrences) * max(len(channels), 1)
        if self.post_count > MAX_POSTS:
            self.problem(loc, f"the file would make more than {MAX_POSTS:,} posts (this rule brings it to "
                         f"{self.post_count:,}); split the campaign into several files")
            return []
        texts = self.compile_all(rule.text, (*loc, "text"))
        alts = self.compile_all(rule.alt_text, (*loc, "alt_text"))
        cover = rule.video.cover if rule.video else None
        title_at: Loc = (*loc, "video", "cover", "title") if isinstance(cover, CoverSpec) else (*loc, "card_title")
        titles = self.compile_all(cover.title if isinstance(cover, CoverSpec) else rule.card_title, title_at)
        link = self.compile_one(rule.link, (*loc, "link")) if rule.link else None
        image = self.check_image(rule.image, (*loc, "image")) if rule.image else None
        video = check_video(rule.video, loc=(*loc, "video"), base_dir=self.base_dir, channels=channels,
                            languages=rule.text, report=self.problem, warn=self.src.warn,
                            folders=asset_folders(self.base_dir, self.settings.media.asset_dirs)) if rule.video else None
        self.check_languages(i, rule, occurrences)
        approval = (rule.approval or self.spec.campaign.approval) is Approval.REQUIRED
        utm = self.spec.campaign.utm if rule.utm is None else rule.utm
        posts = []
        for occ in occurrences:
            for lang in occ.languages:
                if lang not in texts or texts[lang] is None:
                    continue
                posts.extend(self.posts_for(i, rule, occ, lang, channels, texts[lang], alts.get(lang),
                                            link, image, approval=approval, utm=utm, title_t=titles.get(lang),
                                            title_at=title_at, video=video))
        return posts

    def occurrences(self, i: int, rule: RuleSpec) -> list[_Occurrence]:
        try:
            return self.dated_occurrences(i, rule)
        except OverflowError:
            self.problem(("posts", i, "at" if rule.at is not None else "until"), OUTSIDE_CALENDAR)
            return []

    def dated_occurrences(self, i: int, rule: RuleSpec) -> list[_Occurrence]:
        loc: Loc = ("posts", i)
        if isinstance(rule.at, RelativeAt):
            return [_Occurrence(f"{rule.id}/{m.key}", self.relative_due(m, rule.at),
                                list(dict.fromkeys(rule.languages or m.languages)), m)
                    for m in self.select_meetings(i, rule)]
        languages = list(dict.fromkeys(rule.languages or rule.text))
        if isinstance(rule.at, datetime):
            return [_Occurrence(rule.id, self.to_utc(rule.at), languages)]
        assert rule.cron is not None and rule.from_ is not None and rule.until is not None
        start, end = self.window_start(rule.from_), self.window_end(rule.until)
        if end <= start:
            self.problem((*loc, "until"), "`until` is before `from`")
            return []
        trigger = CronTrigger.from_crontab(crontab_for_apscheduler(rule.cron), timezone=self.tz)
        out: list[_Occurrence] = []
        seen: set[str] = set()
        fire = trigger.get_next_fire_time(None, start)
        while fire is not None and fire <= end:
            if len(out) >= MAX_OCCURRENCES:
                self.problem((*loc, "cron"), f"more than {MAX_OCCURRENCES} posts between `from` and `until`")
                return []
            due = fire.astimezone(UTC)  # APScheduler may hand back a wall time that does not exist (02:30 in spring)
            key = f"{rule.id}/{due.astimezone(self.tz):%Y-%m-%d-%H%M}"
            # Once per local day and time: the night the clocks go back repeats 02:00-02:59, and the first
            # (summer time) one counts; the night they go forward, 02:30 becomes 03:30 summer time.
            if key not in seen:
                seen.add(key)
                out.append(_Occurrence(key, due, languages))
            fire = trigger.get_next_fire_time(fire, fire)
        if not out:
            self.problem((*loc, "cron"), f"{rule.cron!r} never fires between `from` and `until`")
        return out

    def window_start(self, value: date | datetime) -> datetime:
        local = value if isinstance(value, datetime) else datetime.combine(value, time(0))
        return local.replace(tzinfo=self.tz)

    def window_end(self, value: date | datetime) -> datetime:
        """`until` is inclusive: a date means up to the end of that day."""
        if isinstance(value, datetime):
            return value.replace(tzinfo=self.tz)
        return datetime.combine(value + timedelta(days=1), time(0)).replace(tzinfo=self.tz) - timedelta(
            microseconds=1)

    def relative_due(self, meeting: PlannedMeeting, at: RelativeAt) -> datetime:
        start = meeting.starts_at.astimezone(self.tz)
        day = start.date() + timedelta(days=at.days)
        clock = at.time or start.time().replace(tzinfo=None)
        local = datetime.combine(day, clock)
        return self.to_utc(local) + timedelta(hours=at.hours, minutes=at.minutes)

    def select_meetings(self, i: int, rule: RuleSpec) -> list[PlannedMeeting]:
        selected = list(self.meetings.values())
        before = len(self.src.problems)
        if rule.meetings is not None:
            for j, key in enumerate(rule.meetings):
                if key not in self.meetings:
                    known = ", ".join(self.meetings) or "none in this file"
                    self.problem(("posts", i, "meetings", j), f"unknown meeting {key!r} (known: {known})")
            selected = [m for m in selected if m.key in rule.meetings]
        if rule.kinds is not None:
            selected = [m for m in selected if m.kind in rule.kinds]
        if rule.organisations is not None:
            codes = set()
            for j, name in enumerate(rule.organisations):
                code = self.organisation_code(name)
                if code is None:
                    self.problem(("posts", i, "organisations", j), f"unknown organisation {name!r}")
                codes.add(code)
            selected = [m for m in selected if m.organisation in codes]
        if not selected and len(self.src.problems) == before:
            self.problem(("posts", i), "this rule matches no meeting")
        return selected

    # -- texts --------------------------------------------------------------------------------

    def compile_one(self, source: str, loc: Loc) -> Template | None:
        try:
            return compile_template(self.env, source)
        except RenderProblem as exc:
            self.problem(loc, exc.message, line=self.src.text_line(loc, exc.line))
            return None

    def compile_all(self, sources: dict[str, str], loc: Loc) -> dict[str, Template | None]:
        return {lang: self.compile_one(text, (*loc, lang)) for lang, text in sources.items()}

    def check_languages(self, i: int, rule: RuleSpec, occurrences: Sequence[_Occurrence]) -> None:
        needed: dict[str, str] = {}
        for occ in occurrences:
            for lang in occ.languages:
                why = f"meeting {occ.meeting.key} is in {', '.join(occ.languages)}" if occ.meeting else \
                    f"languages: {', '.join(occ.languages)}"
                needed.setdefault(lang, why)
        missing_text = [lang for lang in needed if lang not in rule.text]
        if missing_text:
            self.problem(("posts", i, "text"), f"no text in {_names(missing_text)} ({needed[missing_text[0]]})")
        missing_alt = [lang for lang in needed if lang in rule.text and lang not in rule.alt_text]
        if (rule.card or rule.image) and missing_alt:
            media = "card" if rule.card else "image"
            at = ("posts", i, "alt_text") if rule.alt_text else ("posts", i, media)
            self.problem(("posts", i, "alt_text"), f"no alt text in {_names(missing_alt)} for the {media} "
                         f"({needed[missing_alt[0]]})", line=self.src.line(at))

    def check_image(self, image: str, loc: Loc) -> str | None:
        """The image's real path, if it lies in the campaign's folder or a configured asset folder
        (symlinks resolved) and is really an image that can be decoded safely."""
        path = (self.base_dir / image).resolve()
        allowed = asset_folders(self.base_dir, self.settings.media.asset_dirs)
        if not any(path.is_relative_to(folder) for folder in allowed):
            where = " or ".join(str(f) for f in allowed)
            self.problem(loc, f"image {image!r} is outside the campaign's folder; put it in {where} "
                         "(or add its folder to [media] asset_dirs)")
            return None
        if not path.is_file():
            self.problem(loc, f"image {image!r} not found (looked in {path.parent})")
            return None
        try:
            self.image_formats[str(path)] = probe_image(path).format
        except MediaError as exc:
            self.problem(loc, f"image {image!r}: {exc}")
            return None
        return str(path)

    def context(self, occ: _Occurrence, lang: str) -> dict[str, Any]:
        campaign = self.spec.campaign
        ctx: dict[str, Any] = {
            "campaign": Fields("campaign", {"id": campaign.id, "name": campaign.name, "link": campaign.link}),
            "lang": lang,
            "due": (occ.due_at + self.shift).astimezone(self.tz),
        }
        if occ.meeting is not None:
            m = occ.meeting
            ctx["meeting"] = Fields("meeting", {
                "id": m.key, "kind": m.kind, "organisation": m.organisation,
                "organisation_name": self.organisations.get(m.organisation, m.organisation),
                "community": m.community, "city": m.city, "venue": m.venue,
                "start": (m.starts_at + self.shift).astimezone(self.tz),
                "end": (m.ends_at + self.shift).astimezone(self.tz) if m.ends_at else None,
                "languages": list(m.languages), "themes": list(m.themes), "audience": m.audience,
                "link": m.link})
        return ctx

    def posts_for(self, i: int, rule: RuleSpec, occ: _Occurrence, lang: str, channels: list[ChannelConfig],
                  text_t: Template, alt_t: Template | None, link_t: Template | None, image: str | None,
                  *, approval: bool, utm: bool, title_t: Template | None = None, title_at: Loc = (),
                  video: dict[str, Any] | None = None) -> list[PlannedPost]:
        loc: Loc = ("posts", i)
        ctx = self.context(occ, lang)
        link = self.render_at(link_t, ctx, (*loc, "link")) if link_t else None
        link = link or (occ.meeting.link if occ.meeting else None) or self.spec.campaign.link
        if link:
            ctx["link"] = link
        text = self.render_at(text_t, ctx, (*loc, "text", lang))
        alt = self.render_at(alt_t, ctx, (*loc, "alt_text", lang)) if alt_t else ""
        title = self.render_at(title_t, ctx, (*title_at, lang)) if title_t else ""  # a card's or a drawn cover's
        if text is None or alt is None or title is None:
            return []
        if not text:
            self.problem((*loc, "text", lang), "text is empty")
            return []
        posts = []
        for channel in channels:
            source = str(channel.options.get("utm_source", channel.platform))
            body, url = text, link
            if utm:
                body = tag_text(text, source=source, campaign=self.spec.campaign.id)
                url = tag_url(link, source=source, campaign=self.spec.campaign.id) if link else None
            card = {"card": rule.card, "alt_text": alt, **({"title": title} if title else {})}
            media = [card] if rule.card else \
                [{"path": image, "alt_text": alt}] if image else []
            if rule.video is not None:  # a broken video was reported; the post still has a video
                media = [video_post_entry(rule.video, video, language=lang, channel=channel.name, cover_title=title)]
            self.check_limits(i, rule, channel, lang, occ, body, media)
            manual = channel.platform == Platform.MANUAL
            posts.append(PlannedPost(
                source_key=occ.source_key, rule_key=rule.id,
                meeting_key=occ.meeting.key if occ.meeting else None, channel=channel.name,
                platform=channel.platform, language=lang, text=body, link=url, media=media,
                due_at=occ.due_at + self.shift, approval_required=approval and not manual,
                content_hash=content_hash(text=body, link=url, media=media)))
        return posts

    def render_at(self, template: Template, ctx: dict[str, Any], loc: Loc) -> str | None:
        try:
            return render(template, ctx)
        except RenderProblem as exc:
            message = exc.message
            if "unknown variable" in message:
                message += f" (available: {', '.join(sorted(ctx))})"
            self.problem(loc, message, line=self.src.text_line(loc, exc.line))
            return None

    def check_limits(self, i: int, rule: RuleSpec, channel: ChannelConfig, lang: str,
                     occ: _Occurrence, text: str, media: list[dict[str, str]]) -> None:
        if channel.name not in self.validators:
            self.validators[channel.name] = platform_validator(channel, self.image_formats,
                                                               state_dir=self.settings.state_dir)
        validate = self.validators[channel.name]
        if validate is None:
            return
        where = f"meeting {occ.meeting.key}" if occ.meeting else occ.source_key
        for message in validate(text, media):
            if message.startswith("text is"):
                self.problem(("posts", i, "text", lang), f"{channel.name} ({where}, {lang}): {message}")
                continue
            # Media problems are the same for every meeting and language: one line per channel.
            at: Loc = ("posts", i, "channels", rule.channels.index(channel.name)) if rule.channels \
                else ("campaign", "channels", self.spec.campaign.channels.index(channel.name))
            self.problem(at, f"{channel.name}: {message}")


def _names(languages: Sequence[str]) -> str:
    return ", ".join(repr(lang) for lang in languages)
