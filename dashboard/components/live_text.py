"""`live_text`: a labelled text field whose text reaches Python while the person types (about 300 ms after the
last key), so checks (limits, templates) answer before they leave the field. Streamlit's own fields send only on
blur or Ctrl+Enter. Drawn by live_text.js/.css in this folder, served by the dashboard itself (no network)."""

from __future__ import annotations

from functools import partial
from pathlib import Path

import streamlit as st

from dashboard.i18n import current

HERE = Path(__file__).resolve().parent
DEBOUNCE_MS = 300

_field = st.components.v2.component(
    "outreach_live_text", html='<div class="live-text"></div>',
    css=(HERE / "live_text.css").read_text(encoding="utf-8"), js=(HERE / "live_text.js").read_text(encoding="utf-8"))


def live_text(label: str, *, key: str, value: str = "", multiline: bool = True, height: int | None = None,
              placeholder: str = "") -> str:
    """The field's text. `st.session_state[key]` holds it like a widget's value: what the person types lands
    there; `put` (or setting it before the field is drawn) puts text in the field."""
    state = st.session_state
    if key not in state:
        state[key] = value
    shown, rev = f"{key}:shown", f"{key}:rev"  # the text the field has, as far as Python knows; its version
    if state.pop(f"{key}:put", False) or state.get(shown) != state[key]:  # set from Python: the field takes it
        state[rev] = state.get(rev, 0) + 1
        state[shown] = state[key]
    _field(key=f"{key}:field", data={"label": label, "value": state[key], "rev": state[rev], "multiline": multiline,
                                      "height": height, "placeholder": placeholder, "lang": current().value,
                                      "debounce_ms": DEBOUNCE_MS},
           on_value_change=partial(_typed, key))
    return state[key]


def put(key: str, text: str) -> None:
    """Put `text` in the field `key` (from a callback: a saved draft loaded). It replaces what is in the field,
    keys sent in the same moment included (the button was pressed as the field sent its last keys)."""
    st.session_state[key] = text
    st.session_state[f"{key}:put"] = True


def _typed(key: str) -> None:
    """The person typed (runs before the page): their text is the value, and the field already shows it, unless
    Python put a text in the field in the same moment: that one wins and goes to the field."""
    state = st.session_state
    typed = state[f"{key}:field"]["value"] or ""
    if not state.get(f"{key}:put") and state.get(key) == state.get(f"{key}:shown"):
        state[key] = typed
    state[f"{key}:shown"] = typed
