"""Pure types shared by every layer: closed sets, value objects. No I/O here."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any, ClassVar

from outreach.platforms import MANUAL, is_platform, names


class Platform(str):
    """A platform's name as channels, posts and connectors write it ("mastodon", "manual"). Which names
    exist is `outreach.platforms.REGISTRY`, one line per platform: no list of them lives here."""

    __slots__ = ()
    MANUAL: ClassVar[Platform]  # channels posted by hand: no connector, no simulation

    def __new__(cls, name: object) -> Platform:
        if not is_platform(name):
            raise ValueError(f"{name!r} is not a platform (known: {', '.join((*names(), MANUAL))})")
        return super().__new__(cls, name)


Platform.MANUAL = Platform(MANUAL)


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
    TOO_LATE = "too_late"  # not sent: the meeting the post announces has begun


class TextUnit(StrEnum):
    CHARACTERS = "characters"  # Unicode code points
    GRAPHEMES = "graphemes"  # user-perceived characters
    UTF8_BYTES = "utf8_bytes"


@dataclass(frozen=True, slots=True)
class MediaItem:
    """One image or video attached to a post, as the connector should send it."""

    path: str  # local file, already stripped of metadata and fitted to the platform
    alt_text: str = ""
    mime_type: str = "image/jpeg"
    width: int | None = None
    height: int | None = None
    public_url: str | None = None  # for platforms that fetch media by URL
    # Video only (mime_type video/mp4): caption files per language, a cover, per-channel options.
    duration_s: float | None = None
    captions: tuple[tuple[str, str], ...] = ()  # (language, path to .srt or .vtt)
    cover_path: str | None = None  # an image, stripped and fitted like any other
    cover_s: float | None = None  # or a moment in the video
    options: tuple[tuple[str, Any], ...] = ()  # e.g. (("share_to_feed", True),)


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

# watch_time_s: total seconds a video was watched, summed over its viewers (never an average, so it adds up).
METRIC_NAMES = ("views", "reach", "likes", "comments", "shares", "saves", "clicks", "watch_time_s")


@dataclass(frozen=True, slots=True)
class ImagePolicy:
    """How media fitting must shape an image for a platform. `formats` are Pillow format names, preferred
    first; aspect is width / height. Built from a connector's class attributes (and live limits)."""

    formats: tuple[str, ...]
    max_bytes: int
    max_width: int = 4096
    max_height: int = 4096
    min_aspect: float | None = None
    max_aspect: float | None = None


@dataclass(frozen=True, slots=True)
class VideoCapabilities:
    """What a platform accepts as video (one per post). None means the platform sets no such limit.

    Aspect is width / height; `caption_formats` lists the caption files its API takes ("srt", "vtt"),
    empty when captions cannot be sent (burn them in instead); `cover` is "image", "frame" or "".
    The video pipeline (`outreach.media.problems`) judges a probed file against these limits.
    """

    max_bytes: int
    max_duration_s: float | None = None
    min_duration_s: float = 0.0
    min_bytes: int = 0
    min_aspect: float | None = None
    max_aspect: float | None = None
    max_width: int | None = None
    max_height: int | None = None
    min_short_side: int | None = None
    max_pixels: int | None = None
    min_fps: float | None = None
    max_fps: float | None = None
    mime_types: tuple[str, ...] = ("video/mp4",)
    video_codecs: tuple[str, ...] = ("h264",)
    audio_codecs: tuple[str, ...] = ("aac",)
    caption_formats: tuple[str, ...] = ()
    max_caption_languages: int | None = None
    max_caption_bytes: int | None = None  # one caption file, in the platform's format
    cover: str = ""
    max_bitrate_bps: int | None = None
    landscape: bool = True  # may a landscape source stay 16:9 (else it is fitted into 9:16)
