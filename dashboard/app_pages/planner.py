"""Planner: a volunteer writes a post for a meeting; limits checked as they type (`live_text` sends the text while
they type, not when they leave the field), card previewed, saved to review."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import streamlit as st

from dashboard import auth, i18n, loaders, ui
from dashboard.components import live_text
from dashboard.i18n import t
from outreach.planning.dashboard_posts import RECENT_DAYS, Check, DraftPost, MeetingChoice
from outreach.planning.draft_video import CAPTION_SUFFIXES, MAX_UPLOAD_MB, VIDEO_SUFFIXES, DraftVideo
from outreach.planning.spec import CARD_TEMPLATES

user = st.session_state["user"]
auth.require(user, auth.Role.PLANNER)
st.title(t("plan.title"))
with st.container():  # always one element: what follows keeps its place when the message is gone
    for message in st.session_state.pop("planner_done", []):
        st.success(message)


def choose_meeting() -> MeetingChoice:
    """The meeting to write about: from those to come and the last RECENT_DAYS days (or, switched, the ones
    before), narrowed by a search that asks the database; a meeting in the link (`?meeting=<id>`) or being
    edited stays in the list. The choice is kept in the link."""
    wanted = [int(st.query_params["meeting"])] if st.query_params.get("meeting", "").isdigit() else []
    keep = tuple(dict.fromkeys([*wanted, *[st.session_state[k] for k in ("plan_meeting",) if k in st.session_state]]))
    cols = st.columns([3, 2], vertical_alignment="bottom")
    search = cols[0].text_input(t("plan.find"), key="plan_find", placeholder=t("plan.find_hint"),
                                on_change=_look_again).strip()
    earlier = cols[1].toggle(t("plan.earlier", days=RECENT_DAYS), key="plan_earlier", on_change=_look_again)
    found = loaders.find_meetings(earlier=earlier, search=search, keep=keep)
    ids = [m.id for m in found.meetings]
    if st.session_state.pop("plan_looked", False) and ids and st.session_state.get("plan_meeting") not in ids:
        st.session_state["plan_meeting"] = ids[0]  # a new search shows its first find (the one before stays offered)
    if not found.choices:
        st.info(t("plan.none_found") if search or earlier else t("plan.no_meetings"))
        st.stop()
    by_id = {m.id: m for m in found.choices}
    if "plan_meeting" not in st.session_state and wanted and wanted[0] in by_id:
        st.session_state["plan_meeting"] = wanted[0]
    chosen = st.selectbox(t("plan.meeting"), list(by_id), key="plan_meeting", format_func=lambda i: by_id[i].label())
    if len(found.meetings) < found.total:
        st.caption(t("plan.shown", shown=i18n.number(len(found.meetings)), total=i18n.number(found.total)))
    elif search or earlier:
        st.caption(t("plan.found", n=i18n.number(found.total)))
    st.query_params["meeting"] = str(chosen)
    return loaders.with_link(by_id[chosen])


def _look_again() -> None:
    st.session_state["plan_looked"] = True


meeting = choose_meeting()
local_start = meeting.starts_at.astimezone(ZoneInfo(meeting.timezone))


def load_saved(draft: DraftPost) -> None:
    st.session_state.update(plan_langs=list(draft.texts), plan_channels=list(draft.channels),
                            plan_date=draft.due_local.date(), plan_time=draft.due_local.time(),
                            plan_card=draft.card or "")
    live_text.put("plan_link", draft.link or "")
    for lang, text in draft.texts.items():
        live_text.put(f"plan_text_{lang}", text)
        live_text.put(f"plan_alt_{lang}", draft.alt_texts.get(lang, ""))
    video = draft.video
    st.session_state.update(plan_video=video.file if video else "", plan_frame=video.frame if video else None,
                            plan_cover_card=(video.card or "") if video else "",
                            plan_captions=dict(video.captions) if video else {})
    for lang in draft.texts:
        live_text.put(f"plan_vdesc_{lang}", video.descriptions.get(lang, "") if video else "")
    for channel, options in (video.options if video else {}).items():
        st.session_state.update({f"plan_opt_{channel}_{o}": bool(v) for o, v in options.items()})


def language_chips(offered: list[str], default: list[str]) -> list[str]:
    """The languages to write in, shown by name in the reader's language. The multiselect's own value is the names
    (Streamlit keeps a multiselect's choice as its words), which a switch of the page's language would no longer
    find among the options: its choice would be lost with every field written in. So the codes are kept apart
    (`plan_langs`) and given to the widget on every run, to be shown in this run's words."""
    names = {code: i18n.language_name(code) for code in offered}  # looked up now, in this run's language
    chosen = st.session_state.setdefault("plan_langs", default)
    st.session_state["plan_languages"] = [code for code in chosen if code in names]
    return st.multiselect(t("plan.languages"), offered, key="plan_languages", placeholder=t("choose"),
                          format_func=lambda code: names.get(code, code), on_change=_keep_languages)


def _keep_languages() -> None:
    st.session_state["plan_langs"] = list(st.session_state["plan_languages"])


def kept(upload: object) -> str | None:
    """An uploaded file saved by its content (None, with the reason shown, when it is refused)."""
    try:
        return loaders.save_upload(upload.name, upload.getvalue())  # type: ignore[attr-defined]
    except loaders.ACTION_ERRORS:
        st.error(t("plan.upload_failed", name=upload.name))  # type: ignore[attr-defined]
        return None


def video_fields(languages: list[str], channels: list[str]) -> DraftVideo | None:
    """The video part of the form: a file (chosen or uploaded), cover, descriptions, captions, options."""
    st.html("<style>[data-testid='stFileUploaderDropzoneInstructions']{display:none}</style>")  # English words
    upload = st.file_uploader(t("plan.video_upload", mb=MAX_UPLOAD_MB), type=[s[1:] for s in VIDEO_SUFFIXES],
                              key="plan_video_upload", max_upload_size=MAX_UPLOAD_MB)
    path = kept(upload) if upload is not None else None
    if path and st.session_state.get("plan_video_uploaded") != path:
        st.session_state.update(plan_video=path, plan_video_uploaded=path)
    files = loaders.video_files()
    chosen = st.session_state.get("plan_video")
    options = ["", *files, *([chosen] if chosen and chosen not in files else [])]
    file = st.selectbox(t("plan.video"), options, key="plan_video",
                        format_func=lambda f: Path(f).name if f else "–")
    if not file:
        return None
    cols = st.columns(2)
    frame = cols[0].number_input(t("plan.cover_frame"), min_value=0.0, value=None, step=0.5, key="plan_frame")
    cover = cols[1].selectbox(t("plan.cover_card"), ["", *CARD_TEMPLATES], key="plan_cover_card",
                              format_func=lambda c: c or "–")
    descriptions, captions = {}, dict(st.session_state.setdefault("plan_captions", {}))
    for lang in languages:
        descriptions[lang] = live_text.live_text(t("plan.video_desc", lang=i18n.language_name(lang)), key=f"plan_vdesc_{lang}",
                                                 multiline=False)
        sub = st.file_uploader(t("plan.captions", lang=i18n.language_name(lang)), type=[s[1:] for s in CAPTION_SUFFIXES],
                               key=f"plan_caption_{lang}", max_upload_size=1)
        if sub is not None and (saved := kept(sub)):
            captions[lang] = saved
        if lang in captions:
            st.caption(t("plan.captions_kept", lang=i18n.language_name(lang), name=Path(captions[lang]).name))
    chosen_options = {}
    for channel, names in loaders.video_options(channels).items():
        ticked = {o: True for o in names if st.checkbox(t(f"plan.option.{o}", channel=channel),
                                                         key=f"plan_opt_{channel}_{o}")}
        if ticked:
            chosen_options[channel] = ticked
    return DraftVideo(file=file, descriptions=descriptions, captions={k: v for k, v in captions.items()
                                                                      if k in languages},
                      frame=frame, card=cover or None, options=chosen_options)


left, right = st.columns([3, 2])
with left:
    name = live_text.live_text(t("plan.name"), value="extra", key="plan_name", multiline=False).strip()
    saved = loaders.load_draft(meeting.id, name, meeting.timezone) if name else None
    if saved is not None:
        st.button("↺ " + t("plan.name") + f": {name}", key="plan_load", on_click=load_saved, args=(saved,))
    languages = language_chips(sorted({*meeting.languages, "nl", "en"}), list(meeting.languages))
    channels = st.multiselect(t("plan.channels"), loaders.channel_names(), key="plan_channels", placeholder=t("choose"),
                              default=loaders.channel_names()[:1])
    cols = st.columns(2)
    day = cols[0].date_input(t("plan.date"), value=(local_start - timedelta(days=2)).date(), key="plan_date",
                             format=i18n.date_input_format())
    clock = cols[1].time_input(t("plan.time"), value=time(18, 0), key="plan_time", step=300)
    video = video_fields(languages, channels)
    no_card = t("plan.no_card")  # looked up now, in this run's language (the function may be called after it)
    card = "" if video else ui.select(t("plan.card"), ["", *CARD_TEMPLATES], key="plan_card",
                                      format_func=lambda c: c or no_card)
    link = live_text.live_text(t("plan.link"), key="plan_link", placeholder=meeting.link or "",
                               multiline=False).strip() or None
    if meeting.link:
        st.caption(t("plan.link_default", link=meeting.link))
    st.caption(t("plan.help"))
    texts, alts = {}, {}
    for lang in languages:
        texts[lang] = live_text.live_text(t("plan.text", lang=i18n.language_name(lang)), key=f"plan_text_{lang}", height=90)
        if card:
            alts[lang] = live_text.live_text(t("plan.alt", lang=i18n.language_name(lang)), key=f"plan_alt_{lang}", multiline=False)

draft = DraftPost(meeting_id=meeting.id, name=name, texts=texts, channels=channels,
                  due_local=datetime.combine(day, clock), card=card or None, alt_texts=alts, link=link,
                  video=video)
rendered = loaders.render_draft(draft, meeting)



def in_words(check: Check) -> str:
    """A check in the volunteer's language, with its figures and what to do."""
    if not check.code:  # a platform's objection without figures: where, then its words
        where = " · ".join(x for x in (check.channel, check.language) if x)
        return f"{where}: {check.message}" if where else check.message
    values = {**check.values, "channel": check.channel or "", "language": i18n.language_name(check.language or "")}
    if "bytes" in values:  # a video's size, in megabytes
        values.update(megabytes=i18n.one_decimal(values["bytes"] / 1e6), limit_mb=i18n.one_decimal(values["limit"] / 1e6))
    elif check.code.startswith(("video_too", "cover_")):  # seconds
        values.update({k: i18n.one_decimal(values[k]) for k in ("seconds", "frame") if k in values})
        values.update({"limit": i18n.number(values["limit"])} if "limit" in values else {})
    if "platform" in values and check.code != "too_long":
        values["platform"] = i18n.platform_name(values["platform"])
    if "languages" in values:
        values["languages"] = ", ".join(i18n.language_name(x) for x in values["languages"])
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
        (st.warning if check.warning else st.error)(in_words(check))
    if rendered.ok:
        st.success(t("plan.ok"))
    for lang, tab in zip(languages, st.tabs([i18n.language_name(x) for x in languages]) if languages else [],
                         strict=True):
        with tab:
            if video:
                st.video(video.file)
            if card or (video and video.card):
                try:
                    image, alt = loaders.card_preview(replace(draft, card=card or video.card, video=None),
                                                      meeting, lang)
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
