"""`outreach channels check` checks the credentials a person just changed: for Bluesky a fresh
login with the app password in the environment, not only the stored session (CLI, sandbox over HTTP)."""

from __future__ import annotations

from pathlib import Path

import pytest
import requests

from outreach.cli import main
from outreach.sandbox.bluesky import DEMO_IDENTIFIER, DEMO_PASSWORD, BlueskySim

ENV = "CHECK_BSKY_PASSWORD"


@pytest.fixture
def config(serve_sandbox, tmp_path: Path, monkeypatch: pytest.MonkeyPatch):  # type: ignore[no-untyped-def]
    sim = BlueskySim()
    _, url = serve_sandbox(sim)
    path = tmp_path / "outreach.toml"
    path.write_text(f"""
state_dir = "{tmp_path / 'state'}"
[database]
url = "sqlite:///{tmp_path / 'o.db'}"
[channels.peer-bluesky]
platform = "bluesky"
base_url = "{url}/bluesky"
identifier = "{DEMO_IDENTIFIER}"
password_env = "{ENV}"
""", encoding="utf-8")
    monkeypatch.setenv(ENV, DEMO_PASSWORD)
    monkeypatch.delenv("OUTREACH_DATABASE_URL", raising=False)

    def logins() -> int:
        return int(sim.state()["calls"].get("com.atproto.server.createSession", 0))

    def control(action: str, payload: dict) -> None:
        requests.post(f"{url}/_sandbox/bluesky/{action}", json=payload, timeout=5).raise_for_status()

    return path, sim, logins, control


def check(path: Path, capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    code = main(["--config", str(path), "channels", "check"])
    out = capsys.readouterr()
    return code, out.out + out.err


def test_a_wrong_app_password_fails_although_a_session_is_stored(config, capsys, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    path, _, logins, _ = config
    assert check(path, capsys)[0] == 0 and logins() == 1
    monkeypatch.setenv(ENV, "wron-gapp-pass-word")  # a person typed the new password wrongly
    code, out = check(path, capsys)
    assert code == 1 and logins() == 2
    assert "peer-bluesky · bluesky · FAILED" in out and "Invalid identifier or password" in out
    assert "how to get credentials: In the Bluesky app: Settings > Privacy and security > App passwords" in out
    assert "wron-gapp-pass-word" not in out


def test_a_revoked_app_password_fails(config, capsys) -> None:  # type: ignore[no-untyped-def]
    path, _, _, control = config
    assert check(path, capsys)[0] == 0
    control("set_password", {"identifier": DEMO_IDENTIFIER, "password": "newa-ppas-swor-d123"})  # old one revoked
    code, out = check(path, capsys)
    assert code == 1 and "peer-bluesky · bluesky · FAILED" in out and "Invalid identifier or password" in out


def test_the_login_rate_limit_is_respected(config, capsys, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """Checks in quick succession reuse a login made a moment ago with the same password; when the
    PDS refuses more logins the check fails, names the channel and says it is rate limited."""
    path, _, logins, control = config
    assert [check(path, capsys)[0] for _ in range(3)] == [0, 0, 0] and logins() == 1
    control("set_limits", {"create_session_daily_limit": 1})
    control("set_password", {"identifier": DEMO_IDENTIFIER, "password": "newa-ppas-swor-d123"})
    monkeypatch.setenv(ENV, "newa-ppas-swor-d123")  # a changed password is always tried
    code, out = check(path, capsys)
    assert code == 1 and logins() == 2 and "peer-bluesky · bluesky · FAILED" in out
    assert "rate limited" in out.lower()
