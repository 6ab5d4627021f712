"""The six ways issue 14 found to publish twice or stall, each reproduced against the Mastodon
simulation over real HTTP (and real PostgreSQL where the race lives there)."""

from __future__ import annotations

import threading
import time
from datetime import timedelta

import pytest
from sqlalchemy import text

from outreach.config import ConfigError, parse_settings
from outreach.connectors import TransientError, connector_class
from outreach.db.models import Post
from outreach.domain import Platform, PostStatus
from outreach.planning.review import PostSelector, reschedule, retry
from outreach.publishing import Dispatcher
from tests.publishing.conftest import START, add_post, get_post, settings_for


def posts_sent(world) -> int:  # type: ignore[no-untyped-def]
    """Requests that could create a status, as the platform saw them."""
    return sum(1 for prefix, method, path in world.sandbox.requests_seen
               if prefix == "mastodon" and method == "POST" and path == "/api/v1/statuses")


@pytest.mark.parametrize("by_hand", ["retry", "reschedule"])
def test_1_retry_by_hand_after_an_ambiguous_failure_reconciles_the_whole_window(world, by_hand):  # type: ignore[no-untyped-def]
    post_id = add_post(world.db, text="Time-out, daarna met de hand opnieuw", due_at=world.clock.now)
    world.sandbox.add_fault(platform="mastodon", mode="timeout_after", method="POST", path="/api/v1/statuses",
                            delay_s=1.5)
    assert world.dispatcher(timeout_s=0.4).run_due()[0].status == "retrying"
    assert len(world.statuses()) == 1  # it exists
    world.sandbox.add_fault(platform="mastodon", mode="error", status=503, times=None)  # the instance is down
    status = "retrying"
    while status == "retrying":
        world.clock.advance(minutes=15)
        status = world.dispatcher().run_due()[0].status
    assert status == "failed"
    world.sandbox.clear_faults()
    world.clock.advance(hours=2)  # past the instance's one-hour Idempotency-Key window
    if by_hand == "retry":
        retry(world.db, PostSelector(ids=[post_id]), now=world.clock.now)
    else:
        reschedule(world.db, post_id, world.clock.now, now=world.clock.now)
    [outcome] = world.dispatcher().run_due()
    assert outcome.status == "published" and "reconciled" in outcome.detail
    assert len(world.statuses()) == 1
    post = get_post(world.db, post_id)
    assert post.may_exist_since is None  # settled: found on the platform


def test_1_the_may_exist_marker_says_since_when(world):  # type: ignore[no-untyped-def]
    post_id = add_post(world.db, text="Misschien geplaatst", due_at=world.clock.now)
    world.sandbox.add_fault(platform="mastodon", mode="reset_after", method="POST", path="/api/v1/statuses")
    claimed_at = world.clock.now
    assert world.dispatcher().run_due()[0].status == "retrying"
    post = get_post(world.db, post_id)
    assert post.may_exist_since == claimed_at and post.needs_reconcile


def test_2_first_post_of_a_batch_is_not_sent_on_a_lease_that_ran_out(world):  # type: ignore[no-untyped-def]
    post_id = add_post(world.db, text="Te laat voor de lease", due_at=world.clock.now)
    late = world.dispatcher(worker_id="late", lease_s=60)
    claims = late.claim(1)
    world.clock.advance(seconds=61)
    late.send_claimed(claims)
    assert posts_sent(world) == 0 and world.statuses() == []
    assert get_post(world.db, post_id).status == PostStatus.APPROVED  # given back, unsent


def test_2_not_sent_when_the_lease_cannot_outlast_the_request(world):  # type: ignore[no-untyped-def]
    add_post(world.db, text="Net niet genoeg tijd", due_at=world.clock.now)
    late = world.dispatcher(worker_id="late", lease_s=60, timeout_s=2.0)
    claims = late.claim(1)
    world.clock.advance(seconds=57)  # 3 s left; one request may take 2 × 2 s
    late.send_claimed(claims)
    assert posts_sent(world) == 0


