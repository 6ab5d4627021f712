"""The dispatcher: claim due posts under a lease, publish through connectors, record every outcome.

Exactly once: the claim (status `publishing`, a lease, an attempt row) is committed before any
network call; connectors persist intermediate handles through `save_handle` as they go; after an
ambiguous failure or a crash the post is marked `needs_reconcile`, and the next attempt asks the
platform whether the post already exists before it sends anything again. Every write after the
network call is fenced by the lease token, so a worker that lost its lease cannot overwrite the
result of the worker that took over.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import requests
from sqlalchemy import Connection, and_, bindparam, func, insert, or_, select, update

from outreach import lifecycle
from outreach.archive.captures import WarcRecorder, capture_dir, capture_permalink
from outreach.config import ConfigError, MissingSecret, Settings
from outreach.connectors import Connector, ConnectorError, RateLimited, TransientError, connector_class
from outreach.connectors.errors import AuthError
from outreach.db import Database
from outreach.db.models import ChannelState, PublishAttempt
from outreach.db.models import Post as PostRow
from outreach.domain import ErrorKind, MediaItem, Platform, PostStatus, PublishRequest, PublishResult
from outreach.publishing.media import MediaPreparer
from outreach.publishing.retry import RetryPolicy

log = logging.getLogger("outreach.publishing")

Clock = Callable[[], datetime]
ConnectorFactory = Callable[[str], Connector]
MediaResolver = Callable[[PostRow, Platform], tuple[MediaItem, ...]]

DUE_STATUSES = (PostStatus.APPROVED.value, PostStatus.RETRYING.value)

# Statements on the hot path, built once: the SET clause comes from the parameters given.
_TAKE = update(PostRow).where(PostRow.id == bindparam("b_post"), PostRow.status == bindparam("b_status"))
_FENCED = update(PostRow).where(PostRow.id == bindparam("b_post"), PostRow.lease_token == bindparam("b_token"),
                                PostRow.status == PostStatus.PUBLISHING.value)
_ATTEMPT = update(PublishAttempt).where(PublishAttempt.id == bindparam("b_attempt"))
_NEW_ATTEMPT = insert(PublishAttempt).returning(PublishAttempt.id)


def utcnow() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True, slots=True)
class Outcome:
    """What happened to one post in one dispatch step; `line()` is what the worker prints."""

    post_id: int
    channel: str
    language: str
    status: str  # published | retrying | failed | manual_due | lost_lease
    detail: str = ""

    def line(self) -> str:
        parts = [f"post {self.post_id}", self.channel, self.language, self.status]
        if self.detail:
            parts.append(self.detail)
        return " · ".join(parts)


@dataclass(frozen=True, slots=True)
class Claim:
    """A claimed post: what the claim transaction read, so publishing needs no second read."""

    post_id: int
    lease_token: str
    attempt_id: int
    attempt_number: int
    channel: str
    language: str
    platform: Platform
    needs_reconcile: bool
    text: str = ""
    idempotency_key: str = ""
    link: str | None = None
    handle: dict[str, Any] | None = None
    has_media: bool = False
    first_attempt_at: datetime | None = None
    rate_limited_count: int = 0


class Dispatcher:
    def __init__(self, db: Database, settings: Settings, *, worker_id: str | None = None,
                 clock: Clock = utcnow, connectors: ConnectorFactory | None = None,
                 media: MediaResolver | None = None, retry: RetryPolicy | None = None,
                 lease_s: float | None = None) -> None:
        self.db = db
        self.settings = settings
        self.worker_id = worker_id or f"worker-{uuid.uuid4().hex[:8]}"
        self.clock = clock
        if connectors is None:
            connectors = ConnectorCache(settings, clock=clock, recorder=recorder_for(settings))
        self.connectors = connectors
        recorder = getattr(connectors, "recorder", None)
        archive = settings.raw.get("archive", {})
        wants_permalinks = not isinstance(archive, dict) or archive.get("capture_permalinks", True) is not False
        self.recorder = recorder if wants_permalinks else None
        self._captures: ThreadPoolExecutor | None = None
        self._pending_captures: list[str] = []
        self.media = media or MediaPreparer(settings)
        r = settings.worker.retry
        self.retry = retry or RetryPolicy(r.max_attempts, r.backoff_base_s, r.backoff_factor, r.backoff_max_s)
        self.lease = timedelta(seconds=lease_s if lease_s is not None else settings.worker.lease_s)
        self._claim = self._claim_query()

    # -- the loop -------------------------------------------------------------------------------

    def run_due(self, *, limit: int | None = None,
                on_outcome: Callable[[Outcome], None] | None = None) -> list[Outcome]:
        """Publish everything due now, one post at a time, until nothing is due (or `limit`)."""
        outcomes: list[Outcome] = []
        try:
            while limit is None or len(outcomes) < limit:
                outcome = self.step()
                if outcome is None:
                    break
                outcomes.append(outcome)
                if on_outcome:
                    on_outcome(outcome)
        finally:
            self._start_captures()  # evidence after the burst, so it never delays a due post
        return outcomes

    def step(self) -> Outcome | None:
        """Claim and process one due post; None when nothing is due."""
        claim = self.claim_next()
        if claim is None:
            return None
        if claim.platform is Platform.MANUAL:
            return self._manual(claim)
        return self.process(claim)

    # -- claiming -------------------------------------------------------------------------------

    def _claim_query(self) -> Any:
        """The claim statement, built once: due or abandoned posts of channels not blocked, oldest first."""
        now = bindparam("now")
        blocked = select(ChannelState.channel).where(
            or_(ChannelState.blocked_until > now, ChannelState.last_error_kind == ErrorKind.AUTH.value))
        waiting = and_(PostRow.status.in_(DUE_STATUSES), PostRow.due_at <= now,
                       or_(PostRow.next_attempt_at.is_(None), PostRow.next_attempt_at <= now))
        abandoned = and_(PostRow.status == PostStatus.PUBLISHING.value, PostRow.lease_until < now)
        query = (select(PostRow.id, PostRow.status, PostRow.platform, PostRow.channel, PostRow.language,
                        PostRow.text, PostRow.idempotency_key, PostRow.link, PostRow.handle, PostRow.media,
                        PostRow.attempts, PostRow.rate_limited_count, PostRow.needs_reconcile)
                 .where(or_(waiting, abandoned), PostRow.channel.not_in(blocked))
                 .order_by(func.coalesce(PostRow.next_attempt_at, PostRow.due_at), PostRow.id).limit(1))
        return query if self.db.is_sqlite else query.with_for_update(skip_locked=True)

    def claim_next(self) -> Claim | None:
        """Take the next due post: status `publishing`, a lease, an attempt row — committed before
        any network call (on SQLite under BEGIN IMMEDIATE, on PostgreSQL with SKIP LOCKED)."""
        now = self.clock()
        with self.db.write_connection() as conn:
            post = conn.execute(self._claim, {"now": now}).first()
            if post is None:
                return None
            platform = Platform(post.platform)
            this = {"b_post": post.id, "b_status": post.status}
            if platform is Platform.MANUAL:
                conn.execute(_TAKE, {**this, "status": lifecycle.checked(post.status, PostStatus.MANUAL_DUE),
                                     "updated_at": now})
                return Claim(post.id, "", 0, 0, post.channel, post.language, platform, False)
            crashed = post.status == PostStatus.PUBLISHING.value
            if crashed:
                self._close_abandoned_attempts(conn, post.id, now)
            first_attempt_at = now if post.attempts == 0 else conn.scalar(
                select(func.min(PublishAttempt.started_at)).where(PublishAttempt.post_id == post.id))
            token, number, reconcile = uuid.uuid4().hex, post.attempts + 1, post.needs_reconcile or crashed
            conn.execute(_TAKE, {**this, "status": lifecycle.checked(post.status, PostStatus.PUBLISHING),
                                 "lease_owner": self.worker_id, "lease_token": token,
                                 "lease_until": now + self.lease, "attempts": number,
                                 "needs_reconcile": reconcile, "updated_at": now})
            attempt_id = conn.execute(_NEW_ATTEMPT, {"post_id": post.id, "number": number, "worker": self.worker_id,
                                                     "started_at": now, "outcome": "started"}).scalar_one()
            return Claim(post.id, token, attempt_id, number, post.channel, post.language, platform, reconcile,
                         text=post.text, idempotency_key=post.idempotency_key, link=post.link,
                         handle=dict(post.handle or {}), has_media=bool(post.media),
                         first_attempt_at=first_attempt_at or now, rate_limited_count=post.rate_limited_count)

    def _close_abandoned_attempts(self, conn: Connection, post_id: int, now: datetime) -> None:
        conn.execute(update(PublishAttempt)
                     .where(PublishAttempt.post_id == post_id, PublishAttempt.outcome == "started")
                     .values(outcome="abandoned", finished_at=now,
                             message="worker stopped or lost its lease mid-publish; will reconcile"))

    def next_due_at(self) -> datetime | None:
        """When the next post can be claimed (for waking the worker), or None: per channel, the
        earliest due time, but not before that channel's rate-limit block ends; paused channels wait
        for a person. Abandoned leases count when they run out."""
        now = self.clock()
        with self.db.session() as s:
            due = func.coalesce(PostRow.next_attempt_at, PostRow.due_at)
            per_channel = s.execute(select(PostRow.channel, func.min(due))
                                    .where(PostRow.status.in_(DUE_STATUSES)).group_by(PostRow.channel)).all()
            states = {st.channel: st for st in s.scalars(select(ChannelState))}
            lease = s.scalar(select(func.min(PostRow.lease_until))
                             .where(PostRow.status == PostStatus.PUBLISHING.value))
        times = [lease] if lease is not None else []
        for channel, earliest in per_channel:
            state = states.get(channel)
            if state is not None and state.last_error_kind == ErrorKind.AUTH.value:
                continue
            if state is not None and state.blocked_until is not None and state.blocked_until > now:
                earliest = max(earliest, state.blocked_until)
            times.append(earliest)
        return min(times) if times else None

    # -- processing -----------------------------------------------------------------------------

    def process(self, claim: Claim) -> Outcome:
        language, channel = claim.language, claim.channel
        media: tuple[MediaItem, ...] = ()
        if claim.has_media:
            try:
                with self.db.session() as s:
                    post = s.get(PostRow, claim.post_id)
                    assert post is not None
                    media = self.media(post, claim.platform)
            except Exception as exc:  # a broken image is this post's problem, not the worker's
                return self._finish_error(claim, language, ConnectorError(channel, f"media: {exc}"),
                                          permanent=True)
        req = PublishRequest(post_id=claim.post_id, text=claim.text, language=language,
                             idempotency_key=claim.idempotency_key, media=media, link=claim.link,
                             handle=dict(claim.handle or {}), attempt_started_at=claim.first_attempt_at)
        try:
            connector = self.connectors(channel)
            result = None
            if claim.needs_reconcile:
                result = connector.reconcile(req)
                if result is not None:
                    return self._finish_published(claim, language, result, reconciled=True)
            result = connector.publish(req, save_handle=lambda h: self._save_handle(claim, h))
        except RateLimited as exc:
            return self._finish_rate_limited(claim, language, exc)
        except AuthError as exc:
            return self._finish_error(claim, language, exc, permanent=True, hold_channel=True)
        except MissingSecret as exc:
            err = AuthError(channel, exc.detail)
            return self._finish_error(claim, language, err, permanent=True, hold_channel=True)
        except (ConfigError, KeyError) as exc:  # unknown channel or platform: fix the config
            err = ConnectorError(channel, f"configuration: {exc}")
            return self._finish_error(claim, language, err, permanent=True)
        except TransientError as exc:
            return self._finish_error(claim, language, exc, permanent=False, ambiguous=exc.ambiguous)
        except ConnectorError as exc:
            return self._finish_error(claim, language, exc, permanent=True)
        except Exception as exc:  # a bug: keep the post, reconcile before the next try
            log.exception("post %s to %s: unexpected error", claim.post_id, channel)
            err = TransientError(channel, f"unexpected error: {type(exc).__name__}: {exc}", ambiguous=True)
            return self._finish_error(claim, language, err, permanent=False, ambiguous=True)
        finally:
            self._record_rate_limit_block(channel)
        return self._finish_published(claim, language, result, reconciled=False)

    def _save_handle(self, claim: Claim, handle: dict[str, Any]) -> None:
        """Persist an intermediate handle now (before the connector's next call); extend the lease."""
        mine = (PostRow.id == claim.post_id) & (PostRow.lease_token == claim.lease_token)
        with self.db.write_connection() as conn:
            row = conn.execute(select(PostRow.handle).where(mine)).first()
            if row is None:
                raise TransientError(claim.channel, "lease lost to another worker; stopping this attempt")
            conn.execute(update(PostRow).where(mine).values(handle={**(row[0] or {}), **handle},
                                                            lease_until=self.clock() + self.lease))

    def _record(self, conn: Connection, claim: Claim, target: PostStatus, **values: Any) -> bool:
        """Write the attempt's result — fenced: only while this worker still holds the lease — and
        release the lease. False when another worker has taken the post over."""
        done = conn.execute(_FENCED, {"b_post": claim.post_id, "b_token": claim.lease_token,
                                      "status": lifecycle.checked(PostStatus.PUBLISHING, target), "lease_owner": None,
                                      "lease_token": None, "lease_until": None, "updated_at": self.clock(), **values})
        return done.rowcount == 1

    def _lost_lease(self, conn: Connection, claim: Claim, language: str, what: str) -> Outcome:
        self._finish_attempt(conn, claim, "lost_lease", message=f"lease lost before recording: {what}")
        log.warning("post %s to %s: lease lost; another worker owns it now", claim.post_id, claim.channel)
        return Outcome(claim.post_id, claim.channel, language, "lost_lease", what)

    def _finish_attempt(self, conn: Connection, claim: Claim, outcome: str, *, error: ConnectorError | None = None,
                        message: str | None = None, remote_id: str | None = None) -> None:
        values: dict[str, Any] = {"outcome": outcome, "finished_at": self.clock(), "remote_id": remote_id}
        if error is not None:
            values |= {"error_kind": error.kind.value, "message": error.message, "http_status": error.http_status}
        elif message:
            values["message"] = message
        conn.execute(_ATTEMPT, {"b_attempt": claim.attempt_id, **values})

    def _finish_published(self, claim: Claim, language: str, result: PublishResult, *,
                          reconciled: bool) -> Outcome:
        with self.db.write_connection() as conn:
            if not self._record(conn, claim, PostStatus.PUBLISHED, remote_id=result.remote_id, remote_url=result.url,
                                published_at=result.published_at or self.clock(), needs_reconcile=False,
                                next_attempt_at=None, last_error=None, error_kind=None):
                return self._lost_lease(conn, claim, language, f"published as {result.remote_id}")
            self._finish_attempt(conn, claim, "reconciled" if reconciled else "published",
                                 remote_id=result.remote_id,
                                 message="found on the platform after an interrupted attempt" if reconciled else None)
        self._capture_permalink(result.url)
        detail = result.url or result.remote_id
        return Outcome(claim.post_id, claim.channel, language, "published",
                       f"{detail} (reconciled)" if reconciled else detail)

    def _capture_permalink(self, url: str | None) -> None:
        """Keep the public page of a just-published post as evidence (fetched once the due posts are out)."""
        if self.recorder is not None and url:
            self._pending_captures.append(url)

    def _start_captures(self) -> None:
        if not self._pending_captures:
            return
        if self._captures is None:
            self._captures = ThreadPoolExecutor(1, thread_name_prefix="permalink-capture")
            self._capture_http = requests.Session()  # one connection pool for every capture
        for url in self._pending_captures:
            self._captures.submit(capture_permalink, url, recorder=self.recorder, http=self._capture_http,
                                  timeout_s=min(10.0, self.settings.worker.http_timeout_s))
        self._pending_captures.clear()

    def close(self, *, wait: bool = False) -> None:
        """Finish background evidence work: with `wait`, pending permalink captures run first (a
        one-off run); without, they are dropped (a worker asked to stop). Queued WARC records are
        always written."""
        if wait:
            self._start_captures()
        if self._captures is not None:
            self._captures.shutdown(wait=wait, cancel_futures=not wait)
            self._captures = None
        if self.recorder is not None:
            self.recorder.flush()

    def _finish_rate_limited(self, claim: Claim, language: str, exc: RateLimited) -> Outcome:
        now = self.clock()
        resume = exc.reset_at if exc.reset_at and exc.reset_at > now else now + timedelta(seconds=exc.retry_after_s)
        with self.db.write_connection() as conn:
            if not self._record(conn, claim, PostStatus.RETRYING, rate_limited_count=claim.rate_limited_count + 1,
                                next_attempt_at=resume, last_error=exc.message, error_kind=exc.kind.value):
                return self._lost_lease(conn, claim, language, "rate limited")
            self._finish_attempt(conn, claim, "retry", error=exc)
            self._block_channel(conn, claim.channel, resume)
        return Outcome(claim.post_id, claim.channel, language, "retrying",
                       f"rate limited; next try {resume.isoformat(timespec='seconds')}")

    def _finish_error(self, claim: Claim, language: str, exc: ConnectorError, *, permanent: bool,
                      ambiguous: bool = False, hold_channel: bool = False) -> Outcome:
        now = self.clock()
        tries = claim.attempt_number - claim.rate_limited_count
        common = {"needs_reconcile": claim.needs_reconcile or ambiguous, "last_error": exc.message,
                  "error_kind": exc.kind.value}
        with self.db.write_connection() as conn:
            if permanent or self.retry.exhausted(tries):
                if not self._record(conn, claim, PostStatus.FAILED, next_attempt_at=None, **common):
                    return self._lost_lease(conn, claim, language, exc.message)
                self._finish_attempt(conn, claim, "failed", error=exc)
                status = "failed"
                detail = exc.message if permanent else f"gave up after {tries} attempts: {exc.message}"
            else:
                next_at = now + timedelta(seconds=self.retry.delay_s(tries))
                if not self._record(conn, claim, PostStatus.RETRYING, next_attempt_at=next_at, **common):
                    return self._lost_lease(conn, claim, language, exc.message)
                self._finish_attempt(conn, claim, "retry", error=exc)
                status = "retrying"
                detail = f"{exc.message}; next try {next_at.isoformat(timespec='seconds')}"
            if hold_channel:
                self._set_channel_state(conn, claim.channel, last_error=exc.message, last_error_kind=exc.kind.value,
                                        last_error_at=now)
        return Outcome(claim.post_id, claim.channel, language, status, detail)

    def _set_channel_state(self, conn: Connection, channel: str, **values: Any) -> None:
        if not conn.execute(update(ChannelState).where(ChannelState.channel == channel).values(**values)).rowcount:
            conn.execute(insert(ChannelState).values(channel=channel, **values))

    def _block_channel(self, conn: Connection, channel: str, until: datetime) -> None:
        """No request to this channel before `until` (keeps a later block already recorded)."""
        exists = conn.execute(select(ChannelState.blocked_until).where(ChannelState.channel == channel)).first()
        if exists is None:
            conn.execute(insert(ChannelState).values(channel=channel, blocked_until=until))
        elif exists[0] is None or exists[0] < until:
            conn.execute(update(ChannelState).where(ChannelState.channel == channel).values(blocked_until=until))

    def _record_rate_limit_block(self, channel: str) -> None:
        """Carry a connector's header-derived block (remaining = 0) into the shared channel state."""
        try:
            connector = self.connectors(channel)
        except Exception:
            return
        blocked = getattr(connector, "blocked_until", None)
        if blocked is None or blocked <= self.clock():
            return
        with self.db.write_connection() as conn:
            self._block_channel(conn, channel, blocked)

    def _manual(self, claim: Claim) -> Outcome:
        return Outcome(claim.post_id, claim.channel, claim.language, "manual_due",
                       "to post by hand; confirm with `outreach confirm`")


class ConnectorCache:
    """Builds one connector per channel and keeps it (sessions, limits and rate-limit state persist).
    With a `recorder`, every exchange with a platform is kept as WARC evidence (secrets removed)."""

    def __init__(self, settings: Settings, *, clock: Clock = utcnow, credentials: Any = None,
                 recorder: WarcRecorder | None = None) -> None:
        from outreach.credentials import FileCredentialStore

        self.settings = settings
        self.clock = clock
        self.credentials = credentials or FileCredentialStore(f"{settings.state_dir}/credentials")
        self.recorder = recorder
        self._cache: dict[str, Connector] = {}

    def __call__(self, channel: str) -> Connector:
        if channel not in self._cache:
            config = self.settings.channel(channel)
            cls = connector_class(config.platform)
            connector = cls(config, timeout_s=self.settings.worker.http_timeout_s, clock=self.clock,
                            credentials=self.credentials, on_exchange=self.recorder)
            if self.recorder is not None:
                self.recorder.add_secrets(connector.secret_strings())
            self._cache[channel] = connector
        return self._cache[channel]


def recorder_for(settings: Settings) -> WarcRecorder | None:
    """The WARC recorder real runs use (`[archive] capture = false` turns captures off)."""
    archive = settings.raw.get("archive", {})
    if isinstance(archive, dict) and archive.get("capture", True) is False:
        return None
    return WarcRecorder(capture_dir(settings), secrets=settings.secret_values(), background=True)

