"""Pure types shared by every layer: closed sets, value objects. No I/O here."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any


class Platform(StrEnum):
    MASTODON = "mastodon"
    INSTAGRAM = "instagram"
    FACEBOOK = "facebook"
    THREADS = "threads"
    BLUESKY = "bluesky"
    LINKEDIN = "linkedin"
    TIKTOK = "tiktok"
    MANUAL = "manual"


class PostStatus(StrEnum):
    DRAFT = "draft"
    PENDING_REVIEW = "pending_review"
    APPROVED = "approved"  # scheduled: waits for its due time
    REJECTED = "rejected"
    PUBLISHING = "publishing"  # claimed by a worker under a lease
    RETRYING = "retrying"  # waits for next_attempt_at
    PUBLISHED = "published"
    FAILED = "failed"
    MANUAL_DUE = "manual_due"  # to post by hand
    CANCELLED = "cancelled"


class MeetingKind(StrEnum):
    COMMUNITY = "community"  # counts toward the 700
    TRAINING = "training"  # professional training
    MUNICIPAL = "municipal"  # municipal advice session


class ErrorKind(StrEnum):
    AUTH = "auth"
    REJECTED = "rejected"
    RATE_LIMITED = "rate_limited"
    TRANSIENT = "transient"


class TextUnit(StrEnum):
    CHARACTERS = "characters"  # Unicode code points
    GRAPHEMES = "graphemes"  # user-perceived characters
    UTF8_BYTES = "utf8_bytes"


@dataclass(frozen=True, slots=True)
class MediaItem:
    """One image attached to a post, as the connector should send it."""

    path: str  # local file, already stripped of metadata and fitted to the platform
    alt_text: str = ""
    mime_type: str = "image/jpeg"
    width: int | None = None
    height: int | None = None
    public_url: str | None = None  # for platforms that fetch media by URL


@dataclass(frozen=True, slots=True)
class PublishRequest:
    """What a connector needs to publish one post: no database objects."""

    post_id: int
    text: str
    language: str
    idempotency_key: str
    media: tuple[MediaItem, ...] = ()
    link: str | None = None
    handle: dict[str, Any] = field(default_factory=dict)  # intermediate state persisted earlier
    attempt_started_at: datetime | None = None  # UTC; for reconciliation time windows


@dataclass(frozen=True, slots=True)
class PublishResult:
    remote_id: str
    url: str | None
    published_at: datetime | None = None
    raw: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class AccountInfo:
    """What `channels check` reports about a channel's credentials."""

    account_id: str
    name: str
    detail: str = ""
    token_expires_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class AudienceRow:
    """One cell of an account-level audience breakdown (e.g. followers aged 18-24)."""

    metric: str  # follower_demographics | engaged_audience_demographics
    value: float
    age_bucket: str | None = None  # "13-17", "18-24", ...
    gender: str | None = None  # "F", "M", "U"
    timeframe: str | None = None  # this_week | this_month


# The one vocabulary metrics are normalised to; connectors map their platform's names onto it.
# The time of day in posts and on cards, in every language (a 24-hour clock, as the campaigns write it):
# an Arabic card must not say "2:00 م" while its post says 14:00.
TIME_OF_DAY_PATTERN = "HH:mm"

METRIC_NAMES = ("views", "reach", "likes", "comments", "shares", "saves", "clicks")
