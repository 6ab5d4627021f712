"""Archive: export the proof-of-impact archive and report for a period, then download them."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import streamlit as st

from dashboard import i18n, loaders
from dashboard.i18n import current, t

st.title(t("arch.title"))

cols = st.columns(2)
start = cols[0].date_input(t("arch.from"), value=date(date.today().year, 1, 1), key="arch_from", format=i18n.date_input_format())
end = cols[1].date_input(t("arch.to"), value=date.today(), key="arch_to", format=i18n.date_input_format())
if st.button(t("arch.export"), key="arch_export", type="primary"):
    try:
        result = loaders.export_archive(start, end, language=current().value)
    except Exception as exc:  # noqa: BLE001 - shown to the coordinator, the page stays usable
        st.error(t("err.action", error=exc))
    else:
        st.session_state["arch_files"] = [str(p) for p in result]
for path in map(Path, st.session_state.get("arch_files", [])):
    st.success(t("arch.done", path=path.name))
    if path.is_file():
        st.download_button(t("arch.download", name=path.name), path.read_bytes(), file_name=path.name,
                           key=f"arch_dl_{path.name}", icon=":material/download:")
