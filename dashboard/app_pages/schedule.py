"""Schedule: upcoming posts in local time; what needs attention, with retry / cancel / confirm-by-hand."""

from __future__ import annotations

import streamlit as st

from dashboard import i18n, loaders, ui
from dashboard.auth import Role
from dashboard.i18n import t

view = ui.filter_bar(loaders.filter_options(), only=("organisation", "platform", "campaign", "language"))
user = st.session_state["user"]
tz = loaders.timezone()
st.title(t("sched.title"))

for message in st.session_state.pop("schedule_done", []):
    st.success(message)

st.subheader(t("sched.upcoming"))
st.caption(tz)
ui.table([{"id": u.post_id, "due": ui.local_time(u.due_at, tz), "channel": u.channel, "language": u.language,
           "status": i18n.status(u.status), "text": u.text} for u in loaders.upcoming(view.filters)],
         key="upcoming", columns={"due": t("col.due"), "id": t("col.post"), "channel": t("col.channel"),
                                  "language": t("col.language"), "status": t("col.status"), "text": t("col.text")})

st.subheader(t("sched.attention"))
items = loaders.attention()
if not items:
    st.caption(t("sched.none"))
MANUAL = ("manual_due", "manual_overdue")


OWN_WORDS = ("rejected in review", "to be posted by hand", "credentials refused")


def in_words(item: dict) -> dict[str, str]:
    """What needs attention and what to do, in the reader's language (a platform's own message is shown
    apart, in the item's details: it cannot be translated)."""
    what = item["what"]
    if what in MANUAL:
        hint = t("what.manual_hint")
    elif what == "token_expiring":
        days = max(0, round((item["since"] - loaders.now()).total_seconds() / 86400)) if item["since"] else 0
        hint = t("hint.token_expiring", days=days)
    elif what == "rejected":
        own = item["message"] in OWN_WORDS
        hint = t("hint.rejected") + ("" if own else f": {item['message']}")
    else:
        hint = t(f"hint.{what}")
    return {"what": t(f"what.{what}"), "message": hint}


ui.table([{**item, **in_words(item), "since": ui.local_time(item["since"], tz)} for item in items],
         key="attention", columns={
    "what": t("col.status"), "post_id": t("col.post"), "channel": t("col.channel"), "message": t("col.detail"),
    "since": t("col.when")})


def act(label: str, action, *args, **kwargs) -> None:  # noqa: ANN001
    try:
        lines = action(*args, **kwargs)
    except loaders.ACTION_ERRORS as exc:
        st.error(t("err.action", error=exc))
        return
    st.session_state["schedule_done"] = [t("sched.done", n=len(lines), what=label), *lines]
    st.rerun()


for item in items:
    post_id = item["post_id"]
    if post_id is None or not user.can(Role.PLANNER):
        continue
    shown = in_words(item)
    with st.expander(f"{shown['what']} · {item['channel']} · {ui.local_time(item['since'], tz)}"):
        st.caption(shown["message"])
        if item["what"] not in (*MANUAL, "rejected") and item["message"] not in OWN_WORDS:
            st.caption(f"{t('hint.platform')}: {item['message']}")
        cols = st.columns(3)
        if item["what"] in ("failed", "retrying") and cols[0].button(t("sched.retry"), key=f"retry_{post_id}"):
            act(t("sched.retry"), loaders.retry, [post_id])
        if cols[1].button(t("sched.cancel"), key=f"cancel_{post_id}"):
            act(t("sched.cancel"), loaders.cancel, [post_id])
        if item["what"] in MANUAL:
            with st.form(f"confirm_{post_id}"):
                link = st.text_input(t("sched.permalink"), key=f"permalink_{post_id}")
                reach = st.number_input(t("sched.reach"), min_value=0, value=None, step=1, key=f"reach_{post_id}")
                if st.form_submit_button(t("sched.confirm")):
                    act(t("sched.confirm"), loaders.confirm_manual, post_id, permalink=link, by=user.name,
                        reach=None if reach is None else int(reach))
        else:
            with st.form(f"move_{post_id}"):
                when = st.columns(2)
                day = when[0].date_input(t("col.due"), key=f"move_day_{post_id}")
                at = when[1].time_input(t("sched.time"), key=f"move_time_{post_id}")
                st.caption(t("sched.reschedule_help"))
                if st.form_submit_button(t("sched.reschedule")):
                    act(t("sched.reschedule"), loaders.reschedule, post_id, ui.to_utc(day, at, tz))
