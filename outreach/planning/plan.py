"""What planning produces: a campaign's meetings and posts, as plain values (no database)."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from outreach.domain import Platform


@dataclass(frozen=True, slots=True)
class CampaignInfo:
    slug: str
    name: str
    timezone: str
    source_file: str
    source_hash: str
    organisations: dict[str, str] = field(default_factory=dict)  # code -> name, of the meetings


@dataclass(frozen=True, slots=True)
class PlannedMeeting:
    key: str
    kind: str
    organisation: str  # code, e.g. "IOT"
    community: str
    city: str
    venue: str
    starts_at: datetime  # aware UTC
    ends_at: datetime | None
    languages: tuple[str, ...]
    themes: tuple[str, ...]
    audience: str
    link: str | None = None


@dataclass(frozen=True, slots=True)
class PlannedPost:
    """One row-to-be: a rule's post for one meeting or occurrence, on one channel, in one language."""

    source_key: str  # "announce/iot-rotterdam-2027-03", "kickoff", "weekly-tip/2027-03-05-1600"
    rule_key: str
    meeting_key: str | None
    channel: str
    platform: Platform
    language: str
    text: str
    link: str | None
    media: list[dict[str, str]]  # [{"card": "announce", "alt_text": ...}] or [{"path": ..., "alt_text": ...}]
    due_at: datetime  # aware UTC
    approval_required: bool
    content_hash: str  # of what a reviewer approves: text, link, media (not the time)

    @property
    def key(self) -> tuple[str, str, str]:
        return (self.source_key, self.channel, self.language)


@dataclass(frozen=True, slots=True)
class Plan:
    campaign: CampaignInfo
    meetings: list[PlannedMeeting]
    posts: list[PlannedPost]
    shift: timedelta = timedelta(0)
    warnings: tuple[str, ...] = ()  # `file:line: field: warning: ...`, e.g. captions a channel will drop

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.campaign.timezone)

    def earliest_due(self) -> datetime | None:
        return min((p.due_at for p in self.posts), default=None)


def content_hash(*, text: str, link: str | None, media: Sequence[dict[str, str]]) -> str:
    payload = json.dumps({"text": text, "link": link, "media": list(media)}, sort_keys=True, ensure_ascii=False)
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()


def format_plan(plan: Plan) -> list[str]:
    """One line per post in local time, for `outreach plan`."""
    tz = plan.tz
    lines = []
    for post in sorted(plan.posts, key=lambda p: (p.due_at, p.source_key, p.channel, p.language)):
        local = post.due_at.astimezone(tz)
        review = "needs review" if post.approval_required else "no review"
        preview = post.text.replace("\n", " ")
        preview = preview if len(preview) <= 60 else preview[:59] + "…"
        lines.append(f"{local:%Y-%m-%d %H:%M %Z} · {post.source_key} · {post.channel} · {post.language} · "
                     f"{review} · {preview}")
    return lines
