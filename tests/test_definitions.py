"""The metric definitions table and the footnote for a series that crosses a definition change."""

from __future__ import annotations

from datetime import UTC, datetime

from outreach import analytics
from outreach.analytics import Filters
from outreach.harvest.definitions import definition_set, definitions, definitions_at, definitions_in
from tests.test_analytics import add_post


def test_the_table_is_complete_for_every_connector() -> None:
    from outreach.connectors import connector_classes

    table = {(d.platform, d.raw_name) for d in definitions()}
    for connector in connector_classes():
        for raw in connector.metric_names:
            assert (str(connector.platform), raw) in table, (connector.platform, raw)
    assert all(d.source.startswith("https://") and d.meaning for d in definitions())


def test_the_definition_in_force_is_recorded() -> None:
    before = definitions_at("instagram", ("impressions", "reach"), datetime(2024, 5, 1, tzinfo=UTC))
    assert before == {"impressions": "instagram/impressions@2016-08-01", "reach": "instagram/reach@2016-08-01"}
    assert definitions_at("instagram", ("impressions",), datetime(2025, 6, 1, tzinfo=UTC)) == {}  # retired
    assert definition_set("instagram", datetime(2024, 5, 1, tzinfo=UTC)) == "instagram@2022-01-01"
    after = definition_set("instagram", datetime(2025, 6, 1, tzinfo=UTC))
    assert after == "instagram@2025-04-21"
    assert "impressions" not in {d.raw_name for d in definitions_in(after)}


def test_a_series_that_crosses_a_change_is_footnoted(sqlite_db) -> None:  # type: ignore[no-untyped-def]
    for year in (2024, 2026):
        add_post(sqlite_db, campaign_id=None, meeting_id=None, platform="instagram", channel="peer-instagram",
                 published=datetime(year, 3, 1, tzinfo=UTC))
    crossing = analytics.definition_changes(sqlite_db, filters=Filters())
    assert [(d.platform, d.raw_name, d.replaced_by) for d in crossing] == [("instagram", "impressions", "views")]
    assert analytics.definition_changes(sqlite_db, filters=Filters(start=datetime(2026, 1, 1, tzinfo=UTC))) == []
    assert analytics.definition_changes(sqlite_db, filters=Filters(platform="facebook")) == []


def test_the_report_footnotes_the_change(sqlite_db) -> None:  # type: ignore[no-untyped-def]
    from outreach.archive.figures import gather_figures
    from outreach.archive.report import render_html
    from outreach.config import parse_settings

    for year in (2024, 2026):
        add_post(sqlite_db, campaign_id=None, meeting_id=None, platform="instagram", channel="peer-instagram",
                 published=datetime(year, 3, 1, tzinfo=UTC))
    settings = parse_settings({}, source="<test>", environ={})
    fig = gather_figures(sqlite_db, settings, start=datetime(2024, 1, 1, tzinfo=UTC),
                         end=datetime(2027, 1, 1, tzinfo=UTC), top=0)
    html = render_html(fig, settings=settings, language="nl")
    assert "instagram telt vanaf 21 april 2025 met ‘views’ in plaats van ‘impressions’" in html
