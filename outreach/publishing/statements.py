"""The dispatcher's statements: built once with SQLAlchemy Core, and those run for every post
compiled once per shape for the database's dialect (`outreach.db.prepared`)."""

from __future__ import annotations

import weakref
from collections.abc import Callable, Sequence
from typing import Any

from sqlalchemy import String, bindparam, func, insert, literal, or_, select, text, update
from sqlalchemy.sql import ClauseElement

from outreach.db import Database
from outreach.db.models import READY_SQL, ChannelState, PublishAttempt, UTCDateTime
from outreach.db.models import Post as PostRow
from outreach.db.prepared import Prepared
from outreach.domain import ErrorKind, PostStatus

# The SET clause comes from the parameters given (run through `Connection.execute`: rare paths).
TAKE = update(PostRow).where(PostRow.id == bindparam("b_post"), PostRow.status == bindparam("b_status"))
FENCED = update(PostRow).where(PostRow.id == bindparam("b_post"), PostRow.lease_token == bindparam("b_token"),
                               PostRow.status == PostStatus.PUBLISHING.value)
ATTEMPT = update(PublishAttempt).where(PublishAttempt.post_id == bindparam("b_post"),
                                       PublishAttempt.number == bindparam("b_number"))


_PER_DATABASE: weakref.WeakKeyDictionary[Database, Statements] = weakref.WeakKeyDictionary()


def _ids(n: int) -> list[Any]:
    return [bindparam(f"id{i}") for i in range(n)]


def shape(n: int) -> int:
    """How many ids an `IN` list of `n` ids is written with: the next power of two, so that a few
    statements serve every batch size (each shape is compiled once, on first use)."""
    return 1 << max(0, n - 1).bit_length()


def ids(values: Sequence[int]) -> dict[str, int]:
    """The parameters for an `IN` list holding these ids, padded to its shape by repeating the last
    (`id IN (7, 8, 8, 8)` matches the same rows as `id IN (7, 8)`)."""
    padded = [*values, *[values[-1]] * (shape(len(values)) - len(values))]
    return {f"id{i}": v for i, v in enumerate(padded)}


class Statements:
    """What the dispatcher runs per post, prepared per shape (number of ids, columns set) on first use,
    once per database in a process (`Statements.of`)."""

    @classmethod
    def of(cls, db: Database) -> Statements:
        found = _PER_DATABASE.get(db)
        if found is None:
            found = _PER_DATABASE[db] = cls(db)
        return found

    def __init__(self, db: Database) -> None:
        self._dialect = db.engine.dialect
        self._sqlite = db.is_sqlite
        self._cache: dict[tuple[Any, ...], Prepared] = {}
        abandoned, due = self._claim_queries()
        self.abandoned = self._prepare(abandoned)
        self.due = self._prepare(due)

    def _prepare(self, statement: ClauseElement) -> Prepared:
        return Prepared(statement, self._dialect)

    def _shaped(self, key: tuple[Any, ...], build: Callable[[], ClauseElement]) -> Prepared:
        prepared = self._cache.get(key)
        if prepared is None:
            prepared = self._cache[key] = self._prepare(build())
        return prepared

    def _claim_queries(self) -> tuple[Any, Any]:
        """For posts of channels not blocked: those a crashed worker left behind (lease run out; they go
        first), then those due, in the order `ix_posts_ready` keeps."""
        now = bindparam("now", type_=UTCDateTime)
        blocked = select(ChannelState.channel).where(
            or_(ChannelState.blocked_until > now, ChannelState.last_error_kind == ErrorKind.AUTH.value))
        ready_at = func.coalesce(PostRow.next_attempt_at, PostRow.due_at)
        columns = select(PostRow.id, PostRow.status, PostRow.platform, PostRow.channel, PostRow.language,
                         PostRow.text, PostRow.idempotency_key, PostRow.link, PostRow.handle, PostRow.media,
                         PostRow.attempts, PostRow.rate_limited_count, PostRow.needs_reconcile, PostRow.lease_token,
                         PostRow.may_exist_since, PostRow.attempt_budget_from, PostRow.meeting_id)
        abandoned = (columns.where(PostRow.status == PostStatus.PUBLISHING.value, PostRow.lease_until <= now,
                                   PostRow.channel.not_in(blocked))
                     .order_by(PostRow.lease_until, PostRow.id).limit(bindparam("n")))
        due = (columns.where(text(READY_SQL), ready_at <= now, PostRow.due_at <= now,
                             PostRow.channel.not_in(blocked))
               .order_by(ready_at, PostRow.id).limit(bindparam("n")))
        if self._sqlite:  # its planner would take ix_posts_due and sort the whole backlog per claim
            return abandoned, due.with_hint(PostRow, "INDEXED BY ix_posts_ready", "sqlite")
        return abandoned.with_for_update(skip_locked=True), due.with_for_update(skip_locked=True)

    def take(self, n: int) -> Prepared:
        """A claim: posts selected (and locked) in the same transaction go to `publishing` under one
        lease; one taken over from a crashed worker is marked for reconciling. From the claim on, the
        post may exist on the platform (`may_exist_since`, unless it already may); the result sets it
        back when the platform's answer settles it. Set-based: one
        statement however many posts (the attempt number is `attempts + 1` in SQL as well)."""
        n = shape(n)
        return self._shaped(("take", n), lambda: update(PostRow).where(PostRow.id.in_(_ids(n))).values(
            status=PostStatus.PUBLISHING.value, lease_owner=bindparam("owner", type_=String),
            lease_token=bindparam("token", type_=String), lease_until=bindparam("until", type_=UTCDateTime),
            attempts=PostRow.attempts + 1,
            needs_reconcile=or_(PostRow.needs_reconcile, PostRow.status == PostStatus.PUBLISHING.value),
            may_exist_since=func.coalesce(PostRow.may_exist_since, bindparam("now", type_=UTCDateTime)),
            updated_at=bindparam("now", type_=UTCDateTime)))

    def new_attempts(self, n: int) -> Prepared:
        """An attempt row for each post just claimed (numbered by its `attempts`)."""
        n = shape(n)
        return self._shaped(("new_attempts", n), lambda: insert(PublishAttempt).from_select(
            ["post_id", "number", "worker", "started_at", "outcome"],
            select(PostRow.id, PostRow.attempts, bindparam("worker", type_=String),
                   bindparam("now", type_=UTCDateTime), literal("started")).where(PostRow.id.in_(_ids(n)))))

    def mine(self, n: int) -> Prepared:
        """Which of these posts does a lease token still hold (locked on PostgreSQL until the write)?"""
        n = shape(n)

        def build() -> Any:
            query = select(PostRow.id, PostRow.lease_token).where(
                PostRow.id.in_(_ids(n)), PostRow.status == PostStatus.PUBLISHING.value)
            return query if self._sqlite else query.with_for_update()
        return self._shaped(("mine", n), build)

    def fenced(self, columns: tuple[str, ...]) -> Prepared:
        """Set these columns of a post, only while its lease token holds (`b_post`, `b_token`)."""
        table = PostRow.__table__.c
        return self._shaped(("fenced", columns), lambda: FENCED.values(
            {c: bindparam(c, type_=table[c].type) for c in columns}))

    def attempt(self, columns: tuple[str, ...]) -> Prepared:
        """Set these columns of attempt (`b_post`, `b_number`)."""
        table = PublishAttempt.__table__.c
        return self._shaped(("attempt", columns), lambda: ATTEMPT.values(
            {c: bindparam(c, type_=table[c].type) for c in columns}))
