"""The worker's clock: the only module that imports APScheduler.

APScheduler runs a few fixed periodic jobs in memory (each worker has its own clock); the database
is the queue and arbitrates between workers. After every dispatch pass the worker schedules a
one-off wake-up at the next due time, so a post due at 18:00:00 is not left waiting for the tick.
"""

from __future__ import annotations

import logging
import signal
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.schedulers.background import BackgroundScheduler

from outreach.publishing.dispatcher import Dispatcher, Outcome

log = logging.getLogger("outreach.worker")

WAKEUP_JOB = "dispatch-wakeup"


IDLE_WAKEUP_S = 0.05  # after a pass that sent nothing, the soonest next wake-up (no busy loop)
# Permalink captures (evidence) wait for a quiet moment — no post due within CAPTURE_QUIET_S — so their
# fetching and WARC writing never compete with a due post; under a steady stream they start anyway
# once CAPTURE_BACKLOG are waiting.
CAPTURE_QUIET_S = 1.0
CAPTURE_BACKLOG = 1000


def dispatch_job(dispatcher: Dispatcher, on_outcome: Callable[[Outcome], None],
                 stop: Callable[[], bool] | None = None) -> tuple[datetime | None, bool]:
    """One pass: publish everything due (until `stop()`), then return when the next post is due and
    whether the pass handled anything."""
    handled = False
    try:
        handled = bool(dispatcher.run_due(on_outcome=on_outcome, stop=stop, captures=False))
    except Exception:  # keep the clock running; the next tick tries again
        log.exception("dispatch pass failed")
    next_due = dispatcher.next_due_at()
    quiet = next_due is None or next_due - dispatcher.clock() >= timedelta(seconds=CAPTURE_QUIET_S)
    dispatcher.start_captures(unless_fewer_than=1 if quiet else CAPTURE_BACKLOG)
    return next_due, handled


class Worker:
    """Runs the dispatcher on APScheduler's clock until stopped (SIGTERM/SIGINT or `stop()`)."""

    def __init__(self, dispatcher: Dispatcher, *, interval_s: float = 30.0,
                 on_outcome: Callable[[Outcome], None] = lambda o: None,
                 extra_jobs: list[tuple[Callable[[], object], float, str]] | None = None,
                 clock: Callable[[], datetime] = lambda: datetime.now(UTC)) -> None:
        self.dispatcher = dispatcher
        self.clock = clock  # the dispatcher's clock: wake-ups are computed in its time
        self.interval_s = interval_s
        self.on_outcome = on_outcome
        self.extra_jobs = extra_jobs or []
        self.stopping = threading.Event()
        self.scheduler = BackgroundScheduler(
            # One dispatch pass at a time; harvesting runs beside it so it never delays a publish.
            executors={"default": ThreadPoolExecutor(1), "harvest": ThreadPoolExecutor(1)},
            job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": None},
            timezone=UTC,
        )

    def _dispatch(self) -> None:
        if self.stopping.is_set():
            return
        next_due, handled = dispatch_job(self.dispatcher, self.on_outcome, self.stopping.is_set)
        if next_due is None or self.stopping.is_set():
            return
        now = self.clock()
        if next_due - now < timedelta(seconds=self.interval_s):
            # Exactly at the due time: a post due 20 ms after the last one is not held back. Only a
            # pass that found nothing to send, although something looked due, waits a little.
            run_at = max(next_due, now if handled else now + timedelta(seconds=IDLE_WAKEUP_S))
            self.scheduler.add_job(self._dispatch, "date", run_date=run_at, id=WAKEUP_JOB,
                                   replace_existing=True)

    def start(self) -> None:
        self.scheduler.add_job(self._dispatch, "interval", seconds=self.interval_s, id="dispatch",
                               next_run_time=datetime.now(UTC))
        for func, every_s, job_id in self.extra_jobs:
            self.scheduler.add_job(func, "interval", seconds=every_s, id=job_id, executor="harvest",
                                   next_run_time=datetime.now(UTC))
        self.scheduler.start()

    def stop(self) -> None:
        """Finish the post in flight, give back the claims not sent yet, then stop."""
        self.stopping.set()

    def run_forever(self, *, install_signals: bool = True, until: float | None = None) -> None:
        """Block until stopped by a signal, `stop()`, or after `until` seconds."""
        if install_signals and threading.current_thread() is threading.main_thread():
            for sig in (signal.SIGTERM, signal.SIGINT):
                signal.signal(sig, lambda *_: self.stop())
        self.start()
        deadline = None if until is None else time.monotonic() + until
        try:
            while not self.stopping.wait(timeout=0.5):
                if deadline is not None and time.monotonic() >= deadline:
                    break
        finally:
            self.stopping.set()
            self.scheduler.shutdown(wait=True)


