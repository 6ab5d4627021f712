"""The dispatcher against the Mastodon simulation over real HTTP: exactly once, retries, reconcile."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import func, select

from outreach.db.models import ChannelState, Post, PublishAttempt
from outreach.domain import PostStatus
from outreach.planning.review import PostSelector, approve, retry
from outreach.sandbox.mastodon import DEMO_TOKEN
from tests.publishing.conftest import START, add_post, get_post


def attempts(db, post_id):  # type: ignore[no-untyped-def]
    with db.session() as s:
        return list(s.scalars(select(PublishAttempt).where(PublishAttempt.post_id == post_id)
                              .order_by(PublishAttempt.number)))


def test_due_posts_are_published_exactly_once(world):  # type: ignore[no-untyped-def]
    ids = [add_post(world.db, text=f"Bijeenkomst {i} in Rotterdam", due_at=world.clock.now - timedelta(minutes=i))
           for i in range(5)]
    later = add_post(world.db, text="Nog niet", due_at=world.clock.now + timedelta(hours=1))
    outcomes = world.dispatcher().run_due()
    assert sorted(o.post_id for o in outcomes) == sorted(ids)
    assert {o.status for o in outcomes} == {"published"}
    assert world.dispatcher().run_due() == []  # nothing is published twice
    texts = [s["text"] for s in world.statuses()]
    assert sorted(texts) == sorted(f"Bijeenkomst {i} in Rotterdam" for i in range(5))
    for post_id in ids:
        post = get_post(world.db, post_id)
        assert post.status == PostStatus.PUBLISHED
        assert post.remote_url and post.remote_id
        assert [a.outcome for a in attempts(world.db, post_id)] == ["published"]
    assert get_post(world.db, later).status == PostStatus.APPROVED
    line = outcomes[0].line()
    assert line.startswith(f"post {outcomes[0].post_id} · peer-mastodon · nl · published · http")


def test_unapproved_post_is_never_published(world):  # type: ignore[no-untyped-def]
    post_id = add_post(world.db, text="Wacht op review", due_at=world.clock.now - timedelta(hours=1),
                       status=PostStatus.PENDING_REVIEW, approval_required=True)
    assert world.dispatcher().run_due() == []
    assert world.statuses() == []
    approve(world.db, PostSelector(ids=[post_id]), reviewer="Reviewer A")
    assert [o.status for o in world.dispatcher().run_due()] == ["published"]


def test_timeout_after_creation_is_reconciled_not_duplicated(world):  # type: ignore[no-untyped-def]
    post_id = add_post(world.db, text="Time-out na het plaatsen", due_at=world.clock.now)
    world.sandbox.add_fault(platform="mastodon", mode="timeout_after", method="POST", path="/api/v1/statuses",
                            delay_s=1.5)
    [first] = world.dispatcher(timeout_s=0.4).run_due()
    assert first.status == "retrying"
    post = get_post(world.db, post_id)
    assert post.needs_reconcile and post.status == PostStatus.RETRYING
    assert len(world.statuses()) == 1  # the platform did create it
    world.clock.advance(minutes=5)
    [second] = world.dispatcher().run_due()
    assert second.status == "published" and "reconciled" in second.detail
    assert len(world.statuses()) == 1
    assert [a.outcome for a in attempts(world.db, post_id)] == ["retry", "reconciled"]
    assert get_post(world.db, post_id).remote_id == world.statuses()[0]["id"]


def test_dropped_connection_after_creation_is_reconciled(world):  # type: ignore[no-untyped-def]
    post_id = add_post(world.db, text="Verbinding weg", due_at=world.clock.now)
    world.sandbox.add_fault(platform="mastodon", mode="reset_after", method="POST", path="/api/v1/statuses")
    assert world.dispatcher().run_due()[0].status == "retrying"
    world.clock.advance(minutes=5)
    assert world.dispatcher().run_due()[0].status == "published"
    assert len(world.statuses()) == 1
    assert get_post(world.db, post_id).status == PostStatus.PUBLISHED


def test_rate_limit_waits_for_the_reset_and_blocks_the_channel(world):  # type: ignore[no-untyped-def]
    first = add_post(world.db, text="Eerste", due_at=world.clock.now)
    second = add_post(world.db, text="Tweede", due_at=world.clock.now + timedelta(seconds=1))
    world.sandbox.add_fault(platform="mastodon", mode="rate_limit", method="POST", path="/api/v1/statuses",
                            retry_after_s=120)
    outcomes = world.dispatcher().run_due()
    assert [o.status for o in outcomes] == ["retrying"]
    post = get_post(world.db, first)
    assert post.next_attempt_at == world.clock.now + timedelta(seconds=120)
    with world.db.session() as s:
        assert s.get(ChannelState, "peer-mastodon").blocked_until == post.next_attempt_at
    seen = len(world.sandbox.requests_seen)
    world.clock.advance(seconds=61)  # second post is due, but the channel is blocked
    assert world.dispatcher().run_due() == []
    assert len(world.sandbox.requests_seen) == seen  # not one request before the reset
    world.clock.advance(seconds=60)
    assert sorted(o.post_id for o in world.dispatcher().run_due()) == [first, second]
    assert len(world.statuses()) == 2


def test_rejected_content_fails_with_the_platforms_message(world):  # type: ignore[no-untyped-def]
    post_id = add_post(world.db, text="   ", due_at=world.clock.now)
    [outcome] = world.dispatcher().run_due()
    assert outcome.status == "failed"
    post = get_post(world.db, post_id)
    assert post.status == PostStatus.FAILED and post.error_kind == "rejected"
    assert "Text can't be blank" in post.last_error
    assert world.statuses() == []


def test_revoked_token_fails_naming_the_channel_and_pauses_it(world, serve_sandbox):  # type: ignore[no-untyped-def]
    world.sim.control("revoke", {"token": DEMO_TOKEN})
    first = add_post(world.db, text="Eerste", due_at=world.clock.now)
    second = add_post(world.db, text="Tweede", due_at=world.clock.now)
    [outcome] = world.dispatcher().run_due()  # the second post waits: the channel is paused
    assert outcome.status == "failed" and outcome.post_id == first
    post = get_post(world.db, first)
    assert "peer-mastodon" in post.last_error and DEMO_TOKEN not in post.last_error
    assert post.error_kind == "auth"
    assert get_post(world.db, second).status == PostStatus.APPROVED
    # A new token, then retry: both go out.
    world.sim.control("add_token", {"token": "fresh-token-123", "username": "sandbox_peer"})
    import os

    os.environ["TEST_MASTODON_TOKEN"] = "fresh-token-123"
    retry(world.db, PostSelector(ids=[first]))
    assert sorted(o.post_id for o in world.dispatcher().run_due()) == [first, second]


def test_transient_errors_back_off_then_give_up(world):  # type: ignore[no-untyped-def]
    post_id = add_post(world.db, text="Server problemen", due_at=world.clock.now)
    world.sandbox.add_fault(platform="mastodon", mode="error", method="POST", path="/api/v1/statuses",
                            status=503, body={"error": "There was a temporary problem serving your request"},
                            times=None)
    delays = []
    for _ in range(4):
        [outcome] = world.dispatcher().run_due()
        post = get_post(world.db, post_id)
        if outcome.status == "retrying":
            delays.append((post.next_attempt_at - world.clock.now).total_seconds())
            world.clock.now = post.next_attempt_at
    assert delays == [60, 120, 240]
    assert outcome.status == "failed" and "gave up after 4 attempts" in outcome.detail
    assert world.statuses() == []


def test_worker_that_lost_its_lease_cannot_overwrite(world):  # type: ignore[no-untyped-def]
    post_id = add_post(world.db, text="Lease verlopen", due_at=world.clock.now)
    slow = world.dispatcher(worker_id="slow", lease_s=60)
    [claim] = slow.claim(1)
    sent = slow.send_one(claim)  # the slow worker's request goes out, then it hangs past its lease
    assert sent is not None
    world.clock.advance(seconds=61)
    fast = world.dispatcher(worker_id="fast")
    [outcome] = fast.run_due()
    assert outcome.status == "published" and "reconciled" in outcome.detail
    [late] = slow._write([sent])  # the slow worker wakes up: it cannot record over the other's result
    assert late.status == "lost_lease"
    assert slow.send_one(claim) is None  # nor send again
    post = get_post(world.db, post_id)
    statuses = world.statuses()
    assert len(statuses) == 1
    assert post.status == PostStatus.PUBLISHED and post.remote_id == statuses[0]["id"]
    assert post.lease_owner is None


def test_manual_channel_becomes_to_post_by_hand(world):  # type: ignore[no-untyped-def]
    from outreach.planning.review import confirm_manual

    post_id = add_post(world.db, text="Deel dit in de groepsapp", due_at=world.clock.now,
                       channel="peer-whatsapp", platform="manual")
    [outcome] = world.dispatcher().run_due()
    assert outcome.status == "manual_due"
    assert get_post(world.db, post_id).status == PostStatus.MANUAL_DUE
    confirm_manual(world.db, post_id, permalink="https://chat.example/p/1", confirmed_by="Vrijwilliger", reach=42)
    post = get_post(world.db, post_id)
    assert post.status == PostStatus.PUBLISHED and post.remote_url == "https://chat.example/p/1"


def test_reschedule_moves_an_unpublished_post_and_requeues_a_failed_one(world):  # type: ignore[no-untyped-def]
    import pytest

    from outreach.planning.review import ReviewError, reschedule

    post_id = add_post(world.db, text="   ", due_at=world.clock.now)
    world.dispatcher().run_due()
    assert get_post(world.db, post_id).status == PostStatus.FAILED
    later = world.clock.now + timedelta(days=2)
    result = reschedule(world.db, post_id, later)
    post = get_post(world.db, post_id)
    assert post.status == PostStatus.APPROVED and post.due_at == later and post.attempt_budget_from == post.attempts == 1
    assert result.before == "failed"
    assert world.dispatcher().run_due() == []  # not before its new time
    published = add_post(world.db, text="Al gepubliceerd", due_at=world.clock.now)
    world.dispatcher().run_due()
    with pytest.raises(ReviewError, match="only posts not yet out"):
        reschedule(world.db, published, later)


def test_a_rate_limit_mid_batch_gives_the_channels_other_claims_back_unsent(world):  # type: ignore[no-untyped-def]
    ids = [add_post(world.db, text=f"Bericht {i}", due_at=world.clock.now) for i in range(3)]
    manual = add_post(world.db, text="Deel dit in de groepsapp", due_at=world.clock.now,
                      channel="peer-whatsapp", platform="manual")
    world.sandbox.add_fault(platform="mastodon", mode="rate_limit", method="POST", path="/api/v1/statuses",
                            retry_after_s=120)
    outcomes = world.dispatcher().run_due()  # one batch holds all four
    assert sorted((o.post_id, o.status) for o in outcomes) == [(ids[0], "retrying"), (manual, "manual_due")]
    sent = [r for r in world.sandbox.request_log if r[1] == "POST" and r[2] == "/api/v1/statuses"]
    assert len(sent) == 1  # nothing sent after the 429
    for post_id in ids[1:]:  # as if never claimed: approved, no attempt counted, no attempt row
        post = get_post(world.db, post_id)
        assert (post.status, post.attempts, post.lease_token) == (PostStatus.APPROVED, 0, None)
        assert attempts(world.db, post_id) == []
    world.clock.advance(seconds=121)
    assert sorted(o.post_id for o in world.dispatcher().run_due()) == ids
    assert len(world.statuses()) == 3


def test_a_rate_limit_gives_back_the_claim_taken_ahead_as_well(world):  # type: ignore[no-untyped-def]
    ids = [add_post(world.db, text=f"Achterstand {i}", due_at=world.clock.now) for i in range(10)]
    # Claims grow 1, 1, 2 and, while the two are sent, four more are claimed ahead. The fourth status
    # meets a 429: the claims not sent (the four taken ahead) go back, the last two were never taken.
    world.sandbox.add_fault(platform="mastodon", mode="rate_limit", method="POST", path="/api/v1/statuses",
                            retry_after_s=120, after=3)
    outcomes = world.dispatcher().run_due()
    assert [(o.post_id, o.status) for o in outcomes] == [
        *((i, "published") for i in ids[:3]), (ids[3], "retrying")]
    assert len(world.statuses()) == 3
    for post_id in ids[4:]:
        post = get_post(world.db, post_id)
        assert (post.status, post.attempts, post.lease_token) == (PostStatus.APPROVED, 0, None)
        assert attempts(world.db, post_id) == []
    world.clock.advance(seconds=121)
    assert sorted(o.post_id for o in world.dispatcher().run_due()) == ids[3:]
    assert len(world.statuses()) == 10


def test_a_batch_sends_only_while_the_lease_outlasts_a_request(world):  # type: ignore[no-untyped-def]
    ids = [add_post(world.db, text=f"Traag {i}", due_at=world.clock.now) for i in range(7)]
    # The platform takes 100 s (of test time) per status. Claims grow 1, 1, 2, 4 (from the second on,
    # taken ahead while the one before is sent); a post is sent only while its 300 s lease has more
    # left than one request may take (2 × http_timeout_s = 20 s). Others are given back and claimed afresh.
    handle = world.sim.handle
    sent_at: dict[str | None, datetime] = {}

    def slow_platform(req):  # type: ignore[no-untyped-def]
        if req.method == "POST" and req.path == "/api/v1/statuses":
            sent_at[req.param("status")] = world.clock.now
            world.clock.advance(seconds=100)
        return handle(req)

    world.sim.handle = slow_platform
    outcomes = world.dispatcher(lease_s=300).run_due()
    assert sorted(o.post_id for o in outcomes if o.status == "published") == ids
    assert len(world.statuses()) == 7
    for post_id in ids:
        [attempt] = attempts(world.db, post_id)  # given back unsent: no attempt counted, none left behind
        assert (sent_at[get_post(world.db, post_id).text] - attempt.started_at).total_seconds() < 300 - 20
    claimed = sorted({(attempts(world.db, i)[0].started_at - START).total_seconds() for i in ids})
    assert claimed[:2] == [0, 100] and len(claimed) < len(ids)  # claims grew past one post


def test_the_claim_query_is_served_by_the_ready_index(world):  # type: ignore[no-untyped-def]
    """On SQLite the due-post claim walks ix_posts_ready in order: no sort of the whole backlog."""
    dispatcher = world.dispatcher()
    due = dispatcher.sql.due
    assert "INDEXED BY ix_posts_ready" in due.sql
    args = tuple(due.parameters({"now": world.clock.now, "n": 10}))
    with world.db.engine.connect() as conn:
        plan = " ".join(row[3] for row in conn.exec_driver_sql(f"EXPLAIN QUERY PLAN {due.sql}", args))
    assert "ix_posts_ready" in plan and "TEMP B-TREE" not in plan


def test_asked_to_stop_it_finishes_the_post_in_flight_and_gives_back_the_rest(world):  # type: ignore[no-untyped-def]
    ids = [add_post(world.db, text=f"Stop {i}", due_at=world.clock.now) for i in range(5)]
    outcomes = world.dispatcher().run_due(stop=lambda: len(world.statuses()) >= 2)  # SIGTERM after two
    assert sorted(o.post_id for o in outcomes) == ids[:2] and len(world.statuses()) == 2
    for post_id in ids[2:]:
        post = get_post(world.db, post_id)
        assert (post.status, post.attempts, post.lease_token) == (PostStatus.APPROVED, 0, None)
    assert sorted(o.post_id for o in world.dispatcher().run_due()) == ids[2:]  # nothing waits for a lease


def test_on_a_slow_platform_claims_stay_at_one_post(world):  # type: ignore[no-untyped-def]
    """Batches pay off where a claim costs much next to a request; where a request takes longer than a
    batch's worth of work (BATCH_WORK_S), a worker claims one post at a time, so one that dies holds
    back only the post in flight."""
    ids = [add_post(world.db, text=f"Langzaam {i}", due_at=world.clock.now) for i in range(5)]
    world.sandbox.add_fault(platform="mastodon", mode="timeout_after", method="POST", path="/api/v1/statuses",
                            delay_s=0.3, times=None)  # each status answered 0.3 s late (the client waits 2 s)
    handle = world.sim.handle
    claimed: list[int] = []

    def platform(req):  # type: ignore[no-untyped-def]
        if req.method == "POST" and req.path == "/api/v1/statuses":
            with world.db.session() as s:  # posts claimed while this one is being sent
                claimed.append(s.scalar(select(func.count()).where(Post.status == PostStatus.PUBLISHING.value)))
        return handle(req)

    world.sim.handle = platform
    assert sorted(o.post_id for o in world.dispatcher().run_due()) == ids
    # This one, and the one before it while its result is written (within ~50 ms): never a batch.
    assert len(claimed) == 5 and max(claimed) <= 2, claimed
