"""What every connector shares: HTTP with error mapping, limits, text measuring, secret scrubbing.

Connectors speak HTTP and return values; they never touch the database. Anything they must
persist mid-flight (a container id, a record key) goes through the `save_handle` callback the
dispatcher passes to `publish`, which commits it before the connector continues.
"""

from __future__ import annotations

import math
import re
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime
from typing import Any, ClassVar, Protocol

import regex
import requests

from outreach.config import ChannelConfig, MissingSecret
from outreach.connectors.errors import (
    AuthError,
    ConnectorError,
    ContentRejected,
    RateLimited,
    TransientError,
    bounded_wait,
)
from outreach.connectors.http import PlatformSession
from outreach.domain import (
    AccountInfo,
    AudienceRow,
    ImagePolicy,
    MediaItem,
    PublishRequest,
    PublishResult,
    TextUnit,
    VideoCapabilities,
)
from outreach.redact import strip_url_queries

Clock = Callable[[], datetime]
SaveHandle = Callable[[dict[str, Any]], None]
ExchangeHook = Callable[[requests.Response], None]

_TOKEN_IN_QUERY = re.compile(r"((?:access_token|refresh_token|client_secret|fb_exchange_token)=)[^&\s\"']+")


def utcnow() -> datetime:
    return datetime.now(UTC)


def parse_expiry(value: Any) -> datetime | None:
    """An ISO date or datetime from config or a credential store, as an aware UTC datetime."""
    if not value:
        return None
    try:
        moment = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def next_utc_midnight(now: datetime) -> datetime:
    """Where daily platform quotas (LinkedIn, TikTok's creator cap) reset."""
    return datetime.combine(now.astimezone(UTC).date() + timedelta(days=1), datetime.min.time(), UTC)


class CredentialStore(Protocol):
    """Persists rotating credentials (sessions, refresh tokens) outside the database."""

    def load(self, channel: str) -> dict[str, Any]: ...

    def save(self, channel: str, data: dict[str, Any]) -> None: ...


class MemoryCredentialStore:
    def __init__(self) -> None:
        self._data: dict[str, dict[str, Any]] = {}

    def load(self, channel: str) -> dict[str, Any]:
        return dict(self._data.get(channel, {}))

    def save(self, channel: str, data: dict[str, Any]) -> None:
        self._data[channel] = dict(data)


@dataclass(frozen=True, slots=True)
class Limits:
    max_text: int
    text_unit: TextUnit
    max_images: int
    max_image_bytes: int
    max_alt_text: int
    image_mime_types: tuple[str, ...]
    requires_media: bool = False
    video: VideoCapabilities | None = None
    max_image_pixels: int | None = None  # width x height; fitting scales larger images down
    url_length: int | None = None  # a link counts as this many characters (Mastodon), else as written


def measure(text: str, unit: TextUnit) -> int:
    if unit is TextUnit.GRAPHEMES:
        return len(regex.findall(r"\X", text))
    if unit is TextUnit.UTF8_BYTES:
        return len(text.encode("utf-8"))
    return len(text)


