"""Entry point: `streamlit run dashboard/app.py` (OUTREACH_CONFIG names the config file).

Sign-in first, then `st.navigation` over the pages in dashboard/app_pages/ that the user's roles allow.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

STARTED = time.perf_counter()  # the script run's own time (P4, opt-in: dashboard/profiling.py)

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # `dashboard.*` imports when streamlit runs this file directly
    sys.path.insert(0, str(ROOT))

import streamlit as st  # noqa: E402

from dashboard import auth, loaders, profiling, warm  # noqa: E402, F401 - warm: loads chart libraries once, aside
from dashboard.i18n import LANG_KEY, Lang, current, t  # noqa: E402

PAGES_DIR = Path(__file__).resolve().parent / "app_pages"
# A file, not a ":material/…:" name: Streamlit fetches those favicons from fonts.gstatic.com (a third party).
FAVICON = ROOT / "assets" / "favicon.png"
# (file, title key, icon, role needed to see it)
PAGES = (
    ("overview.py", "nav.overview", ":material/dashboard:", auth.Role.VIEWER),
    ("campaigns.py", "nav.campaigns", ":material/campaign:", auth.Role.VIEWER),
    ("meetings.py", "nav.meetings", ":material/groups:", auth.Role.VIEWER),
    ("communities.py", "nav.communities", ":material/compare:", auth.Role.VIEWER),
    ("schedule.py", "nav.schedule", ":material/calendar_month:", auth.Role.VIEWER),
    ("planner.py", "nav.planner", ":material/edit_note:", auth.Role.PLANNER),
    ("review.py", "nav.review", ":material/fact_check:", auth.Role.REVIEWER),
    ("archive.py", "nav.archive", ":material/inventory_2:", auth.Role.VIEWER),
)

st.set_page_config(page_title=t("app.title"), page_icon=str(FAVICON), layout="wide")


def _language_switch() -> None:
    """Dutch unless switched; the choice is kept in the URL (`?lang=en`) with the filters."""
    if LANG_KEY not in st.session_state:
        st.session_state[LANG_KEY] = current().value
    st.sidebar.segmented_control(t("lang.label"), [Lang.NL.value, Lang.EN.value], key=LANG_KEY,
                                 format_func=str.upper)
    st.query_params["lang"] = current().value


def _pages(user: auth.User | None) -> list:
    return [st.Page(PAGES_DIR / file, title=t(title), icon=icon, url_path=file.removesuffix(".py"))
            for file, title, icon, role in PAGES if user is None or user.can(role)]


def _stop_on(problem: str | None, what: str) -> None:
    """A config or database the CLI would refuse stops here, said plainly in the reader's language with the
    check's own line (not a traceback)."""
    if problem is not None:
        st.error(t(f"err.{what}"))
        st.caption(t("err.config_where"))
        st.code(problem, language=None, wrap_lines=True)
        st.stop()


loaders.new_run()
_language_switch()
_stop_on(loaders.config_problem(), "config")
user = auth.current_user(loaders.accounts())
if user is None:
    st.navigation(_pages(None), position="hidden")  # not run: keeps the linked page for after signing in
    profiling.record("sign-in", STARTED)
    st.stop()
st.session_state["user"] = user
_stop_on(loaders.database_problem(), "database")  # after signing in: only a user learns where it is
if not user.local:
    st.sidebar.caption(t("auth.as", user=user.name, roles=user.roles_text()))
    if st.sidebar.button(t("auth.logout"), key="logout"):
        auth.logout()
        st.rerun()

chosen = st.navigation(_pages(user))
try:
    chosen.run()
finally:
    profiling.record(chosen.url_path or PAGES[0][0].removesuffix(".py"), STARTED)
