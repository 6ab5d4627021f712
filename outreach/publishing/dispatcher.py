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

from sqlalchemy import and_, func, or_, select, update
from sqlalchemy.orm import Session

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
    post_id: int
    lease_token: str
    attempt_id: int
    attempt_number: int
    channel: str
    language: str
    platform: Platform
    needs_reconcile: bool


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
        self.media = media or MediaPreparer(settings)
        r = settings.worker.retry
        self.retry = retry or RetryPolicy(r.max_attempts, r.backoff_base_s, r.backoff_factor, r.backoff_max_s)
        self.lease = timedelta(seconds=lease_s if lease_s is not None else settings.worker.lease_s)

    # -- the loop -------------------------------------------------------------------------------

    def run_due(self, *, limit: int | None = None,
                on_outcome: Callable[[Outcome], None] | None = None) -> list[Outcome]:
        """Publish everything due now, one post at a time, until nothing is due (or `limit`)."""
        outcomes: list[Outcome] = []
        while limit is None or len(outcomes) < limit:
            outcome = self.step()
            if outcome is None:
                break
            outcomes.append(outcome)
            if on_outcome:
                on_outcome(outcome)
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

    def _due_filter(self, now: datetime) -> Any:
        blocked = select(ChannelState.channel).where(
            or_(ChannelState.blocked_until > now, ChannelState.last_error_kind == ErrorKind.AUTH.value))
        waiting = and_(PostRow.status.in_(DUE_STATUSES), PostRow.due_at <= now,
                       or_(PostRow.next_attempt_at.is_(None), PostRow.next_attempt_at <= now))
        abandoned = and_(PostRow.status == PostStatus.PUBLISHING.value, PostRow.lease_until < now)
        return and_(or_(waiting, abandoned), PostRow.channel.not_in(blocked))

    def claim_next(self) -> Claim | None:
        now = self.clock()
        with self.db.write() as s:
            query = (select(PostRow).where(self._due_filter(now))
                     .order_by(func.coalesce(PostRow.next_attempt_at, PostRow.due_at), PostRow.id).limit(1))
            if not self.db.is_sqlite:
                query = query.with_for_update(skip_locked=True)
            post = s.scalars(query).first()
            if post is None:
                return None
            platform = Platform(post.platform)
            if platform is Platform.MANUAL:
                lifecycle.transition(post, PostStatus.MANUAL_DUE)
                return Claim(post.id, "", 0, 0, post.channel, post.language, platform, False)
            crashed = post.status == PostStatus.PUBLISHING.value
            if crashed:
                self._close_abandoned_attempts(s, post.id, now)
            lifecycle.transition(post, PostStatus.PUBLISHING)
            post.lease_owner = self.worker_id
            post.lease_token = uuid.uuid4().hex
            post.lease_until = now + self.lease
            post.attempts += 1
            post.needs_reconcile = post.needs_reconcile or crashed
            attempt = PublishAttempt(post_id=post.id, number=post.attempts, worker=self.worker_id,
                                     started_at=now, outcome="started")
            s.add(attempt)
            s.flush()
            return Claim(post.id, post.lease_token, attempt.id, post.attempts, post.channel, post.language,
                         platform, post.needs_reconcile)

    def _close_abandoned_attempts(self, s: Session, post_id: int, now: datetime) -> None:
        s.execute(update(PublishAttempt)
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
        with self.db.session() as s:
            post = s.get(PostRow, claim.post_id)
            assert post is not None
            first_start = s.scalar(select(func.min(PublishAttempt.started_at))
                                   .where(PublishAttempt.post_id == post.id))
            language, channel = post.language, post.channel
            try:
                media = self.media(post, claim.platform)
            except Exception as exc:  # a broken image is this post's problem, not the worker's
                return self._finish_error(claim, language, ConnectorError(channel, f"media: {exc}"),
                                          permanent=True)
            req = PublishRequest(post_id=post.id, text=post.text, language=post.language,
                                 idempotency_key=post.idempotency_key, media=media, link=post.link,
                                 handle=dict(post.handle or {}), attempt_started_at=first_start)
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
            err = AuthError(channel, str(exc).removeprefix(f"channel {channel}: "))
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
        with self.db.write() as s:
            post = s.get(PostRow, claim.post_id)
            if post is None or post.lease_token != claim.lease_token:
                raise TransientError(claim.channel, "lease lost to another worker; stopping this attempt")
            post.handle = {**(post.handle or {}), **handle}
            post.lease_until = self.clock() + self.lease

    def _fenced(self, s: Session, claim: Claim) -> PostRow | None:
        post = s.get(PostRow, claim.post_id)
        if post is None or post.lease_token != claim.lease_token or post.status != PostStatus.PUBLISHING:
            return None
        return post

    def _lost_lease(self, s: Session, claim: Claim, language: str, what: str) -> Outcome:
        self._finish_attempt(s, claim, "lost_lease", message=f"lease lost before recording: {what}")
        log.warning("post %s to %s: lease lost; another worker owns it now", claim.post_id, claim.channel)
        return Outcome(claim.post_id, claim.channel, language, "lost_lease", what)

    def _finish_attempt(self, s: Session, claim: Claim, outcome: str, *, error: ConnectorError | None = None,
                        message: str | None = None, remote_id: str | None = None) -> None:
        attempt = s.get(PublishAttempt, claim.attempt_id)
        if attempt is None:
            return
        attempt.outcome = outcome
        attempt.finished_at = self.clock()
        attempt.remote_id = remote_id
        if error is not None:
            attempt.error_kind = error.kind.value
            attempt.message = error.message
            attempt.http_status = error.http_status
        elif message:
            attempt.message = message

    def _finish_published(self, claim: Claim, language: str, result: PublishResult, *,
                          reconciled: bool) -> Outcome:
        with self.db.write() as s:
            post = self._fenced(s, claim)
            if post is None:
                return self._lost_lease(s, claim, language, f"published as {result.remote_id}")
            lifecycle.transition(post, PostStatus.PUBLISHED)
            post.remote_id = result.remote_id
            post.remote_url = result.url
            post.published_at = result.published_at or self.clock()
            post.needs_reconcile = False
            post.lease_owner = post.lease_token = post.lease_until = None
            post.next_attempt_at = None
            post.last_error = post.error_kind = None
            self._finish_attempt(s, claim, "reconciled" if reconciled else "published",
                                 remote_id=result.remote_id,
                                 message="found on the platform after an interrupted attempt" if reconciled else None)
        self._capture_permalink(result.url)
        detail = result.url or result.remote_id
        return Outcome(claim.post_id, claim.channel, language, "published",
                       f"{detail} (reconciled)" if reconciled else detail)

    def _capture_permalink(self, url: str | None) -> None:
        """Keep the public page of a just-published post as evidence, in the background."""
        if self.recorder is None or not url:
            return
        if self._captures is None:
            self._captures = ThreadPoolExecutor(1, thread_name_prefix="permalink-capture")
        self._captures.submit(capture_permalink, url, recorder=self.recorder,
                              timeout_s=min(10.0, self.settings.worker.http_timeout_s))

    def close(self) -> None:
        """Stop background captures (pending ones are dropped; the publish itself is recorded)."""
        if self._captures is not None:
            self._captures.shutdown(wait=False, cancel_futures=True)

    def _finish_rate_limited(self, claim: Claim, language: str, exc: RateLimited) -> Outcome:
        now = self.clock()
        resume = exc.reset_at if exc.reset_at and exc.reset_at > now else now + timedelta(seconds=exc.retry_after_s)
        with self.db.write() as s:
            post = self._fenced(s, claim)
            if post is None:
                return self._lost_lease(s, claim, language, "rate limited")
            lifecycle.transition(post, PostStatus.RETRYING)
            post.rate_limited_count += 1
            post.next_attempt_at = resume
            post.last_error, post.error_kind = exc.message, exc.kind.value
            post.lease_owner = post.lease_token = post.lease_until = None
            self._finish_attempt(s, claim, "retry", error=exc)
            state = self._channel_state(s, claim.channel)
            if state.blocked_until is None or state.blocked_until < resume:
                state.blocked_until = resume
        return Outcome(claim.post_id, claim.channel, language, "retrying",
                       f"rate limited; next try {resume.isoformat(timespec='seconds')}")

    def _finish_error(self, claim: Claim, language: str, exc: ConnectorError, *, permanent: bool,
                      ambiguous: bool = False, hold_channel: bool = False) -> Outcome:
        now = self.clock()
        with self.db.write() as s:
            post = self._fenced(s, claim)
            if post is None:
                return self._lost_lease(s, claim, language, exc.message)
            tries = post.attempts - post.rate_limited_count
            post.needs_reconcile = post.needs_reconcile or ambiguous
            post.last_error, post.error_kind = exc.message, exc.kind.value
            post.lease_owner = post.lease_token = post.lease_until = None
            if permanent or self.retry.exhausted(tries):
                lifecycle.transition(post, PostStatus.FAILED)
                post.next_attempt_at = None
                self._finish_attempt(s, claim, "failed", error=exc)
                status, detail = "failed", exc.message
                if not permanent:
                    detail = f"gave up after {tries} attempts: {exc.message}"
            else:
                lifecycle.transition(post, PostStatus.RETRYING)
                post.next_attempt_at = now + timedelta(seconds=self.retry.delay_s(tries))
                self._finish_attempt(s, claim, "retry", error=exc)
                status = "retrying"
                detail = f"{exc.message}; next try {post.next_attempt_at.isoformat(timespec='seconds')}"
            if hold_channel:
                state = self._channel_state(s, claim.channel)
                state.last_error, state.last_error_kind = exc.message, exc.kind.value
                state.last_error_at = now
        return Outcome(claim.post_id, claim.channel, language, status, detail)

    def _channel_state(self, s: Session, channel: str) -> ChannelState:
        state = s.get(ChannelState, channel)
        if state is None:
            state = ChannelState(channel=channel)
            s.add(state)
        return state

    def _record_rate_limit_block(self, channel: str) -> None:
        """Carry a connector's header-derived block (remaining = 0) into the shared channel state."""
        try:
            connector = self.connectors(channel)
        except Exception:
            return
        blocked = getattr(connector, "blocked_until", None)
        if blocked is None or blocked <= self.clock():
            return
        with self.db.write() as s:
            state = self._channel_state(s, channel)
            if state.blocked_until is None or state.blocked_until < blocked:
                state.blocked_until = blocked

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
    return WarcRecorder(capture_dir(settings), secrets=settings.secret_values())

