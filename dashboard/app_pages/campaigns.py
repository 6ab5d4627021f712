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

per = loaders.campaign_meetings(view.filters, view.community)  # counted and averaged in SQL, not from every row
if per:
    st.subheader(t("meet.title"))
    ui.table([{**row, "campaign": row["name"]} for row in per], key="campaign_meetings",  # names, not slugs
             columns={"campaign": t("col.campaign"), "meetings": t("meet.title"), "evaluation": t("col.evaluation")})
