"""The same dispatcher on a real PostgreSQL server: schema by migration, claims with SKIP LOCKED."""

from __future__ import annotations

import threading
from collections import Counter
from datetime import timedelta

import pytest

from outreach.domain import PostStatus
from tests.publishing.conftest import World, add_post, get_post

pytestmark = pytest.mark.postgres


@pytest.fixture
def pg_world(world, pg_db) -> World:  # type: ignore[no-untyped-def]
    world.db = pg_db
    return world


def test_concurrent_workers_share_the_queue_without_duplicates(pg_world) -> None:  # type: ignore[no-untyped-def]
    w = pg_world
    ids = [add_post(w.db, text=f"Gedeelde wachtrij {i}", due_at=w.clock.now - timedelta(seconds=i)) for i in range(40)]
    results: dict[str, list[int]] = {}

    def work(name: str) -> None:
        results[name] = [o.post_id for o in w.dispatcher(worker_id=name).run_due()]

    threads = [threading.Thread(target=work, args=(f"w{i}",)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    claimed = [pid for ids_ in results.values() for pid in ids_]
    assert sorted(claimed) == sorted(ids)  # every post claimed by exactly one worker
    assert sum(1 for r in results.values() if r) >= 2  # the work was really shared
    counts = Counter(s["text"] for s in w.statuses())
    assert len(counts) == 40 and set(counts.values()) == {1}
    assert all(get_post(w.db, i).status == PostStatus.PUBLISHED for i in ids)


def test_timeout_is_reconciled_on_postgres_too(pg_world) -> None:  # type: ignore[no-untyped-def]
    w = pg_world
    post_id = add_post(w.db, text="Postgres time-out", due_at=w.clock.now)
    w.sandbox.add_fault(platform="mastodon", mode="timeout_after", method="POST", path="/api/v1/statuses",
                        delay_s=1.5)
    assert w.dispatcher(timeout_s=0.4).run_due()[0].status == "retrying"
    w.clock.advance(minutes=5)
    assert "reconciled" in w.dispatcher().run_due()[0].detail
    assert len(w.statuses()) == 1 and get_post(w.db, post_id).status == PostStatus.PUBLISHED
