"""Mastodon: upload media, post a status with an Idempotency-Key, reconcile from the account timeline.

Exactly-once: the dispatcher's idempotency key goes out as `Idempotency-Key`, which the instance
honours for an hour; uploaded media ids are saved through `save_handle` before the status is
posted, so a retry reuses them. After an ambiguous failure `reconcile` looks for the status on
the account's own timeline by its text.
"""

from __future__ import annotations

import html
import re
from collections.abc import Sequence
from contextlib import ExitStack
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from pathlib import Path
from typing import Any, ClassVar

import requests

from outreach.connectors.base import Connector, Limits, SaveHandle, measure
from outreach.connectors.errors import ConnectorError, ContentRejected, RateLimited, TransientError
from outreach.domain import (
    AccountInfo,
    MediaItem,
    PublishRequest,
    PublishResult,
    TextUnit,
    VideoCapabilities,
)

_URL = re.compile(r"https?://[^\s<>\"]+[^\s<>\".,:;!?'()]")
_MENTION = re.compile(r"(?<![\w/])@(\w+)@[\w.-]+\w")
LIMITS_KEY = "instance_limits"  # where the instance's limits are kept in the credential store
_PROCESSING = ("not finished processing", "nog niet zijn verwerkt")  # en, nl


class MediaState(StrEnum):
    READY = "ready"
    PROCESSING = "processing"
    GONE = "gone"
    FAILED = "failed"  # the instance could not process it: that upload can never be attached


def parse_time(value: str | None) -> datetime | None:
    """Mastodon's ISO-8601 timestamps (`…Z`, milli- or microseconds)."""
    if not value:
        return None
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None


def reset_time(value: str | None) -> datetime | None:
    """`X-RateLimit-Reset`: an ISO time (Mastodon) or epoch seconds (some compatible servers, proxies)."""
    try:
        if value and value.strip().isdigit():
            return datetime.fromtimestamp(int(value.strip()), UTC)
        return parse_time(value)
    except (ValueError, OverflowError, OSError):  # a reset past the calendar: as if none was sent
        return None


def plain_text(content: str) -> str:
    """A status's HTML content as the text that was posted: paragraphs, line breaks, no tags."""
    text = re.sub(r"<br\s*/?>", "\n", content, flags=re.I)
    text = re.sub(r"</p>\s*<p[^>]*>", "\n\n", text, flags=re.I)
    return html.unescape(re.sub(r"<[^>]+>", "", text)).strip()


def _image_type(path: Path) -> str:
    return {".png": "image/png", ".webp": "image/webp"}.get(path.suffix.lower(), "image/jpeg")


def same_text(a: str, b: str) -> bool:
    return " ".join(a.split()) == " ".join(b.split())


