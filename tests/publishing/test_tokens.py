"""The worker's token job: refresh ahead of expiry where allowed, learn and record expiry, pause a
channel whose token is dead before any volunteer's post hits it."""

from __future__ import annotations

from datetime import timedelta

from outreach.config import parse_settings
from outreach.connectors.base import MemoryCredentialStore
from outreach.db.models import ChannelState
from outreach.publishing import ConnectorCache
from outreach.publishing.alerts import detect
from outreach.publishing.channels import maintain_tokens
from outreach.sandbox import instagram, mastodon
from outreach.sandbox.instagram import InstagramSim
from outreach.sandbox.mastodon import MastodonSim
from tests.publishing.conftest import FakeClock


def test_refresh_ahead_of_expiry_and_pause_on_a_dead_token(serve_sandbox, sqlite_db, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    clock = FakeClock()
    sandbox, url = serve_sandbox(MastodonSim(clock=clock), InstagramSim(clock=clock))
    monkeypatch.setenv("TOK_MASTODON", mastodon.DEMO_TOKEN)
    monkeypatch.setenv("TOK_INSTAGRAM", instagram.DEMO_TOKEN)
    settings = parse_settings({"channels": {
        "peer-mastodon": {"platform": "mastodon", "base_url": f"{url}/mastodon", "token_env": "TOK_MASTODON"},
        "peer-instagram": {"platform": "instagram", "base_url": f"{url}/instagram",
                           "ig_user_id": instagram.IG_USER_ID, "token_env": "TOK_INSTAGRAM"}}}, source="test")
    connectors = ConnectorCache(settings, clock=clock, credentials=MemoryCredentialStore())
    clock.advance(hours=25)  # Meta refreshes only tokens at least a day old

    first = {r.channel: r for r in maintain_tokens(sqlite_db, settings, connectors, now=clock.now)}
    assert first["peer-instagram"].ok and first["peer-instagram"].detail.startswith("refreshed; expires")
    assert first["peer-mastodon"].ok and first["peer-mastodon"].detail == "checked"  # Mastodon tokens never expire
    with sqlite_db.session() as s:
        expires = s.get(ChannelState, "peer-instagram").token_expires_at
    assert expires == clock.now + timedelta(days=60)

    refreshes = sum(1 for _, _, path in sandbox.requests_seen if path == "/refresh_access_token")
    maintain_tokens(sqlite_db, settings, connectors, now=clock.now)  # far from expiry: left alone
    assert sum(1 for _, _, path in sandbox.requests_seen if path == "/refresh_access_token") == refreshes

    clock.advance(days=55)  # within the margin: refreshed again, with the token saved last time
    again = {r.channel: r for r in maintain_tokens(sqlite_db, settings, connectors, now=clock.now)}
    assert again["peer-instagram"].detail.startswith("refreshed")
    with sqlite_db.session() as s:
        assert s.get(ChannelState, "peer-instagram").token_expires_at == clock.now + timedelta(days=60)

    sandbox.sims["mastodon"].control("revoke", {"token": mastodon.DEMO_TOKEN})
    dead = {r.channel: r for r in maintain_tokens(sqlite_db, settings, connectors, now=clock.now)}
    assert not dead["peer-mastodon"].ok and "peer-mastodon" in dead["peer-mastodon"].detail
    with sqlite_db.session() as s:
        assert s.get(ChannelState, "peer-mastodon").last_error_kind == "auth"  # paused before any post fails
    assert any(i.key.startswith("auth:peer-mastodon") for i in detect(sqlite_db, now=clock.now))
