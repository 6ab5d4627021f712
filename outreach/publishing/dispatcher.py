"""The dispatcher's loop: claim due posts under a lease, send them one by one, record every outcome.

The steps live in their own modules: claiming, recording and giving back in `claims.py` (the
database side), sending one post — reconcile, publish, errors mapped to results — in `sending.py`
(the platform side), lease renewal and the time-left check in `leases.py`. Here: the loop that
claims in growing batches (the next one taken ahead while a batch is sent), sends each post whose
lease will outlast the request, hands results to a background writer (`results.ResultWriter`,
within about 50 ms, several per transaction) and captures permalinks as evidence after the burst.
"""

from __future__ import annotations

import logging
import threading
import time
import uuid
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from datetime import timedelta
from pathlib import Path

import requests

from outreach.archive.captures import capture_permalink
from outreach.config import Settings
from outreach.db import Database
from outreach.domain import Platform
from outreach.publishing.claims import ClaimSteps
from outreach.publishing.leases import Leases, check_lease, worst_request_s
from outreach.publishing.media import MediaPreparer
from outreach.publishing.results import (
    Claim,
    Clock,
    ConnectorFactory,
    MediaResolver,
    Outcome,
    Result,
    ResultWriter,
    utcnow,
)
from outreach.publishing.resume import ResumeFiles
from outreach.publishing.retry import RetryPolicy
from outreach.publishing.sending import ConnectorCache, SendSteps, recorder_for
from outreach.publishing.statements import Statements

__all__ = ["ConnectorCache", "Dispatcher", "Outcome", "recorder_for"]

log = logging.getLogger("outreach.publishing")

BATCH_WORK_S = 0.25  # a claim holds at most about this much sending work (see run_due)


class Dispatcher(ClaimSteps, SendSteps):
    """One worker's publishing: the loop (`run_due`) over claims (`claims.ClaimSteps`) and sends
    (`sending.SendSteps`), with results written in the background and evidence captured after."""

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
        self._held = threading.Lock()  # _in_flight is shared by the sending, claiming and writing threads
        check_lease(self.lease.total_seconds(), settings.worker.http_timeout_s)
        self.request_s = worst_request_s(settings.worker.http_timeout_s)
        self.leases = Leases(db, lease=self.lease, clock=clock)
        self.resume = ResumeFiles(Path(settings.state_dir) / "resume")
        self._claimer: ThreadPoolExecutor | None = None  # claims the next batch while one is sent

    # -- the loop -------------------------------------------------------------------------------

    def run_due(self, *, limit: int | None = None, on_outcome: Callable[[Outcome], None] | None = None,
                stop: Callable[[], bool] | None = None, captures: bool = True) -> list[Outcome]:
        """Publish everything due now, until nothing is due (or `limit`). Posts are claimed in
        growing batches (up to `worker.claim_batch`) and sent one by one; results are written by a
        background thread while the next requests go out. `on_outcome` is called from that thread.
        Once `stop()` is true (the worker was asked to stop), the post in flight is finished and the
        claims not sent yet are given back. With `captures`, permalink captures start after the pass;
        the worker's clock passes False and calls `start_captures` when no post is due soon."""
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
                done = self._send_batch(claims, stopped, writer.put, stop)
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
            if captures:
                self.start_captures()  # evidence after the burst, so it never delays a due post
        return outcomes

    def _claim_ahead(self, n: int) -> Future[list[Claim]]:
        if self._claimer is None:
            self._claimer = ThreadPoolExecutor(1, thread_name_prefix="claim-ahead")
        return self._claimer.submit(self.claim, n)

    def _hand_back(self, claims: Sequence[Claim], keep: Callable[[Result | Claim], None]) -> None:
        """Claims that will not be sent: given back (a manual post has become `manual_due` already)."""
        for claim in claims:
            keep(self._manual(claim) if claim.platform == Platform.MANUAL else claim)

    # -- publishing -----------------------------------------------------------------------------

    def send_claimed(self, claims: Sequence[Claim]) -> list[Outcome]:
        """Send claimed posts one by one and write their results (in this thread) before returning."""
        kept: list[Result | Claim] = []
        try:
            self._send_batch(claims, set(), kept.append)
        finally:
            outcomes = self._write([k for k in kept if isinstance(k, Result)], [k for k in kept if isinstance(k, Claim)])
        return outcomes

    def _send_batch(self, claims: Sequence[Claim], stopped: set[str], keep: Callable[[Result | Claim], None],
                  stop: Callable[[], bool] | None = None) -> int:
        """Send claimed posts one by one, handing `keep` each result — or the claim itself, to be given
        back unsent. A channel that answers with a rate limit (or whose headers say its quota is spent)
        or an auth failure gets nothing more (`stopped`); nor does a post whose lease would not outlast
        the request (`send_one`). Returns how many were handled."""
        handled = 0
        for i, claim in enumerate(claims):
            if claim.platform == Platform.MANUAL:
                keep(self._manual(claim))
                handled += 1
                continue
            if (claim.channel in stopped or self._connector_block(claim.channel) is not None
                    or (stop is not None and stop())):
                keep(claim)
                continue
            started = time.monotonic()
            try:
                result = self.send_one(claim)
            except BaseException:
                # Stopped mid-batch (Ctrl-C): give back what was not sent; the post whose request was
                # in flight stays claimed and is reconciled when its lease has run out.
                self._hand_back(claims[i + 1:], keep)
                raise
            if result is None:  # its lease cannot outlast a request: back, unsent
                keep(claim)
                continue
            keep(result)
            took = time.monotonic() - started
            self._send_s = took if not self._send_s else self._send_s + (took - self._send_s) / 8
            handled += 1
            if result.stops_channel:
                stopped.add(claim.channel)
        return handled

    def _capture_permalink(self, url: str | None) -> None:
        """Keep the public page of a just-published post as evidence (fetched once the due posts are out)."""
        if self.recorder is not None and url:
            self._pending_captures.append(url)

    def start_captures(self, *, unless_fewer_than: int = 1) -> None:
        """Start fetching the permalinks published so far (in a background thread), if there are at
        least `unless_fewer_than` of them."""
        if len(self._pending_captures) < max(1, unless_fewer_than):
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
            self.start_captures()
        if self._captures is not None:
            self._captures.shutdown(wait=wait, cancel_futures=not wait)
            self._captures = None
        if self._claimer is not None:
            self._claimer.shutdown()
            self._claimer = None
        self.leases.close()
        exchanges = getattr(self.connectors, "recorder", None)  # kept even when permalinks are off
        if exchanges is not None:
            exchanges.flush()