class MastodonConnector(Connector):
    """Any Mastodon-API instance (mastodon.social, a community's own server, the sandbox)."""

    platform: ClassVar[str] = "mastodon"
    display_name: ClassVar[str] = "Mastodon"
    channel_options: ClassVar[frozenset[str]] = Connector.channel_options | {"accept_language", "visibility"}
    max_text: ClassVar[int] = 500
    # Mastodon counts grapheme clusters (StatusLengthValidator), each URL as 23, mentions sans domain.
    text_unit: ClassVar[TextUnit] = TextUnit.GRAPHEMES
    url_length: ClassVar[int | None] = 23
    max_images: ClassVar[int] = 4
    max_image_bytes: ClassVar[int] = 16 * 1024 * 1024
    max_alt_text: ClassVar[int] = 1500
    image_mime_types: ClassVar[tuple[str, ...]] = (
        "image/jpeg", "image/png", "image/gif", "image/webp", "image/heic", "image/heif", "image/avif")
    max_image_width: ClassVar[int] = 3840
    max_image_height: ClassVar[int] = 3840
    max_image_pixels: ClassVar[int | None] = 33_177_600  # image_matrix_limit: the instance downscales
    limits_ttl_s: ClassVar[float] = 24 * 3600  # how long an instance's own limits are trusted
    limits_retry_s: ClassVar[float] = 300  # after a failed read, the last known limits serve this long
    # Defaults of Mastodon 4.x; the instance's own values (`limits()`) replace them (video.md 1.2).
    video: ClassVar[VideoCapabilities | None] = VideoCapabilities(
        max_bytes=103_809_024, max_pixels=8_294_400, max_fps=120,
        mime_types=("video/mp4", "video/quicktime", "video/webm"), cover="image")
    uploads_video: ClassVar[bool] = True  # POST /api/v2/media (202), polled until processed
    video_poll_interval_s: float = 3.0  # an instance transcodes a video for seconds to minutes (video.md 1.1)
    video_max_polls: int = 100
    token_help: ClassVar[str] = (
        "On the instance: Preferences > Development > New application, scopes read:accounts "
        "read:statuses write:media write:statuses; copy 'Your access token' into the env var.")
    # A quote is a share with a comment; it stays unmapped (raw `quotes_count` is still returned)
    # so that `shares` means boosts on Mastodon, comparable across years and instances.
    metric_names: ClassVar[dict[str, str]] = {
        "replies_count": "comments", "reblogs_count": "shares", "favourites_count": "likes"}
    metrics_api_version: ClassVar[str | None] = "v1"  # /api/v1/statuses
    metrics_batch_size: ClassVar[int] = 1
    metric_fields: ClassVar[tuple[str, ...]] = (
        "replies_count", "reblogs_count", "favourites_count", "quotes_count")
    visibilities: ClassVar[tuple[str, ...]] = ("public", "unlisted", "private", "direct")

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._limits: Limits | None = None
        self._limits_until: datetime | None = None
        self._account_id: str | None = None

    # -- HTTP with the bearer token -----------------------------------------------------------

    def call(self, method: str, path: str, **kwargs: Any) -> requests.Response:
        token = self.secret("token")
        headers = {"Authorization": f"Bearer {token}", "Accept": "application/json"}
        language = self.channel.options.get("accept_language")
        if language:
            headers["Accept-Language"] = str(language)
        headers.update(kwargs.pop("headers", {}))
        return self.request(method, path, headers=headers, **kwargs)

    # -- limits and measuring -----------------------------------------------------------------

    @classmethod
    def text_length(cls, text: str, limits: Limits | None = None) -> int:
        url_length = (limits or cls.declared_limits()).url_length
        if url_length:
            text = _URL.sub("x" * url_length, text)
        text = _MENTION.sub(r"@\1", text)
        return measure(text, (limits or cls.declared_limits()).text_unit)

    def limits(self) -> Limits:
        """The instance's own limits (`GET /api/v2/instance`), kept with the channel's credentials for
        `limits_ttl_s`. When the instance cannot be asked, the last limits it reported (or Mastodon's
        defaults) serve, and it is asked again after `limits_retry_s`: a post never fails for this."""
        now = self.clock()
        if self._limits is not None and self._limits_until is not None and now < self._limits_until:
            return self._limits
        stored = self._stored_limits()
        fetched = parse_time(stored.get("fetched_at")) if stored else None
        if fetched is not None and now < fetched + timedelta(seconds=self.limits_ttl_s):
            configuration, until = stored["configuration"], fetched + timedelta(seconds=self.limits_ttl_s)
        else:
            try:
                # Public and asked without the token, so it costs nothing from the account's 300/5 min.
                configuration = self.request("GET", "/api/v2/instance").json()["configuration"]
                if not isinstance(configuration, dict):
                    raise TypeError
            except (ConnectorError, ValueError, KeyError, TypeError):
                configuration = stored.get("configuration", {}) if stored else {}
                until = now + timedelta(seconds=self.limits_retry_s)
            else:
                until = now + timedelta(seconds=self.limits_ttl_s)
                data = self.credentials.load(self.channel.name)
                data[LIMITS_KEY] = {"fetched_at": now.isoformat(), "configuration": configuration}
                self.credentials.save(self.channel.name, data)
        self._limits, self._limits_until = self.limits_from(configuration), until
        return self._limits

    def known_limits(self) -> Limits:
        """What the instance last reported (even if older than `limits_ttl_s`), without asking it."""
        stored = self._stored_limits()
        return self.limits_from(stored["configuration"] if stored else {})

    def _stored_limits(self) -> dict[str, Any] | None:
        stored = self.credentials.load(self.channel.name).get(LIMITS_KEY)
        return stored if isinstance(stored, dict) and isinstance(stored.get("configuration"), dict) else None

    def limits_from(self, configuration: dict[str, Any]) -> Limits:
        """Limits from an instance's `configuration` (missing values: Mastodon's defaults), then the
        channel's `max_text` option."""
        statuses, media = (t if isinstance(t, dict) else {} for t in (configuration.get("statuses"),
                                                                      configuration.get("media_attachments")))
        declared = self.declared_limits()

        def num(table: dict[str, Any], key: str, default: Any) -> Any:
            value = table.get(key)
            return value if isinstance(value, int | float) and not isinstance(value, bool) and value > 0 \
                else default

        types = [t for t in media.get("supported_mime_types") or () if isinstance(t, str)]
        images = tuple(t for t in types if t.startswith("image/")) or declared.image_mime_types
        video = self.video
        if video is not None:
            video = replace(video, max_bytes=int(num(media, "video_size_limit", video.max_bytes)),
                            max_pixels=int(num(media, "video_matrix_limit", video.max_pixels)),
                            max_fps=num(media, "video_frame_rate_limit", video.max_fps),
                            mime_types=tuple(t for t in types if t.startswith("video/")) or video.mime_types)
        return self.with_options(replace(
            declared, max_text=int(num(statuses, "max_characters", declared.max_text)),
            max_images=int(num(statuses, "max_media_attachments", declared.max_images)),
            url_length=int(num(statuses, "characters_reserved_per_url", declared.url_length)),
            max_image_bytes=int(num(media, "image_size_limit", declared.max_image_bytes)),
            max_image_pixels=int(num(media, "image_matrix_limit", declared.max_image_pixels)),
            max_alt_text=int(num(media, "description_limit", declared.max_alt_text)),
            image_mime_types=images, video=video))

    # -- the platform calls -------------------------------------------------------------------

    def check(self) -> AccountInfo:
        body = self.call("GET", "/api/v1/accounts/verify_credentials").json()
        self._account_id = str(body["id"])
        limits = self.limits()  # `channels check` also refreshes the instance's limits for `validate`
        return AccountInfo(account_id=self._account_id, name=f"@{body.get('acct', body.get('username'))}",
                           detail=f"{body.get('display_name', '')}; {body.get('statuses_count', 0)} posts "
                                  f"on {self._host()} (up to {limits.max_text} characters, "
                                  f"{limits.max_images} images); token does not expire")

    def publish(self, req: PublishRequest, *, save_handle: SaveHandle) -> PublishResult:
        media_ids = self._media_ids(req, save_handle)
        data: list[tuple[str, str]] = [("status", req.text), ("language", req.language),
                                       ("visibility", self._visibility())]
        data += [("media_ids[]", media_id) for media_id in media_ids]
        response = self.call("POST", "/api/v1/statuses", data=data, ok=(200,),
                             headers={"Idempotency-Key": req.idempotency_key})
        return self._result(response.json())

    def reconcile(self, req: PublishRequest) -> PublishResult | None:
        """Page back through the account's statuses (newest first) for one carrying this text."""
        if self._account_id is None:
            self.check()
        since = req.attempt_started_at - timedelta(seconds=self.reconcile_skew_s) \
            if req.attempt_started_at else None
        params: dict[str, Any] = {"limit": 40}
        for _ in range(self.max_pages):
            page = self.call("GET", f"/api/v1/accounts/{self._account_id}/statuses", params=params).json()
            for status in page:
                created = parse_time(status.get("created_at"))
                recent = since is None or (created is not None and created >= since)
                if recent and same_text(plain_text(status.get("content", "")), req.text):
                    return self._result(status)
            if not page:
                return None
            oldest = parse_time(page[-1].get("created_at"))
            if since is None or (oldest is not None and oldest < since):
                return None
            params["max_id"] = page[-1]["id"]
        return None

    def fetch_metrics(self, remote_ids: Sequence[str]) -> dict[str, dict[str, int]]:
        metrics: dict[str, dict[str, int]] = {}
        for remote_id in remote_ids:
            try:
                status = self.call("GET", f"/api/v1/statuses/{remote_id}").json()
            except ContentRejected as exc:
                if exc.http_status == 404:  # deleted or never federated here: nothing to count
                    continue
                raise
            metrics[remote_id] = {name: int(status.get(name) or 0) for name in self.metric_fields}
        return metrics

    # -- media --------------------------------------------------------------------------------

    def _media_ids(self, req: PublishRequest, save_handle: SaveHandle) -> list[str]:
        """Media ids for this post: the saved ones if the instance still holds them, else new uploads."""
        if not req.media:
            return []
        saved = [str(m) for m in req.handle.get("media_ids") or []]
        if len(saved) == len(req.media):
            states = [self._poll(media_id, item) for media_id, item in zip(saved, req.media, strict=True)]
            if MediaState.GONE not in states and MediaState.FAILED not in states:
                self._require_ready(saved, states)
                return saved
        uploads = [self._upload(item) for item in req.media]
        media_ids = [media_id for media_id, _ in uploads]
        save_handle({"media_ids": media_ids})
        states = [MediaState.READY if ready else self._poll(media_id, item)
                  for (media_id, ready), item in zip(uploads, req.media, strict=True)]
        self._require_ready(media_ids, states)
        return media_ids

    def _upload(self, item: MediaItem) -> tuple[str, bool]:
        """POST /api/v2/media -> (id, processed). Never ambiguous: a lost upload only leaves an
        unattached file, which the instance removes by itself."""
        path = Path(item.path)
        with ExitStack() as stack:
            files = {"file": (path.name, stack.enter_context(path.open("rb")), item.mime_type)}
            if item.mime_type.startswith("video/") and item.cover_path:  # the poster, video only
                cover = Path(item.cover_path)
                files["thumbnail"] = (cover.name, stack.enter_context(cover.open("rb")), _image_type(cover))
            response = self.call("POST", "/api/v2/media", write=False, files=files,
                                 data={"description": item.alt_text})
        body = response.json()
        return str(body["id"]), response.status_code == 200 and bool(body.get("url"))

    def _poll(self, media_id: str, item: MediaItem) -> MediaState:
        """GET /api/v1/media/:id while it answers 206 (processing), at most `max_polls` times (a video:
        `video_max_polls`); 422 means the instance could not process the file (a video it cannot transcode)."""
        video = item.mime_type.startswith("video/")
        polls = self.video_max_polls if video else self.max_polls
        for attempt in range(polls):
            try:
                response = self.call("GET", f"/api/v1/media/{media_id}", ok=(200, 206))
            except ContentRejected as exc:
                if exc.http_status == 404:  # expired, or already attached to a status
                    return MediaState.GONE
                if exc.http_status == 422:
                    return MediaState.FAILED
                raise
            if response.status_code == 200:
                return MediaState.READY
            if attempt + 1 < polls:
                self.sleep(self.video_poll_interval_s if video else self.poll_interval_s)
        return MediaState.PROCESSING

    def _require_ready(self, media_ids: list[str], states: list[MediaState]) -> None:
        if MediaState.FAILED in states:
            raise ContentRejected(self.channel.name, "the instance could not process the video (Error "
                                  "processing thumbnail for uploaded media); re-encode it before trying again",
                                  http_status=422)
        waiting = [m for m, state in zip(media_ids, states, strict=True) if state is not MediaState.READY]
        if waiting:
            raise TransientError(self.channel.name, f"media {', '.join(waiting)} still processing; "
                                 "will retry with the same media")

    # -- errors and rate limits ---------------------------------------------------------------

    def classify(self, response: requests.Response, *, write: bool) -> ConnectorError | None:
        body = self.json_or_empty(response)
        message = body.get("error") if isinstance(body, dict) else None
        message = str(message) if message else None
        status, name = response.status_code, self.channel.name
        if status == 422 and message and any(m in message for m in _PROCESSING):
            return TransientError(name, f"{message} (HTTP 422)", http_status=422)
        if status == 429:
            reset = reset_time(response.headers.get("X-RateLimit-Reset"))
            retry_after = (reset - self.clock()).total_seconds() if reset else self.retry_after_s(response)
            reset = reset or self.clock() + timedelta(seconds=retry_after)  # RateLimited drops an absurd one
            return RateLimited(name, f"rate limited: {message or 'Too many requests'}",
                               retry_after_s=retry_after, reset_at=reset, http_status=429)
        return self.default_classify(response, write=write, message=message)

    def note_rate_limit(self, response: requests.Response) -> None:
        remaining = response.headers.get("X-RateLimit-Remaining")
        if remaining is None:
            return
        if remaining.strip() == "0" or response.status_code == 429:
            self.blocked_until = reset_time(response.headers.get("X-RateLimit-Reset"))
        else:
            self.blocked_until = None

    # -- helpers ------------------------------------------------------------------------------

    def _visibility(self) -> str:
        visibility = str(self.channel.options.get("visibility", "public"))
        if visibility not in self.visibilities:
            raise ContentRejected(self.channel.name, f"visibility {visibility!r} is not one of "
                                  f"{', '.join(self.visibilities)} (channel option)")
        return visibility

    def _result(self, status: dict[str, Any]) -> PublishResult:
        return PublishResult(remote_id=str(status["id"]), url=status.get("url"),
                             published_at=parse_time(status.get("created_at")), raw=status)
