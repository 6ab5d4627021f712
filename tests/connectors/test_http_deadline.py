"""One request has a total deadline: a loopback server that trickles its answer byte by byte (each
byte well within the read timeout) cannot hold a connector longer than connect + read timeout, so
the lease check's worst case of one request (`leases.worst_request_s`) holds."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator

import pytest

from outreach.config import ChannelConfig
from outreach.connectors import TransientError
from outreach.connectors.mastodon import MastodonConnector
from outreach.domain import Platform
from outreach.publishing.leases import worst_request_s

TIMEOUT_S = 0.3  # each byte comes after 0.1 s: never a read timeout on its own
BODY = b'{"id": "1", "username": "peer", "acct": "peer", "display_name": "Peer"}'


class Trickler:
    """Answers each connection with `HEAD` then `BODY`, one byte every `gap_s`; `where` picks whether the
    status line and headers trickle too or only the body."""

    def __init__(self, where: str, gap_s: float = 0.1) -> None:
        self.where, self.gap_s = where, gap_s
        self.sock = socket.create_server(("127.0.0.1", 0))
        self.url = f"http://127.0.0.1:{self.sock.getsockname()[1]}"
        self.cut = threading.Event()
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self) -> None:
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            threading.Thread(target=self._answer, args=(conn,), daemon=True).start()

    def _answer(self, conn: socket.socket) -> None:
        head = (f"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {len(BODY)}\r\n"
                "X-Pad: " + "x" * 40 + "\r\n\r\n").encode()
        with conn:
            conn.recv(65536)
            try:
                if self.where == "body":
                    conn.sendall(head)
                for byte in (head if self.where == "head" else b"") + BODY:
                    conn.sendall(bytes([byte]))
                    time.sleep(self.gap_s)
            except OSError:
                self.cut.set()  # the client hung up before the end

    def stop(self) -> None:
        self.sock.close()


@pytest.fixture(params=["head", "body"])
def trickler(request: pytest.FixtureRequest) -> Iterator[Trickler]:
    server = Trickler(request.param)
    yield server
    server.stop()


def test_a_trickling_answer_ends_at_the_total_deadline(trickler: Trickler) -> None:
    connector = MastodonConnector(ChannelConfig(name="peer-mastodon", platform=Platform("mastodon"),
                                                base_url=trickler.url, secret_envs={}), timeout_s=TIMEOUT_S)
    started = time.monotonic()
    with pytest.raises(TransientError, match="no answer from 127.0.0.1.* within 0.3 s") as raised:
        connector.request("POST", "/api/v1/statuses", json={"status": "hallo"})
    took = time.monotonic() - started
    assert raised.value.ambiguous  # the platform may have acted
    # The whole answer would take >= 10 s; the request ends at its deadline (0.6 s), whatever the load.
    assert worst_request_s(TIMEOUT_S) <= took < 5.0, took
    assert trickler.cut.wait(5)  # the connection was really dropped, not left to trickle on


def test_a_prompt_answer_on_a_kept_alive_connection_is_not_cut(serve_sandbox) -> None:  # type: ignore[no-untyped-def]
    """Released deadlines do not touch the next request on the same pooled connection."""
    from outreach.sandbox.mastodon import MastodonSim

    _, url = serve_sandbox(MastodonSim())
    connector = MastodonConnector(ChannelConfig(name="peer-mastodon", platform=Platform("mastodon"),
                                                base_url=f"{url}/mastodon", secret_envs={}), timeout_s=0.2)
    for _ in range(5):
        assert connector.request("GET", "/api/v2/instance").json()["configuration"]
        time.sleep(0.5)  # past the earlier requests' deadlines



def test_a_request_with_a_body_is_given_time_to_send_it() -> None:
    """A video chunk on a slow uplink is not cut off by the deadline: the body's time at 50 kB/s is added
    to connect + read timeout (8 MiB: about 168 s more); a request without a body keeps the bare deadline."""
    from outreach.connectors.http import UPLOAD_FLOOR_BPS, _total_s

    assert _total_s(10) == _total_s((10, 10)) == 20 == worst_request_s(10)
    assert _total_s(10, 8 * 1024 * 1024) == pytest.approx(20 + 8 * 1024 * 1024 / UPLOAD_FLOOR_BPS)
    assert _total_s(None, 1000) is None and _total_s((None, 10)) is None
