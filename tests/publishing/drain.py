"""Run a dispatcher on a fake clock until every post is published (or nothing more can happen)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from outreach.db.models import Post
from outreach.domain import PostStatus


def drain(dispatcher: Any, db: Any, clock: Any, *, settled: Any = None, rounds: int = 400) -> list[tuple[Any, ...]]:
    """Dispatch, jumping the clock to the next due time, until nothing waits; returns the posts still
    not published as (id, channel, status, last_error). Stuck posts with nothing due fail the test.
    `settled`: a condition for unpublished posts that count as done (e.g. handed to a person)."""
    waiting_filter = Post.status != PostStatus.PUBLISHED.value
    if settled is not None:
        waiting_filter = waiting_filter & ~settled
    for _ in range(rounds):
        dispatcher.run_due()
        with db.session() as s:
            waiting = s.query(Post).filter(waiting_filter).count()
        if not waiting:
            break
        following = dispatcher.next_due_at()
        assert following is not None, "posts are stuck: nothing is due and nothing will become due"
        clock.now = max(clock.now + timedelta(seconds=1), following)
    with db.session() as s:
        return [(p.id, p.channel, p.status, p.last_error) for p in s.query(Post).filter(waiting_filter)]
