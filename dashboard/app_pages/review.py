"""Review: approve or reject each language variant (with a reason); the audit trail of who did what."""

from __future__ import annotations

from itertools import groupby

import streamlit as st

from dashboard import auth, i18n, loaders, ui
from dashboard.i18n import t
from outreach.planning.dashboard_posts import RULE_PREFIX

user = st.session_state["user"]
auth.require(user, auth.Role.REVIEWER)
tz = loaders.timezone()
st.title(t("rev.title"))

for message in st.session_state.pop("review_done", []):
    st.success(message)


def decide(post_id: int, approve: bool) -> None:
    st.session_state.pop("review_error", None)
    reason = st.session_state.get(f"reason_{post_id}", "")
    if not approve and not reason.strip():  # the library refuses too; here the reviewer reads it in words
        st.session_state["review_error"] = (post_id, t("rev.reason_needed"))
        return
    try:
        if approve:
            lines = loaders.approve([post_id], reviewer=user.name, reason=reason)
        else:
            lines = loaders.reject([post_id], reviewer=user.name, reason=reason)
    except loaders.ACTION_ERRORS as exc:
        st.session_state["review_error"] = (post_id, str(exc))
        return
    st.session_state["review_done"] = [t("rev.done", id=post_id, what=line) for line in lines]


queue = loaders.review_queue()
if not queue:
    st.info(t("rev.none"))
for source_key, variants in groupby(queue, key=lambda p: (p["campaign"], p["source_key"])):
    variants = list(variants)
    first = variants[0]
    rule, _, where = source_key[1].removeprefix(RULE_PREFIX).partition("/")
    st.subheader(f"{rule} · {where}" if where else rule)
    st.caption(f"{first['campaign']} · {t('col.due')}: {ui.local_time(first['due_at'], tz)}")
    for post in variants:
        pid = post["id"]
        with st.container(border=True, key=f"variant_{pid}"):
            st.markdown(f"**{i18n.language_name(post['language'])}** · {post['channel']}")
            st.text(post["text"])
            card = next((m for m in post["media"] if m.get("card")), None)
            if card:
                st.caption(f"{t('plan.card')}: {card['card']} · {t('col.alt')}: {card.get('alt_text', '')}")
            st.text_input(t("rev.reason"), key=f"reason_{pid}")
            error = st.session_state.get("review_error")
            if error and error[0] == pid:
                st.error(t("err.action", error=error[1]))
            cols = st.columns(2)
            cols[0].button(t("rev.approve"), key=f"approve_{pid}", type="primary", on_click=decide, args=(pid, True),
                           icon=":material/check:")
            cols[1].button(t("rev.reject"), key=f"reject_{pid}", on_click=decide, args=(pid, False),
                           icon=":material/close:")

st.subheader(t("rev.audit"))
trail = loaders.audit_trail()
ui.table([{**row, "when": ui.local_time(row["when"], tz), "decision": t(f"decision.{row['decision']}")} for row in trail], key="audit_trail", columns={
    "when": t("col.when"), "post": t("col.post"), "channel": t("col.channel"), "language": t("col.language"),
    "decision": t("col.decision"), "who": t("col.who"), "reason": t("col.reason")})
