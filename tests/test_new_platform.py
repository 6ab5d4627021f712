"""Adding a platform is a connector module, a simulation module and one line in outreach/platforms.py.

This test adds a toy platform, ToyBoard, the way a contributor would: both modules are written to a temporary
folder (on sys.path) and its registry line goes into `outreach.platforms.REGISTRY`, nothing else. Then, over
real HTTP against its simulation: the config takes a channel of it, `outreach validate` checks a campaign
against its limit, the worker publishes to it exactly once (also when the answer to the first try is lost),
and `outreach status` and the dashboard name it (its display name, from its connector class).
"""

from __future__ import annotations

import sys
import textwrap
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from streamlit.testing.v1 import AppTest

from outreach import platforms
from outreach.cli import main
from outreach.config import load_settings
from outreach.db import Database
from outreach.planning import plan_campaign, schedule_campaign
from outreach.sandbox import build_sandbox, demo_accounts, serve
from tests.dashboard.conftest import HASH

ROOT = Path(__file__).resolve().parent.parent

CONNECTOR = '''
"""ToyBoard: notes on a message board. POST /api/notes {text, key}; GET /api/notes lists them."""

from __future__ import annotations

from typing import Any, ClassVar

from outreach.connectors.base import Connector, SaveHandle
from outreach.domain import AccountInfo, PublishRequest, PublishResult


class ToyBoardConnector(Connector):
    platform: ClassVar[str] = "toyboard"
    display_name: ClassVar[str] = "ToyBoard"
    max_text: ClassVar[int] = 60
    card_size: ClassVar[str] = "square"

    def _auth(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.secret()}"}

    def check(self) -> AccountInfo:
        me = self.request("GET", "/api/me", headers=self._auth()).json()
        return AccountInfo(account_id=me["id"], name=me["name"])

    def publish(self, req: PublishRequest, *, save_handle: SaveHandle) -> PublishResult:
        save_handle({"key": req.idempotency_key})  # before the network call, so a retry can reconcile
        note = self.request("POST", "/api/notes", json={"text": req.text, "key": req.idempotency_key},
                            headers=self._auth()).json()
        return self._result(note)

    def reconcile(self, req: PublishRequest) -> PublishResult | None:
        notes = self.request("GET", "/api/notes", headers=self._auth()).json()["notes"]
        return next((self._result(n) for n in notes if n["key"] == req.idempotency_key), None)

    def fetch_metrics(self, remote_ids: Any) -> dict[str, dict[str, int]]:
        return {}

    def _result(self, note: dict[str, Any]) -> PublishResult:
        return PublishResult(remote_id=note["id"], url=None, raw=note)
'''

SIMULATION = '''
"""ToyBoard's API, simulated: a repeated key answers with the note it made first (unless guards are off)."""

from __future__ import annotations

from typing import Any, ClassVar

from outreach.sandbox.core import DemoAccount, PlatformSim
from outreach.sandbox.http import Request, Response, json_response

TOKEN = "toyboard-sandbox-token"


class ToyBoardSim(PlatformSim):
    prefix: ClassVar[str] = "toyboard"

    def setup_routes(self) -> None:
        self.router.add("GET", r"/api/me", self._me)
        self.router.add("POST", r"/api/notes", self._create)
        self.router.add("GET", r"/api/notes", self._list)

    def reset(self) -> None:
        self.notes: list[dict[str, Any]] = []

    def handle(self, req: Request) -> Response:
        if req.header("authorization") != f"Bearer {TOKEN}":
            return json_response({"error": "unknown token"}, 401)
        return super().handle(req)

    def _me(self, req: Request) -> Response:
        return json_response({"id": "1", "name": "peer"})

    def _create(self, req: Request) -> Response:
        body = req.json() or {}
        if len(body.get("text", "")) > 60:
            return json_response({"error": "a note holds 60 characters"}, 422)
        known = [n for n in self.notes if n["key"] == body.get("key")]
        if known and self.guards:
            return json_response(known[0], 200)
        note = {"id": str(len(self.notes) + 1), "text": body.get("text", ""), "key": body.get("key")}
        self.notes.append(note)
        return json_response(note, 201)

    def _list(self, req: Request) -> Response:
        return json_response({"notes": self.notes})

    def state(self) -> dict[str, Any]:
        return {"notes": list(self.notes)}

    def published_texts(self) -> list[str]:
        return [n["text"] for n in self.notes]

    @classmethod
    def demo_account(cls, url: str) -> DemoAccount:
        return DemoAccount("peer-toyboard", "toyboard", f"{url}/toyboard", secrets={"token": TOKEN})
'''

CONFIG = '''
[database]
url = "sqlite:///{db}"

[worker.retry]
backoff_base_s = 0.001

[channels.peer-toyboard]
platform = "toyboard"
base_url = "{url}/toyboard"
token_env = "TOYBOARD_TOKEN"

[dashboard.users.rita]
password_hash = "{hash}"
roles = ["planner", "reviewer"]
'''

CAMPAIGN = '''
campaign:
  id: toy-test
  name: Toy test
  channels: [peer-toyboard]
  approval: required

meetings:
  - id: iot-rotterdam-toy
    kind: community
    organisation: IOT
    community: Turkse Nederlanders
    city: Rotterdam
    venue: Wijkcentrum Feijenoord
    start: {start}
    languages: [nl]

posts:
  - id: hello
    at: {at}
    text:
      nl: "{text}"
'''

SHORT = "Vanavond praten we in Rotterdam over gelijkheid."  # 48 characters: fits ToyBoard's 60
LONG = SHORT + " Iedereen is welkom, ook je vrienden."  # 85 characters: does not


