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