class Connector:
    """Base class. Subclasses set the class attributes and implement the platform calls."""

    platform: ClassVar[str]  # its name in outreach.platforms.REGISTRY, as channels and posts write it
    display_name: ClassVar[str]  # as people write it ("YouTube"): the dashboard and the report ask here
    max_text: ClassVar[int] = 500
    text_unit: ClassVar[TextUnit] = TextUnit.CHARACTERS
    max_images: ClassVar[int] = 4
    max_image_bytes: ClassVar[int] = 8 * 1024 * 1024
    max_alt_text: ClassVar[int] = 1000
    image_mime_types: ClassVar[tuple[str, ...]] = ("image/jpeg", "image/png")
    requires_media: ClassVar[bool] = False
    # How media fitting shapes images (Pillow formats, preferred first; aspect = width / height) and
    # which card size is drawn: these and the limits above are the only place a platform's sizes live.
    image_formats: ClassVar[tuple[str, ...]] = ("PNG", "JPEG")
    max_image_width: ClassVar[int] = 4096
    max_image_height: ClassVar[int] = 4096
    image_aspect: ClassVar[tuple[float | None, float | None]] = (None, None)
    max_image_pixels: ClassVar[int | None] = None
    url_length: ClassVar[int | None] = None  # a link counts as this many characters, else as written
    card_size: ClassVar[str] = "landscape"  # a name in outreach.cards.SIZES
    # The channel keys (besides platform, base_url and NAME_env) this connector reads from
    # `channel.options`: config refuses any other key, so a typo never falls back to a default.
    # A subclass adds its own with `Base.channel_options | {...}`; tests/test_config.py keeps it true.
    channel_options: ClassVar[frozenset[str]] = frozenset({"utm_source", "max_text", "poll_interval_s"})
    # The TOML type of each key that is not text (bool, int, float, list): config refuses another type,
    # so `audited = "true"` (a string) is an error, not a quiet "not audited". Extended like channel_options.
    option_types: ClassVar[Mapping[str, type]] = {"max_text": int, "poll_interval_s": float}
    # The per-channel options a campaign's `video:` entry may give this platform (planning checks them).
    video_options: ClassVar[frozenset[str]] = frozenset({"burn_captions"})
    video: ClassVar[VideoCapabilities | None] = None  # what the platform accepts as video (None: no video)
    uploads_video: ClassVar[bool] = False  # True once `publish` uploads a video entry (else it is refused)
    token_help: ClassVar[str] = ""  # one line for the README: how to obtain the credentials
    poll_interval_s: float = 1.0  # waiting on multi-step flows (containers, uploads); tests set 0
    max_polls: int = 10
    metric_names: ClassVar[dict[str, str]] = {}  # platform metric name -> METRIC_NAMES entry
    # Platform metrics not in the shared unit, with the factor that converts them (Meta's milliseconds
    # -> watch_time_s: 0.001). Raw snapshots keep the platform's own unit; the harvester applies this.
    metric_scale: ClassVar[dict[str, float]] = {}
    metrics_batch_size: ClassVar[int] = 1  # remote ids per metrics call
    metrics_api_version: ClassVar[str | None] = None  # the API version metrics are read with, if fixed
    has_audience: ClassVar[bool] = False  # reports age breakdowns (Instagram, Threads)

    def __init__(self, channel: ChannelConfig, *, http: requests.Session | None = None,
                 timeout_s: float = 30.0, clock: Clock = utcnow,
                 credentials: CredentialStore | None = None,
                 on_exchange: ExchangeHook | None = None, sleep: Callable[[float], None] = time.sleep,
                 poll_interval_s: float | None = None, max_polls: int | None = None,
                 reconcile_skew_s: float = 300.0, max_pages: int = 10) -> None:
        self.channel = channel
        self.sleep = sleep  # only for bounded polling inside one publish; retries are never slept
        if poll_interval_s is not None:
            self.poll_interval_s = poll_interval_s
        if max_polls is not None:
            self.max_polls = max_polls
        self.reconcile_skew_s = reconcile_skew_s  # how far before an attempt reconcile looks back
        self.max_pages = max_pages  # how many pages of the account's posts reconcile reads at most
        self.http = http or PlatformSession()
        self.timeout_s = timeout_s
        self.clock = clock
        self.credentials = credentials or MemoryCredentialStore()
        self.on_exchange = on_exchange
        self.blocked_until: datetime | None = None  # set from rate-limit headers

    # -- what subclasses implement ------------------------------------------------------------

    def check(self) -> AccountInfo:
        raise NotImplementedError

    def check_login(self) -> AccountInfo:
        """`channels check`: the credentials as configured now. Platforms with a login (Bluesky) log
        in afresh here, so a password just changed or revoked is tested; the rest ask `check`."""
        return self.check()

    def publish(self, req: PublishRequest, *, save_handle: SaveHandle) -> PublishResult:
        raise NotImplementedError

    def reconcile(self, req: PublishRequest) -> PublishResult | None:
        """After an ambiguous failure: the published post if the platform has it, else None."""
        raise NotImplementedError

    def fetch_metrics(self, remote_ids: Sequence[str]) -> dict[str, dict[str, int]]:
        """Raw platform metrics per remote id (the harvester normalises them)."""
        raise NotImplementedError

    def fetch_audience(self) -> list[AudienceRow]:
        """Account-level audience breakdown, where the platform reports one."""
        return []

    def refresh_credentials(self) -> datetime | None:
        """Refresh a token ahead of expiry where the platform allows it; returns the new expiry."""
        return None

    def classify(self, response: requests.Response, *, write: bool) -> ConnectorError | None:
        """Map a non-success response to a typed error. Override for platform envelopes."""
        return self.default_classify(response, write=write)

    def note_rate_limit(self, response: requests.Response) -> None:
        """Read the platform's rate-limit headers into `blocked_until`. Override per platform."""

    # -- limits and validation ----------------------------------------------------------------

    @classmethod
    def declared_limits(cls) -> Limits:
        return Limits(max_text=cls.max_text, text_unit=cls.text_unit, max_images=cls.max_images,
                      max_image_bytes=cls.max_image_bytes, max_alt_text=cls.max_alt_text,
                      image_mime_types=cls.image_mime_types, requires_media=cls.requires_media,
                      video=cls.video, max_image_pixels=cls.max_image_pixels,
                      url_length=cls.url_length)

    def limits(self) -> Limits:
        """This channel's limits: the declared ones, or what the platform reports live where it does.
        The channel option `max_text` (e.g. an instance allowing 1000) always has the last word."""
        return self.with_options(self.declared_limits())

    def known_limits(self) -> Limits:
        """The limits as far as they are known without asking the platform (for `outreach validate`)."""
        return self.limits()

    def with_options(self, limits: Limits) -> Limits:
        max_text = self.channel.options.get("max_text")
        return replace(limits, max_text=max_text) if isinstance(max_text, int) else limits

    @classmethod
    def image_policy_for(cls, limits: Limits | None = None) -> ImagePolicy:
        """What media fitting must make of an image for this platform (bytes from `limits`)."""
        lim = limits or cls.declared_limits()
        side = math.isqrt(lim.max_image_pixels) if lim.max_image_pixels else None
        return ImagePolicy(formats=cls.image_formats, max_bytes=lim.max_image_bytes,
                           max_width=min(cls.max_image_width, side or cls.max_image_width),
                           max_height=min(cls.max_image_height, side or cls.max_image_height),
                           min_aspect=cls.image_aspect[0], max_aspect=cls.image_aspect[1])

    def image_policy(self) -> ImagePolicy:
        """The image policy with this channel's live limits."""
        return self.image_policy_for(self.limits())

    @classmethod
    def text_length(cls, text: str, limits: Limits | None = None) -> int:
        return measure(text, (limits or cls.declared_limits()).text_unit)

    @classmethod
    def validate(cls, text: str, media: Iterable[MediaItem] = (), *,
                 limits: Limits | None = None, sizes: Mapping[str, int] | None = None) -> list[str]:
        """Problems that would make the platform refuse this post, in words a volunteer understands."""
        lim = limits or cls.declared_limits()
        media = list(media)
        problems = []
        length = cls.text_length(text, lim)
        if length > lim.max_text:
            problems.append(f"text is {length} {lim.text_unit.value.replace('_', '-')} long; "
                            f"{cls.platform} allows {lim.max_text}")
        if lim.requires_media and not media:
            problems.append(f"{cls.platform} needs an image; this post has none")
        if len(media) > lim.max_images:
            problems.append(f"{len(media)} images; {cls.platform} allows {lim.max_images}")
        for item in media:
            if item.mime_type not in lim.image_mime_types:
                problems.append(f"{item.path}: {item.mime_type} is not accepted by {cls.platform} "
                                f"({', '.join(lim.image_mime_types)})")
            size = (sizes or {}).get(item.path)
            if size is not None and size > lim.max_image_bytes:
                problems.append(f"{item.path}: {size} bytes; {cls.platform} allows {lim.max_image_bytes}")
            if len(item.alt_text) > lim.max_alt_text:
                problems.append(f"alt text is {len(item.alt_text)} characters; "
                                f"{cls.platform} allows {lim.max_alt_text}")
        return problems

    # -- HTTP ---------------------------------------------------------------------------------

    def secret(self, key: str = "token") -> str:
        """The channel's secret from its env var; a missing one is an AuthError naming the variable."""
        try:
            return self.channel.secret(key)
        except MissingSecret as exc:
            raise AuthError(self.channel.name, exc.detail) from None

    def url(self, path: str) -> str:
        if path.startswith(("http://", "https://")):
            return path
        return f"{self.channel.base_url}/{path.lstrip('/')}"

    def scrub(self, text: str) -> str:
        """Remove every secret this channel knows of, and every URL's query string (an upload URL's may be
        a capability), from a text bound for a log or an error."""
        text = strip_url_queries(_TOKEN_IN_QUERY.sub(r"\1***", text))
        for secret in self.secret_strings():
            if secret:
                text = text.replace(secret, "***")
        return text

    def secret_strings(self) -> list[str]:
        from outreach.credentials import credential_secrets

        return [*self.channel.secret_values(), *credential_secrets(self.credentials.load(self.channel.name))]

    def request(self, method: str, path: str, *, write: bool | None = None,
                ok: Sequence[int] = (200, 201, 202), **kwargs: Any) -> requests.Response:
        """Send one request and return the response, or raise a typed ConnectorError.

        `write` marks requests whose failure after sending is ambiguous (the platform may have
        acted); it defaults to True for anything but GET/HEAD.
        """
        write = method.upper() not in ("GET", "HEAD") if write is None else write
        kwargs.setdefault("timeout", self.timeout_s)
        name, url = self.channel.name, self.url(path)
        host = self._host(url)  # the host asked: a video or upload service may not be the channel's own
        try:
            response = self.http.request(method, url, **kwargs)
        except requests.ConnectTimeout:
            raise TransientError(name, f"could not connect to {host} (timeout)", code="unreachable") from None
        except requests.ConnectionError as exc:
            # A refused connection never reached the platform; a dropped one may have.
            refused = "refused" in str(exc).lower() or "Failed to establish" in str(exc)
            raise TransientError(name, f"connection to {host} "
                                 f"{'refused' if refused else 'dropped'}",
                                 ambiguous=write and not refused, code="unreachable" if refused else None) from None
        except requests.Timeout:
            raise TransientError(name, f"no answer from {host} within {self.timeout_s:g} s",
                                 ambiguous=write) from None
        except requests.RequestException as exc:
            raise TransientError(name, self.scrub(f"request failed: {type(exc).__name__}"),
                                 ambiguous=write) from None
        if self.on_exchange is not None:
            self.on_exchange(response)
        self.note_rate_limit(response)
        if response.status_code in ok:
            return response
        error = self.classify(response, write=write)
        if error is None:
            return response
        error.message = self.scrub(error.message)
        error.args = (f"{error.channel}: {error.message}",)
        raise error

    def _host(self, url: str | None = None) -> str:
        return re.sub(r"^https?://", "", url or self.channel.base_url).split("/")[0]

    def default_classify(self, response: requests.Response, *, write: bool,
                         message: str | None = None, code: str | None = None) -> ConnectorError:
        name, status = self.channel.name, response.status_code
        msg = message or f"HTTP {status}"
        where = "" if f"HTTP {status}" in msg else f" (HTTP {status})"
        if status in (401, 403):
            return AuthError(name, f"{msg}{where}; check the token for channel {name}",
                             http_status=status, code=code)
        if status == 429:
            retry_after = self.retry_after_s(response)
            return RateLimited(name, f"rate limited: {msg}", retry_after_s=retry_after,
                               reset_at=self.blocked_until, http_status=status, code=code)
        if status >= 500:
            return TransientError(name, f"{msg}{where}", ambiguous=write, http_status=status, code=code)
        return ContentRejected(name, f"{msg}{where}", http_status=status, code=code)

    def retry_after_s(self, response: requests.Response, default_s: float = 60.0) -> float:
        header = (response.headers.get("Retry-After") or "").strip()
        if header:
            try:
                return bounded_wait(float(header))  # delta-seconds
            except ValueError:
                pass
            try:  # or an HTTP date (RFC 9110 10.2.3)
                return bounded_wait((parsedate_to_datetime(header) - self.clock()).total_seconds())
            except (TypeError, ValueError, OverflowError):
                pass
        if self.blocked_until is not None:
            return max(0.0, (self.blocked_until - self.clock()).total_seconds())
        return default_s

    @staticmethod
    def json_or_empty(response: requests.Response) -> Any:
        try:
            return response.json()
        except ValueError:
            return {}