def test_2_a_worker_whose_lease_was_taken_over_does_not_send(world):  # type: ignore[no-untyped-def]
    post_id = add_post(world.db, text="Overgenomen", due_at=world.clock.now)
    slow = world.dispatcher(worker_id="slow", lease_s=60)
    claims = slow.claim(1)
    world.clock.advance(seconds=61)
    assert world.dispatcher(worker_id="fast").run_due()[0].status == "published"
    slow.send_claimed(claims)
    assert posts_sent(world) == 1 and len(world.statuses()) == 1
    assert get_post(world.db, post_id).status == PostStatus.PUBLISHED


def test_3_a_success_answer_without_an_id_is_ambiguous_not_a_failure(world):  # type: ignore[no-untyped-def]
    post_id = add_post(world.db, text="Vreemd antwoord", due_at=world.clock.now)
    world.sandbox.add_fault(platform="mastodon", mode="garble_after", method="POST", path="/api/v1/statuses",
                            status=200, body={"unexpected": True})
    [first] = world.dispatcher().run_due()
    assert first.status == "retrying"
    assert get_post(world.db, post_id).needs_reconcile
    world.clock.advance(minutes=5)
    [second] = world.dispatcher().run_due()
    assert second.status == "published" and "reconciled" in second.detail
    assert len(world.statuses()) == 1


def test_3_an_unknown_platform_is_a_configuration_error() -> None:
    for platform in ("snapchat", Platform.MANUAL):
        with pytest.raises(ConfigError, match=f"no connector for platform {platform}"):
            connector_class(platform)


def test_4_a_failed_result_write_does_not_stall_the_worker(world):  # type: ignore[no-untyped-def]
    post_id = add_post(world.db, text="Database hapert", due_at=world.clock.now)
    with world.db.engine.begin() as conn:  # the database refuses the result (a real failure, in SQLite)
        conn.execute(text("CREATE TRIGGER refuse BEFORE UPDATE ON posts WHEN NEW.status = 'published' "
                          "BEGIN SELECT RAISE(ABORT, 'disk I/O error'); END"))
    worker = world.dispatcher(lease_s=60)
    with pytest.raises(Exception, match="disk I/O error"):
        worker.run_due()
    with world.db.engine.begin() as conn:
        conn.execute(text("DROP TRIGGER refuse"))
    assert get_post(world.db, post_id).status == PostStatus.PUBLISHING  # it waits for its lease
    world.clock.advance(seconds=61)
    assert worker.next_due_at() <= world.clock.now
    [outcome] = worker.run_due()  # the same worker takes it back and reconciles
    assert outcome.status == "published" and "reconciled" in outcome.detail
    assert len(world.statuses()) == 1


def test_5_handle_write_is_fenced_on_sqlite(world):  # type: ignore[no-untyped-def]
    add_post(world.db, text="Handle na overname", due_at=world.clock.now)
    slow = world.dispatcher(worker_id="slow", lease_s=60)
    [claim] = slow.claim(1)
    world.clock.advance(seconds=61)
    world.dispatcher(worker_id="fast").claim(1)
    with pytest.raises(TransientError, match="lease lost"):
        slow._save_handle(claim, {"media_ids": ["1"]})
    slow.close()


@pytest.mark.postgres
def test_5_handle_write_is_fenced_in_one_statement_on_postgres(world, pg_db):  # type: ignore[no-untyped-def]
    world.db = pg_db
    post_id = add_post(world.db, text="Overname tijdens het schrijven", due_at=world.clock.now)
    slow = world.dispatcher(worker_id="slow", lease_s=60)
    [claim] = slow.claim(1)
    failure: list[BaseException] = []

    def save() -> None:
        try:
            slow._save_handle(claim, {"media_ids": ["1"]})
        except BaseException as exc:
            failure.append(exc)

    with pg_db.engine.connect() as other:  # another worker takes the post over, not yet committed
        other.execute(text("UPDATE posts SET lease_token = 'theirs' WHERE id = :id"), {"id": post_id})
        writer = threading.Thread(target=save)
        writer.start()
        for _ in range(200):  # until the handle write waits for the other worker's row lock
            waiting = other.execute(text("SELECT count(*) FROM pg_stat_activity "
                                         "WHERE wait_event_type = 'Lock' AND datname = current_database()"))
            if waiting.scalar() or not writer.is_alive():
                break
            time.sleep(0.05)
        other.commit()
    writer.join(timeout=30)
    slow.close()
    assert failure and isinstance(failure[0], TransientError) and "lease lost" in str(failure[0])
    assert get_post(world.db, post_id).handle in ({}, None)


