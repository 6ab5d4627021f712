"""The worker's clock wakes the dispatcher exactly when the next post is due (P2 lateness): after a
pass that sent something there is no minimum pause (only a pass that sent nothing waits
`IDLE_WAKEUP_S`, so a post that looks due but cannot be claimed does not make it spin)."""

from __future__ import annotations

from datetime import timedelta

from outreach.sandbox.mastodon import DEMO_TOKEN
from outreach.scheduler import WAKEUP_JOB, Worker
from tests.publishing.conftest import add_post


def test_a_post_due_20_ms_after_the_last_wakes_the_worker_at_its_due_time(world, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("TEST_MASTODON_TOKEN", DEMO_TOKEN)
    add_post(world.db, text="Nu", due_at=world.clock.now)
    soon = world.clock.now + timedelta(milliseconds=20)
    add_post(world.db, text="Zo meteen", due_at=soon)
    worker = Worker(world.dispatcher(), clock=world.clock)
    worker._dispatch()
    assert [s["text"] for s in world.statuses()] == ["Nu"]
    job = worker.scheduler.get_job(WAKEUP_JOB)
    assert job is not None and job.trigger.run_date == soon  # not held back to now + 50 ms



def test_permalink_captures_wait_until_no_post_is_due_soon(world, monkeypatch, tmp_path) -> None:  # type: ignore[no-untyped-def]
    """Evidence fetching competes with a due post for the CPU: it starts when nothing is due within
    CAPTURE_QUIET_S (or once CAPTURE_BACKLOG wait), never between two posts due 0.5 s apart."""
    from outreach.archive.captures import WarcRecorder
    from outreach.publishing import ConnectorCache, Dispatcher
    from tests.publishing.conftest import _NoCredentials

    monkeypatch.setenv("TEST_MASTODON_TOKEN", DEMO_TOKEN)
    recorder = WarcRecorder(tmp_path / "warc")
    connectors = ConnectorCache(world.settings, clock=world.clock, credentials=_NoCredentials(), recorder=recorder)
    dispatcher = Dispatcher(world.db, world.settings, worker_id="w1", clock=world.clock, connectors=connectors)
    add_post(world.db, text="Nu", due_at=world.clock.now)
    add_post(world.db, text="Zo", due_at=world.clock.now + timedelta(seconds=0.5))
    worker = Worker(dispatcher, clock=world.clock)
    worker._dispatch()
    assert len(dispatcher._pending_captures) == 1 and dispatcher._captures is None  # the next post is near
    world.clock.advance(seconds=0.5)
    worker._dispatch()
    assert dispatcher._pending_captures == [] and dispatcher._captures is not None  # quiet: both go
    dispatcher.close(wait=True)
