"""Layout pieces every page uses: URL-backed filters, figures with their kind, tables with CSV downloads."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pandas as pd
import streamlit as st
from babel.dates import format_date

from dashboard import i18n
from dashboard.i18n import t
from dashboard.loaders import FilterOptions, Filters
from outreach import charts
from outreach.privacy import HIDDEN
from outreach.safecsv import frame_csv_bytes

# Filter name -> URL query parameter; the widget key is "f_" + the name.
FILTER_PARAMS = ("period", "organisation", "community", "platform", "campaign", "language")
PERIODS = ("all", "30d", "90d", "12m")
FILTERS_KEY = "filters"  # session state: the chosen filters, kept across pages
PAGE_SIZE = 50  # rows a paged list shows at a time


def period_bounds(period: str, *, now: datetime | None = None) -> tuple[datetime | None, datetime | None]:
    """'all' | '30d' | '90d' | '12m' | a year '2027' -> [start, end) in UTC (None: open)."""
    now = now or datetime.now(UTC)
    days = {"30d": 30, "90d": 90, "12m": 365}
    if period in days:
        return now - timedelta(days=days[period]), None
    if period.isdigit():
        year = int(period)
        return datetime(year, 1, 1, tzinfo=UTC), datetime(year + 1, 1, 1, tzinfo=UTC)
    return None, None


@dataclass(frozen=True, slots=True)
class View:
    """The chosen filters (analytics' `Filters`); `community` repeated for the meeting lists."""

    filters: Filters
    community: str | None = None


def select(label: str, options: Sequence[Any], *, key: str, format_func: Any, **kwargs: Any) -> Any:
    """A selectbox that shows its choice in this run's words. Streamlit's box keeps showing the words it was
    drawn with ("geen kaart" on a page just switched to English), so the value is handed back to the widget at
    the start of every run (a choice made by the reader or set by a callback is already in its state), as the
    filter bar and the planner's languages do."""
    state = st.session_state
    if key in state and state[key] in options:
        state[key] = state[key]  # set by the script: the box is drawn afresh, in this run's words
    return st.selectbox(label, options, key=key, format_func=format_func, **kwargs)


def filter_bar(options: FilterOptions, *, only: Sequence[str] = FILTER_PARAMS) -> View:
    """Filter widgets in the sidebar. The choice is kept in the session across pages (a widget's own state
    ends with its page) and every page writes all of it to the URL, so a copied link reproduces the view."""
    st.sidebar.divider()
    kept = chosen_filters()
    choices: dict[str, list[str]] = {
        "period": [*PERIODS, *[str(y) for y in options.years]],
        "organisation": list(options.organisations), "community": list(options.communities),
        "platform": list(options.platforms), "campaign": list(options.campaigns),
        "language": list(options.languages),
    }
    values: dict[str, str] = {}
    for name in only:
        key = f"f_{name}"
        items = choices[name] if name == "period" else ["", *choices[name]]
        # Set every run: a widget with the same key on another page does not inherit its value.
        st.session_state[key] = kept[name] if kept[name] in items else items[0]
        values[name] = st.sidebar.selectbox(t(f"filter.{name}"), items, key=key, on_change=_keep, args=(name,),
                                            format_func=_format_choice(name))
        kept[name] = "" if values[name] == "all" else values[name]
    for name, value in kept.items():
        if value:
            st.query_params[name] = value
        else:
            st.query_params.pop(name, None)
    st.sidebar.caption(t("filter.share"))
    start, end = period_bounds(values.get("period", "all"))
    filters = Filters(start=start, end=end, organisation=values.get("organisation") or None,
                      community=values.get("community") or None, platform=values.get("platform") or None,
                      campaign=values.get("campaign") or None, language=values.get("language") or None)
    return View(filters, values.get("community") or None)


def paged(total: int, *, key: str, what: str, param: str | None = None) -> tuple[int, int]:
    """The rows [start, stop) of a list of `total` to show, a page of PAGE_SIZE at a time: a page number to choose
    when there is more than one, and how many are shown of how many ("50 van 7.700 · pagina 1 van 154").
    With `param` the page is kept in the URL like the filters (`?page=3`): a copied link opens on it."""
    pages = max(1, -(-total // PAGE_SIZE))
    asked = st.query_params.get(param, "") if param else ""
    if key not in st.session_state and asked.isdigit():
        st.session_state[key] = max(1, int(asked))
    if st.session_state.get(key, 1) > pages:  # fewer rows than before (a filter, an action): the last page
        st.session_state[key] = pages
    count = st.empty()  # the count first, then the page to choose
    number = st.number_input(f"{t('page.label')} · {what}", min_value=1, max_value=pages, step=1, key=key,
                             width=240) if pages > 1 else 1
    if param and number > 1:
        st.query_params[param] = str(number)
    elif param:
        st.query_params.pop(param, None)
    start, stop = (number - 1) * PAGE_SIZE, min(total, number * PAGE_SIZE)
    if total:
        count.caption(t("page.count", shown=i18n.number(stop - start), total=i18n.number(total),
                        page=i18n.number(number), pages=i18n.number(pages)))
    return start, stop


def _keep(name: str) -> None:
    """A filter changed: remember it before the page runs again."""
    chosen_filters()[name] = st.session_state[f"f_{name}"]


def chosen_filters() -> dict[str, str]:
    """The session's filters (name -> value, "" for all); the first page of a session takes them from the URL."""
    if FILTERS_KEY not in st.session_state:
        st.session_state[FILTERS_KEY] = {name: st.query_params.get(name, "") for name in FILTER_PARAMS}
    return st.session_state[FILTERS_KEY]


def _format_choice(name: str) -> Any:
    """The words are looked up now, in this run's language (the function may be called after the run)."""
    every = t("filter.all")
    periods = {"all": every, "30d": t("filter.30d"), "90d": t("filter.90d"), "12m": t("filter.12m")}

    def fmt(value: str) -> str:
        if value == "":
            return every
        if name == "period" and not value.isdigit():
            return periods[value]
        return i18n.platform_name(value) if name == "platform" else value  # "YouTube", not "youtube"

    return fmt


def kind_label(kind: str) -> str:
    return t(f"kind.{kind}")


def show_count(label: str, count: Any, *, kind: str | None = None, help: str | None = None) -> None:
    """A metric tile; `count` is a harvest `Count` (shows "<10" below the threshold) or a number/text."""
    st.metric(label + (f" · {kind_label(kind)}" if kind else ""), count_text(count), help=help)


def count_text(count: Any) -> str:
    """A count as the reader writes numbers ("<10" and "–" kept as they are)."""
    value = count.display if hasattr(count, "display") else count
    if isinstance(value, int | float) and not isinstance(value, bool):
        return i18n.number(value)
    if isinstance(value, str) and value.isdigit():
        return i18n.number(int(value))
    return "–" if value is None else str(value)


def percent(value: float | None) -> str:
    """A share in the page's language (Babel): 9,1% in Dutch, 9.1% in English."""
    return i18n.percent(value)


def number(value: float | None) -> str:
    return "–" if value is None else i18n.number(value)


def day(value: date) -> str:
    """A date in the page's language: 21 april 2025 / 21 April 2025."""
    return format_date(value, "long", locale=i18n.LOCALES[i18n.current()])


def basis(ratio: Any, *, note: str = "ov.basis") -> str:
    """What a ratio is computed over, in words: "over 4.316 posts op Instagram, Facebook"."""
    platforms = ", ".join(i18n.platform_name(p) for p in ratio.platforms)
    return t(note, n=number(ratio.basis_posts), platforms=platforms or "–")


def youth_source(platform: str, youth: Any) -> str:
    """Where a post's youth figure comes from, in the reader's language: a measured figure with the
    platform's basis (YouTube: logged-in viewers, two days behind, its thresholds), an estimate with
    its audience breakdown, share and date. Never mixed: one post has one kind."""
    kind = youth.kind.value
    if kind == "measured":
        key = f"src.measured.{platform}"
        text = t(key)
        return text if text != key else t("src.measured", platform=i18n.platform_name(platform))
    if kind == "estimated" and youth.share is not None:
        metric = t(f"audience.{youth.metric}")
        return t("src.estimated", share=percent(youth.share), day=day(youth.source_at) if youth.source_at else "–",
                 metric=metric if not metric.startswith("audience.") else youth.metric)
    return t("src.unknown")


def to_utc(day: date, at: time, timezone: str) -> datetime:
    """A local date and time picked in a form, as an aware UTC datetime."""
    return datetime.combine(day, at, ZoneInfo(timezone)).astimezone(UTC)


def local_time(moment: datetime | None, timezone: str) -> str:
    if moment is None:
        return ""
    from zoneinfo import ZoneInfo

    return moment.astimezone(ZoneInfo(timezone)).strftime("%Y-%m-%d %H:%M")


def table(rows: Sequence[Mapping[str, Any]] | pd.DataFrame, *, key: str, columns: Mapping[str, str],
          links: Sequence[str] = (), height: int | None = None) -> pd.DataFrame:
    """A table with translated headers and a CSV download of exactly what is shown."""
    frame = rows if isinstance(rows, pd.DataFrame) else pd.DataFrame(list(rows))
    if frame.empty:
        st.caption(t("ov.none"))
        return frame
    shown = cells_in_words(frame[[c for c in columns if c in frame.columns]], links=links)
    shown = shown.rename(columns=dict(columns))
    config = {columns[c]: st.column_config.LinkColumn(columns[c]) for c in links if c in columns}
    st.dataframe(shown, hide_index=True, column_config=config, key=f"table_{key}",
                 height=height or "auto", width="stretch")
    if shown.isin([HIDDEN]).any().any():
        st.caption(t("privacy.hidden"))
    st.download_button(t("csv"), _csv(shown), file_name=f"{key}.csv",
                       mime="text/csv", key=f"csv_{key}", icon=":material/download:")
    return shown


@st.cache_data(max_entries=32, show_spinner=False)
def _csv(shown: pd.DataFrame) -> bytes:
    """The download of a table, written once per table content (thousands of rows take ~0.5 s)."""
    return frame_csv_bytes(shown)


def cells_in_words(frame: pd.DataFrame, *, links: Sequence[str] = ()) -> pd.DataFrame:
    """No cell left for the grid to draw as "None": a missing value is "–" (an empty link stays empty),
    a decimal is written the reader's way (9,5 / 9.5), and a `language` column (language codes, as posts
    keep them) shows each language by name ("Turks" / "Turkish", not "tr")."""
    number = i18n.number_format()

    def cell(value: Any, *, link: bool, language: bool) -> Any:
        if value is None or (isinstance(value, float) and pd.isna(value)):
            return "" if link else "–"
        if language and isinstance(value, str):
            return i18n.language_name(value)
        return number(value) if isinstance(value, float) else value

    return frame.apply(lambda column: column.map(
        lambda v: cell(v, link=column.name in links, language=column.name == "language")))


def line_chart(frame: pd.DataFrame, *, x: str, series: Mapping[str, str], title: str, key: str) -> None:
    """Monthly lines, one per series (column -> legend label): the report's definition (`outreach.charts`)."""
    if frame.empty:
        return
    rows = frame.assign(**{x: pd.to_datetime(frame[x]).dt.strftime("%Y-%m-%d")}).to_dict("records")
    spec = _spec("line_chart", rows, x=x, series=dict(series), title=title, language=i18n.current().value)
    st.vega_lite_chart(spec, key=f"chart_{key}", width="stretch")


def bar_chart(frame: pd.DataFrame, *, category: str, value: str, title: str, key: str,
              colour: str | None = None) -> None:
    """Horizontal bars, largest first, with full names (never cut) and "geen gegevens" where a row has
    no figure (a platform that reports no reach), so an empty bar is not read as zero."""
    if frame.empty:
        return
    spec = _spec("bar_chart", frame.to_dict("records"), category=category, value=value, title=title, colour=colour,
                 language=i18n.current().value, no_data=t("chart.no_data"))
    st.vega_lite_chart(spec, key=f"chart_{key}", width="stretch")


@st.cache_data(max_entries=256, show_spinner=False)
def _spec(kind: str, rows: list[dict[str, Any]], **options: Any) -> dict[str, Any]:
    """The chart's Vega-Lite spec, built (and checked against the schema by Altair) once per data and labels:
    building and checking is most of a chart's cost (~0.2 s), drawing the spec is not."""
    return getattr(charts, kind)(rows, **options).to_dict()


TOTALS_COLUMNS = ("label", "posts", "reach", "engagement", "watch_time", "youth_measured", "youth_estimated",
                  "youth_offline")


# Groups whose label is a code: named in the reader's language (a platform's brand name, "Turks" for "tr").
LABEL_NAMES = {"platform": i18n.platform_name, "language": i18n.language_name}


def totals_rows(items: Sequence[Any], by: str | None = None) -> list[dict[str, Any]]:
    """analytics `Totals` as table rows: counts as shown ("<10"), youth reach one column per kind; grouped
    `by` platform or language, the label is the name, not the code."""
    name = LABEL_NAMES.get(str(by), str)
    rows = []
    for item in items:
        row = {"label": name(item.label), "key": item.key, "posts": count_text(item.posts), "reach": count_text(item.reach),
               "engagement": count_text(item.engagement), "watch_time": i18n.hours(item.watch_time_h),
               "reach_value": item.reach.value or 0}
        for kind in ("measured", "estimated", "offline"):
            count = next((c for k, c in item.youth.by_kind.items() if k.value == kind), None)
            row[f"youth_{kind}"] = count_text(count)
        rows.append(row)
    return rows


def totals_columns(label: str) -> dict[str, str]:
    columns = {"label": label, "posts": t("col.posts"), "reach": t("col.reach"), "engagement": t("col.engagement"),
               "watch_time": t("col.watch_time")}
    for kind in ("measured", "estimated", "offline"):
        columns[f"youth_{kind}"] = f"{t('col.youth')} · {kind_label(kind)}"
    return columns
