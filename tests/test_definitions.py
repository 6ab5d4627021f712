"""The metric definitions table and the footnote for a series that crosses a definition change."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from pathlib import Path

import pytest

from outreach import analytics
from outreach.analytics import Filters
from outreach.harvest import definitions as table
from outreach.harvest.definitions import (
    UNCONFIRMED,
    VERIFIED,
    definition_set,
    definitions,
    definitions_at,
    definitions_in,
)
from tests.test_analytics import add_post


def test_the_table_is_complete_for_every_connector() -> None:
    from outreach.connectors import connector_classes

    table = {(d.platform, d.raw_name) for d in definitions()}
    for connector in connector_classes():
        for raw in connector.metric_names:
            assert (str(connector.platform), raw) in table, (connector.platform, raw)
    assert all(d.source.startswith("https://") and d.meaning for d in definitions())


def test_every_row_says_whether_it_was_checked_against_its_source() -> None:
    rows = definitions()
    assert {d.verified for d in rows} <= set(VERIFIED)
    assert [d.id for d in rows if d.verified != "yes" and not d.note] == []  # what is corrected or unconfirmed
    assert any(not d.confirmed for d in rows) and any(d.confirmed for d in rows)


def test_a_row_without_a_known_verified_value_is_refused_naming_file_and_line(tmp_path: Path,
                                                                             monkeypatch: pytest.MonkeyPatch) -> None:
    lines = table.TABLE.read_text(encoding="utf-8").splitlines()
    index = next(i for i, line in enumerate(lines) if ",yes," in line)
    lines[index] = lines[index].replace(",yes,", ",maybe,", 1)
    broken = tmp_path / "definitions.csv"
    broken.write_text("\n".join(lines) + "\n", encoding="utf-8")
    monkeypatch.setattr(table, "TABLE", broken)
    table.definitions.cache_clear()
    try:
        with pytest.raises(ValueError, match=rf"^definitions\.csv:{index + 1}: verified 'maybe' must be one of yes, corrected, no$"):
            definitions()
    finally:
        monkeypatch.undo()
        table.definitions.cache_clear()


def test_the_definition_in_force_is_recorded() -> None:
    before = definitions_at("instagram", ("impressions", "reach"), datetime(2024, 5, 1, tzinfo=UTC))
    assert before == {"impressions": "instagram/impressions@2016-08-01", "reach": "instagram/reach@2016-08-01"}
    assert definitions_at("instagram", ("impressions",), datetime(2025, 6, 1, tzinfo=UTC)) == {}  # retired
    assert definition_set("instagram", datetime(2024, 5, 1, tzinfo=UTC)) == "instagram@2022-06-28"
    after = definition_set("instagram", datetime(2025, 6, 1, tzinfo=UTC))
    assert after == "instagram@2025-04-21"
    assert "impressions" not in {d.raw_name for d in definitions_in(after)}


def test_a_series_that_crosses_a_change_is_footnoted(sqlite_db) -> None:  # type: ignore[no-untyped-def]
    for year in (2024, 2026):
        add_post(sqlite_db, campaign_id=None, meeting_id=None, platform="instagram", channel="peer-instagram",
                 published=datetime(year, 3, 1, tzinfo=UTC))
    crossing = analytics.definition_changes(sqlite_db, filters=Filters())
    assert [(d.platform, d.raw_name, d.replaced_by) for d in crossing] == [("instagram", "impressions", "views"),
                                                                           ("instagram", "plays", "views")]
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
    notes = re.findall(r'<p class="note">(.*?)</p>', html, re.S)
    impressions = [n for n in notes if "in plaats van ‘impressions’" in n]
    plays = [n for n in notes if "in plaats van ‘plays’" in n]
    assert impressions and "Instagram telt vanaf 21 april 2025 met ‘views’" in impressions[0]
    assert UNCONFIRMED["nl"] not in impressions[0]  # Meta's changelog confirms it
    assert plays and UNCONFIRMED["nl"] in plays[0]  # the start of Reels `plays` is not confirmed


def test_the_methods_page_marks_a_definition_that_was_not_confirmed(sqlite_db) -> None:  # type: ignore[no-untyped-def]
    from outreach.archive.figures import gather_figures
    from outreach.archive.report import render_html
    from outreach.config import parse_settings
    from outreach.harvest.storage import append_snapshots, snapshot_row

    published = datetime(2026, 3, 1, tzinfo=UTC)
    post = add_post(sqlite_db, campaign_id=None, meeting_id=None, platform="facebook", channel="peer-facebook",
                    published=published)
    set_id = definition_set("facebook", published)
    with sqlite_db.engine.begin() as conn:
        append_snapshots(conn, [snapshot_row(post, int(published.timestamp()) + 3600, {"views": 40, "reach": 30},
                                             raw={"post_media_view": 40}, api_version="v25.0", definition=set_id)])
    rows = {d.raw_name: d for d in definitions_in(set_id)}
    unconfirmed = next(d for d in rows.values() if not d.confirmed)
    confirmed = next(d for d in rows.values() if d.confirmed)
    settings = parse_settings({}, source="<test>", environ={})
    fig = gather_figures(sqlite_db, settings, start=datetime(2026, 1, 1, tzinfo=UTC),
                         end=datetime(2026, 12, 31, tzinfo=UTC), top=0)
    for language in ("nl", "en"):
        html = render_html(fig, settings=settings, language=language)
        methods = html[html.index('<section class="methods">'):]
        table_rows = {re.search(r"<code>(.*?)</code>", r).group(1): r  # type: ignore[union-attr]
                      for r in re.findall(r"<tr>.*?</tr>", methods, re.S) if "<code>" in r}
        assert set(table_rows) == set(rows)
        assert UNCONFIRMED[language] in table_rows[unconfirmed.raw_name], (language, unconfirmed.id)
        assert UNCONFIRMED[language] not in table_rows[confirmed.raw_name], (language, confirmed.id)