@pytest.fixture
def toyboard(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """The contributor's change: two new modules and one registry line."""
    folder = tmp_path / "contrib"
    folder.mkdir()
    (folder / "toyboard_connector.py").write_text(textwrap.dedent(CONNECTOR), encoding="utf-8")
    (folder / "toyboard_sim.py").write_text(textwrap.dedent(SIMULATION), encoding="utf-8")
    monkeypatch.syspath_prepend(str(folder))
    monkeypatch.setitem(platforms.REGISTRY, "toyboard", platforms.Entry(
        "toyboard_connector:ToyBoardConnector", "toyboard_sim:ToyBoardSim"))
    yield
    for name in ("toyboard_connector", "toyboard_sim"):
        sys.modules.pop(name, None)


def _cli(capsys: pytest.CaptureFixture[str], config: Path, *args: str) -> tuple[int, str]:
    code = main(["--config", str(config), *args])
    out = capsys.readouterr()
    return code, out.out + out.err


def _campaign(path: Path, text: str, at: datetime) -> Path:
    local = at.astimezone(ZoneInfo("Europe/Amsterdam"))
    path.write_text(CAMPAIGN.format(start=(local + timedelta(days=7)).strftime("%Y-%m-%d %H:%M"),
                                    at=local.strftime("%Y-%m-%d %H:%M"), text=text), encoding="utf-8")
    return path


def test_a_platform_unknown_to_the_registry_is_refused_in_one_line(tmp_path: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    config = tmp_path / "outreach.toml"
    config.write_text(CONFIG.format(db=tmp_path / "o.db", url="http://127.0.0.1:1", hash=HASH), encoding="utf-8")
    code, out = _cli(capsys, config, "init")
    assert code != 0 and len(out.strip().splitlines()) == 1
    assert f"{config}: [channels.peer-toyboard] platform = 'toyboard' is not one of: mastodon," in out


def test_a_new_platform_needs_its_two_modules_and_one_registry_line(
        toyboard: None, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys) -> None:  # type: ignore[no-untyped-def]
    sandbox = build_sandbox()
    assert "toyboard" in sandbox.sims  # the sandbox found its simulation through the registry line
    assert [a.channel for a in demo_accounts("http://x")][-1] == "peer-toyboard"  # and the demo its channel
    server = serve(sandbox)
    try:
        config = tmp_path / "outreach.toml"
        config.write_text(CONFIG.format(db=tmp_path / "o.db", url=server.url, hash=HASH), encoding="utf-8")
        monkeypatch.setenv("TOYBOARD_TOKEN", "toyboard-sandbox-token")
        assert load_settings(config).channel("peer-toyboard").platform == "toyboard"  # config takes it
        assert _cli(capsys, config, "init")[0] == 0
        code, out = _cli(capsys, config, "channels", "check")
        assert code == 0 and "peer-toyboard" in out, out

        # validate: the campaign is checked against ToyBoard's own limit, naming file and line
        now = datetime.now(UTC).replace(second=0, microsecond=0)
        too_long = _campaign(tmp_path / "too-long.yaml", LONG, now)
        code, out = _cli(capsys, config, "validate", str(too_long))
        assert code != 0 and f"{too_long}:" in out and "toyboard allows 60" in out, out
        fits = _campaign(tmp_path / "toy.yaml", SHORT, now)
        code, out = _cli(capsys, config, "validate", str(fits))
        assert code == 0, out

        # schedule (as if a minute ago, so the post is due now), approve, and let the worker publish;
        # the answer to the first send is lost, so the second pass must find the note, not post it again
        settings = load_settings(config)
        db = Database(settings.database_url)
        schedule_campaign(db, plan_campaign(fits, settings), now=now - timedelta(minutes=1))
        db.dispose()
        assert _cli(capsys, config, "approve", "--campaign", "toy-test", "--reviewer", "Rita")[0] == 0
        sandbox.set_guards(False)  # no help from the platform: outreach's own reconcile must hold
        sandbox.add_fault(platform="toyboard", mode="reset_after", method="POST", path="/api/notes")
        code, first = _cli(capsys, config, "run", "--once")
        code, second = _cli(capsys, config, "run", "--once")
        assert "peer-toyboard" in first + second and "published" in first + second, first + second
        assert sandbox.published()["toyboard"] == {SHORT: 1}  # exactly once on the platform's side
        assert [mode for _, mode, *_ in sandbox.fault_log] == ["reset_after"]  # the fault did fire

        code, out = _cli(capsys, config, "status")
        assert code == 0 and "1 published" in out and "peer-toyboard" in out, out
    finally:
        server.stop()

    # the dashboard names it as its connector says (not "toyboard", nor "Toyboard")
    monkeypatch.setenv("OUTREACH_CONFIG", str(config))
    import streamlit as st

    st.cache_data.clear()
    st.cache_resource.clear()
    at = AppTest.from_file(str(ROOT / "dashboard" / "app.py"), default_timeout=30)
    from dashboard import auth

    at.session_state[auth.SESSION_KEY] = auth.User("rita", frozenset({auth.Role.PLANNER, auth.Role.REVIEWER}))
    at.run()
    at.switch_page("app_pages/communities.py").run()
    assert not at.exception, [e.value for e in at.exception]
    assert at.selectbox(key="f_platform").options == ["alle", "ToyBoard"]
    assert at.dataframe[0].value.iloc[:, :2].values.tolist() == [["ToyBoard", "1"]]  # its one post, by its name