def test_6_a_request_that_can_outlive_the_lease_is_refused_at_start(world):  # type: ignore[no-untyped-def]
    settings = parse_settings({"worker": {"lease_s": 20, "http_timeout_s": 30}}, source="outreach.toml")
    with pytest.raises(ConfigError) as info:
        Dispatcher(world.db, settings, clock=world.clock)
    message = str(info.value)
    assert "worker.lease_s" in message and "worker.http_timeout_s" in message and "\n" not in message


def test_defaults_recover_a_killed_worker_within_45_seconds(world):  # type: ignore[no-untyped-def]
    """kill -9 after the platform accepted, with the default lease: out (reconciled) within 45 s."""
    defaults = settings_for(world.url)
    assert defaults.worker.lease_s <= 40
    add_post(world.db, text="Worker gekilld", due_at=world.clock.now)
    killed = Dispatcher(world.db, defaults, worker_id="killed", clock=world.clock,
                        connectors=world.dispatcher().connectors)
    [claim] = killed.claim(1)
    assert killed.send_one(claim) is not None  # the platform accepts; the worker dies before it records
    killed.leases.close()  # nobody renews the lease any more
    assert len(world.statuses()) == 1
    survivor = Dispatcher(world.db, defaults, worker_id="survivor", clock=world.clock,
                          connectors=world.dispatcher().connectors)
    wake = survivor.next_due_at()
    assert wake is not None and wake - START <= timedelta(seconds=45)
    world.clock.set(wake)
    [outcome] = survivor.run_due()
    assert outcome.status == "published" and "reconciled" in outcome.detail
    assert len(world.statuses()) == 1


def test_6_outreach_run_refuses_such_a_config_naming_the_keys(tmp_path, capsys):  # type: ignore[no-untyped-def]
    from outreach.cli import main
    from outreach.errors import ExitCode

    config = tmp_path / "outreach.toml"
    config.write_text(f'[database]\nurl = "sqlite:///{tmp_path / "o.db"}"\n[worker]\nlease_s = 20\nhttp_timeout_s = 30\n')
    assert main(["--config", str(config), "init"]) == 0
    assert main(["--config", str(config), "run", "--once"]) == ExitCode.CONFIG
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "worker.lease_s" in err[0] and "worker.http_timeout_s" in err[0]


def test_held_leases_are_renewed_and_a_lost_one_is_not(world):  # type: ignore[no-untyped-def]
    first = add_post(world.db, text="Lange upload", due_at=world.clock.now)
    second = add_post(world.db, text="Overgenomen upload", due_at=world.clock.now)
    worker = world.dispatcher(worker_id="w", lease_s=60)
    [claim_1] = worker.claim(1)
    [claim_2] = worker.claim(1)
    world.clock.advance(seconds=45)  # 15 s left: too little for a request (2 × 10 s)
    assert not worker.leases.can_send(claim_1.lease_token, worker.request_s)
    with world.db.engine.begin() as conn:  # another worker took the second post over
        conn.execute(text("UPDATE posts SET lease_token = 'theirs' WHERE id = :id"), {"id": second})
    assert worker.leases.renew() == 1
    assert get_post(world.db, first).lease_until == world.clock.now + timedelta(seconds=60)
    assert get_post(world.db, second).lease_until == START + timedelta(seconds=60)
    assert worker.leases.can_send(claim_1.lease_token, worker.request_s)
    assert not worker.leases.can_send(claim_2.lease_token, worker.request_s)
    worker.send_claimed([claim_1, claim_2])
    assert posts_sent(world) == 1 and [s["text"] for s in world.statuses()] == ["Lange upload"]


