"""The dispatcher: claim due posts under a lease, publish through connectors, record every outcome.

Exactly once: the claim (status `publishing`, a lease, an attempt row) is committed before any
network call, for up to `worker.claim_batch` due posts at a time (during a backlog the next claim is
taken ahead, while the batch before is sent); connectors persist intermediate
handles through `save_handle` as they go; after an ambiguous failure or a crash the post is marked
`needs_reconcile`, and the next attempt asks the platform whether the post already exists before it
sends anything again. Claims a batch could not use (its channel was rate limited or paused meanwhile,
or half the lease has passed) are given back unsent. Results are written by a background thread
within about 50 ms (`results.ResultWriter`), several per transaction under load; every write after
the network call is fenced by the lease token, so a worker that lost its lease cannot overwrite the
result of the worker that took over.
"""

from __future__ import annotations

import logging
import time
import uuid
from collections import defaultdict
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from typing import Any

import requests
from sqlalchemy import Connection, bindparam, delete, func, insert, select, update

from outreach import lifecycle
from outreach.archive.captures import WarcRecorder, capture_dir, capture_permalink
from outreach.config import ConfigError, MissingSecret, Settings
from outreach.connectors import Connector, ConnectorError, RateLimited, TransientError, connector_class
from outreach.connectors.errors import AuthError, NeedsPerson
from outreach.db import Database
from outreach.db.models import READY_STATUSES, ChannelState, PublishAttempt
from outreach.db.models import Post as PostRow
from outreach.domain import ErrorKind, MediaItem, Platform, PostStatus, PublishRequest, PublishResult
from outreach.publishing.media import MediaPreparer
from outreach.publishing.results import Claim, Outcome, Result, ResultWriter
from outreach.publishing.retry import RetryPolicy
from outreach.publishing.statements import FENCED, TAKE, Statements, ids

log = logging.getLogger("outreach.publishing")

Clock = Callable[[], datetime]
ConnectorFactory = Callable[[str], Connector]
MediaResolver = Callable[[PostRow, Platform], tuple[MediaItem, ...]]

BATCH_WORK_S = 0.25  # a claim holds at most about this much sending work (see run_due)


def utcnow() -> datetime:
    return datetime.now(UTC)


