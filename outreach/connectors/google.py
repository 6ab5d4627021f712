"""Google APIs (YouTube Data API v3, later YouTube Analytics): OAuth refresh, the error envelope and
the daily quota ledger, shared by the Google connectors as `meta.py` is by Meta's.

Tokens: the access token (about an hour) is refreshed from the refresh token ahead of expiry and once
after a 401; Google keeps the refresh token the same. A dead refresh token (`invalid_grant`) is an
auth error that says why it usually happens: a consent screen left in "Testing" drops refresh tokens
after 7 days. Quota: `videos.insert` has its own bucket of calls a day, everything else shares units a
day, both reset at midnight Pacific time; the ledger is kept with the channel's credentials and
checked before each call, so a spent quota waits for the reset instead of burning requests on 403s.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any, ClassVar
from zoneinfo import ZoneInfo

import requests

from outreach.connectors.base import Connector, parse_expiry
from outreach.connectors.errors import AuthError, ConnectorError, ContentRejected, RateLimited, TransientError

PACIFIC = ZoneInfo("America/Los_Angeles")
AUTH_REASONS = ("authError", "forbidden", "insufficientPermissions", "youtubeSignupRequired",
                "authenticatedUserAccountSuspended", "authenticatedUserAccountClosed")


def next_pacific_midnight(now: datetime) -> datetime:
    """Where Google's daily API quota resets."""
    local = now.astimezone(PACIFIC)
    return datetime.combine(local.date() + timedelta(days=1), datetime.min.time(), PACIFIC)