def test_the_renewer_keeps_a_slow_publish_alive_in_real_time(serve_sandbox, sqlite_db, monkeypatch):  # type: ignore[no-untyped-def]
    """A short real run: a 4.5 s lease, and a publish of five requests of 1.3 s each (a reconcile
    paging through the account, then the status). Without renewal the status could not be sent on
    that lease; renewed meanwhile, it goes out once and is recorded."""
    from datetime import UTC, datetime

    from outreach.sandbox.mastodon import DEMO_TOKEN, MastodonSim

    sim = MastodonSim()
    sandbox, url = serve_sandbox(sim)
    monkeypatch.setenv("TEST_MASTODON_TOKEN", DEMO_TOKEN)
    settings = parse_settings({"worker": {"lease_s": 4.5, "http_timeout_s": 1.5},
                               "channels": {"peer-mastodon": {"platform": "mastodon", "base_url": f"{url}/mastodon",
                                                              "token_env": "TEST_MASTODON_TOKEN"}}}, source="test")
    worker = Dispatcher(sqlite_db, settings, worker_id="real")
    for i in range(41):  # two pages and an empty one for the reconcile to read
        add_post(sqlite_db, text=f"Eerder bericht {i}", due_at=datetime.now(UTC))
    worker.run_due()
    post_id = add_post(sqlite_db, text="Echte tijd", due_at=datetime.now(UTC))
    with sqlite_db.write() as s:
        s.get(Post, post_id).needs_reconcile = True
    handle = sim.handle

    def slow(req):  # type: ignore[no-untyped-def]
        time.sleep(1.3)
        return handle(req)

    sim.handle = slow
    try:
        outcomes = worker.run_due()
    finally:
        worker.close()
    assert [o.status for o in outcomes] == ["published"]
    assert [s["text"] for s in sim.state()["statuses"]].count("Echte tijd") == 1


def test_a_failed_read_after_the_write_is_reconciled_not_sent_again(serve_sandbox, sqlite_db, monkeypatch):  # type: ignore[no-untyped-def]
    """Facebook: the post is created, then reading its permalink drops. With Meta's duplicate check
    off, only outreach's reconcile stands between this and a second post."""
    from outreach.publishing import ConnectorCache
    from outreach.sandbox import facebook
    from outreach.sandbox.facebook import FacebookSim
    from tests.clock import FakeClock

    clock = FakeClock(START)
    sandbox, url = serve_sandbox(FacebookSim(clock=clock))
    sandbox.set_guards(False)
    monkeypatch.setenv("TEST_FACEBOOK_TOKEN", facebook.DEMO_TOKEN)
    settings = parse_settings({"channels": {"peer-facebook": {
        "platform": "facebook", "base_url": f"{url}/facebook", "page_id": facebook.PAGE_ID,
        "token_env": "TEST_FACEBOOK_TOKEN"}}}, source="test")
    post_id = add_post(sqlite_db, text="Gelezen na het schrijven", due_at=clock.now, channel="peer-facebook",
                       platform="facebook")
    sandbox.add_fault(platform="facebook", mode="reset_after", method="GET", path=f"{facebook.PAGE_ID}_")

    def worker() -> Dispatcher:
        return Dispatcher(sqlite_db, settings, clock=clock, connectors=ConnectorCache(settings, clock=clock))

    assert worker().run_due()[0].status == "retrying"
    assert get_post(sqlite_db, post_id).may_exist_since == START
    clock.advance(minutes=5)
    [outcome] = worker().run_due()
    assert outcome.status == "published" and "reconciled" in outcome.detail
    assert len(sandbox.sims["facebook"].state()["posts"]) == 1