def run_worker(db, settings, *, once: bool = False, worker_id: str | None = None,  # type: ignore[no-untyped-def]
               out: Callable[[str], None] = print, until: float | None = None,
               dispatcher: Dispatcher | None = None, harvest: bool = True) -> int:
    """`outreach run`: publish what is due now (`once`), or keep publishing until stopped."""
    from outreach.cards import check_text_engine

    check_text_engine()  # fail at start-up, naming the missing package, not at 3 a.m. on an Arabic card
    dispatcher = dispatcher or Dispatcher(db, settings, worker_id=worker_id)

    def report(outcome: Outcome) -> None:
        out(outcome.line())

    if once:
        try:
            outcomes = dispatcher.run_due(on_outcome=report)
        finally:
            dispatcher.close(wait=True)
        if not outcomes:
            out("nothing due")
        return 0
    from outreach.publishing import health

    out(f"worker {dispatcher.worker_id} running; Ctrl-C stops it cleanly")
    jobs = service_jobs(db, settings, dispatcher.worker_id, out=out)
    from outreach.publishing.dispatcher import recorder_for

    harvest_recorder = recorder_for(settings) if harvest else None
    if harvest:
        jobs += harvest_jobs(db, settings, out=out, recorder=harvest_recorder)
    health.beat(db, dispatcher.worker_id, interval_s=settings.worker.heartbeat_interval_s, starting=True)
    worker = Worker(dispatcher, interval_s=settings.worker.dispatch_interval_s, on_outcome=report, extra_jobs=jobs)
    try:
        worker.run_forever(until=until)
    finally:
        dispatcher.close()
        if harvest_recorder is not None:
            harvest_recorder.close()
        health.stopped(db, dispatcher.worker_id)
    out(f"worker {dispatcher.worker_id} stopped")
    return 0


def harvest_jobs(db, settings, *, out: Callable[[str], None], recorder=None  # type: ignore[no-untyped-def]
                 ) -> list[tuple[Callable[[], object], float, str]]:
    """The worker's periodic evidence jobs: metrics snapshots (every few minutes; each post is only
    fetched when its cadence says so) and audience breakdowns (checked hourly, fetched daily)."""
    from outreach.harvest import audience_due, harvest_due
    from outreach.publishing.dispatcher import ConnectorCache

    # Its own connectors (and recorder): harvesting runs in its own thread.
    connectors = ConnectorCache(settings, recorder=recorder)

    def harvest() -> None:
        try:
            report = harvest_due(db, settings, connectors, now=datetime.now(UTC))
            if report.snapshots:
                for line in report.lines():
                    out(line)
        except Exception:
            log.exception("harvest pass failed")

    def audience() -> None:
        try:
            audience_due(db, settings, connectors, now=datetime.now(UTC))
        except Exception:
            log.exception("audience pass failed")

    every = settings.worker.harvest_interval_s
    return [(harvest, every, "harvest"), (audience, max(every, 3600.0), "audience")]


def service_jobs(db, settings, worker_id: str, *, out: Callable[[str], None]  # type: ignore[no-untyped-def]
                 ) -> list[tuple[Callable[[], object], float, str]]:
    """Heartbeat (so a monitor sees a dead worker) and alerts (incidents that need a person, sent once)."""
    from outreach.publishing import health
    from outreach.publishing.alerts import run_alerts
    from outreach.publishing.channels import maintain_tokens
    from outreach.publishing.dispatcher import ConnectorCache

    def heartbeat() -> None:
        try:
            health.beat(db, worker_id, interval_s=settings.worker.heartbeat_interval_s)
        except Exception:
            log.exception("heartbeat failed")

    def alerts() -> None:
        try:
            for line in run_alerts(db, settings).lines():
                out(line)
        except Exception:
            log.exception("alert pass failed")

    token_connectors = ConnectorCache(settings)

    def tokens() -> None:
        try:
            for result in maintain_tokens(db, settings, token_connectors):
                if not result.ok:
                    out(result.line())
        except Exception:
            log.exception("token pass failed")

    return [(heartbeat, settings.worker.heartbeat_interval_s, "heartbeat"),
            (alerts, settings.worker.alerts_interval_s, "alerts"),
            (tokens, 3600.0, "tokens")]