class Dispatcher:
    def __init__(self, db: Database, settings: Settings, *, worker_id: str | None = None,
                 clock: Clock = utcnow, connectors: ConnectorFactory | None = None,
                 media: MediaResolver | None = None, retry: RetryPolicy | None = None,
                 lease_s: float | None = None, batch: int | None = None) -> None:
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
        self.media = media or MediaPreparer(settings, connectors=connectors)
        r = settings.worker.retry
        self.retry = retry or RetryPolicy(r.max_attempts, r.backoff_base_s, r.backoff_factor, r.backoff_max_s)
        self.lease = timedelta(seconds=lease_s if lease_s is not None else settings.worker.lease_s)
        self.batch = max(1, batch if batch is not None else settings.worker.claim_batch)
        self.sql = Statements.of(db)
        self._send_s = 0.0  # how long sending one post takes here, on average (for sizing claims)
        self._in_flight: set[tuple[int, str]] = set()  # (post, lease token) claimed here, result not written yet
        self._claimer: ThreadPoolExecutor | None = None  # claims the next batch while one is sent

    # -- the loop -------------------------------------------------------------------------------

    def run_due(self, *, limit: int | None = None, on_outcome: Callable[[Outcome], None] | None = None,
                stop: Callable[[], bool] | None = None) -> list[Outcome]:
        """Publish everything due now, until nothing is due (or `limit`). Posts are claimed in
        growing batches (up to `worker.claim_batch`) and sent one by one; results are written by a
        background thread while the next requests go out. `on_outcome` is called from that thread.
        Once `stop()` is true (the worker was asked to stop), the post in flight is finished and the
        claims not sent yet are given back."""
        writer = ResultWriter(self._write, on_outcome)
        stopped: set[str] = set()
        handled = 0
        # Claims grow 1, 1, 2, 4, … (the first post measures sending) while they come back full, up to
        # the batch and to what takes about BATCH_WORK_S to send: a small burst is shared among
        # workers, a backlog on a fast platform goes in batches, and a slow platform (where a claim
        # costs little next to a request) gets claims of one, so a worker that dies holds back almost
        # nothing. Batches of more than one are claimed one ahead, on another thread, while the batch
        # before is being sent: the database's work then overlaps the waiting for the platform.
        size = 1
        ahead: Future[list[Claim]] | None = None
        idle, failed = False, True
        try:
            while True:
                if ahead is not None:
                    claims, ahead = ahead.result(), None
                elif (limit is None or handled < limit) and not (stop and stop()):
                    claims = self.claim(size if limit is None else min(size, limit - handled))
                else:
                    break
                if not claims:
                    break
                if len(claims) == size and self._send_s:  # no bigger than about BATCH_WORK_S of sending
                    size = min(self.batch, size * 2, max(1, int(BATCH_WORK_S / self._send_s)))
                room = size if limit is None else min(size, limit - handled - len(claims))
                if size > 1 and room > 0 and not (stop and stop()):
                    ahead = self._claim_ahead(room)
                done = self._send_all(claims, stopped, writer.put, stop)
                if done < len(claims):
                    # Posts were given back (a channel stopped, or the worker is stopping): so is the
                    # claim taken ahead, and the next claim sees them all, and the channel blocked.
                    if ahead is not None:
                        self._hand_back(ahead.result(), writer.put)
                        ahead = None
                    writer.sync()
                if not done:  # all given back: once more, for other channels' posts; then stop
                    if idle:
                        break
                    idle = True
                    continue
                idle = False
                handled += done
            failed = False
        finally:
            if ahead is not None:  # stopped, or failed, with a claim taken ahead: it goes back unsent
                try:
                    self._hand_back(ahead.result(), writer.put)
                except Exception:  # that claim failed itself: nothing was taken
                    log.exception("claiming ahead failed")
            outcomes = writer.close(raise_errors=not failed)
            self._start_captures()  # evidence after the burst, so it never delays a due post
        return outcomes

    def _claim_ahead(self, n: int) -> Future[list[Claim]]:
        if self._claimer is None:
            self._claimer = ThreadPoolExecutor(1, thread_name_prefix="claim-ahead")
        return self._claimer.submit(self.claim, n)

    def _hand_back(self, claims: Sequence[Claim], keep: Callable[[Result | Claim], None]) -> None:
        """Claims that will not be sent: given back (a manual post has become `manual_due` already)."""
        for claim in claims:
            keep(self._manual(claim) if claim.platform is Platform.MANUAL else claim)

    # -- claiming -------------------------------------------------------------------------------

    def claim(self, n: int = 1) -> list[Claim]:
        """Take up to `n` due posts in one transaction: status `publishing`, one lease token, an
        attempt row each — committed before any network call (on SQLite under BEGIN IMMEDIATE, on
        PostgreSQL with SKIP LOCKED). Manual posts become `manual_due` here and then."""
        now = self.clock()
        with self.db.write_connection() as conn:
            # Not our own claims whose results are still on their way to the database.
            rows = [r for r in self.sql.abandoned.rows(conn, {"now": now, "n": n})
                    if (r.id, r.lease_token) not in self._in_flight]
            if len(rows) < n:
                rows += self.sql.due.rows(conn, {"now": now, "n": n - len(rows)})
            if not rows:
                return []
            token = uuid.uuid4().hex
            claims: list[Claim] = []
            taken: list[tuple[Any, int, bool, datetime]] = []
            for post in rows:
                this = {"b_post": post.id, "b_status": post.status}
                if post.platform == Platform.MANUAL.value:
                    conn.execute(TAKE, {**this, "status": lifecycle.checked(post.status, PostStatus.MANUAL_DUE),
                                         "updated_at": now})
                    claims.append(Claim(post.id, "", 0, post.channel, post.language, Platform.MANUAL, False))
                    continue
                crashed = post.status == PostStatus.PUBLISHING.value
                if crashed:
                    self._close_abandoned_attempts(conn, post.id, now)
                first_attempt_at = now if post.attempts == 0 else conn.scalar(
                    select(func.min(PublishAttempt.started_at)).where(PublishAttempt.post_id == post.id))
                lifecycle.checked(post.status, PostStatus.PUBLISHING)
                taken.append((post, post.attempts + 1, post.needs_reconcile or crashed, first_attempt_at or now))
            if taken:
                taking = ids([post.id for post, _, _, _ in taken])
                took = self.sql.take(len(taken)).run(conn, {**taking, "owner": self.worker_id, "token": token,
                                                              "until": now + self.lease, "now": now})
                if took != len(taken):  # the rows are locked since the select: cannot happen
                    raise RuntimeError(f"claimed {took} of {len(taken)} posts")
                self.sql.new_attempts(len(taken)).run(conn, {**taking, "worker": self.worker_id, "now": now})
                self._in_flight.update((post.id, token) for post, _, _, _ in taken)
                claims += [Claim(post.id, token, number, post.channel, post.language, Platform(post.platform),
                                 reconcile, text=post.text, idempotency_key=post.idempotency_key, link=post.link,
                                 handle=dict(post.handle or {}), has_media=bool(post.media),
                                 first_attempt_at=first, rate_limited_count=post.rate_limited_count,
                                 previous_status=post.status, claimed_at=now)
                           for post, number, reconcile, first in taken]
            order = {post.id: i for i, post in enumerate(rows)}
            return sorted(claims, key=lambda c: order[c.post_id])

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
                                    .where(PostRow.status.in_(READY_STATUSES)).group_by(PostRow.channel)).all()
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

    # -- publishing -----------------------------------------------------------------------------

    def publish(self, claims: Sequence[Claim]) -> list[Outcome]:
        """Send claimed posts one by one and write their results (in this thread) before returning."""
        kept: list[Result | Claim] = []
        try:
            self._send_all(claims, set(), kept.append)
        finally:
            outcomes = self._write([k for k in kept if isinstance(k, Result)], [k for k in kept if isinstance(k, Claim)])
        return outcomes

    def _send_all(self, claims: Sequence[Claim], stopped: set[str], keep: Callable[[Result | Claim], None],
                  stop: Callable[[], bool] | None = None) -> int:
        """Send claimed posts one by one, handing `keep` each result — or the claim itself, to be given
        back unsent. A channel that answers with a rate limit (or whose headers say its quota is spent)
        or an auth failure gets nothing more (`stopped`); nor does any post once half its lease has
        passed, so nothing is sent on a lease about to run out. Returns how many were handled."""
        handled = 0
        for i, claim in enumerate(claims):
            if claim.platform is Platform.MANUAL:
                keep(self._manual(claim))
                handled += 1
                continue
            late = i > 0 and claim.claimed_at is not None and self.clock() >= claim.claimed_at + self.lease / 2
            if (late or claim.channel in stopped or self._connector_block(claim.channel) is not None
                    or (stop is not None and stop())):
                keep(claim)
                continue
            started = time.monotonic()
            try:
                result = self.attempt(claim)
            except BaseException:
                # Stopped mid-batch (Ctrl-C): give back what was not sent; the post whose request was
                # in flight stays claimed and is reconciled when its lease has run out.
                self._hand_back(claims[i + 1:], keep)
                raise
            keep(result)
            took = time.monotonic() - started
            self._send_s = took if not self._send_s else self._send_s + (took - self._send_s) / 8
            handled += 1
            if result.stops_channel:
                stopped.add(claim.channel)
        return handled

    def process(self, claim: Claim) -> Outcome:
        """Send one claimed post and write its result."""
        return self._write([self.attempt(claim)])[0]

    def attempt(self, claim: Claim) -> Result:
        """Send one claimed post — asking the platform first when an earlier try may have reached it —
        and say what came of it. Nothing is written here but the connector's intermediate handles."""
        result = self._send(claim)
        blocked = self._connector_block(claim.channel)  # the platform's headers say the quota is spent
        if blocked is not None:
            result.block_until = max(blocked, result.block_until or blocked)
        return result

    def _send(self, claim: Claim) -> Result:
        channel = claim.channel
        media: tuple[MediaItem, ...] = ()
        if claim.has_media:
            try:
                with self.db.session() as s:
                    post = s.get(PostRow, claim.post_id)
                    assert post is not None
                    media = self.media(post, claim.platform)
            except Exception as exc:  # a broken image is this post's problem, not the worker's
                return self._failure(claim, ConnectorError(channel, f"media: {exc}"), permanent=True)
        req = PublishRequest(post_id=claim.post_id, text=claim.text, language=claim.language,
                             idempotency_key=claim.idempotency_key, media=media, link=claim.link,
                             handle=dict(claim.handle or {}), attempt_started_at=claim.first_attempt_at)
        try:
            connector = self.connectors(channel)
            if claim.needs_reconcile:
                found = connector.reconcile(req)
                if found is not None:
                    return self._published(claim, found, reconciled=True)
            return self._published(claim, connector.publish(req, save_handle=lambda h: self._save_handle(claim, h)),
                                   reconciled=False)
        except RateLimited as exc:
            return self._rate_limited(claim, exc)
        except AuthError as exc:
            return self._failure(claim, exc, permanent=True, hold_channel=True)
        except MissingSecret as exc:
            return self._failure(claim, AuthError(channel, exc.detail), permanent=True, hold_channel=True)
        except (ConfigError, KeyError) as exc:  # unknown channel or platform: fix the config
            return self._failure(claim, ConnectorError(channel, f"configuration: {exc}"), permanent=True)
        except TransientError as exc:
            return self._failure(claim, exc, permanent=False, ambiguous=exc.ambiguous)
        except NeedsPerson as exc:
            return self._handed_over(claim, exc)
        except ConnectorError as exc:
            return self._failure(claim, exc, permanent=True)
        except Exception as exc:  # a bug: keep the post, reconcile before the next try
            log.exception("post %s to %s: unexpected error", claim.post_id, channel)
            err = TransientError(channel, f"unexpected error: {type(exc).__name__}: {exc}", ambiguous=True)
            return self._failure(claim, err, permanent=False, ambiguous=True)

    def _save_handle(self, claim: Claim, handle: dict[str, Any]) -> None:
        """Persist an intermediate handle now (before the connector's next call); extend the lease."""
        mine = (PostRow.id == claim.post_id) & (PostRow.lease_token == claim.lease_token)
        with self.db.write_connection() as conn:
            row = conn.execute(select(PostRow.handle).where(mine)).first()
            if row is None:
                raise TransientError(claim.channel, "lease lost to another worker; stopping this attempt")
            conn.execute(update(PostRow).where(mine).values(handle={**(row[0] or {}), **handle},
                                                            lease_until=self.clock() + self.lease))

    def _connector_block(self, channel: str) -> datetime | None:
        """Until when this channel's connector knows it must not be called (None: it may be)."""
        try:
            blocked = getattr(self.connectors(channel), "blocked_until", None)
        except Exception:  # an unknown channel fails when its post is sent, with the reason
            return None
        return blocked if blocked is not None and blocked > self.clock() else None

    # -- what an attempt came to ----------------------------------------------------------------

    def _attempt_row(self, outcome: str, *, error: ConnectorError | None = None, message: str | None = None,
                     remote_id: str | None = None) -> dict[str, Any]:
        """The attempt's columns: always the same keys, so a batch is written in one statement."""
        return {"outcome": outcome, "finished_at": self.clock(), "remote_id": remote_id,
                "error_kind": error.kind.value if error else None,
                "message": error.message if error else message,
                "http_status": error.http_status if error else None}

    def _published(self, claim: Claim, result: PublishResult, *, reconciled: bool) -> Result:
        detail = result.url or result.remote_id
        return Result(
            claim, PostStatus.PUBLISHED,
            post={"remote_id": result.remote_id, "remote_url": result.url,
                  "published_at": result.published_at or self.clock(), "needs_reconcile": False,
                  "next_attempt_at": None, "last_error": None, "error_kind": None},
            attempt=self._attempt_row(
                "reconciled" if reconciled else "published", remote_id=result.remote_id,
                message="found on the platform after an interrupted attempt" if reconciled else None),
            outcome=Outcome(claim.post_id, claim.channel, claim.language, "published",
                            f"{detail} (reconciled)" if reconciled else detail),
            lost=f"published as {result.remote_id}", permalink=result.url)

    def _rate_limited(self, claim: Claim, exc: RateLimited) -> Result:
        now = self.clock()
        resume = exc.reset_at if exc.reset_at and exc.reset_at > now else now + timedelta(seconds=exc.retry_after_s)
        return Result(
            claim, PostStatus.RETRYING,
            post={"rate_limited_count": claim.rate_limited_count + 1, "next_attempt_at": resume,
                  "last_error": exc.message, "error_kind": exc.kind.value},
            attempt=self._attempt_row("retry", error=exc),
            outcome=Outcome(claim.post_id, claim.channel, claim.language, "retrying",
                            f"rate limited; next try {resume.isoformat(timespec='seconds')}"),
            lost="rate limited", block_until=resume)

    def _failure(self, claim: Claim, exc: ConnectorError, *, permanent: bool, ambiguous: bool = False,
                 hold_channel: bool = False) -> Result:
        now = self.clock()
        tries = claim.attempt_number - claim.rate_limited_count
        post = {"needs_reconcile": claim.needs_reconcile or ambiguous, "last_error": exc.message,
                "error_kind": exc.kind.value}
        if permanent or self.retry.exhausted(tries):
            target, status, next_at = PostStatus.FAILED, "failed", None
            detail = exc.message if permanent else f"gave up after {tries} attempts: {exc.message}"
        else:
            target, status = PostStatus.RETRYING, "retrying"
            next_at = now + timedelta(seconds=self.retry.delay_s(tries))
            detail = f"{exc.message}; next try {next_at.isoformat(timespec='seconds')}"
        hold = ({"last_error": exc.message, "last_error_kind": exc.kind.value, "last_error_at": now}
                if hold_channel else None)
        return Result(claim, target, post={**post, "next_attempt_at": next_at},
                      attempt=self._attempt_row(status if status == "failed" else "retry", error=exc),
                      outcome=Outcome(claim.post_id, claim.channel, claim.language, status, detail),
                      lost=exc.message, hold=hold)

    def _handed_over(self, claim: Claim, exc: NeedsPerson) -> Result:
        """A person must finish or check the post (TikTok's inbox): `manual_due` with the connector's
        words, never sent again; `outreach confirm` records where it appeared."""
        return Result(claim, PostStatus.MANUAL_DUE,
                      post={"needs_reconcile": False, "next_attempt_at": None, "last_error": exc.message,
                            "error_kind": None},
                      attempt=self._attempt_row("manual_due", message=exc.message),
                      outcome=Outcome(claim.post_id, claim.channel, claim.language, "manual_due", exc.message),
                      lost=exc.message)

    def _manual(self, claim: Claim) -> Result:
        return Result(claim, None, {}, {}, Outcome(claim.post_id, claim.channel, claim.language, "manual_due",
                                                   "to post by hand; confirm with `outreach confirm`"))

    # -- recording ------------------------------------------------------------------------------

    def _write(self, results: Sequence[Result], given_back: Sequence[Claim] = ()) -> list[Outcome]:
        """Write results in one transaction and release their leases — fenced: a post another worker
        has taken over keeps that worker's result (this one's line says `lost_lease`) — and give back
        the claims that were not sent. Returns the outcomes, in order."""
        sent = [r for r in results if r.target is not None]
        if not sent and not given_back:
            return [r.outcome for r in results]
        now = self.clock()
        outcomes: list[Outcome] = []
        claims = [*(r.claim for r in sent), *given_back]
        with self.db.write_connection() as conn:
            mine = self._still_mine(conn, claims)
            posts: dict[tuple[str, ...], list[dict[str, Any]]] = defaultdict(list)
            attempts: dict[tuple[str, ...], list[dict[str, Any]]] = defaultdict(list)
            for r in results:
                claim = r.claim
                if r.target is None:
                    outcomes.append(r.outcome)
                elif (claim.post_id, claim.lease_token) in mine:
                    columns = {"status": lifecycle.checked(PostStatus.PUBLISHING, r.target), "lease_owner": None,
                               "lease_token": None, "lease_until": None, "updated_at": now, **r.post}
                    posts[tuple(columns)].append({"b_post": claim.post_id, "b_token": claim.lease_token, **columns})
                    self._add_attempt(attempts, claim, r.attempt)
                    self._capture_permalink(r.permalink)
                    outcomes.append(r.outcome)
                else:
                    log.warning("post %s to %s: lease lost; another worker owns it now", claim.post_id, claim.channel)
                    self._add_attempt(attempts, claim, self._attempt_row(
                        "lost_lease", message=f"lease lost before recording: {r.lost}"))
                    outcomes.append(Outcome(claim.post_id, claim.channel, claim.language, "lost_lease", r.lost))
                # What the platform said about the channel holds whoever owns the post now.
                if r.block_until is not None:
                    self._block_channel(conn, claim.channel, r.block_until)
                if r.hold is not None:
                    self._set_channel_state(conn, claim.channel, **r.hold)
            for columns, rows in posts.items():
                self.sql.fenced(columns).run_many(conn, rows)
            for columns, rows in attempts.items():
                self.sql.attempt(columns).run_many(conn, rows)
            self._give_back(conn, [c for c in given_back if (c.post_id, c.lease_token) in mine], now)
        self._in_flight.difference_update((c.post_id, c.lease_token) for c in claims)
        return outcomes

    @staticmethod
    def _add_attempt(attempts: dict[tuple[str, ...], list[dict[str, Any]]], claim: Claim,
                     columns: dict[str, Any]) -> None:
        attempts[tuple(columns)].append({"b_post": claim.post_id, "b_number": claim.attempt_number, **columns})

    def _still_mine(self, conn: Connection, claims: Sequence[Claim]) -> set[tuple[int, str]]:
        """(post, lease token) pairs of these claims whose lease still holds."""
        if not claims:
            return set()
        posts = sorted({c.post_id for c in claims})
        held = {(row.id, row.lease_token) for row in self.sql.mine(len(posts)).rows(conn, ids(posts))}
        return {(c.post_id, c.lease_token) for c in claims} & held

    def _give_back(self, conn: Connection, claims: Sequence[Claim], now: datetime) -> None:
        """Undo claims that were never sent: the post returns to its status before the claim (a
        post taken over from a crashed worker returns to `retrying`) and the attempt row goes."""
        if not claims:
            return
        conn.execute(FENCED, [
            {"b_post": c.post_id, "b_token": c.lease_token,
             "status": lifecycle.checked(PostStatus.PUBLISHING, PostStatus.RETRYING
                                         if c.previous_status == PostStatus.PUBLISHING.value else c.previous_status),
             "lease_owner": None, "lease_token": None, "lease_until": None, "attempts": c.attempt_number - 1,
             "needs_reconcile": c.needs_reconcile, "updated_at": now} for c in claims])
        conn.execute(delete(PublishAttempt).where(PublishAttempt.post_id == bindparam("b_post"),
                                                  PublishAttempt.number == bindparam("b_number")),
                     [{"b_post": c.post_id, "b_number": c.attempt_number} for c in claims])

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
        if self._claimer is not None:
            self._claimer.shutdown()
            self._claimer = None
        exchanges = getattr(self.connectors, "recorder", None)  # kept even when permalinks are off
        if exchanges is not None:
            exchanges.flush()

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

