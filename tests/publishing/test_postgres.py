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


def test_four_worker_processes_on_one_postgres_database(pg_db, serve_sandbox, tmp_path) -> None:  # type: ignore[no-untyped-def]
    """The deployment shape: N `outreach run` processes, one PostgreSQL database, zero duplicates."""
    import os
    import subprocess
    import sys
    from datetime import UTC, datetime

    from sqlalchemy import func, select

    from outreach.db.models import PublishAttempt
    from outreach.sandbox.mastodon import DEMO_TOKEN, MastodonSim

    sim = MastodonSim()
    sandbox, url = serve_sandbox(sim)
    sandbox.add_fault(platform="mastodon", mode="timeout_after", method="POST", path="/api/v1/statuses",
                      delay_s=0.05, times=None)  # 50 ms platform latency, well inside the client timeout
    config = tmp_path / "outreach.toml"
    config.write_text(f"""
state_dir = "{tmp_path / 'state'}"
[database]
url = "{pg_db.url}"
[channels.peer-mastodon]
platform = "mastodon"
base_url = "{url}/mastodon"
token_env = "PG_WORKERS_TOKEN"
""")
    now = datetime.now(UTC)
    ids = [add_post(pg_db, text=f"Vier werkers {i}", due_at=now - timedelta(seconds=1)) for i in range(160)]
    env = {**os.environ, "OUTREACH_CONFIG": str(config), "PG_WORKERS_TOKEN": DEMO_TOKEN}
    env.pop("OUTREACH_DATABASE_URL", None)
    workers = [subprocess.Popen([sys.executable, "-m", "outreach", "run", "--once", "--worker-id", f"pg-{n}"],
                                env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
               for n in range(4)]
    outputs = [w.communicate(timeout=240) for w in workers]
    assert all(w.returncode == 0 for w in workers), [err for _, err in outputs]
    published_lines = sum(out.count("· published ·") for out, _ in outputs)
    assert published_lines == 160
    counts = Counter(s["text"] for s in sim.state()["statuses"])
    assert len(counts) == 160 and set(counts.values()) == {1}
    with pg_db.session() as s:
        per_worker = dict(s.execute(select(PublishAttempt.worker, func.count()).group_by(PublishAttempt.worker)).all())
        attempts = s.scalar(select(func.count()).select_from(PublishAttempt))
    assert attempts == 160 and len(per_worker) >= 3, per_worker  # each post claimed once; work was shared
    assert all(get_post(pg_db, i).status == PostStatus.PUBLISHED for i in ids)
