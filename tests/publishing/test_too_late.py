"""An announcement is not published after the meeting it announces began: a worker that was down for a
day must not post "kom morgen naar Rotterdam" about yesterday. A post that may already be on the platform
is still looked for (evidence first); only a send is refused. Posts due after the start (a recap) go late."""

from __future__ import annotations

from datetime import timedelta

from outreach.analytics import needs_attention
from outreach.db.models import Campaign, Meeting, Organisation, Post
from outreach.domain import PostStatus
from tests.publishing.conftest import add_post, get_post


def _meeting_in(world, hours: float) -> int:  # type: ignore[no-untyped-def]
    with world.db.write() as s:
        org = Organisation(code="IOT", name="Inspraakorgaan Turken")
        campaign = Campaign(slug="voorjaar", name="Voorjaar", timezone="Europe/Amsterdam")
        s.add_all([org, campaign])
        s.flush()
        meeting = Meeting(campaign_id=campaign.id, key="iot-rotterdam", kind="community", organisation=org,
                          community="Turkse Nederlanders", city="Rotterdam", venue="Wijkcentrum",
                          starts_at=world.clock.now + timedelta(hours=hours))
        s.add(meeting)
        s.flush()
        return meeting.id


def _about(world, meeting_id: int, text: str, due_in_h: float) -> int:  # type: ignore[no-untyped-def]
    post_id = add_post(world.db, text=text, due_at=world.clock.now + timedelta(hours=due_in_h))
    with world.db.write() as s:
        s.get(Post, post_id).meeting_id = meeting_id  # type: ignore[union-attr]
    return post_id


def test_an_announcement_due_before_the_meeting_is_not_sent_after_it_began(world):  # type: ignore[no-untyped-def]
    meeting = _meeting_in(world, hours=2)
    announce = _about(world, meeting, "Kom vanavond naar Rotterdam", due_in_h=-1)
    recap = _about(world, meeting, "Terugblik op Rotterdam", due_in_h=3)
    world.clock.advance(hours=24)  # the worker was down for a day
    outcomes = {o.post_id: o for o in world.dispatcher().run_due()}
    assert outcomes[recap].status == "published"
    assert outcomes[announce].status == "failed"
    post = get_post(world.db, announce)
    assert post.status == PostStatus.FAILED and "the meeting it is about began" in (post.last_error or "")
    assert [s["text"] for s in world.statuses()] == ["Terugblik op Rotterdam"]  # nothing late about the evening
    assert [(i.what, i.post_id) for i in needs_attention(world.db, now=world.clock.now)] == [("too_late", announce)]


def test_an_announcement_in_time_is_sent(world):  # type: ignore[no-untyped-def]
    meeting = _meeting_in(world, hours=2)
    announce = _about(world, meeting, "Kom vanavond naar Rotterdam", due_in_h=-0.5)
    assert [o.status for o in world.dispatcher().run_due()] == ["published"]
    assert get_post(world.db, announce).status == PostStatus.PUBLISHED


def test_an_announcement_that_may_exist_is_still_found_after_the_meeting(world):  # type: ignore[no-untyped-def]
    """Evidence first: a timeout after the platform created it, then the meeting passes: the post is
    found and recorded as published, not failed as too late (and not sent again)."""
    meeting = _meeting_in(world, hours=1)
    announce = _about(world, meeting, "Kom over een uur", due_in_h=0)
    world.sandbox.add_fault(platform="mastodon", mode="timeout_after", method="POST", path="/api/v1/statuses",
                            delay_s=1.5)
    [first] = world.dispatcher(timeout_s=0.4).run_due()
    assert first.status == "retrying"
    world.clock.advance(hours=3)
    [second] = world.dispatcher().run_due()
    assert second.status == "published" and "reconciled" in second.detail
    assert len(world.statuses()) == 1 and get_post(world.db, announce).status == PostStatus.PUBLISHED


def test_an_announcement_that_was_not_created_is_not_sent_after_the_meeting(world):  # type: ignore[no-untyped-def]
    meeting = _meeting_in(world, hours=1)
    announce = _about(world, meeting, "Kom over een uur", due_in_h=0)
    world.sandbox.add_fault(platform="mastodon", mode="timeout_before", method="POST", path="/api/v1/statuses",
                            delay_s=1.5)
    [first] = world.dispatcher(timeout_s=0.4).run_due()
    assert first.status == "retrying" and world.statuses() == []
    world.clock.advance(hours=3)
    [second] = world.dispatcher().run_due()
    assert second.status == "failed" and world.statuses() == []
    assert "the meeting it is about began" in (get_post(world.db, announce).last_error or "")
