"""Schedule: upcoming posts in local time; what needs attention, counted and paged, with retry / cancel for
many posts at once (after a confirmation step), confirm-by-hand and reschedule for one."""

from __future__ import annotations

import streamlit as st

from dashboard import i18n, loaders, ui
from dashboard.auth import Role
from dashboard.i18n import t

MANUAL = ("manual_due", "manual_overdue", "tiktok_app", "tiktok_app_overdue")  # confirmed by a person
RETRYABLE = ("failed", "retrying")
OWN_WORDS = ("rejected in review", "to be posted by hand", "credentials refused")

view = ui.filter_bar(loaders.filter_options(), only=("organisation", "platform", "campaign", "language"))
user = st.session_state["user"]
tz = loaders.timezone()
st.title(t("sched.title"))

for message in st.session_state.pop("schedule_done", []):
    st.success(message)


st.subheader(t("sched.upcoming"))
st.caption(t("sched.upcoming_note", tz=tz))
first, last = ui.paged(loaders.count_upcoming(view.filters), key="sched_upcoming_page", what=t("sched.upcoming"))
upcoming = loaders.upcoming(view.filters, offset=first, limit=last - first) if last > first else []
ui.table([{"id": u.post_id, "due": ui.local_time(u.due_at, tz), "channel": u.channel, "language": u.language,
           "status": i18n.status(u.status), "text": u.text} for u in upcoming],
         key="upcoming", columns={"due": t("col.due"), "id": t("col.post"), "channel": t("col.channel"),
                                  "language": t("col.language"), "status": t("col.status"), "text": t("col.text")})


def in_words(item: dict) -> dict[str, str]:
    """What needs attention and what to do, in the reader's language (a platform's own message is shown
    apart, for the chosen post: it cannot be translated)."""
    what = item["what"]
    if what in MANUAL:
        hint = t("what.tiktok_app_hint" if what.startswith("tiktok_app") else "what.manual_hint")
    elif what == "token_expiring":
        days = max(0, round((item["since"] - loaders.now()).total_seconds() / 86400)) if item["since"] else 0
        hint = t("hint.token_expiring", days=days)
    elif what == "rejected":
        hint = t("hint.rejected") + ("" if item["message"] in OWN_WORDS else f": {item['message']}")
    else:
        hint = t(f"hint.{what}")
    return {"what": t(f"what.{what}"), "message": hint}


st.subheader(t("sched.attention"))
total = loaders.count_attention()
if not total:
    st.caption(t("sched.none"))
first, last = ui.paged(total, key="sched_page", what=t("sched.attention"))
shown = loaders.attention(limit=last - first, offset=first) if last > first else []
ui.table([{**item, **in_words(item), "since": ui.local_time(item["since"], tz)} for item in shown],
         key="attention", columns={"what": t("col.status"), "post_id": t("col.post"), "channel": t("col.channel"),
                                   "message": t("col.detail"), "since": t("col.when")})


def act(label: str, action, *args, **kwargs) -> None:  # noqa: ANN001
    st.session_state.pop("sched_pending", None)
    try:
        lines = action(*args, **kwargs)
    except loaders.ACTION_ERRORS as exc:
        st.error(t("err.action", error=exc))
        return
    st.session_state["schedule_done"] = [t("sched.done", n=len(lines), what=label), *lines]
    st.session_state.pop("sched_chosen", None)
    st.rerun()


by_id = {item["post_id"]: item for item in shown if item["post_id"] is not None}
if by_id and user.can(Role.PLANNER):
    every = st.checkbox(t("sched.all_on_page", n=i18n.number(len(by_id))), key="sched_all")
    chosen = list(by_id) if every else st.multiselect(
        t("sched.choose"), list(by_id), key="sched_chosen", placeholder=t("choose"),
        format_func=lambda i: f"{in_words(by_id[i])['what']} · {by_id[i]['channel']} · "
                              f"{ui.local_time(by_id[i]['since'], tz)} · {t('col.post')} {i}")
    retryable = [i for i in chosen if by_id[i]["what"] in RETRYABLE]
    cancellable = [i for i in chosen if by_id[i]["what"] != "rejected"]
    cols = st.columns(2)
    if cols[0].button(t("sched.retry_n", n=len(retryable)), key="bulk_retry", disabled=not retryable):
        st.session_state["sched_pending"] = ("retry", retryable)
    if cols[1].button(t("sched.cancel_n", n=len(cancellable)), key="bulk_cancel", disabled=not cancellable):
        st.session_state["sched_pending"] = ("cancel", cancellable)
    pending = st.session_state.get("sched_pending")
    if pending:
        what, ids = pending
        label = t(f"sched.{what}")
        st.warning(t("sched.sure", what=label.lower(), n=i18n.number(len(ids))))
        sure = st.columns(2)
        if sure[0].button(t("sched.yes", what=label), key="bulk_yes", type="primary"):
            act(label, loaders.retry if what == "retry" else loaders.cancel, ids)
        if sure[1].button(t("sched.no"), key="bulk_no"):
            st.session_state.pop("sched_pending", None)
            st.rerun()
    if len(chosen) == 1:
        post_id = chosen[0]
        item = by_id[post_id]
        if item["what"] not in (*MANUAL, "rejected", "too_late") and item["message"] not in OWN_WORDS:
            st.caption(f"{t('hint.platform')}: {item['message']}")
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
                day = when[0].date_input(t("col.due"), key=f"move_day_{post_id}",
                                    format=i18n.date_input_format())
                at = when[1].time_input(t("sched.time"), key=f"move_time_{post_id}")
                st.caption(t("sched.reschedule_help"))
                if st.form_submit_button(t("sched.reschedule")):
                    act(t("sched.reschedule"), loaders.reschedule, post_id, ui.to_utc(day, at, tz))
