"""One harvest pass: metrics snapshots for published posts whose next harvest is due, and daily
audience snapshots for channels whose platform reports age.

Posts are grouped per channel and fetched in batches of the connector's `metrics_batch_size`.
A rate limit (a 429, or headers saying the budget is spent) stops that channel for this pass and
records when to resume; nothing is slept. Each batch is committed as it comes, so a crash loses at
most one batch. Missed slots are never replayed: an overdue post gets one catch-up snapshot and its
next slot is the first cadence slot after now.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, and_, or_, select

from outreach import rollup
from outreach.config import ConfigError, Settings
from outreach.connectors import Connector, ConnectorError, RateLimited
from outreach.db import Database
from outreach.db.models import ChannelState, HarvestChannel, Post, PostMetricsLatest
from outreach.domain import Platform, PostStatus
from outreach.harvest import storage
from outreach.harvest.definitions import definition_set
from outreach.harvest.settings import HarvestSettings, harvest_settings
from outreach.harvest.youth import AudienceIndex, estimate_row, measured_youth_reach

log = logging.getLogger("outreach.harvest")

ConnectorFactory = Callable[[str], Connector]


@dataclass
class ChannelPass:
    """What one pass did on one channel; `line()` is what `outreach harvest --once` prints."""

    channel: str
    status: str = "ok"  # ok | blocked | rate_limited | error
    posts: int = 0
    snapshots: int = 0
    missing: int = 0
    requests: int = 0  # metrics calls (batches) made
    left: int = 0  # due posts not harvested this pass
    resume_at: datetime | None = None
    detail: str = ""

    def line(self) -> str:
        text = f"harvest {self.channel}: {self.status}, {self.snapshots} snapshots in {self.requests} calls"
        if self.missing:
            text += f", {self.missing} posts no longer on the platform"
        if self.left:
            text += f", {self.left} left for later"
        if self.resume_at:
            text += f", resume after {self.resume_at:%Y-%m-%d %H:%M} UTC"
        return text + (f" ({self.detail})" if self.detail else "")


@dataclass
class HarvestReport:
    now: datetime
    channels: list[ChannelPass] = field(default_factory=list)

    @property
    def snapshots(self) -> int:
        return sum(c.snapshots for c in self.channels)

    @property
    def missing(self) -> int:
        return sum(c.missing for c in self.channels)

    def lines(self) -> list[str]:
        return [c.line() for c in self.channels] or ["harvest: nothing due"]


@dataclass
class AudienceReport:
    now: datetime
    captured: dict[str, int] = field(default_factory=dict)  # channel -> rows stored
    skipped: dict[str, str] = field(default_factory=dict)  # channel -> why

    def lines(self) -> list[str]:
        return ([f"audience {ch}: {n} breakdown cells stored" for ch, n in self.captured.items()]
                + [f"audience {ch}: {why}" for ch, why in self.skipped.items()]) or ["audience: nothing due"]


def _epoch(moment: datetime) -> int:
    return int(moment.timestamp())


def _moment(epoch: int | None) -> datetime | None:
    return None if epoch is None else datetime.fromtimestamp(epoch, UTC)


def due_posts(conn: Connection, hs: HarvestSettings, now: int, *, limit: int | None = None) -> list[Any]:
    """(post id, channel, remote id, published epoch) of every published post whose harvest is due."""
    roll = PostMetricsLatest.__table__.c
    first = datetime.fromtimestamp(now - hs.cadence_s[0], UTC)
    query = (select(Post.id, Post.channel, Post.remote_id, Post.published_at)
             .outerjoin(PostMetricsLatest, roll.post_id == Post.id)
             .where(Post.status == PostStatus.PUBLISHED.value, Post.remote_id.is_not(None),
                    Post.platform != Platform.MANUAL, Post.published_at.is_not(None),
                    or_(and_(roll.post_id.is_(None), Post.published_at <= first), roll.next_harvest_at <= now))
             .order_by(Post.channel, Post.published_at, Post.id))
    if limit is not None:
        query = query.limit(limit)
    return list(conn.execute(query).all())


def _blocks(conn: Connection) -> dict[str, int]:
    """channel -> epoch before which no call may be made (harvest's own or the dispatcher's)."""
    blocks: dict[str, int] = {}
    for channel, resume in conn.execute(select(HarvestChannel.channel, HarvestChannel.resume_at)):
        if resume:
            blocks[channel] = resume
    for channel, until in conn.execute(select(ChannelState.channel, ChannelState.blocked_until)):
        if until is not None:
            blocks[channel] = max(blocks.get(channel, 0), _epoch(until))
    return blocks


def _note_channel(db: Database, channel: str, *, now_s: int | None = None, **values: Any) -> None:
    """Update the channel's harvest row; an error keeps the time of the first failure in a row
    (`last_error_since`, given `now_s`), a cleared error clears it."""
    with db.session() as s, s.begin():
        row = s.get(HarvestChannel, channel) or HarvestChannel(channel=channel)
        if values.get("last_error") and not row.last_error:
            row.last_error_since = now_s
        elif "last_error" in values and values["last_error"] is None:
            row.last_error_since = None
        for key, value in values.items():
            setattr(row, key, value)
        s.add(row)


def normalise(raw: dict[str, int], names: dict[str, str],
              scale: dict[str, float] | None = None) -> dict[str, int | None]:
    """Platform names -> the shared vocabulary (first reported value wins when two map to one), in the
    shared units (`scale`: the connector's `metric_scale`, e.g. milliseconds -> seconds)."""
    values: dict[str, int | None] = {}
    for raw_name, value in raw.items():
        name = names.get(raw_name)
        if name and values.get(name) is None and isinstance(value, int | float):
            values[name] = round(value * scale[raw_name]) if scale and raw_name in scale else int(value)
    return values


def harvest_due(db: Database, settings: Settings, connectors: ConnectorFactory, *, now: datetime,
                limit: int | None = None, hs: HarvestSettings | None = None) -> HarvestReport:
    """One pass over everything due at `now`; safe to run from several workers in turn."""
    hs = hs or harvest_settings(settings)
    now_s = _epoch(now)
    with db.engine.connect() as conn:
        due = due_posts(conn, hs, now_s, limit=limit)
        blocks = _blocks(conn)
        by_channel: dict[str, list[Any]] = defaultdict(list)
        for row in due:
            by_channel[row.channel].append(row)
        index = AudienceIndex.load(conn, by_channel, young=hs.young, metrics=hs.audience_metrics)
    report = HarvestReport(now)
    for channel, posts in by_channel.items():
        result = _harvest_channel(db, channel, posts, connectors, hs=hs, now_s=now_s,
                                  blocked=blocks.get(channel), index=index)
        report.channels.append(result)
        log.info(result.line())
    rollup.refresh(db)  # the months this pass (and publishing since the last) changed, summed again
    return report


def _harvest_channel(db: Database, channel: str, posts: list[Any], connectors: ConnectorFactory, *,
                     hs: HarvestSettings, now_s: int, blocked: int | None, index: AudienceIndex) -> ChannelPass:
    result = ChannelPass(channel, left=len(posts))
    if blocked is not None and blocked > now_s:
        result.status, result.resume_at = "blocked", _moment(blocked)
        return result
    try:
        connector = connectors(channel)
    except (ConfigError, KeyError) as exc:
        result.status, result.detail = "error", str(exc)
        return result
    size = max(1, int(connector.metrics_batch_size))
    for start in range(0, len(posts), size):
        batch = posts[start:start + size]
        until = connector.blocked_until
        if until is not None and _epoch(until) > now_s:
            result.status, result.resume_at = "rate_limited", until
            break
        try:
            result.requests += 1
            fetched = connector.fetch_metrics([str(p.remote_id) for p in batch])
        except RateLimited as exc:
            resume = exc.resume_at(datetime.fromtimestamp(now_s, UTC))
            result.status, result.resume_at, result.detail = "rate_limited", resume, exc.message
            break
        except ConnectorError as exc:
            result.status, result.detail = "error", exc.message
            _note_channel(db, channel, now_s=now_s, last_error=exc.message, last_error_kind=exc.kind.value)
            break
        _store_batch(db, batch, fetched, connector.metric_names, hs=hs, now_s=now_s, index=index,
                     scale=connector.metric_scale,
                     result=result, provenance=(str(connector.platform), api_version(connector)))
    if result.status in ("ok", "rate_limited"):
        resume = _epoch(result.resume_at) if result.resume_at else None
        extra = {"last_error": None, "last_error_kind": None} if result.status == "ok" else {}
        _note_channel(db, channel, resume_at=resume, last_pass_at=now_s, **extra)
    return result


def api_version(connector: Any) -> str | None:
    """The API version a connector reads metrics with: Graph's configured version (`api`), LinkedIn's
    `version`, else the connector's fixed `metrics_api_version`."""
    for name in ("api", "version"):
        value = getattr(type(connector), name, None)
        if isinstance(value, property):
            try:
                return str(getattr(connector, name))
            except Exception:  # an invalid option is reported where it is used, not here
                return None
    return connector.metrics_api_version


def _store_batch(db: Database, batch: list[Any], fetched: dict[str, dict[str, int]], names: dict[str, str], *,
                 hs: HarvestSettings, now_s: int, index: AudienceIndex, result: ChannelPass,
                 provenance: tuple[str, str | None] = ("", None), scale: dict[str, float] | None = None) -> None:
    snapshots, rollups, estimates = [], [], []
    platform, version = provenance
    at = datetime.fromtimestamp(now_s, UTC)
    for post in batch:
        raw = fetched.get(str(post.remote_id))
        published = _epoch(post.published_at)
        values = normalise(raw, names, scale) if raw is not None else {}
        if values.get("youth_reach") is None:
            values["youth_reach"] = measured_youth_reach(raw, hs.young)  # measured; estimates stay apart
        snapshots.append(storage.snapshot_row(
            post.id, now_s, values, raw if raw is not None else {"missing": True}, api_version=version,
            definition=definition_set(platform, at) if raw else None))
        rollups.append({"post_id": post.id, "captured_at": now_s, **values,
                        "next_harvest_at": hs.next_slot(published, now_s),
                        "gone_at": None if raw is not None else now_s})
        share = index.nearest(post.channel, published)
        if share is not None and values.get("reach") is not None:
            estimates.append(estimate_row(post.id, values["reach"], share, hs.young))
        result.missing += raw is None
    with db.engine.begin() as conn:
        storage.append_snapshots(conn, snapshots)
        storage.upsert_rollup(conn, rollups)
        storage.upsert_youth_estimates(conn, estimates)
    result.snapshots += len(snapshots)
    result.posts += len(batch)
    result.left -= len(batch)


def next_harvest_at(db: Database, *, hs: HarvestSettings | None = None) -> datetime | None:
    """When the next harvest falls due (for waking the scheduler); None when nothing is planned."""
    from sqlalchemy import func

    hs = hs or HarvestSettings()
    with db.engine.connect() as conn:
        planned = conn.execute(select(func.min(PostMetricsLatest.next_harvest_at))).scalar()
        first = conn.execute(select(func.min(Post.published_at)).outerjoin(
            PostMetricsLatest, PostMetricsLatest.post_id == Post.id).where(
            Post.status == PostStatus.PUBLISHED.value, Post.remote_id.is_not(None),
            Post.platform != Platform.MANUAL, PostMetricsLatest.post_id.is_(None))).scalar()
    candidates = [planned] if planned is not None else []
    if first is not None:
        candidates.append(_epoch(first) + hs.cadence_s[0])
    return _moment(min(candidates)) if candidates else None


def audience_due(db: Database, settings: Settings, connectors: ConnectorFactory, *, now: datetime,
                 hs: HarvestSettings | None = None) -> AudienceReport:
    """Daily (configurable) account-level audience snapshots for channels that report age."""
    hs = hs or harvest_settings(settings)
    now_s = _epoch(now)
    report = AudienceReport(now)
    with db.engine.connect() as conn:
        last = dict(conn.execute(select(HarvestChannel.channel, HarvestChannel.last_audience_at)).all())
        blocks = _blocks(conn)
    for name, config in settings.channels.items():
        if config.platform == Platform.MANUAL:
            continue
        try:
            connector = connectors(name)
        except (ConfigError, KeyError):
            continue  # no connector for this platform (yet)
        if not connector.has_audience:
            continue
        if last.get(name) is not None and now_s - last[name] < hs.audience_every_s:
            continue
        if blocks.get(name, 0) > now_s:
            report.skipped[name] = f"rate limited until {_moment(blocks[name]):%Y-%m-%d %H:%M} UTC"
            continue
        try:
            rows = connector.fetch_audience()
        except RateLimited as exc:
            resume = exc.resume_at(datetime.fromtimestamp(now_s, UTC))
            _note_channel(db, name, resume_at=_epoch(resume))
            report.skipped[name] = f"rate limited: {exc.message}"
            continue
        except ConnectorError as exc:
            _note_channel(db, name, now_s=now_s, last_error=exc.message, last_error_kind=exc.kind.value)
            report.skipped[name] = f"{exc.kind.value}: {exc.message}"
            continue
        with db.engine.begin() as conn:
            report.captured[name] = storage.append_audience(conn, name, now_s, rows)
        _note_channel(db, name, last_audience_at=now_s)
    return report
