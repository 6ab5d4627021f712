"""What `outreach status` reports: counts per status, posts needing attention, channel problems."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import func, select

from outreach.db import Database
from outreach.db.models import ChannelState, HarvestChannel, Post
from outreach.domain import Platform, PostStatus

ATTENTION = (PostStatus.FAILED, PostStatus.RETRYING, PostStatus.MANUAL_DUE, PostStatus.REJECTED)


@dataclass(frozen=True)
class AttentionItem:
    post_id: int
    channel: str
    language: str
    status: str
    due_at: str
    error: str | None
    next_attempt_at: str | None


@dataclass(frozen=True)
class ChannelProblem:
    channel: str
    problem: str


@dataclass(frozen=True)
class ChannelHealth:
    """One channel at a glance: `state` is ok | paused | rate limited | token expiring | check failed |
    harvest failing (the first that holds); a harvest failure is reported with its error and since
    when either way."""

    channel: str
    state: str
    publishing_problem: str | None = None
    harvest_error: str | None = None
    harvest_error_since: str | None = None
    last_harvest_at: str | None = None
    checked_at: str | None = None

    def lines(self) -> list[str]:
        """What `channels` problems do not already say: a harvest failure, or that all is well."""
        if self.harvest_error:
            since = self.harvest_error_since or "an unknown time"  # failures older than migration 0006
            return [f"channel {self.channel}: harvest failing since {since}: {self.harvest_error}"]
        if self.state == "check failed":
            return [f"channel {self.channel}: {self.publishing_problem}"]
        if self.state != "ok":
            return []
        seen = f"last harvest {self.last_harvest_at}" if self.last_harvest_at else "not harvested yet"
        return [f"channel {self.channel}: ok · {seen}" + (f" · checked {self.checked_at}" if self.checked_at else "")]


@dataclass(frozen=True)
class StatusReport:
    counts: dict[str, int]
    attention: list[AttentionItem] = field(default_factory=list)
    channels: list[ChannelProblem] = field(default_factory=list)
    next_due_at: str | None = None
    pending_review: int = 0
    workers: list[dict[str, Any]] = field(default_factory=list)
    alerts: list[dict[str, Any]] = field(default_factory=list)
    health: list[ChannelHealth] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)

    def lines(self) -> list[str]:
        total = sum(self.counts.values())
        out = [f"{total} posts: " + ", ".join(f"{n} {s}" for s, n in self.counts.items() if n) if total
               else "no posts yet: load a campaign with `outreach schedule campaigns/…`"]
        if self.pending_review:
            out.append(f"{self.pending_review} waiting for review: `outreach approve …`")
        if self.next_due_at:
            out.append(f"next post due {self.next_due_at}")
        for ch in self.channels:
            out.append(f"channel {ch.channel}: {ch.problem}")
        out.extend(line for h in self.health for line in h.lines())
        for w in self.workers:
            out.append(f"worker {w['worker_id']} on {w['hostname']}: {w['state']} (last seen {w['last_seen']})")
        if self.alerts:
            out.append("open alerts:")
            out.extend(f"  {a['subject']}{'' if a['notified'] else ' (not yet sent)'}" for a in self.alerts)
        if self.attention:
            out.append("needs attention:")
            for a in self.attention:
                line = f"  post {a.post_id} · {a.channel} · {a.language} · {a.status}"
                if a.status == PostStatus.MANUAL_DUE and not a.error:  # else the error says what to do
                    line += " · post it by hand, then `outreach confirm`"
                if a.error:
                    line += f" · {a.error}"
                if a.next_attempt_at:
                    line += f" · next try {a.next_attempt_at}"
                out.append(line)
        return out


def _iso(dt: datetime | None) -> str | None:
    return dt.isoformat(timespec="seconds") if dt else None


def _epoch_iso(value: int | None) -> str | None:
    return _iso(datetime.fromtimestamp(value, UTC)) if value else None


def _health(s: Any, problems: list[ChannelProblem], now: datetime) -> list[ChannelHealth]:
    """Every channel that has posts or bookkeeping (manual ones aside: nothing to check or harvest),
    with its publishing and harvest state."""
    states = {st.channel: st for st in s.scalars(select(ChannelState))}
    harvest = {h.channel: h for h in s.scalars(select(HarvestChannel))}
    posting = s.scalars(select(Post.channel).where(Post.platform != Platform.MANUAL).distinct())
    names = sorted({*states, *harvest, *posting})
    out = []
    for name in names:
        st, h = states.get(name), harvest.get(name)
        failing = h is not None and h.last_error is not None
        if st is not None and st.last_error_kind == "auth":
            state = "paused"
        elif st is not None and st.blocked_until and st.blocked_until > now:
            state = "rate limited"
        elif any(p.channel == name for p in problems):
            state = "token expiring"
        elif st is not None and st.last_error:  # the last `channels check` failed (not on credentials)
            state = "check failed"
        else:
            state = "harvest failing" if failing else "ok"
        problem = "; ".join(p.problem for p in problems if p.channel == name) or None
        if state == "check failed":
            problem = f"last check failed: {st.last_error}"
        out.append(ChannelHealth(name, state, problem,
                                 h.last_error if failing else None, _epoch_iso(h.last_error_since) if failing else None,
                                 _epoch_iso(h.last_pass_at) if h else None, _iso(st.checked_at) if st else None))
    return out


def status_report(db: Database, *, now: datetime | None = None, limit: int = 50) -> StatusReport:
    now = now or datetime.now(UTC)
    with db.session() as s:
        rows = s.execute(select(Post.status, func.count()).group_by(Post.status)).all()
        counts = {st.value: 0 for st in PostStatus}
        counts.update({status: n for status, n in rows})
        attention = [
            AttentionItem(p.id, p.channel, p.language, p.status, _iso(p.due_at) or "", p.last_error,
                          _iso(p.next_attempt_at))
            for p in s.scalars(select(Post).where(Post.status.in_([a.value for a in ATTENTION]))
                               .order_by(Post.due_at, Post.id).limit(limit))
        ]
        problems = []
        for st in s.scalars(select(ChannelState).order_by(ChannelState.channel)):
            if st.last_error_kind == "auth":
                problems.append(ChannelProblem(st.channel, f"paused: {st.last_error}; fix the credentials, "
                                               "then `outreach channels check` and `outreach retry`"))
            elif st.blocked_until and st.blocked_until > now:
                problems.append(ChannelProblem(st.channel, f"rate limited until {_iso(st.blocked_until)}"))
            if st.token_expires_at and (st.token_expires_at - now).days < 14:
                days = max(0, round((st.token_expires_at - now).total_seconds() / 86400))
                problems.append(ChannelProblem(st.channel, f"token expires in {days} days "
                                               f"({_iso(st.token_expires_at)})"))
        health = _health(s, problems, now)
        next_due = s.scalar(select(func.min(Post.due_at))
                            .where(Post.status.in_([PostStatus.APPROVED.value, PostStatus.RETRYING.value])))
    from outreach.publishing.alerts import open_alerts
    from outreach.publishing.health import workers

    return StatusReport(counts=counts, attention=attention, channels=problems, next_due_at=_iso(next_due),
                        pending_review=counts[PostStatus.PENDING_REVIEW.value],
                        workers=[{**asdict(w), "state": w.state} for w in workers(db, now=now)],
                        alerts=open_alerts(db), health=health)
