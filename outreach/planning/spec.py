"""The campaign file schema (pydantic v2): what each key means and which values it accepts.

Dates and times are local wall-clock times in the campaign's time zone, written `YYYY-MM-DD HH:MM`;
the planner turns them into UTC instants. Cross-references (channels, meetings, languages with
texts) are checked by the planner, which knows the settings and the whole file.
"""

from __future__ import annotations

import re
from datetime import date, datetime, time
from enum import StrEnum
from typing import Annotated, Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from apscheduler.triggers.cron import CronTrigger
from babel import Locale, UnknownLocaleError
from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Discriminator,
    Field,
    Tag,
    model_validator,
)

from outreach.config import DEFAULT_TIMEZONE
from outreach.domain import MeetingKind

# The alliance's seven organisations; a campaign file may add more under `organisations:`.
ORGANISATIONS: dict[str, str] = {
    "IOT": "Inspraakorgaan Turken",
    "Kezban": "Stichting Kezban",
    "FSAN": "Federatie van Somalische Associaties in Nederland",
    "SMN": "Samenwerkingsverband Marokkaanse Nederlanders",
    "Mudawwanah": "Stichting Landelijke Werkgroep Mudawwanah",
    "HTIB": "Turkse Arbeidersvereniging in Nederland",
    "VON": "Vluchtelingen-Organisaties Nederland",
}
# Card layouts a rule may name with `card:`; rendered by outreach.cards.
CARD_TEMPLATES = ("announce", "reminder", "recap", "quote", "photo")
_WEEKDAYS = ("sun", "mon", "tue", "wed", "thu", "fri", "sat")


class Approval(StrEnum):
    REQUIRED = "required"
    NONE = "none"


def _slug(value: str) -> str:
    if not re.fullmatch(r"[a-z0-9][a-z0-9._-]*", value) or len(value) > 120:
        raise ValueError(f"{value!r} is not a valid id: use lowercase letters, digits, '-', '.' or '_'")
    return value


def _language(value: str) -> str:
    try:
        if not re.fullmatch(r"[a-z]{2,3}", value):
            raise UnknownLocaleError(value)
        Locale.parse(value)
    except (UnknownLocaleError, ValueError):
        raise ValueError(f"unknown language code {value!r} (use e.g. nl, tr, ar, zgh, so, ti, en)") from None
    return value


def _timezone(value: str) -> str:
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(f"unknown time zone {value!r} (e.g. Europe/Amsterdam)") from None
    return value


def _local_datetime(value: Any) -> datetime:
    if isinstance(value, datetime):
        parsed = value
    elif isinstance(value, str) and re.fullmatch(r"\d{4}-\d{2}-\d{2}[ T]\d{1,2}:\d{2}(:\d{2})?", value.strip()):
        try:
            parsed = datetime.fromisoformat(value.strip())
        except ValueError as exc:
            raise ValueError(f"{value!r} is not a valid date and time: {exc}") from None
    else:
        raise ValueError(f"{value!r} is not a date and time; write YYYY-MM-DD HH:MM (local time)")
    if parsed.tzinfo is not None:
        raise ValueError(f"{value!r}: write local time without a UTC offset; campaign.timezone applies")
    return parsed


def _local_date_or_datetime(value: Any) -> date | datetime:
    if isinstance(value, str) and re.fullmatch(r"\d{4}-\d{2}-\d{2}", value.strip()):
        try:
            return date.fromisoformat(value.strip())
        except ValueError as exc:
            raise ValueError(f"{value!r} is not a valid date: {exc}") from None
    if isinstance(value, date) and not isinstance(value, datetime):
        return value
    return _local_datetime(value)


def _local_time(value: Any) -> time:
    if isinstance(value, time):
        return value
    if isinstance(value, str) and re.fullmatch(r"\d{1,2}:\d{2}", value.strip()):
        hours, minutes = (int(x) for x in value.strip().split(":"))
        if hours < 24 and minutes < 60:
            return time(hours, minutes)
    raise ValueError(f"{value!r} is not a time of day; write HH:MM, e.g. \"18:00\"")


def _end(value: Any) -> datetime | time:
    if isinstance(value, time) or (isinstance(value, str) and re.fullmatch(r"\s*\d{1,2}:\d{2}\s*", value)):
        return _local_time(value)
    return _local_datetime(value)


def crontab_for_apscheduler(expr: str) -> str:
    """Translate crontab weekday numbers (0 or 7 = Sunday) to names; APScheduler 3 counts from Monday."""
    fields = expr.split()
    if len(fields) == 5:
        fields[4] = re.sub(r"(?<![/\d])\d+", lambda m: _WEEKDAYS[int(m.group()) % 7], fields[4])
    return " ".join(fields)


def _cron(value: str) -> str:
    try:
        CronTrigger.from_crontab(crontab_for_apscheduler(value), timezone="UTC")
    except ValueError as exc:
        raise ValueError(f"invalid cron expression {value!r}: {exc} "
                         "(minute hour day-of-month month day-of-week, e.g. \"0 16 * * fri\")") from None
    return value


def _card(value: str) -> str:
    if value not in CARD_TEMPLATES:
        raise ValueError(f"unknown card template {value!r} (known: {', '.join(CARD_TEMPLATES)})")
    return value


Slug = Annotated[str, AfterValidator(_slug)]
Language = Annotated[str, AfterValidator(_language)]
TimeZoneName = Annotated[str, AfterValidator(_timezone)]
LocalDateTime = Annotated[datetime, BeforeValidator(_local_datetime)]
LocalDateOrDateTime = Annotated[date | datetime, BeforeValidator(_local_date_or_datetime)]
LocalTime = Annotated[time, BeforeValidator(_local_time)]
Cron = Annotated[str, AfterValidator(_cron)]
Card = Annotated[str, AfterValidator(_card)]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


