"""Communities & platforms: reach and youth reach compared across groups; posts that reached youth best."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from dashboard import loaders, ui
from dashboard.i18n import t
from dashboard.loaders import Dimension

view = ui.filter_bar(loaders.filter_options())
st.title(t("comm.title"))

choices = [Dimension.ORGANISATION, Dimension.COMMUNITY, Dimension.CITY, Dimension.PLATFORM, Dimension.LANGUAGE,
           Dimension.THEME]
labels = {Dimension.ORGANISATION: t("col.organisation"), Dimension.COMMUNITY: t("col.community"),
          Dimension.CITY: t("col.city"), Dimension.PLATFORM: t("col.platform"),
          Dimension.LANGUAGE: t("col.language"), Dimension.THEME: t("col.theme")}
by = st.segmented_control(t("comm.by"), choices, format_func=labels.get, key="compare_by",
                          default=Dimension.PLATFORM) or Dimension.PLATFORM
rows = ui.totals_rows(loaders.totals(view.filters, by), by)
ui.bar_chart(pd.DataFrame(rows), category="label", value="reach_value", title=t("ov.reach"), key=f"cmp_{by}")
ui.table(rows, key=f"compare_{by.value}", columns=ui.totals_columns(labels[by]))

st.subheader(t("comm.best"))
best = [p for p in loaders.top_posts(view.filters, limit=50) if p.youth.count.value is not None]
best.sort(key=lambda p: -(p.youth.count.value or 0))
ui.table([{"post": p.post_id, "channel": p.channel, "language": p.language, "youth": ui.count_text(p.youth.count),
           "kind": ui.kind_label(p.youth.kind.value), "source": ui.youth_source(p.platform, p.youth), "reach": ui.count_text(p.reach),
           "text": p.text, "url": p.url} for p in best[:10]],
         key="best_youth_posts", links=("url",), columns={
             "post": t("col.post"), "channel": t("col.channel"), "language": t("col.language"),
             "youth": t("col.youth"), "kind": t("col.kind"), "source": t("col.source"), "reach": t("col.reach"),
             "text": t("col.text"), "url": t("col.link")})
