"""What the dispatcher hands around: claims, attempt results, outcomes — and the thread that writes
results while the next post is being sent.

Results are written by `ResultWriter` on its own thread: it waits a moment (`linger_s`, 50 ms) after
the first result arrives and then writes everything that has come in, in one transaction (group
commit). So a post's outcome is in the database within about 50 ms of the platform's answer, even
while the next request hangs, and a burst of posts costs a few transactions instead of one per post.
"""

from __future__ import annotations

import logging
import queue
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from outreach.connectors import Connector
from outreach.db.models import Post as PostRow
from outreach.domain import MediaItem, Platform, PostStatus

log = logging.getLogger("outreach.publishing")

Clock = Callable[[], datetime]
ConnectorFactory = Callable[[str], Connector]
MediaResolver = Callable[[PostRow, Platform], tuple[MediaItem, ...]]


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
    attempt_number: int  # the attempt row is (post_id, attempt_number)
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
    previous_status: str = PostStatus.APPROVED.value  # where the post goes back to if it is given back unsent
    claimed_at: datetime | None = None
    may_exist_since: datetime | None = None  # as before this claim: since when an earlier try may have landed
    attempt_budget_from: int = 0  # the attempt budget counts attempts after this number
    meeting_id: int | None = None  # the meeting the post is about (an announcement is not sent after it began)


@dataclass(slots=True)
class Result:
    """What one attempt came to, before it is written: the post's new columns, the attempt's, what it
    means for the channel, and the line to report. `target` None: nothing to write (manual posts)."""

    claim: Claim
    target: PostStatus | None
    post: dict[str, Any]
    attempt: dict[str, Any]
    outcome: Outcome
    lost: str = ""  # what the line says if another worker has taken the post over meanwhile
    block_until: datetime | None = None  # no request to this channel before then
    hold: dict[str, Any] | None = None  # channel state that pauses the channel until a person acts
    permalink: str | None = None

    @property
    def stops_channel(self) -> bool:
        return self.block_until is not None or self.hold is not None


Write = Callable[[Sequence[Result], Sequence[Claim]], list[Outcome]]


class ResultWriter:
    """Writes results (and claims given back unsent) on a background thread, several per transaction
    when they queue up; `close()` waits for every write and returns the outcomes in order, raising the
    first write error (the posts it concerned stay claimed and are reconciled after their lease)."""

    def __init__(self, write: Write, on_outcome: Callable[[Outcome], None] | None = None, *,
                 linger_s: float = 0.05) -> None:
        self._write = write
        self._linger_s = linger_s
        self._on_outcome = on_outcome
        self._queue: queue.Queue[Result | Claim | None] = queue.Queue()
        self._closing = threading.Event()  # cuts the lingering short: the last results go at once
        self._error: BaseException | None = None
        self.outcomes: list[Outcome] = []
        self._thread = threading.Thread(target=self._run, name="result-writer", daemon=True)
        self._thread.start()

    def put(self, item: Result | Claim) -> None:
        """A result to record, or a claim to give back."""
        self._queue.put(item)

    def _run(self) -> None:
        while True:
            items = [self._queue.get()]
            if items[0] is not None:  # let a burst's results gather: one transaction for them all
                self._closing.wait(self._linger_s)
            while True:
                try:
                    items.append(self._queue.get_nowait())
                except queue.Empty:
                    break
            stop = items[-1] is None
            work = [i for i in items if i is not None]
            try:
                if work:
                    self._flush(work)
            finally:
                for _ in items:
                    self._queue.task_done()
            if stop:
                return

    def sync(self) -> None:
        """Wait until everything put so far is written (e.g. claims given back, before claiming again)."""
        self._queue.join()

    def _flush(self, items: list[Result | Claim]) -> None:
        results = [i for i in items if isinstance(i, Result)]
        given_back = [i for i in items if isinstance(i, Claim)]
        try:
            outcomes = self._write(results, given_back)
        except BaseException as exc:  # the database is down: these posts wait for their lease to end
            log.exception("could not record %d publishing results", len(results))
            self._error = self._error or exc
            return
        self.outcomes += outcomes
        for outcome in outcomes:
            if self._on_outcome is not None:
                try:
                    self._on_outcome(outcome)
                except Exception:
                    log.exception("reporting an outcome failed")

    def close(self, *, raise_errors: bool = True) -> list[Outcome]:
        self._closing.set()
        self._queue.put(None)
        self._thread.join()
        if self._error is not None and raise_errors:
            raise self._error
        return self.outcomes
