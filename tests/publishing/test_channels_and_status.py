"""`channels check` and `status` against the sandbox and a real database."""

from __future__ import annotations

from datetime import timedelta

from outreach.db.models import ChannelState
from outreach.publishing import ConnectorCache
from outreach.publishing.channels import check_channels
from outreach.publishing.status import status_report
from outreach.sandbox.mastodon import DEMO_TOKEN
from tests.publishing.conftest import add_post


def test_check_reports_the_account_and_lifts_an_auth_pause(world):  # type: ignore[no-untyped-def]
    with world.db.write() as s:
        s.add(ChannelState(channel="peer-mastodon", last_error="token revoked", last_error_kind="auth"))
    results = check_channels(world.db, world.settings, ConnectorCache(world.settings))
    by_name = {r.channel: r for r in results}
    assert by_name["peer-mastodon"].ok
    assert "sandbox_peer" in by_name["peer-mastodon"].line()
    assert by_name["peer-whatsapp"].ok and "by hand" in by_name["peer-whatsapp"].detail
    with world.db.session() as s:
        state = s.get(ChannelState, "peer-mastodon")
        assert state.last_error_kind is None and state.account_name


def test_check_names_the_channel_on_a_bad_or_missing_token(world, monkeypatch):  # type: ignore[no-untyped-def]
    world.sim.control("revoke", {"token": DEMO_TOKEN})
    [result] = check_channels(world.db, world.settings, ConnectorCache(world.settings), names=["peer-mastodon"])
    assert not result.ok and "peer-mastodon" in result.detail and DEMO_TOKEN not in result.line()
    monkeypatch.delenv("TEST_MASTODON_TOKEN")
    [result] = check_channels(None, world.settings, ConnectorCache(world.settings), names=["peer-mastodon"])
    assert not result.ok and "TEST_MASTODON_TOKEN is not set" in result.detail
    assert result.line().count("peer-mastodon") == 2  # the row names it, and the message once


def test_status_counts_and_attention(world):  # type: ignore[no-untyped-def]
    add_post(world.db, text="   ", due_at=world.clock.now)  # will be rejected by the platform
    add_post(world.db, text="Goed bericht", due_at=world.clock.now)
    add_post(world.db, text="Later", due_at=world.clock.now + timedelta(days=2))
    world.dispatcher().run_due()
    report = status_report(world.db, now=world.clock.now)
    assert report.counts["published"] == 1 and report.counts["failed"] == 1 and report.counts["approved"] == 1
    [item] = report.attention
    assert item.status == "failed" and "Text can't be blank" in item.error
    text = "\n".join(report.lines())
    assert "3 posts: 1 approved, 1 published, 1 failed" in text
    assert "needs attention:" in text and "Text can't be blank" in text
    assert report.as_dict()["counts"]["failed"] == 1


def test_status_shows_harvest_failures_since_when_and_channel_health(world):  # type: ignore[no-untyped-def]
    """Real harvest passes against the sandbox: a revoked token makes them fail; `status` (and its
    JSON) names the channel, the error and since when — the first failure, not the latest."""
    from outreach.harvest import harvest_due

    add_post(world.db, text="Te oogsten", due_at=world.clock.now)
    add_post(world.db, text="In de groepsapp", due_at=world.clock.now, channel="peer-whatsapp", platform="manual")
    assert sorted(o.status for o in world.dispatcher().run_due()) == ["manual_due", "published"]
    world.sim.control("revoke", {"token": DEMO_TOKEN})
    world.clock.advance(hours=1, minutes=5)
    failed_at = world.clock.now
    harvest_due(world.db, world.settings, ConnectorCache(world.settings, clock=world.clock), now=world.clock.now)
    world.clock.advance(hours=3)
    harvest_due(world.db, world.settings, ConnectorCache(world.settings, clock=world.clock), now=world.clock.now)
    report = status_report(world.db, now=world.clock.now)
    [health] = [h for h in report.as_dict()["health"] if h["channel"] == "peer-mastodon"]
    assert health["harvest_error_since"] == failed_at.isoformat(timespec="seconds")
    assert "401" in health["harvest_error"] or "token" in health["harvest_error"]
    assert health["state"] == "harvest failing"
    lines = "\n".join(report.lines())
    assert f"channel peer-mastodon: harvest failing since {failed_at.isoformat(timespec='seconds')}: " in lines
    assert DEMO_TOKEN not in lines
    assert "channel peer-whatsapp" not in lines  # a manual channel has nothing to check or harvest


def test_a_cleanly_stopped_worker_is_not_alive(world):  # type: ignore[no-untyped-def]
    from outreach.publishing.health import beat, stopped

    beat(world.db, "w-stop", interval_s=5, now=world.clock.now, starting=True)
    beat(world.db, "w-run", interval_s=5, now=world.clock.now, starting=True)
    stopped(world.db, "w-stop", now=world.clock.now)
    workers = {w["worker_id"]: w for w in status_report(world.db, now=world.clock.now).as_dict()["workers"]}
    assert (workers["w-stop"]["alive"], workers["w-stop"]["state"]) == (False, "stopped")
    assert (workers["w-run"]["alive"], workers["w-run"]["state"]) == (True, "alive")


def test_a_failed_check_is_not_shown_as_ok(world):  # type: ignore[no-untyped-def]
    """The platform could not be reached: not an auth pause, but not "ok" either."""
    from tests.publishing.conftest import settings_for

    unreachable = settings_for("http://127.0.0.1:1")
    [result] = check_channels(world.db, unreachable, ConnectorCache(unreachable), names=["peer-mastodon"])
    assert not result.ok
    [health] = status_report(world.db, now=world.clock.now).health
    assert health.state == "check failed"
    assert health.lines() == ["channel peer-mastodon: last check failed: peer-mastodon: connection to "
                              "127.0.0.1:1 refused"]
