"""Alerts through apprise to a local webhook receiver; heartbeats; `status` lists both."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from outreach.db.models import ChannelState
from outreach.planning.review import PostSelector, retry
from outreach.publishing import health
from outreach.publishing.alerts import AlertSettings, apprise_notifier, run_alerts
from outreach.publishing.status import status_report
from outreach.sandbox.mastodon import DEMO_TOKEN
from tests.publishing.conftest import add_post


class Receiver:
    """A loopback webhook that records what apprise's json:// target posts (and can refuse)."""

    def __init__(self) -> None:
        self.messages: list[dict] = []
        self.refuse = False
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                if receiver.refuse:
                    self.send_response(500)
                else:
                    receiver.messages.append(json.loads(body))
                    self.send_response(200)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"json://127.0.0.1:{self.server.server_address[1]}/alerts"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    r = Receiver()
    yield r
    r.server.shutdown()


def alerts_pass(world, receiver):  # type: ignore[no-untyped-def]
    return run_alerts(world.db, world.settings, now=world.clock.now, notifier=apprise_notifier([receiver.url]),
                      alert_settings=AlertSettings(urls=(receiver.url,)))


def test_a_failed_post_is_alerted_once_and_resolved_by_a_retry(world, receiver):  # type: ignore[no-untyped-def]
    post_id = add_post(world.db, text="   ", due_at=world.clock.now)
    world.dispatcher().run_due()
    first = alerts_pass(world, receiver)
    assert len(first.notified) == 1 and first.notified[0].startswith(f"post-failed:{post_id}:")
    [message] = receiver.messages
    assert f"post {post_id} to peer-mastodon (nl) failed" in message["title"]
    assert "Text can't be blank" in message["message"] and f"outreach retry {post_id}" in message["message"]
    assert alerts_pass(world, receiver).notified == []  # once per incident
    assert len(receiver.messages) == 1
    report = status_report(world.db, now=world.clock.now)
    assert [a["kind"] for a in report.alerts] == ["post_failed"] and report.alerts[0]["notified"]
    retry(world.db, PostSelector(ids=[post_id]))
    assert alerts_pass(world, receiver).resolved == first.notified
    assert status_report(world.db, now=world.clock.now).alerts == []


def test_undelivered_alert_is_retried(world, receiver):  # type: ignore[no-untyped-def]
    add_post(world.db, text="Deel dit", due_at=world.clock.now, channel="peer-whatsapp", platform="manual")
    world.dispatcher().run_due()
    receiver.refuse = True
    assert len(alerts_pass(world, receiver).failed) == 1
    receiver.refuse = False
    again = alerts_pass(world, receiver)
    assert len(again.notified) == 1 and again.notified[0].startswith("manual-due:")
    assert "by hand" in receiver.messages[0]["title"]


def test_silent_worker_auth_failure_and_expiring_token(world, receiver):  # type: ignore[no-untyped-def]
    health.beat(world.db, "w-north", interval_s=30, now=world.clock.now, starting=True)
    with world.db.write() as s:
        s.add(ChannelState(channel="peer-mastodon", last_error="peer-mastodon: The access token is invalid",
                           last_error_kind="auth", last_error_at=world.clock.now,
                           token_expires_at=world.clock.now + timedelta(days=5)))
    world.clock.advance(seconds=60)  # two intervals: not yet silent
    kinds = sorted(k.split(":")[0] for k in alerts_pass(world, receiver).opened)
    assert kinds == ["auth", "token-expiring"]
    world.clock.advance(seconds=60)
    [opened] = alerts_pass(world, receiver).opened
    assert opened.startswith("worker-silent:w-north:")
    [w] = status_report(world.db, now=world.clock.now).workers
    assert w["worker_id"] == "w-north" and w["state"] == "NOT HEARD FROM"
    health.stopped(world.db, "w-north", now=world.clock.now)
    assert alerts_pass(world, receiver).resolved == [opened]
    titles = [m["title"] for m in receiver.messages]
    assert any("expires in 5 days" in t for t in titles) and any("paused" in t for t in titles)
    assert not any(DEMO_TOKEN in json.dumps(m) for m in receiver.messages)
