"""One chart definition for the dashboard and the report: Altair (Vega-Lite) specs built here, shown by
Streamlit in the dashboard and rendered offline to SVG by vl-convert for the report, so both draw the
same chart the same way (colours, sorting, axis labels that skip rather than overlap).
"""

from __future__ import annotations

import base64
from collections.abc import Mapping, Sequence
from typing import Any

import altair as alt

PALETTE = ("#6c3483", "#d35400", "#1f7a8c", "#b7950b", "#2e86c1", "#a93226", "#229954", "#7f8c8d")
FONT = "Noto Sans, DejaVu Sans, Arial, sans-serif"
TARGET_COLOUR = "#a93226"
# d3 locales for numbers and month names in the SVG (Babel's job elsewhere; Vega formats inside the chart)
D3_LOCALES = {"nl": "nl-NL", "en": "en-GB"}
WIDTH = 560  # report width in px at 96 dpi fits 180 mm with the labels; the dashboard stretches


def _config(chart: alt.TopLevelMixin) -> alt.TopLevelMixin:
    return (chart.configure(font=FONT)
            .configure_range(category=list(PALETTE))
            .configure_axis(labelFontSize=11, titleFontSize=11, labelColor="#444", gridColor="#e8e8e8",
                            labelOverlap=True, labelLimit=180)
            .configure_title(fontSize=13, anchor="start", color="#222")
            .configure_legend(labelFontSize=11, labelLimit=320)
            .configure_view(stroke=None))


def bar_chart(rows: Sequence[Mapping[str, Any]], *, category: str, value: str, title: str = "",
              colour: str | None = None, width: int | None = None) -> alt.TopLevelMixin:
    """Horizontal bars, largest on top, the value printed at each bar's end."""
    data = alt.Data(values=[dict(r) for r in rows])
    base = alt.Chart(data, title=title)
    y = alt.Y(f"{category}:N", sort="-x", title=None)
    bars = base.mark_bar(cornerRadiusEnd=3).encode(
        y=y, x=alt.X(f"{value}:Q", title=None, axis=alt.Axis(format=",d", tickMinStep=1)),
        color=(alt.Color(f"{colour}:N", title=None, legend=alt.Legend(orient="bottom")) if colour
               else alt.Color(f"{category}:N", legend=None, sort="-x")),
        tooltip=[f"{category}:N", alt.Tooltip(f"{value}:Q", format=",d")])
    labels = base.mark_text(align="left", dx=4, fontSize=11, color="#222").encode(
        y=y, x=alt.X(f"{value}:Q"), text=alt.Text(f"{value}:Q", format=",d"))
    step = 24
    chart = alt.layer(bars, labels).properties(height=alt.Step(step))
    return _config(chart.properties(width=width) if width else chart)


def line_chart(rows: Sequence[Mapping[str, Any]], *, x: str, series: Mapping[str, str], title: str = "",
               target: float | None = None, target_label: str = "",
               width: int | None = None, height: int = 220) -> alt.TopLevelMixin:
    """Monthly lines, one per series (column -> legend label); an optional dashed target line.

    A target far above the data (more than 2.5× its highest point) would flatten the line: it is then
    left out of the scale and named in the title instead."""
    long = [{"month": r[x], "series": label, "value": r[column]}
            for r in rows for column, label in series.items() if _number(r.get(column))]
    highest = max((p["value"] for p in long), default=0)
    legend = alt.Legend(orient="bottom", direction="vertical") if len(series) > 1 else None
    line = alt.Chart(alt.Data(values=long), title=title).mark_line(point=True, strokeWidth=2.5).encode(
        x=alt.X("month:T", title=None, axis=alt.Axis(format="%b %Y", labelAngle=0, tickCount="month", grid=False,
                                                      labelOverlap="greedy", labelSeparation=6)),
        y=alt.Y("value:Q", title=None, axis=alt.Axis(format=",d", tickMinStep=1)),
        color=alt.Color("series:N", title=None, legend=legend),
        tooltip=[alt.Tooltip("month:T", format="%Y-%m"), "series:N", alt.Tooltip("value:Q", format=",d")])
    layers: list[Any] = [line]
    if target and target <= 2.5 * max(highest, 1):
        rule = alt.Chart(alt.Data(values=[{"target": target, "label": target_label}]))
        layers.append(rule.mark_rule(color=TARGET_COLOUR, strokeDash=[6, 4], strokeWidth=1.5).encode(y="target:Q"))
        layers.append(rule.mark_text(align="right", baseline="bottom", dy=-3, color=TARGET_COLOUR, fontSize=11)
                      .encode(y="target:Q", x=alt.value(width or WIDTH), text="label:N"))
    elif target and target_label:
        title = f"{title} · {target_label} ↑" if title else f"{target_label} ↑"
        layers[0] = line.properties(title=title)
    chart = alt.layer(*layers).properties(height=height)
    return _config(chart.properties(width=width) if width else chart)


def _number(value: Any) -> bool:
    """Present and not NaN (a month without data is a gap, not a zero)."""
    return value is not None and value == value


def svg(chart: alt.TopLevelMixin, *, language: str = "nl") -> str:
    """The chart as an SVG document, rendered offline (no URL may be fetched)."""
    import vl_convert

    locale = D3_LOCALES.get(language, "en-GB")
    return vl_convert.vegalite_to_svg(chart.to_dict(), allowed_base_urls=[], format_locale=locale,
                                      time_format_locale=locale)


def data_uri(document: str) -> str:
    return "data:image/svg+xml;base64," + base64.b64encode(document.encode("utf-8")).decode("ascii")
