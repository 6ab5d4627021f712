"""Meetings: attendance and evaluation per meeting, a page at a time (newest first); one meeting's posts with
permalinks and outcome (any meeting of the view, by the URL's `?meeting=`, even one on another page)."""

from __future__ import annotations

import streamlit as st

from dashboard import i18n, loaders, ui
from dashboard.i18n import t

view = ui.filter_bar(loaders.filter_options(), only=("period", "organisation", "community", "campaign"))
tz = loaders.timezone()
st.title(t("meet.title"))

total = loaders.count_meetings(view.filters, view.community)
first, last = ui.paged(total, key="meetings_page", what=t("meet.title"), param="page")
rows = loaders.meetings(view.filters, view.community, offset=first, limit=last - first) if last > first else []
asked = int(st.query_params["meeting"]) if st.query_params.get("meeting", "").isdigit() else None
by_id = {r["id"]: r for r in rows}
if asked is not None and asked not in by_id:  # a meeting named in the URL, on another page: shown all the same
    elsewhere = loaders.meeting(asked, view.filters, view.community)
    by_id = {asked: elsewhere, **by_id} if elsewhere else by_id
for row in by_id.values():
    row["start"] = ui.local_time(row["starts_at"], tz)
ui.table(rows, key="meetings", columns={
    "key": t("col.meeting"), "start": t("col.start"), "organisation": t("col.organisation"),
    "community": t("col.community"), "city": t("col.city"), "attendance": t("col.attendance"),
    "young": f"{t('col.youth')} · {ui.kind_label('offline')}", "evaluation": t("col.evaluation")})

if by_id:
    held = next((r["id"] for r in rows if r["attendance"] != "–"), next(iter(by_id)))  # latest with an outcome
    if "meeting_pick" not in st.session_state or st.session_state["meeting_pick"] not in by_id:
        st.session_state["meeting_pick"] = asked if asked in by_id else held
    chosen = st.selectbox(t("meet.pick"), list(by_id), key="meeting_pick",
                          format_func=lambda i: f"{by_id[i]['start']} · {by_id[i]['key']}")
    st.query_params["meeting"] = str(chosen)
    meeting = by_id[chosen]
    st.subheader(f"{meeting['key']} · {meeting['city']}")
    st.caption(f"{meeting['organisation']} · {meeting['community']} · {meeting['venue']} · {meeting['start']}")
    st.markdown(f"**{t('meet.outcome')}**")
    if meeting["attendance"] == "–":
        st.caption(t("meet.no_outcome"))
    else:
        cols = st.columns(3)
        with cols[0]:
            ui.show_count(t("col.attendance"), meeting["attendance"], kind="offline")
        with cols[1]:
            ui.show_count(t("col.youth"), meeting["young"], kind="offline")
        with cols[2]:
            ui.show_count(t("col.evaluation"), "–" if meeting["evaluation"] is None else i18n.number(meeting["evaluation"]))
        if meeting["notes"]:
            st.caption(meeting["notes"])
    st.markdown(f"**{t('meet.posts')}**")
    posts = loaders.meeting_posts(chosen)
    for post in posts:
        post.update(due=ui.local_time(post["due_at"], tz), status=i18n.status(post["status"]),
                    reach=ui.count_text(post["reach"]))
    ui.table(posts, key=f"meeting_{chosen}_posts", links=("url",), columns={
        "id": t("col.post"), "due": t("col.due"), "channel": t("col.channel"), "language": t("col.language"),
        "status": t("col.status"), "reach": t("col.reach"), "url": t("col.link")})
