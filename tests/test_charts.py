"""The one chart definition (outreach.charts) rendered offline to SVG as the report embeds it: labels that do
not overlap, numbers and months in the reader's language, nothing fetched."""

from __future__ import annotations

import re

import pytest

from outreach import charts

LABEL_GROUP = re.compile(r'<g class="mark-text role-axis-label"[^>]*>(.*?)</g>', re.S)
LABEL = re.compile(r'<text text-anchor="(\w+)" transform="translate\(([-\d.]+),([-\d.]+)\)"[^>]*opacity="1"[^>]*>'
                   r'([^<]*)</text>')


def visible_labels(svg: str) -> list[list[tuple[float, float, str]]]:
    """Per axis, the labels drawn (opacity 1) as (x, y, text)."""
    return [[(float(x), float(y), text) for _, x, y, text in LABEL.findall(group)]
            for group in LABEL_GROUP.findall(svg)]


def five_years() -> list[dict[str, object]]:
    return [{"month": f"{2022 + i // 12}-{i % 12 + 1:02d}", "held": 12 * i} for i in range(60)]


@pytest.mark.parametrize("language", ["nl", "en"])
def test_month_labels_of_five_years_do_not_overlap(language: str) -> None:
    svg = charts.svg(charts.line_chart(five_years(), x="month", series={"held": "held"}, width=charts.WIDTH,
                                       target=700, target_label="700", language=language))
    x_axis = next(labels for labels in visible_labels(svg) if len({y for _, y, _ in labels}) == 1 and len(labels) > 2)
    assert len(x_axis) >= 4
    char_px = 11 * 0.62  # a generous average glyph width at 11 px
    for (x1, _, a), (x2, _, b) in zip(x_axis, x_axis[1:], strict=False):
        assert x2 - x1 >= (len(a) + len(b)) / 2 * char_px, (a, b, x2 - x1)
    months = {"nl": ("jan", "mrt"), "en": ("Jan", "Mar")}[language]
    assert any(text.startswith(months) for _, _, text in x_axis)


@pytest.mark.parametrize(("language", "shown"), [("nl", "5.678"), ("en", "5,678")])
def test_bar_values_in_the_readers_language_and_every_platform_named(language: str, shown: str) -> None:
    rows = [{"label": p, "value": v} for p, v in [("instagram", 1234), ("facebook", 5678), ("mastodon", 12),
            ("bluesky", 300), ("threads", 44), ("linkedin", 5), ("tiktok", 66), ("youtube", 7)]]
    chart = charts.bar_chart(rows, category="label", value="value", width=440, language=language)
    assert chart.to_dict()["config"]["locale"]["number"]["thousands"] == shown[1]  # in the spec the dashboard shows
    svg = charts.svg(chart)
    drawn = {text for labels in visible_labels(svg) for _, _, text in labels}
    assert {r["label"] for r in rows} <= drawn
    assert f">{shown}</text>" in svg  # the value printed at the bar's end
    assert "http://" not in svg.replace("http://www.w3.org", "") and "https://" not in svg


def test_a_target_far_above_the_line_is_named_not_drawn() -> None:
    rows = [{"month": "2025-01", "held": 3}, {"month": "2025-02", "held": 5}]
    spec = charts.line_chart(rows, x="month", series={"held": "held"}, target=700, target_label="doel: 700").to_dict()
    assert len(spec["layer"]) == 1 and "doel: 700" in str(spec["layer"][0]["title"])
    near = charts.line_chart(rows, x="month", series={"held": "held"}, target=10, target_label="doel: 10").to_dict()
    assert any(layer["mark"]["type"] == "rule" for layer in near["layer"] if isinstance(layer["mark"], dict))


def test_bars_run_largest_first_and_a_row_without_a_figure_says_so_without_a_zero() -> None:
    """Sorted in every layer (a union of layers drops a 'sum' sort silently: the bars came out smallest
    first), and a platform with no figure shows the note alone, not a "0" label under it."""
    from outreach import charts

    rows = [{"label": "instagram", "v": 81047}, {"label": "bluesky", "v": None}, {"label": "facebook", "v": 60748}]
    svg = charts.svg(charts.bar_chart(rows, category="label", value="v", language="en", no_data="no data"))
    axis = [svg.index(f">{name}<") for name in ("instagram", "facebook", "bluesky")]
    assert axis == sorted(axis), "largest first"
    assert "no data" in svg and "81,047" in svg and svg.count(">0<") == 1  # the axis' own 0 only