class GoogleConnector(Connector):
    """Base of the Google connectors: secrets client_id, client_secret, refresh_token."""

    token_url: ClassVar[str] = "https://oauth2.googleapis.com/token"
    refresh_margin: ClassVar[timedelta] = timedelta(minutes=5)
    # Quota (video.md 8.4): units per call from the shared daily bucket; inserts have their own bucket.
    # Channel options override: daily_units, daily_inserts, quota_<method with _> (e.g. quota_videos_insert).
    quota_costs: ClassVar[dict[str, int]] = {"videos.insert": 0, "captions.insert": 400, "videos.list": 1,
                                              "channels.list": 1, "playlistItems.list": 1, "thumbnails.set": 50}
    daily_units: ClassVar[int] = 10_000
    daily_inserts: ClassVar[int] = 100
    channel_options: ClassVar[frozenset[str]] = Connector.channel_options | {
        "token_url", "daily_units", "daily_inserts", *(f"quota_{method.replace('.', '_')}" for method in quota_costs)}
    option_types: ClassVar[Mapping[str, type]] = {**Connector.option_types, "daily_units": int, "daily_inserts": int,
                                                  **{f"quota_{m.replace('.', '_')}": int for m in quota_costs}}

    def option(self, key: str, default: Any) -> Any:
        return self.channel.options.get(key, default)

    # -- OAuth ----------------------------------------------------------------------------------

    def _access_token(self, *, force: bool = False) -> str:
        stored = self.credentials.load(self.channel.name)
        expires = parse_expiry(stored.get("expires_at"))
        if force or not stored.get("access_token") or expires is None or expires - self.clock() <= self.refresh_margin:
            self.refresh_credentials(force=True)
            stored = self.credentials.load(self.channel.name)
        return str(stored["access_token"])

    def refresh_credentials(self, *, force: bool = False) -> datetime | None:
        """A new access token from the refresh token (Google keeps the refresh token the same)."""
        stored = self.credentials.load(self.channel.name)
        expires = parse_expiry(stored.get("expires_at"))
        if not force and stored.get("access_token") and expires and expires - self.clock() > self.refresh_margin:
            return None
        response = self.request("POST", str(self.option("token_url", self.token_url)), write=False, ok=(200,),
                                data={"grant_type": "refresh_token", "refresh_token": self.secret("refresh_token"),
                                      "client_id": self.secret("client_id"),
                                      "client_secret": self.secret("client_secret")})
        body = response.json()
        stored = self.credentials.load(self.channel.name)
        stored.update(access_token=body["access_token"],
                      expires_at=(self.clock() + timedelta(seconds=int(body.get("expires_in", 3600)))).isoformat())
        self.credentials.save(self.channel.name, stored)
        return None  # the refresh token itself has no announced expiry

    def call(self, method: str, path: str, *, quota: str | None = None, **kwargs: Any) -> requests.Response:
        """One API request with the bearer token (refreshed once on a 401), after the quota check."""
        if quota is not None:
            self._spend(quota)
        headers = dict(kwargs.pop("headers", {}))
        for attempt in (1, 2):
            headers["Authorization"] = f"Bearer {self._access_token(force=attempt == 2)}"
            try:
                return self.request(method, path, headers=headers, **kwargs)
            except AuthError as exc:
                if attempt == 2 or exc.http_status != 401:
                    raise
        raise AssertionError("unreachable")

    # -- quota ------------------------------------------------------------------------------------

    def _ledger(self) -> dict[str, Any]:
        day = self.clock().astimezone(PACIFIC).date().isoformat()
        ledger = self.credentials.load(self.channel.name).get("quota") or {}
        return ledger if ledger.get("day") == day else {"day": day, "units": 0, "inserts": 0}

    def _save_ledger(self, ledger: dict[str, Any]) -> None:
        stored = self.credentials.load(self.channel.name)
        stored["quota"] = ledger
        self.credentials.save(self.channel.name, stored)

    def _spend(self, method: str) -> None:
        ledger = self._ledger()
        cost = int(self.option(f"quota_{method.replace('.', '_')}", self.quota_costs.get(method, 1)))
        units, inserts = int(self.option("daily_units", self.daily_units)), int(self.option("daily_inserts",
                                                                                          self.daily_inserts))
        if ledger["units"] + cost > units or (method == "videos.insert" and ledger["inserts"] >= inserts):
            raise self._quota_spent(f"the daily YouTube quota is spent ({ledger['units']} of {units} units, "
                                    f"{ledger['inserts']} of {inserts} uploads)")
        ledger["units"] += cost
        ledger["inserts"] += method == "videos.insert"
        self._save_ledger(ledger)

    def _quota_spent(self, message: str, status: int | None = None) -> RateLimited:
        reset = next_pacific_midnight(self.clock())
        return RateLimited(self.channel.name, f"{message}; it resets at midnight Pacific time",
                           retry_after_s=(reset - self.clock()).total_seconds(), reset_at=reset,
                           http_status=status, code="quotaExceeded")

    def quota_used(self) -> dict[str, Any]:
        """Today's bookkeeping (Pacific day): units and uploads spent, for `status` and the tests."""
        return self._ledger()

    # -- errors -----------------------------------------------------------------------------------

    def classify(self, response: requests.Response, *, write: bool) -> ConnectorError | None:
        name, status = self.channel.name, response.status_code
        body = self.json_or_empty(response)
        error = body.get("error") if isinstance(body, dict) else None
        if isinstance(error, str):  # Google's OAuth endpoint
            return AuthError(name, f"Google refused the refresh token ({error}: {body.get('error_description', '')}); "
                             "authorize again. An OAuth consent screen in 'Testing' status loses its refresh "
                             "tokens after 7 days: set it 'In production'", http_status=status, code=error)
        if not isinstance(error, dict):
            return self.default_classify(response, write=write)
        first = (error.get("errors") or [{}])[0]
        reason, message = str(first.get("reason", "")), str(error.get("message", "") or first.get("message", ""))
        if reason == "quotaExceeded":
            self._save_ledger({**self._ledger(), "units": int(self.option("daily_units", self.daily_units))})
            return self._quota_spent(f"YouTube says the quota is spent ({message})", status)
        if reason == "uploadLimitExceeded":
            return RateLimited(name, f"this channel has uploaded as many videos as YouTube allows in 24 hours "
                               f"({message})", retry_after_s=86400, http_status=status, code=reason)
        if status == 429 or reason in ("rateLimitExceeded", "userRateLimitExceeded"):
            return RateLimited(name, f"rate limited: {message}", retry_after_s=self.retry_after_s(response),
                               http_status=status, code=reason)
        if status == 401 or reason in AUTH_REASONS:
            return AuthError(name, f"{message} ({reason}); check the YouTube authorization of channel {name}",
                             http_status=status, code=reason)
        if status >= 500:
            return TransientError(name, f"{message or 'server error'} (HTTP {status})", ambiguous=write,
                                  http_status=status, code=reason)
        return ContentRejected(name, f"{message} ({reason})", http_status=status, code=reason)
