"""AppTest: the Meetings page lists the view's meetings a page at a time (counted, in the reader's language, the
page in the URL), shows a meeting named in the URL even on another page; the Campaigns page's meetings per
campaign are what the meeting rows give."""

from __future__ import annotations

from datetime import timedelta
from decimal import ROUND_HALF_UP, Decimal

import pytest
from sqlalchemy import func, select

from dashboard import i18n
from outreach import analytics
from outreach.analytics import Filters
from outreach.db.models import Campaign, Meeting, MeetingOutcome
from tests.dashboard.conftest import Seeded
from tests.dashboard.test_pages import app, texts, visit

COUNT = {"nl": "{shown} van {total} · pagina {page} van {pages}", "en": "{shown} of {total} · page {page} of {pages}"}


def more_meetings(seeded: Seeded, n: int) -> list[dict]:
    """`n` older meetings beside the seeded ones (every other one with an outcome), as `outreach schedule` and an
    outcome record would leave them; returns every meeting's row, newest first."""
    db = seeded.database()
    with db.write() as s:
        model = s.scalars(select(Meeting).order_by(Meeting.starts_at)).first()
        oldest = model.starts_at
        for i in range(n):
            meeting = Meeting(campaign_id=model.campaign_id, key=f"extra-{i:03d}", kind=model.kind,
                              organisation_id=model.organisation_id, community=model.community, city=model.city,
                              venue=model.venue, starts_at=oldest - timedelta(days=7 * (i + 1)), themes=[])
            s.add(meeting)
            s.flush()
            if i % 2:
                s.add(MeetingOutcome(meeting_id=meeting.id, age_under_18=4, age_18_24=9, age_25_34=6, age_35_plus=2,
                                     evaluation=7.0 + (i % 3) / 10))
    rows = analytics.meeting_rows(db, filters=Filters())
    db.dispose()
    return rows


def start(row: dict) -> str:
    from dashboard import ui

    return ui.local_time(row["starts_at"], "Europe/Amsterdam")


def shown_keys(at) -> list[str]:  # type: ignore[no-untyped-def]
    return at.dataframe[0].value.iloc[:, 0].tolist()


@pytest.mark.parametrize("lang", ["nl", "en"])
def test_meetings_are_counted_and_paged_newest_first(seeded: Seeded, lang: str) -> None:
    rows = more_meetings(seeded, 60)
    total = len(rows)
    assert 50 < total <= 100
    at = visit(app(lang=lang).run(), "meetings")
    assert COUNT[lang].format(shown=50, total=total, page=1, pages=2) in texts(at)
    assert shown_keys(at) == [r["key"] for r in rows[:50]]  # the newest fifty, not every meeting
    assert set(at.selectbox(key="meeting_pick").options) == {f"{start(r)} · {r['key']}" for r in rows[:50]}
    assert "page" not in at.query_params
    at.number_input(key="meetings_page").set_value(2).run()
    assert not at.exception
    assert COUNT[lang].format(shown=total - 50, total=total, page=2, pages=2) in texts(at)
    assert shown_keys(at) == [r["key"] for r in rows[50:]]
    assert at.query_params["page"] in ("2", ["2"])  # a copied link opens on this page
    offered = {o.rsplit(" · ", 1)[1] for o in at.selectbox(key="meeting_pick").options}
    assert {r["key"] for r in rows[50:]} <= offered  # this page's meetings (and the one still shown)


def test_a_link_opens_on_its_page_and_its_meeting_even_when_that_is_on_another_page(seeded: Seeded) -> None:
    rows = more_meetings(seeded, 60)
    oldest = rows[-1]
    at = visit(app(meeting=str(oldest["id"])).run(), "meetings")
    assert oldest["key"] not in shown_keys(at)  # page 1 holds the newest fifty
    assert at.selectbox(key="meeting_pick").value == oldest["id"]
    assert f"{oldest['key']} · {oldest['city']}" in [h.value for h in at.subheader]
    assert at.query_params["meeting"] in (str(oldest["id"]), [str(oldest["id"])])
    at = visit(app(page="2").run(), "meetings")
    assert f"{len(rows) - 50} van {len(rows)} · pagina 2 van 2" in texts(at)
    assert shown_keys(at) == [r["key"] for r in rows[50:]]
    held = next(r for r in rows[50:] if r["attendance"] != "–")  # the page's latest meeting with an outcome
    assert at.selectbox(key="meeting_pick").value == held["id"]


def test_a_meeting_outside_the_filters_is_not_shown_from_the_url(seeded: Seeded) -> None:
    rows = more_meetings(seeded, 5)
    other = next(r for r in rows if r["organisation"] != rows[-1]["organisation"])
    at = visit(app(meeting=str(other["id"]), organisation=rows[-1]["organisation"]).run(), "meetings")
    assert at.selectbox(key="meeting_pick").value != other["id"]
    assert other["key"] not in texts(at)


@pytest.mark.parametrize("lang", ["nl", "en"])
def test_campaign_meetings_are_what_the_meeting_rows_give(seeded: Seeded, lang: str) -> None:
    more_meetings(seeded, 12)
    db = seeded.database()
    rows = analytics.meeting_rows(db, filters=Filters())
    with db.session() as s:
        names = dict(s.execute(select(Campaign.slug, Campaign.name)).all())
        assert s.scalar(select(func.count(MeetingOutcome.id))) > 0
    db.dispose()
    expected = {}
    for slug in sorted({r["campaign"] for r in rows}):
        mine = [r for r in rows if r["campaign"] == slug]
        scores = [Decimal(str(r["evaluation"])) for r in mine if r["evaluation"] is not None]
        mean = (sum(scores) / len(scores)).quantize(Decimal("0.1"), ROUND_HALF_UP) if scores else None
        written = "–" if mean is None else f"{mean}".replace(".", "," if lang == "nl" else ".")
        expected[names[slug] or slug] = (len(mine), written)
    at = visit(app(lang=lang).run(), "campaigns")
    table = at.dataframe[-1].value
    words = {"nl": i18n.NL, "en": i18n.EN}[lang]
    assert list(table.columns) == [words["col.campaign"], words["meet.title"], words["col.evaluation"]]
    shown = {name: (int(n), str(e)) for name, n, e in table.itertuples(index=False)}
    assert shown == expected
