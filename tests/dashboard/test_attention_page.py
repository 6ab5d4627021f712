"""The Planning page pages what needs attention through the database: "50 van 62", and page 2 shows the rest in
the list's order."""

from __future__ import annotations

from datetime import UTC, datetime

from outreach import analytics
from outreach.domain import PostStatus
from tests.dashboard.conftest import Seeded
from tests.dashboard.test_pages import app, texts, visit
from tests.test_analytics import add_post


def test_the_planning_page_shows_one_page_of_attention_at_a_time(seeded: Seeded) -> None:
    db = seeded.database()
    for i in range(60):
        add_post(db, campaign_id=None, meeting_id=None, platform="mastodon", channel="peer-mastodon",
                 status=PostStatus.FAILED, error=f"refused {i}")
    everything = analytics.needs_attention(db, now=datetime.now(UTC), limit=1000)
    db.dispose()
    total = len(everything)
    assert total > 60
    at = visit(app().run(), "schedule")
    assert f"50 van {total} · pagina 1 van 2" in texts(at)
    table = at.dataframe[1].value
    assert table.iloc[:, 1].tolist() == [a.post_id for a in everything[:50]]
    at.number_input(key="sched_page").set_value(2).run()
    assert f"{total - 50} van {total} · pagina 2 van 2" in texts(at)
    assert at.dataframe[1].value.iloc[:, 1].tolist() == [a.post_id for a in everything[50:]]
