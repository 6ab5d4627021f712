"""Campaigns: per campaign posts, reach, youth reach per kind; meetings with attendance and evaluation."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from dashboard import loaders, ui
from dashboard.i18n import t
from dashboard.loaders import Dimension

view = ui.filter_bar(loaders.filter_options())
st.title(t("camp.title"))

rows = ui.totals_rows(loaders.totals(view.filters, Dimension.CAMPAIGN))
ui.bar_chart(pd.DataFrame(rows), category="label", value="reach_value", title=t("ov.reach"), key="campaign_reach")
ui.table(rows, key="campaigns", columns=ui.totals_columns(t("col.campaign")))

meetings = pd.DataFrame(loaders.meetings(view.filters, view.community))
if not meetings.empty:
    st.subheader(t("meet.title"))
    per = meetings.groupby("campaign").agg(meetings=("id", "count"), evaluation=("evaluation", "mean")).reset_index()
    per["evaluation"] = per["evaluation"].round(1)
    names = {row["key"]: row["label"] for row in rows}  # names, not slugs, where the campaign has one
    per["campaign"] = per["campaign"].map(lambda slug: names.get(slug, slug))
    ui.table(per, key="campaign_meetings", columns={"campaign": t("col.campaign"), "meetings": t("meet.title"),
                                                    "evaluation": t("col.evaluation")})
