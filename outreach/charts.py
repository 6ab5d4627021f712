"""One chart definition for the dashboard and the report: Altair (Vega-Lite) specs built here, shown by
Streamlit in the dashboard and rendered offline to SVG by vl-convert for the report, so both draw the
same chart the same way (colours, sorting, axis labels that skip rather than overlap).
"""

from __future__ import annotations

import base64
from collections.abc import Mapping, Sequence
from functools import cache
from typing import Any

import altair as alt

PALETTE = ("#6c3483", "#d35400", "#1f7a8c", "#b7950b", "#2e86c1", "#a93226", "#229954", "#7f8c8d")
FONT = "Noto Sans, DejaVu Sans, Arial, sans-serif"
TARGET_COLOUR = "#a93226"
BABEL_LOCALES = {"nl": "nl_NL", "en": "en_GB"}
WIDTH = 560  # report width in px at 96 dpi fits 180 mm with the labels; the dashboard stretches


@cache
def vega_locale(language: str) -> dict[str, Any]:
    """Vega's number and time locale from Babel (the project's one source of locale data), inside the spec:
    the dashboard and the report both write 1.234 and 'mrt 2026' on a Dutch page, 1,234 and 'Mar 2026' on
    an English one."""
    from babel.dates import get_day_names, get_month_names
    from babel.numbers import get_decimal_symbol, get_group_symbol

    locale = BABEL_LOCALES.get(language, "en_GB")

    def days(width: str) -> list[str]:
        names = get_day_names(width, locale=locale)  # Monday = 0; Vega starts on Sunday
        return [names[6], *(names[i] for i in range(6))]

    def months(width: str) -> list[str]:
        names = get_month_names(width, context="stand-alone", locale=locale)
        return [names[i] for i in range(1, 13)]

    return {"number": {"decimal": get_decimal_symbol(locale), "thousands": get_group_symbol(locale),
                       "grouping": [3], "currency": ["€ ", ""]},
            "time": {"dateTime": "%a %e %B %Y %X", "date": "%d-%m-%Y", "time": "%H:%M:%S", "periods": ["AM", "PM"],
                     "days": days("wide"), "shortDays": days("abbreviated"), "months": months("wide"),
                     "shortMonths": months("abbreviated")}}


def _config(chart: alt.TopLevelMixin, language: str) -> alt.TopLevelMixin:
    return (chart.configure(font=FONT, locale=vega_locale(language))
            .configure_range(category=list(PALETTE))
            .configure_axis(labelFontSize=11, titleFontSize=11, labelColor="#444", gridColor="#e8e8e8",
                            labelOverlap=True, labelLimit=180)
            .configure_title(fontSize=13, anchor="start", color="#222")
            .configure_legend(labelFontSize=11, labelLimit=320)
            .configure_view(stroke=None))


def bar_chart(rows: Sequence[Mapping[str, Any]], *, category: str, value: str, title: str = "",
              colour: str | None = None, width: int | None = None, language: str = "nl",
              no_data: str = "") -> alt.TopLevelMixin:
    """Horizontal bars, largest on top, full names (never cut), the value printed at each bar's end; a row
    with no figure (a platform that reports no reach) says `no_data` instead, so an empty bar is not
    read as zero."""
    data = alt.Data(values=[{**_plain(r), "_note": no_data if not _number(r.get(value)) or not r.get(value) else ""}
                            for r in rows])
    base = alt.Chart(data, title=title)
    y = alt.Y(f"{category}:N", sort=alt.EncodingSortField(field=value, op="max", order="descending"), title=None,
              axis=alt.Axis(labelLimit=0))  # largest on top in every layer, the note's too
    bars = base.mark_bar(cornerRadiusEnd=3).encode(
        y=y, x=alt.X(f"{value}:Q", title=None, axis=alt.Axis(format=",d", tickMinStep=1)),
        color=(alt.Color(f"{colour}:N", title=None, legend=alt.Legend(orient="bottom")) if colour
               else alt.Color(f"{category}:N", legend=None, sort="-x")),
        tooltip=[f"{category}:N", alt.Tooltip(f"{value}:Q", format=",d")])
    # The value at each bar's end, only where there is one (else the note says so, not a "0" under it).
    labels = base.transform_filter("datum._note == ''").mark_text(align="left", dx=4, fontSize=11, color="#222").encode(
        y=y, x=alt.X(f"{value}:Q"), text=alt.Text(f"{value}:Q", format=",d"))
    layers: list[Any] = [bars, labels]
    if no_data:
        layers.append(base.mark_text(align="left", dx=4, fontSize=11, color="#777").encode(
            y=y, x=alt.datum(0), text="_note:N"))
    chart = alt.layer(*layers).properties(height=alt.Step(24))
    return _config(chart.properties(width=width) if width else chart, language)


def line_chart(rows: Sequence[Mapping[str, Any]], *, x: str, series: Mapping[str, str], title: str = "",
               target: float | None = None, target_label: str = "",
               width: int | None = None, height: int = 220, language: str = "nl") -> alt.TopLevelMixin:
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
    return _config(chart.properties(width=width) if width else chart, language)


def _plain(row: Mapping[str, Any]) -> dict[str, Any]:
    """A row Vega can read: NaN (a pandas gap) becomes null, numpy numbers plain Python ones."""
    return {k: None if not _number(v) else v.item() if hasattr(v, "item") else v for k, v in row.items()}


def _number(value: Any) -> bool:
    """Present and not NaN (a month without data is a gap, not a zero)."""
    return value is not None and value == value


def svg(chart: alt.TopLevelMixin) -> str:
    """The chart as an SVG document, rendered offline (no URL may be fetched); its locale is in the spec."""
    import vl_convert

    return vl_convert.vegalite_to_svg(chart.to_dict(), allowed_base_urls=[])


def data_uri(document: str) -> str:
    return "data:image/svg+xml;base64," + base64.b64encode(document.encode("utf-8")).decode("ascii")
