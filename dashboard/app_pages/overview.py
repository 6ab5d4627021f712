"""Overview: meetings vs the 700 target, posts, reach, youth reach per kind with sources, trend."""

from __future__ import annotations

import streamlit as st

from dashboard import i18n, loaders, ui
from dashboard.i18n import t
from outreach.harvest.values import ReachKind

view = ui.filter_bar(loaders.filter_options())
data = loaders.overview(view.filters)
totals, progress = data.totals, data.meetings

st.title(t("ov.title"))
top = st.columns(4)
with top[0]:
    ui.show_count(t("ov.meetings"), progress.held, help=None if progress.expected_by_now is None
                  else t("ov.expected", n=ui.number(round(progress.expected_by_now))))
    if progress.plan is not None:
        st.caption(f"{t('ov.plan', plan=ui.number(round(progress.plan)))} · "
                   f"{t('ov.on_track') if progress.on_track else t('ov.behind')}")
        st.progress(min(1.0, progress.held / progress.plan) if progress.plan else 0.0)
    elif progress.share_of_alliance is not None:
        st.caption(t("ov.share_of_alliance", share=ui.percent(progress.share_of_alliance),
                     n=ui.number(progress.alliance_held)))
with top[1]:
    ui.show_count(t("ov.posts"), totals.posts)
with top[2]:
    ui.show_count(t("ov.reach"), totals.reach)
    st.caption(t("ov.reach_sum"))
ratios = loaders.ratios(view.filters)
with top[3]:
    ui.show_count(t("ov.engagement"), ui.percent(ratios.engagement_rate.value))
    st.caption(ui.basis(ratios.engagement_rate))

st.subheader(t("ov.youth"))
st.caption(t("ov.youth_note"))
kinds = st.columns(4)
sources = {
    ReachKind.MEASURED: t("ov.src_measured", n=ui.number(totals.youth.posts.get(ReachKind.MEASURED, 0))),
    ReachKind.ESTIMATED: t("ov.src_estimated", n=ui.number(totals.youth.posts.get(ReachKind.ESTIMATED, 0))),
    ReachKind.OFFLINE: t("ov.src_offline", n=ui.number(progress.with_outcome)),
}
for column, kind in zip(kinds, sources, strict=False):
    with column:
        ui.show_count(t("ov.youth"), totals.youth.get(kind), kind=kind.value)
        st.caption(sources[kind])
with kinds[3]:
    ui.show_count(t("ov.youth_share"), ui.percent(ratios.youth_share.value))
    st.caption(ui.basis(ratios.youth_share, note="ov.share_note"))

st.subheader(t("ov.trend"))
trend = loaders.trend(view.filters, ("reach", "youth_measured", "youth_estimated"))
if trend.empty:
    st.caption(t("ov.none"))
else:
    trend["period"] = trend["period"] + "-01"
    ui.line_chart(trend, x="period", title="", key="trend", series={
        "reach": t("ov.reach"), "youth_measured": f"{t('ov.youth')} · {ui.kind_label('measured')}",
        "youth_estimated": f"{t('ov.youth')} · {ui.kind_label('estimated')}"})

changes: dict[tuple[str, str, object], list] = {}  # one footnote per platform, measure and day
for change in loaders.definition_changes(view.filters):
    changes.setdefault((change.platform, change.measure, change.valid_to), []).append(change)
for (platform, measure, day), group in changes.items():
    # In words on the page; the platform's own metric names (codes like post_impressions) in the tooltip.
    unconfirmed = "" if all(c.confirmed for c in group) else f" ({t('def.unconfirmed')})"
    st.caption(t("ov.definition_change", platform=i18n.platform_name(platform), measure=t(f"measure.{measure}"),
                 day=ui.day(day)) + unconfirmed,
               help=t("ov.definition_names", old="\u2019, \u2018".join(c.raw_name for c in group),
                      new=group[0].replaced_by or "–", day=ui.day(day)))

st.subheader(t("ov.sources"))
rows = [{"post": p.post_id, "channel": p.channel, "language": p.language, "reach": ui.count_text(p.reach),
         "youth": ui.count_text(p.youth.count), "kind": ui.kind_label(p.youth.kind.value),
         "source": ui.youth_source(p.platform, p.youth),
         "url": p.url} for p in data.top_posts]
ui.table(rows, key="overview_top_posts", links=("url",), columns={
    "post": t("col.post"), "channel": t("col.channel"), "language": t("col.language"), "reach": t("col.reach"),
    "youth": t("col.youth"), "kind": t("col.kind"), "source": t("col.source"), "url": t("col.link")})
