"""Typed connector errors. Each connector maps its platform's signals onto these, in one place."""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta

from outreach.domain import ErrorKind
from outreach.errors import PlatformError


class ConnectorError(PlatformError):
    """Base of every error a connector raises. The message names the channel, never a secret."""

    kind: ErrorKind = ErrorKind.TRANSIENT

    def __init__(self, channel: str, message: str, *, http_status: int | None = None,
                 code: str | None = None) -> None:
        self.channel = channel
        self.message = message
        self.http_status = http_status
        self.code = code
        super().__init__(f"{channel}: {message}")


class AuthError(ConnectorError):
    """The credentials are missing, invalid, expired or revoked: a person must act."""

    kind = ErrorKind.AUTH


class ContentRejected(ConnectorError):
    """The platform refused this content (validation, size, policy). Retrying will not help."""

    kind = ErrorKind.REJECTED


# A wait the platform names is kept up to two days (daily quotas reset within one); a malformed or absurd
# one (inf, a date in the year 3000, a proxy's garbage) never parks a post for ever or crashes the worker.
MAX_WAIT_S = 2 * 86400.0
DEFAULT_WAIT_S = 60.0


def bounded_wait(seconds: float) -> float:
    """A platform's wait as the worker keeps it: 0 to MAX_WAIT_S, DEFAULT_WAIT_S when unreadable."""
    return min(max(0.0, seconds), MAX_WAIT_S) if math.isfinite(seconds) else DEFAULT_WAIT_S


class RateLimited(ConnectorError):
    """Throttled. Try again no earlier than `retry_after_s` from now (or `reset_at`). The message
    states that wait (the one the worker keeps), unless the connector's own words already do."""

    kind = ErrorKind.RATE_LIMITED

    def __init__(self, channel: str, message: str, *, retry_after_s: float,
                 reset_at: datetime | None = None, http_status: int | None = None,
                 code: str | None = None) -> None:
        if bounded_wait(retry_after_s) != max(0.0, retry_after_s):
            reset_at = None  # the platform's reset time is as unbelievable as its wait
        retry_after_s = bounded_wait(retry_after_s)
        if "try again" not in message:
            message = f"{message}; {wait_words(retry_after_s, reset_at)}"
        super().__init__(channel, message, http_status=http_status, code=code)
        self.retry_after_s = retry_after_s
        self.reset_at = reset_at

    def resume_at(self, now: datetime) -> datetime:
        """When to try again: the platform's reset time if it is ahead and believable, else the wait."""
        if self.reset_at is not None and now < self.reset_at <= now + timedelta(seconds=MAX_WAIT_S):
            return self.reset_at
        return now + timedelta(seconds=self.retry_after_s)


def wait_words(seconds: float, reset_at: datetime | None = None) -> str:
    """'try again after 2026-03-06 14:05 UTC (in 5 minutes)': the wait a rate limit imposes."""
    if seconds < 120:
        span = f"{seconds:.0f} seconds"
    elif seconds < 120 * 60:
        span = f"{seconds / 60:.0f} minutes"
    elif seconds < 48 * 3600:
        span = f"{seconds / 3600:.0f} hours"
    else:
        span = f"{seconds / 86400:.0f} days"
    if reset_at is None:
        return f"try again in {span}"
    return f"try again after {reset_at.astimezone(UTC):%Y-%m-%d %H:%M} UTC (in {span})"


class TransientError(ConnectorError):
    """A failure that may go away. `ambiguous` means the platform may have acted on the request
    (timeout after sending, 5xx after a write, dropped connection): reconcile before retrying."""

    kind = ErrorKind.TRANSIENT

    def __init__(self, channel: str, message: str, *, ambiguous: bool = False,
                 http_status: int | None = None, code: str | None = None) -> None:
        super().__init__(channel, message, http_status=http_status, code=code)
        self.ambiguous = ambiguous


class NeedsPerson(ConnectorError):
    """A person must finish or check this post: the platform holds it for them (TikTok's inbox), or
    only they can see whether an interrupted attempt went out. The post becomes `manual_due` with this
    message and is never sent again by the worker; `outreach confirm` records where it appeared."""

    kind = ErrorKind.REJECTED
