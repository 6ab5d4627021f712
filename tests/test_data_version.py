"""The dashboard's data version (`analytics.data_version`, taken on every page run): it changes with every
status change, publish included, and it reads no more of the posts than the ones still moving (published is
final), so its cost does not grow with years of published posts."""

from __future__ import annotations

from typing import Any

from sqlalchemy import event, update

from outreach import analytics
from outreach.db.models import Post
from outreach.domain import PostStatus
from tests.test_analytics import add_post


def statements(db: Any) -> list[tuple[str, Any]]:
    """Every SQL statement (with its parameters) that data_version runs."""
    seen: list[tuple[str, Any]] = []

    def keep(conn, cursor, sql, parameters, context, many) -> None:  # type: ignore[no-untyped-def]  # noqa: ANN001
        seen.append((sql, parameters))

    event.listen(db.engine, "before_cursor_execute", keep)
    try:
        analytics.data_version(db)
    finally:
        event.remove(db.engine, "before_cursor_execute", keep)
    return seen


def test_every_status_change_changes_the_version_publish_included(sqlite_db) -> None:  # type: ignore[no-untyped-def]
    db = sqlite_db
    post = add_post(db, campaign_id=None, meeting_id=None, platform="mastodon", channel="peer-mastodon",
                    status=PostStatus.APPROVED)
    add_post(db, campaign_id=None, meeting_id=None, platform="mastodon", channel="peer-mastodon")  # published
    seen = [analytics.data_version(db)]
    assert analytics.data_version(db) == seen[0]  # nothing changed, nothing new
    for status in (PostStatus.PUBLISHING, PostStatus.PUBLISHED):
        with db.write() as s:  # the status alone, stamped by no clock (a worker whose clock is behind)
            s.execute(update(Post).where(Post.id == post).values(status=status.value))
        seen.append(analytics.data_version(db))
    add_post(db, campaign_id=None, meeting_id=None, platform="mastodon", channel="peer-mastodon")
    seen.append(analytics.data_version(db))
    assert len(set(seen)) == len(seen), seen


def test_the_version_reads_no_pass_over_the_posts(sqlite_db) -> None:  # type: ignore[no-untyped-def]
    """On SQLite: no statement scans the posts table or a whole index of it (a SEARCH on the status index reads
    only the posts that are not published)."""
    db = sqlite_db
    for _ in range(3):
        add_post(db, campaign_id=None, meeting_id=None, platform="mastodon", channel="peer-mastodon")
    with db.engine.connect() as conn:
        for sql, parameters in statements(db):
            plan = [row[3] for row in conn.exec_driver_sql(f"EXPLAIN QUERY PLAN {sql}", parameters)]
            assert not [step for step in plan if step.startswith("SCAN posts")], (sql, plan)
