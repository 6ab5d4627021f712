"""Cached figures are never older than the data: a harvest or a publish by the worker (not through the
dashboard, so nothing clears the cache) shows on the next page run, long before any time limit."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import select

from outreach import analytics, lifecycle
from outreach.db.models import Post, PostMetricsLatest
from outreach.domain import PostStatus
from outreach.harvest import storage
from tests.dashboard.conftest import Seeded
from tests.dashboard.test_pages import app, dots, metrics


def test_a_harvest_and_a_publish_show_on_the_next_run(seeded: Seeded) -> None:
    db = seeded.database()
    at = app().run()
    before = analytics.totals(db)[0]
    assert metrics(at)["Totaal bereik"] == dots(before.reach.value)
    at.run()  # a repeat run: served from the cache
    with db.session() as s:
        post_id, reach = s.execute(select(PostMetricsLatest.post_id, PostMetricsLatest.reach)
                                   .where(PostMetricsLatest.reach.is_not(None)).limit(1)).one()
    now_s = int(datetime.now(UTC).timestamp())
    with db.engine.begin() as conn:  # the harvester's storage path
        storage.append_snapshots(conn, [storage.snapshot_row(post_id, now_s, {"reach": reach + 4321}, {})])
        storage.upsert_rollup(conn, [{"post_id": post_id, "captured_at": now_s, "reach": reach + 4321}])
    at.run()
    assert metrics(at)["Totaal bereik"] == dots(before.reach.value + 4321)

    with db.session() as s, s.begin():  # the dispatcher records a publish
        post = s.scalars(select(Post).where(Post.status == PostStatus.APPROVED.value).limit(1)).one()
        lifecycle.transition(post, PostStatus.PUBLISHING)
        lifecycle.transition(post, PostStatus.PUBLISHED)
        post.published_at = datetime.now(UTC)
    at.run()
    assert metrics(at)["Posts gepubliceerd"] == dots(before.posts + 1) == dots(analytics.totals(db)[0].posts)
