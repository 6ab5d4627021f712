"""Planner: a volunteer writes a post for a meeting; limits checked as they type (`live_text` sends the text while
they type, not when they leave the field), card previewed, saved to review."""

from __future__ import annotations

from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

import streamlit as st

from dashboard import auth, i18n, loaders
from dashboard.components import live_text
from dashboard.i18n import t
from outreach.planning.dashboard_posts import Check, DraftPost
from outreach.planning.spec import CARD_TEMPLATES

user = st.session_state["user"]
auth.require(user, auth.Role.PLANNER)
st.title(t("plan.title"))
for message in st.session_state.pop("planner_done", []):
    st.success(message)

meetings = loaders.meeting_choices()
if not meetings:
    st.info(t("plan.no_meetings"))
    st.stop()
by_id = {m.id: m for m in meetings}
now = datetime.now(ZoneInfo(loaders.timezone()))
upcoming = [m.id for m in meetings if m.starts_at >= now] or [meetings[-1].id]
order = upcoming + [m.id for m in meetings if m.id not in upcoming]
meeting = by_id[st.selectbox(t("plan.meeting"), order, key="plan_meeting", format_func=lambda i: by_id[i].label())]
local_start = meeting.starts_at.astimezone(ZoneInfo(meeting.timezone))


def load_saved(draft: DraftPost) -> None:
    st.session_state.update(plan_languages=list(draft.texts), plan_channels=list(draft.channels),
                            plan_date=draft.due_local.date(), plan_time=draft.due_local.time(),
                            plan_card=draft.card or "")
    live_text.put("plan_link", draft.link or "")
    for lang, text in draft.texts.items():
        live_text.put(f"plan_text_{lang}", text)
        live_text.put(f"plan_alt_{lang}", draft.alt_texts.get(lang, ""))


left, right = st.columns([3, 2])
with left:
    name = live_text.live_text(t("plan.name"), value="extra", key="plan_name", multiline=False).strip()
    saved = loaders.load_draft(meeting.id, name, meeting.timezone) if name else None
    if saved is not None:
        st.button("↺ " + t("plan.name") + f": {name}", key="plan_load", on_click=load_saved, args=(saved,))
    languages = st.multiselect(t("plan.languages"), sorted({*meeting.languages, "nl", "en"}),
                               default=list(meeting.languages), key="plan_languages", placeholder=t("choose"))
    channels = st.multiselect(t("plan.channels"), loaders.channel_names(), key="plan_channels", placeholder=t("choose"),
                              default=loaders.channel_names()[:1])
    cols = st.columns(2)
    day = cols[0].date_input(t("plan.date"), value=(local_start - timedelta(days=2)).date(), key="plan_date",
                             format=i18n.date_input_format())
    clock = cols[1].time_input(t("plan.time"), value=time(18, 0), key="plan_time", step=300)
    card = st.selectbox(t("plan.card"), ["", *CARD_TEMPLATES], key="plan_card",
                        format_func=lambda c: c or t("plan.no_card"))
    link = live_text.live_text(t("plan.link"), key="plan_link", placeholder=meeting.link or "",
                               multiline=False).strip() or None
    if meeting.link:
        st.caption(t("plan.link_default", link=meeting.link))
    st.caption(t("plan.help"))
    texts, alts = {}, {}
    for lang in languages:
        texts[lang] = live_text.live_text(t("plan.text", lang=lang), key=f"plan_text_{lang}", height=90)
        if card:
            alts[lang] = live_text.live_text(t("plan.alt", lang=lang), key=f"plan_alt_{lang}", multiline=False)

draft = DraftPost(meeting_id=meeting.id, name=name, texts=texts, channels=channels,
                  due_local=datetime.combine(day, clock), card=card or None, alt_texts=alts, link=link)
rendered = loaders.render_draft(draft, meeting)



def in_words(check: Check) -> str:
    """A check in the volunteer's language, with its figures and what to do."""
    if not check.code:  # a platform's objection without figures: where, then its words
        where = " · ".join(x for x in (check.channel, check.language) if x)
        return f"{where}: {check.message}" if where else check.message
    values = {**check.values, "channel": check.channel or "", "language": i18n.language_name(check.language or "")}
    if check.code == "too_long":
        values.update(platform=i18n.platform_name(values["platform"]), over=i18n.number(values["length"] - values["max"]),
                      length=i18n.number(values["length"]), max=i18n.number(values["max"]))
    return t(f"check.{check.code}", **values)


with right:
    st.subheader(t("plan.preview"))
    empty = [c.language for c in rendered.checks if c.code == "empty"]
    if empty:
        st.info(t("plan.empty", languages=", ".join(i18n.language_name(x) for x in empty if x)))
    for check in (c for c in rendered.checks if c.code != "empty"):
        st.error(in_words(check))
    if rendered.ok:
        st.success(t("plan.ok"))
    for lang, tab in zip(languages, st.tabs([i18n.language_name(x) for x in languages]) if languages else [],
                         strict=True):
        with tab:
            if card:
                try:
                    image, alt = loaders.card_preview(draft, meeting, lang)
                    st.image(image, caption=alt, width="stretch")
                except Exception as exc:  # noqa: BLE001 - a preview problem must not lose the volunteer's text
                    st.warning(t("plan.card_failed", error=exc))
            for post in (p for p in rendered.posts if p.language == lang):
                st.caption(f"{post.channel} · {i18n.number(len(post.text))}")
                st.text(post.text)

if st.button(t("plan.save"), key="plan_save", type="primary", disabled=not rendered.ok):
    try:
        summary = loaders.save_draft(draft)
    except loaders.ACTION_ERRORS as exc:
        st.error(t("err.action", error=exc))
    else:
        st.session_state["planner_done"] = [t("plan.saved", summary=summary)]
        st.rerun()
