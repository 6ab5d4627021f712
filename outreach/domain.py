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
    YOUTUBE = "youtube"
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
    """One image or video attached to a post, as the connector should send it."""

    path: str  # local file, already stripped of metadata and fitted to the platform
    alt_text: str = ""
    mime_type: str = "image/jpeg"
    width: int | None = None
    height: int | None = None
    public_url: str | None = None  # for platforms that fetch media by URL
    duration_s: float | None = None  # videos: length (YouTube tells Shorts by it and the aspect)
    captions: tuple[tuple[str, str], ...] = ()  # videos: (language, path to an .srt or .vtt file)


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
    """

    max_bytes: int
    max_duration_s: float | None = None
    min_duration_s: float = 0.0
    min_bytes: int = 0
    min_aspect: float | None = None
    max_aspect: float | None = None
    max_width: int | None = None
    min_short_side: int | None = None
    max_pixels: int | None = None
    min_fps: float | None = None
    max_fps: float | None = None
    mime_types: tuple[str, ...] = ("video/mp4",)
    video_codecs: tuple[str, ...] = ("h264",)
    audio_codecs: tuple[str, ...] = ("aac",)
    caption_formats: tuple[str, ...] = ()
    max_caption_languages: int | None = None
    cover: str = ""

    def problems(self, *, size_bytes: int | None = None, duration_s: float | None = None,
                 width: int | None = None, height: int | None = None, fps: float | None = None,
                 mime_type: str | None = None, video_codec: str | None = None,
                 audio_codec: str | None = None) -> list[str]:
        """What in a probed video this platform refuses, one phrase each (the caller names the file and
        channel); unknown values are not judged."""
        found: list[str] = []
        if size_bytes is not None and size_bytes > self.max_bytes:
            found.append(f"{size_bytes} bytes; at most {self.max_bytes}")
        if size_bytes is not None and size_bytes < self.min_bytes:
            found.append(f"{size_bytes} bytes; at least {self.min_bytes}")
        if duration_s is not None and self.max_duration_s is not None and duration_s > self.max_duration_s:
            found.append(f"{duration_s:g} s long; at most {self.max_duration_s:g} s")
        if duration_s is not None and duration_s < self.min_duration_s:
            found.append(f"{duration_s:g} s long; at least {self.min_duration_s:g} s")
        if width and height:
            aspect, low, high = width / height, self.min_aspect or 0.0, self.max_aspect or float("inf")
            if not low - 1e-3 <= aspect <= high + 1e-3:
                found.append(f"{width}x{height} has the wrong shape (width/height {aspect:.2f}; "
                             f"allowed {low:.2f}-{high:.2f})")
            if self.max_width is not None and width > self.max_width:
                found.append(f"{width} px wide; at most {self.max_width}")
            if self.min_short_side is not None and min(width, height) < self.min_short_side:
                found.append(f"{min(width, height)} px on the short side; at least {self.min_short_side}")
            if self.max_pixels is not None and width * height > self.max_pixels:
                found.append(f"{width}x{height} pixels; at most {self.max_pixels} in all")
        if fps is not None and self.max_fps is not None and fps > self.max_fps:
            found.append(f"{fps:g} frames a second; at most {self.max_fps:g}")
        if fps is not None and self.min_fps is not None and fps < self.min_fps:
            found.append(f"{fps:g} frames a second; at least {self.min_fps:g}")
        if mime_type is not None and mime_type not in self.mime_types:
            found.append(f"{mime_type} is not accepted ({', '.join(self.mime_types)})")
        if video_codec is not None and video_codec not in self.video_codecs:
            found.append(f"video codec {video_codec}; accepted: {', '.join(self.video_codecs)}")
        if audio_codec is not None and audio_codec not in self.audio_codecs:
            found.append(f"audio codec {audio_codec}; accepted: {', '.join(self.audio_codecs)}")
        return found
