"""PlatformSession: the environment's proxy and CA settings read once per host, as requests would
have chosen them, and ~/.netrc never replacing a channel's own token. Over real loopback HTTP."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
import requests

from outreach.config import ChannelConfig
from outreach.connectors.http import PlatformSession
from outreach.connectors.mastodon import MastodonConnector
from outreach.domain import Platform, PublishRequest
from outreach.sandbox.mastodon import DEMO_TOKEN, MastodonSim

PROXY_VARS = ("http_proxy", "HTTP_PROXY", "https_proxy", "HTTPS_PROXY", "all_proxy", "ALL_PROXY",
              "no_proxy", "NO_PROXY", "REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE", "NETRC")


class Recorder(ThreadingHTTPServer):
    """Answers every request with 200 and keeps its request line and Authorization header. As a
    proxy it sees absolute URIs ("GET http://host/path"); as a server, paths ("GET /path")."""

    def __init__(self) -> None:
        self.seen: list[tuple[str, str | None]] = []

        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                server.seen.append((self.requestline, self.headers.get("Authorization")))
                body = json.dumps({"ok": True}).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: object) -> None:
                pass

        super().__init__(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server_address[1]}"
        threading.Thread(target=self.serve_forever, daemon=True).start()

    def stop(self) -> None:
        self.shutdown()
        self.server_close()


@pytest.fixture
def clean_env(monkeypatch: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    for name in PROXY_VARS:
        monkeypatch.delenv(name, raising=False)
    return monkeypatch


@pytest.fixture
def recorder() -> Iterator[Recorder]:
    server = Recorder()
    yield server
    server.stop()


@pytest.fixture
def proxy() -> Iterator[Recorder]:
    server = Recorder()
    yield server
    server.stop()


def test_a_proxy_from_the_environment_is_used(clean_env: pytest.MonkeyPatch, proxy: Recorder) -> None:
    clean_env.setenv("HTTP_PROXY", proxy.url)
    response = PlatformSession().get("http://platform.example/api/v1/instance", timeout=5)
    assert response.json() == {"ok": True}
    assert proxy.seen == [("GET http://platform.example/api/v1/instance HTTP/1.1", None)]


def test_no_proxy_is_honoured_per_host(clean_env: pytest.MonkeyPatch, proxy: Recorder, recorder: Recorder) -> None:
    clean_env.setenv("HTTP_PROXY", proxy.url)
    clean_env.setenv("NO_PROXY", "127.0.0.1")
    session = PlatformSession()
    session.get(f"{recorder.url}/direct", timeout=5)
    session.get("http://platform.example/proxied", timeout=5)
    session.get(f"{recorder.url}/direct-again", timeout=5)
    assert [line for line, _ in recorder.seen] == ["GET /direct HTTP/1.1", "GET /direct-again HTTP/1.1"]
    assert [line for line, _ in proxy.seen] == ["GET http://platform.example/proxied HTTP/1.1"]


def test_the_environment_is_read_once_per_host(clean_env: pytest.MonkeyPatch, proxy: Recorder,
                                               recorder: Recorder) -> None:
    session = PlatformSession()
    session.get(f"{recorder.url}/first", timeout=5)  # no proxy configured when this host is first called
    clean_env.setenv("HTTP_PROXY", proxy.url)
    session.get(f"{recorder.url}/second", timeout=5)  # the same host: its settings are kept
    session.get("http://platform.example/new-host", timeout=5)  # a host not called before: read now
    assert [line for line, _ in recorder.seen] == ["GET /first HTTP/1.1", "GET /second HTTP/1.1"]
    assert [line for line, _ in proxy.seen] == ["GET http://platform.example/new-host HTTP/1.1"]
    # A plain requests.Session reads the environment on every request: both went through the proxy.
    plain = requests.Session()
    plain.get(f"{recorder.url}/third", timeout=5)
    assert proxy.seen[-1][0] == f"GET {recorder.url}/third HTTP/1.1"


def test_request_level_settings_take_requests_own_path(clean_env: pytest.MonkeyPatch, proxy: Recorder,
                                                       recorder: Recorder) -> None:
    session = PlatformSession()
    session.get(f"{recorder.url}/cached", timeout=5)
    session.get(f"{recorder.url}/via-proxy", proxies={"http": proxy.url}, timeout=5)
    session.proxies = {"http": proxy.url}  # a session setting changed later applies at once
    session.get(f"{recorder.url}/session-proxy", timeout=5)
    assert [line for line, _ in recorder.seen] == ["GET /cached HTTP/1.1"]
    assert [line for line, _ in proxy.seen] == [f"GET {recorder.url}/via-proxy HTTP/1.1",
                                                f"GET {recorder.url}/session-proxy HTTP/1.1"]


def test_a_ca_bundle_from_the_environment_is_kept(clean_env: pytest.MonkeyPatch, tmp_path: Path) -> None:
    bundle = tmp_path / "ca.pem"
    bundle.write_text("")
    clean_env.setenv("REQUESTS_CA_BUNDLE", str(bundle))
    settings = PlatformSession().merge_environment_settings("https://platform.example/x", {}, None, None, None)
    assert settings["verify"] == str(bundle)


def test_netrc_never_replaces_the_channel_token(clean_env: pytest.MonkeyPatch, tmp_path: Path,
                                                recorder: Recorder) -> None:
    netrc = tmp_path / "netrc"
    netrc.write_text("machine 127.0.0.1 login someone password hunter2\n")
    netrc.chmod(0o600)
    clean_env.setenv("NETRC", str(netrc))
    headers = {"Authorization": "Bearer channel-token"}
    requests.Session().get(f"{recorder.url}/plain", headers=headers, timeout=5)
    PlatformSession().get(f"{recorder.url}/ours", headers=headers, timeout=5)
    plain, ours = (auth for _, auth in recorder.seen)
    assert plain is not None and plain.startswith("Basic ")  # the hazard: requests swapped the token out
    assert ours == "Bearer channel-token"


def test_a_connector_publishes_with_its_token_despite_a_netrc_entry(
        clean_env: pytest.MonkeyPatch, tmp_path: Path, serve_sandbox) -> None:
    sim = MastodonSim()
    _, url = serve_sandbox(sim)
    netrc = tmp_path / "netrc"
    netrc.write_text("machine 127.0.0.1 login someone password hunter2\n")
    netrc.chmod(0o600)
    clean_env.setenv("NETRC", str(netrc))
    clean_env.setenv("OUTREACH_TEST_HTTP_TOKEN", DEMO_TOKEN)
    config = ChannelConfig(name="peer-mastodon", platform=Platform("mastodon"), base_url=f"{url}/mastodon",
                           secret_envs={"token": "OUTREACH_TEST_HTTP_TOKEN"})
    connector = MastodonConnector(config, timeout_s=5)
    assert isinstance(connector.http, PlatformSession)
    req = PublishRequest(post_id=1, text="Praat mee in Utrecht", language="nl", idempotency_key="http-1-nl")
    result = connector.publish(req, save_handle=lambda handle: None)
    [status] = sim.state()["statuses"]
    assert result.remote_id == status["id"] and status["text"] == "Praat mee in Utrecht"
