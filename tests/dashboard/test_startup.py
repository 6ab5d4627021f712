"""A dashboard started on its own (`streamlit run dashboard/app.py`) checks its config as the CLI does and says
what is wrong in the reader's language, with the check's own line naming file, table and key: no traceback."""

from __future__ import annotations

from pathlib import Path

import pytest
import streamlit as st
from streamlit.testing.v1 import AppTest

from dashboard.i18n import EN, NL
from tests.dashboard.conftest import APP, HASH

GOOD = """\
[database]
url = "sqlite:///{db}"

[channels.peer-mastodon]
platform = "mastodon"
base_url = "http://127.0.0.1:1/mastodon"
token_env = "STARTUP_TEST_TOKEN_NEVER_SET"
visibility = "public"

[dashboard.users.rita]
password_hash = "{hash}"
roles = ["planner"]
"""
BROKEN = {
    "misspelt key": (GOOD.replace("visibility", "visibilty"),
                     "[channels.peer-mastodon]: unknown setting 'visibilty' (did you mean 'visibility'?"),
    "unknown platform": (GOOD.replace('"mastodon"', '"myspace"', 1), "myspace"),
    "not toml": (GOOD.replace("[database]", "[database"), "outreach.toml"),
}


@pytest.mark.parametrize("lang", ["nl", "en"])
@pytest.mark.parametrize("case", list(BROKEN))
def test_a_broken_config_is_explained_not_a_traceback(case: str, lang: str, tmp_path: Path,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    text, detail = BROKEN[case]
    config = tmp_path / "outreach.toml"
    config.write_text(text.format(db=tmp_path / "outreach.db", hash=HASH), encoding="utf-8")
    monkeypatch.setenv("OUTREACH_CONFIG", str(config))
    st.cache_resource.clear()
    at = AppTest.from_file(str(APP), default_timeout=30)
    at.query_params["lang"] = lang
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    words = {"nl": NL, "en": EN}[lang]
    assert [e.value for e in at.error] == [words["err.config"]]
    assert detail in at.code[0].value and str(config) in at.code[0].value  # the check's line: file and key
    assert not at.text_input  # stopped before the sign-in form: nothing half-started


def test_a_corrected_config_starts_without_a_restart(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    config = tmp_path / "outreach.toml"
    config.write_text(BROKEN["misspelt key"][0].format(db=tmp_path / "outreach.db", hash=HASH), encoding="utf-8")
    monkeypatch.setenv("OUTREACH_CONFIG", str(config))
    st.cache_resource.clear()
    at = AppTest.from_file(str(APP), default_timeout=30).run()
    assert [e.value for e in at.error] == [NL["err.config"]]
    config.write_text(GOOD.format(db=tmp_path / "outreach.db", hash=HASH), encoding="utf-8")
    at.run()
    assert not at.exception and not at.error and not at.code
    assert at.text_input  # the sign-in form


def test_a_missing_database_says_run_init_after_signing_in(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from dashboard import auth
    from outreach.db import Database
    from outreach.db.migrate import upgrade

    db_path = tmp_path / "outreach.db"
    config = tmp_path / "outreach.toml"
    config.write_text(GOOD.format(db=db_path, hash=HASH), encoding="utf-8")
    monkeypatch.setenv("OUTREACH_CONFIG", str(config))
    st.cache_resource.clear()
    at = AppTest.from_file(str(APP), default_timeout=30)
    at.session_state[auth.SESSION_KEY] = auth.User("rita", frozenset({auth.Role.PLANNER}))
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    assert [e.value for e in at.error] == [NL["err.database"]]
    assert "run `outreach init` first" in at.code[0].value and str(db_path) in at.code[0].value
    assert not db_path.exists()  # looking did not leave an empty file behind
    db = Database(f"sqlite:///{db_path}")
    upgrade(db)  # what `outreach init` does
    db.dispose()
    at.run()
    assert not at.exception and not at.error and [t.value for t in at.title] == ["Overzicht"]
