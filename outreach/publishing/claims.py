"""Claims and leases, the database side of publishing: take due posts under a lease (`claim`), say
when the next one is due, and write what came of each attempt — fenced by the lease token (`_still_mine`),
so a worker that lost its lease cannot overwrite the result of the worker that took over — or give a
claim back unsent (`_give_back`). Leases are renewed and checked in `leases.py`.
"""

from __future__ import annotations

import logging
import threading
import uuid
from collections import defaultdict
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection, bindparam, delete, func, insert, select, update

from outreach import lifecycle
from outreach.db import Database
from outreach.db.models import READY_STATUSES, ChannelState, PublishAttempt
from outreach.db.models import Post as PostRow
from outreach.domain import ErrorKind, Platform, PostStatus
from outreach.publishing.leases import Leases
from outreach.publishing.results import Claim, Clock, Outcome, Result
from outreach.publishing.statements import FENCED, TAKE, Statements, ids

log = logging.getLogger("outreach.publishing")


class ClaimSteps:
    """Claiming, recording and giving back; the `Dispatcher` sets these attributes."""

    db: Database
    worker_id: str
    clock: Clock
    lease: timedelta
    sql: Statements
    leases: Leases
    _in_flight: set[tuple[int, str]]  # (post, lease token) claimed here, result not written yet
    _held: threading.Lock
    # From the other steps: `_manual` and `_attempt_row` (sending.py), `_capture_permalink` (dispatcher.py).

    def claim(self, n: int = 1) -> list[Claim]:
        """Take up to `n` due posts in one transaction: status `publishing`, one lease token, an
        attempt row each — committed before any network call (on SQLite under BEGIN IMMEDIATE, on
        PostgreSQL with SKIP LOCKED). Manual posts become `manual_due` here and then."""
        now = self.clock()
        with self.db.write_connection() as conn:
            # Not our own claims whose results are still on their way to the database.
            with self._held:
                held = set(self._in_flight)
            rows = [r for r in self.sql.abandoned.rows(conn, {"now": now, "n": n}) if (r.id, r.lease_token) not in held]
            if len(rows) < n:
                rows += self.sql.due.rows(conn, {"now": now, "n": n - len(rows)})
            if not rows:
                return []
            token = uuid.uuid4().hex
            claims: list[Claim] = []
            taken: list[tuple[Any, int, bool, datetime]] = []
            for post in rows:
                this = {"b_post": post.id, "b_status": post.status}
                if post.platform == Platform.MANUAL:
                    conn.execute(TAKE, {**this, "status": lifecycle.checked(post.status, PostStatus.MANUAL_DUE),
                                         "updated_at": now})
                    claims.append(Claim(post.id, "", 0, post.channel, post.language, Platform.MANUAL, False))
                    continue
                crashed = post.status == PostStatus.PUBLISHING.value
                if crashed:
                    self._close_abandoned_attempts(conn, post.id, now)
                reconcile = post.needs_reconcile or crashed or post.may_exist_since is not None
                # Look back to the first attempt, whatever the attempt budget says (a retry by hand
                # starts a new budget, not a new window: attempt numbers keep counting).
                since = now if post.attempts == 0 else conn.scalar(
                    select(func.min(PublishAttempt.started_at)).where(PublishAttempt.post_id == post.id))
                if post.may_exist_since is not None:
                    since = min(since or now, post.may_exist_since)
                lifecycle.checked(post.status, PostStatus.PUBLISHING)
                taken.append((post, post.attempts + 1, reconcile, since or now))
            if taken:
                taking = ids([post.id for post, _, _, _ in taken])
                took = self.sql.take(len(taken)).run(conn, {**taking, "owner": self.worker_id, "token": token,
                                                              "until": now + self.lease, "now": now})
                if took != len(taken):  # the rows are locked since the select: cannot happen
                    raise RuntimeError(f"claimed {took} of {len(taken)} posts")
                self.sql.new_attempts(len(taken)).run(conn, {**taking, "worker": self.worker_id, "now": now})
                with self._held:
                    self._in_flight.update((post.id, token) for post, _, _, _ in taken)
                self.leases.hold(token, now + self.lease)
                claims += [Claim(post.id, token, number, post.channel, post.language, Platform(post.platform),
                                 reconcile, text=post.text, idempotency_key=post.idempotency_key, link=post.link,
                                 handle=dict(post.handle or {}), has_media=bool(post.media),
                                 first_attempt_at=first, rate_limited_count=post.rate_limited_count,
                                 previous_status=post.status, claimed_at=now, may_exist_since=post.may_exist_since,
                                 attempt_budget_from=post.attempt_budget_from, meeting_id=post.meeting_id)
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

    def _write(self, results: Sequence[Result], given_back: Sequence[Claim] = ()) -> list[Outcome]:
        """Write results in one transaction and release their leases — fenced: a post another worker
        has taken over keeps that worker's result (this one's line says `lost_lease`) — and give back
        the claims that were not sent. Returns the outcomes, in order."""
        sent = [r for r in results if r.target is not None]
        if not sent and not given_back:
            return [r.outcome for r in results]
        claims = [*(r.claim for r in sent), *given_back]
        try:
            return self._record(results, given_back, claims)
        finally:  # written or not, these are off this worker's hands: a failed write waits for the lease
            self._let_go(claims)

    def _let_go(self, claims: Sequence[Claim]) -> None:
        """Forget claims whose result was written (or could not be): not in flight, leases not renewed."""
        with self._held:
            self._in_flight.difference_update((c.post_id, c.lease_token) for c in claims)
            still = {token for _, token in self._in_flight}
        self.leases.release({c.lease_token for c in claims} - still)

    def _record(self, results: Sequence[Result], given_back: Sequence[Claim], claims: Sequence[Claim]) -> list[Outcome]:
        now = self.clock()
        outcomes: list[Outcome] = []
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
             "needs_reconcile": c.needs_reconcile, "may_exist_since": c.may_exist_since, "updated_at": now}
            for c in claims])
        conn.execute(delete(PublishAttempt).where(PublishAttempt.post_id == bindparam("b_post"),
                                                  PublishAttempt.number == bindparam("b_number")),
                     [{"b_post": c.post_id, "b_number": c.attempt_number} for c in claims])

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
