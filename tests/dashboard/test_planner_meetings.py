"""The planner's meeting list on the page: meetings to come first, older ones found by a search the database
answers, a meeting given in the link chosen and kept in the link; said in Dutch and English."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from outreach.planning.dashboard_posts import RECENT_DAYS, meeting_choices
from tests.dashboard.conftest import Seeded
from tests.dashboard.test_pages import app, visit


def test_planner_offers_meetings_to_come_and_finds_older_ones(seeded: Seeded) -> None:
    db = seeded.database()
    everything = meeting_choices(db)
    db.dispose()
    now = datetime.now(UTC)
    old = [m for m in everything if m.starts_at < now - timedelta(days=RECENT_DAYS)]
    coming = [m for m in everything if m.starts_at >= now]
    assert old and coming
    at = visit(app().run(), "planner")
    chosen = at.selectbox(key="plan_meeting")
    assert chosen.value == coming[0].id and chosen.options[0] == coming[0].label()  # the soonest to come
    assert not {m.label() for m in old} & set(chosen.options)  # not years of history
    assert at.toggle(key="plan_earlier").label == f"Eerdere bijeenkomsten (meer dan {RECENT_DAYS} dagen geleden)"
    at.toggle(key="plan_earlier").set_value(True).run()
    assert at.selectbox(key="plan_meeting").value == old[-1].id  # the earlier ones, latest first
    at.text_input(key="plan_find").input(old[0].key.upper()).run()  # the database is asked, in any case
    found = [m for m in old if old[0].key in m.key]
    assert at.selectbox(key="plan_meeting").value == found[-1].id  # the first find, latest first, is chosen
    assert f"Gevonden: {len(found)}" in [c.value for c in at.caption]
    assert old[0].label() in at.selectbox(key="plan_meeting").options
    assert old[-1].label() in at.selectbox(key="plan_meeting").options  # the one chosen before stays offered
    at.selectbox(key="plan_meeting").set_value(old[0].id).run()
    assert not at.exception and at.query_params["meeting"] == str(old[0].id)  # a link to this choice
    at.text_input(key="plan_find").input("geen-zo-een-bijeenkomst").run()
    assert at.selectbox(key="plan_meeting").value == old[0].id  # the one being written about stays


def test_a_meeting_in_the_link_is_chosen_whenever_it_was(seeded: Seeded) -> None:
    db = seeded.database()
    first = meeting_choices(db)[0]  # years ago: outside the list the page offers
    db.dispose()
    at = visit(app(meeting=str(first.id), lang="en").run(), "planner")
    assert at.selectbox(key="plan_meeting").value == first.id
    assert at.text_input(key="plan_find").label == "Find a meeting"
    at.text_input(key="plan_find").input("no-such-meeting").run()
    assert not [i.value for i in at.info if i.value.startswith("No meeting found")]  # the linked one is offered
    assert at.selectbox(key="plan_meeting").value == first.id
