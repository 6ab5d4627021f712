"""`outreach channels check`: verify each channel's credentials against its platform."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from outreach.config import ConfigError, Settings
from outreach.connectors import AuthError, Connector, ConnectorError
from outreach.db import Database
from outreach.db.models import ChannelState
from outreach.domain import Platform


@dataclass(frozen=True, slots=True)
class ChannelCheck:
    channel: str
    platform: str
    ok: bool
    detail: str

    def line(self) -> str:
        return f"{self.channel} · {self.platform} · {'ok' if self.ok else 'FAILED'} · {self.detail}"


def check_channels(db: Database | None, settings: Settings, connectors: Callable[[str], Connector], *,
                   names: list[str] | None = None, now: datetime | None = None) -> list[ChannelCheck]:
    """Ask every (or each named) channel's platform who we are, with the credentials as configured now
    (a fresh login where there is one); record the result per channel, and pause a refused one."""
    now = now or datetime.now(UTC)
    results = []
    for name in names or sorted(settings.channels):
        channel = settings.channel(name)
        if channel.platform == Platform.MANUAL:
            results.append(ChannelCheck(name, channel.platform, True, "posted by hand; nothing to check"))
            continue
        connector: Connector | None = None
        try:
            connector = connectors(name)
            info = connector.check_login()
        except (ConnectorError, ConfigError) as exc:
            how = getattr(connector, "token_help", "") if isinstance(exc, AuthError) else ""
            results.append(ChannelCheck(name, channel.platform, False,
                                        f"{exc}; how to get credentials: {how}" if how else str(exc)))
            _record(db, name, now, error=str(exc), auth=isinstance(exc, AuthError))
            continue
        detail = f"{info.name} (id {info.account_id})"
        if info.detail:
            detail += f" · {info.detail}"
        if info.token_expires_at:
            detail += f" · token expires {info.token_expires_at.date().isoformat()}"
        results.append(ChannelCheck(name, channel.platform, True, detail))
        _record(db, name, now, account_id=info.account_id, account_name=info.name,
                token_expires_at=info.token_expires_at)
    return results


def _record(db: Database | None, name: str, now: datetime, *, error: str | None = None, auth: bool = False,
            account_id: str | None = None, account_name: str | None = None,
            token_expires_at: datetime | None = None) -> None:
    if db is None:
        return
    with db.write() as s:
        state = s.get(ChannelState, name) or ChannelState(channel=name)
        s.add(state)
        state.checked_at = now
        if error is None:
            state.account_id, state.account_name = account_id, account_name
            state.token_expires_at = token_expires_at
            if state.last_error_kind == "auth":
                state.last_error_kind = None  # credentials work again: lift the hold
            state.last_error = None
        else:
            state.last_error = error
            if auth:  # pause the channel and alert, before a volunteer's post hits it
                state.last_error_kind, state.last_error_at = "auth", now


REFRESH_MARGIN = timedelta(days=10)


def maintain_tokens(db: Database, settings: Settings, connectors: Callable[[str], Connector], *,
                    now: datetime | None = None, margin: timedelta = REFRESH_MARGIN) -> list[ChannelCheck]:
    """The worker's token job: refresh each channel's credentials ahead of expiry where the platform
    allows it (Instagram/Threads long-lived tokens, TikTok's rotating refresh token, Bluesky sessions,
    LinkedIn for Marketing partners), else learn the expiry from the platform, and record it, so
    `status`, alerts and the dashboard warn before a token that cannot be refreshed runs out."""
    now = now or datetime.now(UTC)
    results = []
    with db.session() as s:
        known = {st.channel: st.token_expires_at for st in s.scalars(select(ChannelState))}
    for name in sorted(settings.channels):
        channel = settings.channel(name)
        if channel.platform == Platform.MANUAL:
            continue
        expires = known.get(name)
        if expires is not None and expires - now > margin:
            continue
        try:
            connector = connectors(name)
            refreshed = None
            try:
                refreshed = connector.refresh_credentials()
            except ConnectorError as exc:  # e.g. too young to refresh: fall back to asking
                results.append(ChannelCheck(name, channel.platform, False, f"refresh failed: {exc}"))
            info = connector.check()
        except AuthError as exc:
            _record(db, name, now, error=str(exc), auth=True)
            results.append(ChannelCheck(name, channel.platform, False, str(exc)))
            continue
        except (ConnectorError, ConfigError) as exc:
            _record(db, name, now, error=str(exc))
            results.append(ChannelCheck(name, channel.platform, False, str(exc)))
            continue
        # What check() reports is when a person must act (e.g. TikTok's refresh token, not its
        # two-hour access token, which is refreshed on demand); else what the refresh returned.
        expiry = info.token_expires_at or refreshed
        _record(db, name, now, account_id=info.account_id, account_name=info.name, token_expires_at=expiry)
        detail = "refreshed" if refreshed else "checked"
        results.append(ChannelCheck(name, channel.platform, True,
                                    f"{detail}; expires {expiry.date().isoformat()}" if expiry else detail))
    return results
