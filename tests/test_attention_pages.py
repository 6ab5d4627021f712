"""What needs attention, counted and paged by the database: a page of the list reads only its own posts, and the
pages together are the whole list in its order (posts stuck, channels, rejected posts, harvest errors)."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import update

from outreach import analytics
from outreach.db.models import ChannelState, Post
from outreach.domain import PostStatus
from tests.test_analytics import NOW, add_post


def test_pages_of_attention_are_the_whole_list_in_order(sqlite_db) -> None:  # type: ignore[no-untyped-def]
    db = sqlite_db
    failed = [add_post(db, campaign_id=None, meeting_id=None, platform="mastodon", channel="peer-mastodon",
                       status=PostStatus.FAILED, error=f"refused {i}") for i in range(7)]
    rejected = [add_post(db, campaign_id=None, meeting_id=None, platform="bluesky", channel="peer-bluesky",
                         status=PostStatus.REJECTED) for _ in range(3)]
    for _ in range(5):  # published: never in the list
        add_post(db, campaign_id=None, meeting_id=None, platform="bluesky", channel="peer-bluesky")
    with db.write() as s:
        for number, post_id in enumerate(failed + rejected):  # updated one after another, the latest first
            s.execute(update(Post).where(Post.id == post_id).values(updated_at=NOW - timedelta(minutes=number)))
        s.add(ChannelState(channel="peer-threads", last_error="token refused", last_error_kind="auth",
                           checked_at=NOW))
    everything = analytics.needs_attention(db, now=NOW, limit=100)
    assert [(a.what, a.post_id or a.channel) for a in everything] == [
        *[("failed", i) for i in failed], ("auth", "peer-threads"), *[("rejected", i) for i in rejected]]
    assert analytics.count_attention(db, now=NOW) == 11
    pages = [analytics.needs_attention(db, now=NOW, limit=3, offset=start) for start in range(0, 12, 3)]
    assert [len(page) for page in pages] == [3, 3, 3, 2] and sum(pages, []) == everything
    assert analytics.needs_attention(db, now=NOW, limit=3, offset=11) == []

