"""Alerts: incidents that need a person, sent once each through apprise (e-mail, Telegram, Slack,
Matrix, ntfy, a webhook …) and listed in `outreach status`.

An incident has a key that names it exactly (`post-failed:42:17` is post 42's failure at attempt row
17); it is opened once, notified once, and resolved when its condition is gone. A notification that
could not be delivered is tried again on the next pass. With several workers, the first to mark an
alert as being notified sends it; the others see it taken.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError

from outreach.config import ConfigError, Settings
from outreach.db import Database
from outreach.db.models import Alert, ChannelState, Post, PublishAttempt, WorkerHeartbeat
from outreach.domain import PostStatus
from outreach.publishing.health import SILENT_AFTER_INTERVALS, is_silent

log = logging.getLogger("outreach.alerts")


class AlertKind(StrEnum):
    AUTH = "auth_failure"
    TOKEN_EXPIRING = "token_expiring"
    POST_FAILED = "post_failed"
    MANUAL_DUE = "manual_due"
    WORKER_SILENT = "worker_silent"


@dataclass(frozen=True, slots=True)
class Incident:
    key: str
    kind: AlertKind
    subject: str
    message: str


@dataclass(frozen=True, slots=True)
class AlertSettings:
    urls: tuple[str, ...] = ()  # apprise URLs; put secret-bearing ones in the env var named by urls_env
    token_warning_days: int = 14

    @classmethod
    def from_settings(cls, settings: Settings, *, environ: dict[str, str] | None = None) -> AlertSettings:
        raw = settings.raw.get("alerts", {})
        if not isinstance(raw, dict):
            raise ConfigError(f"{settings.source}: [alerts] must be a table")
        env = os.environ if environ is None else environ
        urls = [str(u) for u in raw.get("urls", [])]
        if raw.get("urls_env"):
            urls += env.get(str(raw["urls_env"]), "").split()
        return cls(urls=tuple(u for u in urls if u), token_warning_days=int(raw.get("token_warning_days", 14)))


Notifier = Callable[[str, str], bool]  # (title, body) -> delivered


def apprise_notifier(urls: Sequence[str]) -> Notifier | None:
    """A notifier sending to every apprise URL, or None when none is configured."""
    if not urls:
        return None
    import apprise

    client = apprise.Apprise()
    for url in urls:
        if not client.add(url):
            raise ConfigError("[alerts]: an alert URL is not understood by apprise (check its scheme)")

    def notify(title: str, body: str) -> bool:
        return bool(client.notify(title=title, body=body))

    return notify


def detect(db: Database, *, now: datetime, token_warning_days: int = 14) -> list[Incident]:
    """Every incident that holds right now."""
    found: list[Incident] = []
    with db.session() as s:
        last_attempt = (select(PublishAttempt.post_id, func.max(PublishAttempt.id).label("attempt_id"))
                        .group_by(PublishAttempt.post_id).subquery())
        failed = s.execute(select(Post.id, Post.channel, Post.language, Post.last_error, last_attempt.c.attempt_id)
                           .join(last_attempt, last_attempt.c.post_id == Post.id, isouter=True)
                           .where(Post.status == PostStatus.FAILED.value))
        for post_id, channel, language, error, attempt_id in failed:
            found.append(Incident(f"post-failed:{post_id}:{attempt_id or 0}", AlertKind.POST_FAILED,
                                  f"post {post_id} to {channel} ({language}) failed",
                                  f"{error or 'failed'}. Fix the cause, then `outreach retry {post_id}`."))
        manual = s.execute(select(Post.id, Post.channel, Post.language, Post.due_at, Post.last_error)
                           .where(Post.status == PostStatus.MANUAL_DUE.value))
        for post_id, channel, language, due_at, error in manual:  # error: what to do (TikTok's inbox)
            found.append(Incident(f"manual-due:{post_id}", AlertKind.MANUAL_DUE,
                                  f"post {post_id} ({channel}, {language}) is due to be posted by hand",
                                  f"Due {due_at.isoformat(timespec='minutes')}. " + (f"{error}." if error else
                                  f"Post it, then `outreach confirm {post_id} --permalink URL --by NAME`.")))
        for state in s.scalars(select(ChannelState)):
            if state.last_error_kind == "auth":
                stamp = state.last_error_at.isoformat(timespec="seconds") if state.last_error_at else "-"
                found.append(Incident(f"auth:{state.channel}:{stamp}", AlertKind.AUTH,
                                      f"channel {state.channel} is paused: its credentials do not work",
                                      f"{state.last_error}. Renew the token, then `outreach channels check` "
                                      "and `outreach retry --channel " + state.channel + "`."))
            expires = state.token_expires_at
            if expires and expires - now < timedelta(days=token_warning_days):
                days = max(0, round((expires - now).total_seconds() / 86400))
                found.append(Incident(f"token-expiring:{state.channel}:{expires.date().isoformat()}",
                                      AlertKind.TOKEN_EXPIRING,
                                      f"the token of channel {state.channel} expires in {days} days",
                                      f"It expires {expires.isoformat(timespec='minutes')}; renew it before then."))
        for hb in s.scalars(select(WorkerHeartbeat).where(WorkerHeartbeat.stopped_at.is_(None))):
            if is_silent(hb, now):
                found.append(Incident(f"worker-silent:{hb.worker_id}:{hb.started_at.isoformat(timespec='seconds')}",
                                      AlertKind.WORKER_SILENT, f"worker {hb.worker_id} on {hb.hostname} is silent",
                                      f"Not heard from since {hb.last_seen.isoformat(timespec='seconds')} "
                                      f"(expected every {hb.interval_s:g} s; silent after "
                                      f"{SILENT_AFTER_INTERVALS} intervals)."))
    return found


@dataclass
class AlertPass:
    opened: list[str]
    notified: list[str]
    resolved: list[str]
    failed: list[str]

    def lines(self) -> list[str]:
        return ([f"alert opened: {k}" for k in self.opened] + [f"alert sent: {k}" for k in self.notified]
                + [f"alert resolved: {k}" for k in self.resolved]
                + [f"alert NOT delivered (will retry): {k}" for k in self.failed])


def run_alerts(db: Database, settings: Settings, *, now: datetime | None = None,
               notifier: Notifier | None = None, alert_settings: AlertSettings | None = None) -> AlertPass:
    """One pass: open new incidents, resolve gone ones, notify what has not been notified yet."""
    now = now or datetime.now(UTC)
    cfg = alert_settings or AlertSettings.from_settings(settings)
    notify = notifier if notifier is not None else apprise_notifier(cfg.urls)
    current = {i.key: i for i in detect(db, now=now, token_warning_days=cfg.token_warning_days)}
    result = AlertPass([], [], [], [])
    with db.session() as s:
        open_keys = set(s.scalars(select(Alert.key).where(Alert.resolved_at.is_(None))))
        known = set(s.scalars(select(Alert.key).where(Alert.key.in_(list(current))))) if current else set()
    for key in open_keys - set(current):
        with db.write() as s:
            s.execute(update(Alert).where(Alert.key == key, Alert.resolved_at.is_(None)).values(resolved_at=now))
        result.resolved.append(key)
    for key, incident in current.items():
        if key in known:
            continue
        try:
            with db.write() as s:
                s.add(Alert(key=key, kind=incident.kind.value, subject=incident.subject, message=incident.message,
                            opened_at=now))
            result.opened.append(key)
        except IntegrityError:  # another worker opened it first
            continue
    if notify is None:
        return result
    with db.session() as s:
        pending = list(s.scalars(select(Alert).where(Alert.notified_at.is_(None), Alert.resolved_at.is_(None))
                                 .order_by(Alert.id)))
    for alert in pending:
        with db.write() as s:  # take it: only one worker sends each alert
            taken = s.execute(update(Alert).where(Alert.id == alert.id, Alert.notified_at.is_(None))
                              .values(notified_at=now)).rowcount
        if not taken:
            continue
        delivered = False
        try:
            delivered = notify(f"outreach: {alert.subject}", alert.message)
        except Exception as exc:  # a broken notifier must not stop the worker
            log.warning("alert %s: notifier failed: %s", alert.key, type(exc).__name__)
        if delivered:
            result.notified.append(alert.key)
        else:
            with db.write() as s:
                s.execute(update(Alert).where(Alert.id == alert.id)
                          .values(notified_at=None, notify_error="not delivered; will retry"))
            result.failed.append(alert.key)
    return result


def open_alerts(db: Database) -> list[dict[str, Any]]:
    """Open alerts for `outreach status`, oldest first."""
    with db.session() as s:
        rows = s.scalars(select(Alert).where(Alert.resolved_at.is_(None)).order_by(Alert.opened_at, Alert.id))
        return [{"kind": a.kind, "subject": a.subject, "message": a.message,
                 "opened_at": a.opened_at.isoformat(timespec="seconds"),
                 "notified": a.notified_at is not None} for a in rows]