class CampaignHeader(_Strict):
    id: Slug
    name: str
    timezone: TimeZoneName = DEFAULT_TIMEZONE
    utm: bool = True
    link: str | None = None
    channels: list[str] = Field(default_factory=list)
    approval: Approval = Approval.REQUIRED


class MeetingSpec(_Strict):
    id: Slug
    kind: MeetingKind = MeetingKind.COMMUNITY
    organisation: str
    community: str
    city: str
    venue: str
    start: LocalDateTime
    end: Annotated[datetime | time, BeforeValidator(_end)] | None = None  # a time means the same day
    languages: list[Language] = Field(min_length=1)
    themes: list[str] = Field(default_factory=list)
    audience: str = ""
    link: str | None = None


class RelativeAt(_Strict):
    """When, relative to the meeting's start: move `days` on the calendar, then either set the
    local clock to `time` or keep the meeting's clock time; then add `hours` and `minutes`."""

    days: int = 0
    hours: int = 0
    minutes: int = 0
    time: LocalTime | None = None


def _at_kind(value: Any) -> str:
    return "~relative" if isinstance(value, dict | RelativeAt) else "~absolute"


At = Annotated[
    Annotated[RelativeAt, Tag("~relative")] | Annotated[LocalDateTime, Tag("~absolute")],
    Discriminator(_at_kind),
]


class VideoChannelOptions(_Strict):
    """Per-channel choices for a video; only options a platform understands are allowed there."""

    share_to_feed: bool | None = None  # Instagram/Facebook Reels: also show the Reel in the feed
    burn_captions: bool | None = None  # draw the post language's captions into the picture


Seconds = Annotated[float, Field(ge=0)]


class CoverSpec(_Strict):
    """A video's cover written out: a `card` drawn per language (its `title` per language, else the
    text's first sentence; the rest from the post and its meeting, like a post's own card) or an
    `image`, and/or a `frame` (seconds into the video) for platforms that take only a frame (TikTok)."""

    card: Card | None = None
    title: dict[Language, str] = Field(default_factory=dict)
    image: str | None = None
    frame: Seconds | None = None

    @model_validator(mode="after")
    def _picture(self) -> CoverSpec:
        if self.card and self.image:
            raise ValueError("give the cover a `card` or an `image`, not both")
        if not self.card and not self.image and self.frame is None:
            raise ValueError("give the cover a `card`, an `image` or a `frame` (seconds into the video)")
        if self.title and not self.card:
            raise ValueError("`title` needs a `card`")
        return self


def _cover_kind(value: Any) -> str:
    return "~mapping" if isinstance(value, dict | CoverSpec) else "~image" if isinstance(value, str) else "~frame"


Cover = Annotated[
    Annotated[CoverSpec, Tag("~mapping")] | Annotated[str, Tag("~image")] | Annotated[Seconds, Tag("~frame")],
    Discriminator(_cover_kind),
]


class VideoSpec(_Strict):
    """A video for a post rule: the file, its description (alt text) and captions per language, a cover
    (seconds into the video, an image file, or a CoverSpec mapping: a card drawn per language) and
    per-channel options. Checked by planning/video.py."""

    file: str
    description: dict[Language, str] = Field(default_factory=dict)
    captions: dict[Language, str] = Field(default_factory=dict)
    cover: Cover | None = None
    channels: dict[str, VideoChannelOptions] = Field(default_factory=dict)


class RuleSpec(_Strict):
    id: Slug
    at: At | None = None
    cron: Cron | None = None
    from_: LocalDateOrDateTime | None = Field(default=None, alias="from")
    until: LocalDateOrDateTime | None = None
    meetings: list[str] | None = None
    kinds: list[MeetingKind] | None = None
    organisations: list[str] | None = None
    languages: list[Language] | None = None
    text: dict[Language, str]
    link: str | None = None
    channels: list[str] | None = None
    card: Card | None = None
    card_title: dict[Language, str] = Field(default_factory=dict)  # the card's headline (else the text's first sentence)
    image: str | None = None
    video: VideoSpec | None = None
    alt_text: dict[Language, str] = Field(default_factory=dict)
    approval: Approval | None = None
    utm: bool | None = None

    @property
    def is_relative(self) -> bool:
        return isinstance(self.at, RelativeAt)

    @model_validator(mode="after")
    def _one_timing(self) -> RuleSpec:
        if (self.at is None) == (self.cron is None):
            raise ValueError("give exactly one of `at` (relative to each meeting, or a date and time) "
                             "or `cron` (recurring)")
        if self.cron is not None and (self.from_ is None or self.until is None):
            raise ValueError("a recurring rule (`cron`) needs `from` and `until`")
        if self.cron is None and (self.from_ is not None or self.until is not None):
            raise ValueError("`from` and `until` belong to recurring rules (`cron`)")
        if not self.is_relative and (self.meetings or self.kinds or self.organisations):
            raise ValueError("`meetings`, `kinds` and `organisations` only apply to rules relative "
                             "to meetings (at: {days: ..., time: ...})")
        if self.card and self.image:
            raise ValueError("give either `card` or `image`, not both")
        if self.video and (self.card or self.image):
            raise ValueError("a post with a `video` has no `card` or `image` (give the video a `cover`)")
        if self.card_title and not self.card:
            raise ValueError("`card_title` needs a `card`")
        return self


class CampaignFile(_Strict):
    campaign: CampaignHeader
    organisations: dict[str, str] = Field(default_factory=dict)  # extra codes -> full names
    meetings: list[MeetingSpec] = Field(default_factory=list)
    posts: list[RuleSpec] = Field(min_length=1)
