"""Bluesky connector against the Bluesky (PDS) simulation over real HTTP on loopback."""

from __future__ import annotations

import os
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import requests
from PIL import Image

from outreach.config import ChannelConfig
from outreach.connectors.base import MemoryCredentialStore
from outreach.connectors.bluesky import BlueskyConnector, facets, jwt_expiry, new_tid
from outreach.connectors.errors import AuthError, ContentRejected, RateLimited, TransientError
from outreach.domain import MediaItem, Platform, PublishRequest, TextUnit
from outreach.sandbox.bluesky import DEMO_IDENTIFIER, DEMO_PASSWORD, BlueskySim
from tests.clock import FakeClock
from tests.connectors.harness import Case, Context, Outcome, case_id, run_case

PASSWORD_ENV = "OUTREACH_TEST_BLUESKY_PASSWORD"
START = datetime(2026, 3, 6, 14, 0, tzinfo=UTC)
LINK = "https://example.org/aanmelden?stad=utrecht"
# Emoji, Arabic and Turkish before the link: byte offsets and character offsets differ a lot here.
TEXT = f"🏳️‍🌈 لقاء مجتمعي — Eşitlik üzerine konuşalım! Kayıt: {LINK}. #VanBinnenuit #2026"
ALT = "Vrijwilligers zetten stoelen klaar in een buurthuis"



def post(ctx: Context, text: str = TEXT, *, media: tuple[MediaItem, ...] = (),
         handle: dict[str, Any] | None = None) -> PublishRequest:
    return PublishRequest(post_id=1, text=text, language="tr", idempotency_key="post-1-tr", media=media,
                          handle=handle or {}, attempt_started_at=ctx.scratch["clock"]())


def image(ctx: Context, name: str = "image", alt: str = ALT) -> MediaItem:
    return MediaItem(path=ctx.scratch[name], alt_text=alt, mime_type="image/png")


def publish(*, with_image: str | None = None, **kw: Any):
    def act(connector: BlueskyConnector, ctx: Context):
        req = post(ctx, media=(image(ctx, with_image),) if with_image else (), **kw)
        ctx.scratch["req"] = req
        return connector.publish(req, save_handle=ctx.save_handle)
    return act


def records(ctx: Context) -> list[dict[str, Any]]:
    return ctx.state()["records"]


def calls(ctx: Context, nsid: str) -> int:
    return ctx.requests_to("POST", nsid) + ctx.requests_to("GET", nsid)


# -- checks -----------------------------------------------------------------------------------

def published_with_facets(outcome: Outcome) -> None:
    result, ctx = outcome.result, outcome.ctx
    [record] = records(ctx)
    [account] = ctx.state()["accounts"]
    value, raw = record["value"], TEXT.encode("utf-8")
    assert result.remote_id == record["uri"] == f"at://{account['did']}/app.bsky.feed.post/{record['rkey']}"
    assert result.url == f"https://bsky.app/profile/{DEMO_IDENTIFIER}/post/{record['rkey']}"
    assert result.published_at == START and value["createdAt"] == "2026-03-06T14:00:00.000Z"
    assert value["langs"] == ["tr"] and value["text"] == TEXT
    spans = [(raw[f["index"]["byteStart"]:f["index"]["byteEnd"]].decode(), f["features"][0]) for f in value["facets"]]
    assert spans == [(LINK, {"$type": "app.bsky.richtext.facet#link", "uri": LINK}),
                     ("#VanBinnenuit", {"$type": "app.bsky.richtext.facet#tag", "tag": "VanBinnenuit"})]
    [img] = value["embed"]["images"]
    assert value["embed"]["$type"] == "app.bsky.embed.images"
    assert img["alt"] == ALT and img["aspectRatio"] == {"width": 120, "height": 80}
    [blob] = ctx.state()["blobs"]
    assert img["image"]["ref"]["$link"] == blob["cid"] and blob["cid"].startswith("bafkrei")
    assert ctx.saved_handles == [{"rkey": record["rkey"], "repo": account["did"],
                                  "blobs": [{"cid": blob["cid"], "mimeType": "image/png", "size": blob["size"]}]}]


def posted(count: int):
    def check(outcome: Outcome) -> None:
        assert len(records(outcome.ctx)) == count
    return check


def twice_with_one_refresh(outcome: Outcome) -> None:
    ctx = outcome.ctx
    assert len(records(ctx)) == 2
    assert calls(ctx, "createSession") == 1 and calls(ctx, "refreshSession") == 1
    assert calls(ctx, "createRecord") == 3  # ExpiredToken once, then retried once after the refresh


def rotation_persisted(outcome: Outcome) -> None:
    ctx = outcome.ctx
    first, saved = ctx.scratch["first_session"], ctx.scratch["store"].load("peer-bluesky")
    assert saved["refresh_jwt"] != first["refresh_jwt"] and saved["access_jwt"] != first["access_jwt"]
    assert saved["did"] == first["did"] and saved["pds"] == f"{ctx.url}/bluesky"
    assert outcome.result == START + timedelta(hours=3) + timedelta(days=90)
    # A new connector (the next job) uses the rotated session: no login.
    ctx.make_connector().check()
    assert calls(ctx, "createSession") == 1 and calls(ctx, "refreshSession") == 1
    # The old refresh token lasts the 2 h grace period, then it is revoked.
    ctx.scratch["clock"].advance(hours=2, minutes=1)
    old = requests.post(f"{ctx.url}/bluesky/xrpc/com.atproto.server.refreshSession", timeout=5,
                        headers={"Authorization": f"Bearer {first['refresh_jwt']}"})
    assert (old.status_code, old.json()) == (400, {"error": "ExpiredToken", "message": "Token has been revoked"})


def relogged_in(outcome: Outcome) -> None:
    assert calls(outcome.ctx, "createSession") == 2 and calls(outcome.ctx, "refreshSession") == 1
    assert len(records(outcome.ctx)) == 2


def reconcile_finds_it(outcome: Outcome) -> None:
    ctx = outcome.ctx
    [record] = records(ctx)
    [saved] = ctx.saved_handles
    assert saved["rkey"] == record["rkey"]
    found = ctx.make_connector().reconcile(post(ctx, handle=saved))
    assert found is not None and found.remote_id == record["uri"]
    # The dispatcher's retry with the saved handle adopts the post instead of posting again.
    again = ctx.make_connector().publish(post(ctx, handle=saved), save_handle=ctx.save_handle)
    assert again.remote_id == record["uri"] and len(records(ctx)) == 1
    assert calls(ctx, "createRecord") == 1


def reconcile_then_retry_with_same_key(outcome: Outcome) -> None:
    ctx = outcome.ctx
    [saved] = ctx.saved_handles
    assert records(ctx) == [] and ctx.make_connector().reconcile(post(ctx, handle=saved)) is None
    result = ctx.make_connector().publish(post(ctx, handle=saved), save_handle=ctx.save_handle)
    [record] = records(ctx)
    assert record["rkey"] == saved["rkey"] and result.remote_id == record["uri"]


def adopted_after_500(outcome: Outcome) -> None:
    [record] = records(outcome.ctx)
    assert outcome.result.remote_id == record["uri"]
    assert calls(outcome.ctx, "createRecord") == 2 and calls(outcome.ctx, "getRecord") == 2


def rate_limited_until(seconds: float):
    def check(outcome: Outcome) -> None:
        error = outcome.error
        assert isinstance(error, RateLimited)
        assert error.retry_after_s == seconds and error.reset_at == START + timedelta(seconds=seconds)
    return check


def nothing_uploaded(outcome: Outcome) -> None:
    assert calls(outcome.ctx, "uploadBlob") == 0 and records(outcome.ctx) == []


def account_read(outcome: Outcome) -> None:
    info, [account] = outcome.result, outcome.ctx.state()["accounts"]
    assert (info.account_id, info.name) == (account["did"], f"@{DEMO_IDENTIFIER}")
    assert info.token_expires_at == START + timedelta(days=90)


# -- acts -------------------------------------------------------------------------------------

def publish_twice_three_hours_apart(connector: BlueskyConnector, ctx: Context):
    publish()(connector, ctx)
    ctx.scratch["clock"].advance(hours=3)  # the access token lives 2 h
    return ctx.make_connector().publish(post(ctx), save_handle=ctx.save_handle)


def refresh_ahead(connector: BlueskyConnector, ctx: Context):
    connector.check()
    ctx.scratch["first_session"] = ctx.scratch["store"].load("peer-bluesky")
    ctx.scratch["clock"].advance(hours=3)
    return connector.refresh_credentials()


def publish_after_refresh_token_expired(connector: BlueskyConnector, ctx: Context):
    publish()(connector, ctx)
    ctx.scratch["clock"].advance(days=91)
    return connector.publish(post(ctx), save_handle=ctx.save_handle)


def metrics_for_30(connector: BlueskyConnector, ctx: Context):
    real = [connector.publish(post(ctx, f"post {n}"), save_handle=ctx.save_handle).remote_id for n in range(2)]
    did = real[0].split("/")[2]
    uris = real + [f"at://{did}/app.bsky.feed.post/{new_tid(START)}" for _ in range(28)]
    ctx.scratch["real"] = real
    return connector.fetch_metrics(uris)


def two_batches(outcome: Outcome) -> None:
    assert outcome.ctx.requests_to("GET", "app.bsky.feed.getPosts") == 2  # 25 + 5
    assert sorted(outcome.result) == sorted(outcome.ctx.scratch["real"])
    assert set(outcome.result[outcome.ctx.scratch["real"][0]]) == {
        "likeCount", "repostCount", "replyCount", "quoteCount"}


def publish_existing_key_hidden_by_a_stale_read(connector: BlueskyConnector, ctx: Context):
    publish()(connector, ctx)
    ctx.sandbox.add_fault(platform="bluesky", mode="error", path="getRecord", status=400,
                          body={"error": "RecordNotFound", "message": "Could not locate record"})
    return connector.publish(post(ctx, handle=ctx.saved_handles[0]), save_handle=ctx.save_handle)


def second_login_of_the_day(connector: BlueskyConnector, ctx: Context):
    connector.check()
    return ctx.make_connector(fresh_store=True).check()


def check_three_times(connector: BlueskyConnector, ctx: Context):
    connector.check()  # createSession + getSession: the two allowed requests
    ctx.scratch["blocked_until"] = connector.blocked_until
    connector.check()


def blocked_after_last_allowed(outcome: Outcome) -> None:
    assert outcome.ctx.scratch["blocked_until"] == START + timedelta(minutes=5)
    rate_limited_until(300)(outcome)


SLOW = {"timeout_s": 0.3}
BIG_OK = {"max_image_bytes": 5_000_000}

CASES = [
    Case("publish with facets, langs, alt text and aspect ratio", publish(with_image="image"),
         check=published_with_facets),
    Case("check reads the account and the session lifetime", lambda c, ctx: c.check(), check=account_read),
    Case("expired access token: refresh, retry once", publish_twice_three_hours_apart,
         check=twice_with_one_refresh),
    Case("refresh ahead of expiry rotates and persists both tokens", refresh_ahead, check=rotation_persisted),
    Case("expired refresh token falls back to one new login", publish_after_refresh_token_expired,
         check=relogged_in),
    Case("wrong app password", publish(), options={"password_env": "OUTREACH_TEST_BLUESKY_WRONG"},
         raises=AuthError, message="AuthenticationRequired: Invalid identifier or password", check=posted(0)),
    Case("password variable not set", publish(), options={"password_env": "OUTREACH_TEST_UNSET"},
         raises=AuthError, message="OUTREACH_TEST_UNSET is not set", check=posted(0)),
    Case("revoked session (app password deleted)", lambda c, ctx: (c.check(), ctx.control("revoke_sessions"),
                                                                   c.check()),
         raises=AuthError, message="InvalidToken: Token could not be verified"),
    Case("301 graphemes refused by the server", publish(text="é" * 301), raises=ContentRejected,
         message="Record/text must not be longer than 300 graphemes (HTTP 400)", check=posted(0)),
    Case("image over the channel's limit is refused before upload", publish(with_image="big"),
         raises=ContentRejected, message="allows 1000000", check=nothing_uploaded),
    Case("image over an older PDS's lexicon limit", publish(with_image="big"), options=BIG_OK,
         control=(("set_limits", {"max_image_bytes": 1_000_000}),), raises=ContentRejected,
         message="blob too big (maximum 1000000", check=posted(0)),
    Case("upload over the PDS body limit", publish(with_image="big"), options=BIG_OK,
         control=(("set_limits", {"max_upload_bytes": 1_000_000}),), raises=ContentRejected,
         message="PayloadTooLarge: request entity too large (HTTP 413)", check=posted(0)),
    Case("injected 429 with epoch reset", publish(), faults=({"mode": "rate_limit", "retry_after_s": 120},),
         raises=RateLimited, message="RateLimitExceeded", check=rate_limited_until(120)),
    Case("3000 requests per 5 minutes, here 2", check_three_times,
         control=(("set_limits", {"request_limit": 2}),), raises=RateLimited,
         message="RateLimitExceeded: Rate Limit Exceeded", check=blocked_after_last_allowed),
    Case("createSession daily limit", second_login_of_the_day,
         control=(("set_limits", {"create_session_daily_limit": 1}),), raises=RateLimited,
         check=rate_limited_until(10 * 3600)),  # the window ends at 00:00 UTC
    Case("timeout after createRecord: ambiguous, reconcile by rkey", publish(), options=SLOW,
         faults=({"mode": "timeout_after", "path": "createRecord", "delay_s": 1.0},),
         raises=TransientError, ambiguous=True, message="no answer", check=reconcile_finds_it),
    Case("connection dropped before createRecord: reconcile says no, retry keeps the key", publish(),
         faults=({"mode": "reset_before", "path": "createRecord"},), raises=TransientError, ambiguous=True,
         check=reconcile_then_retry_with_same_key),
    Case("500 on a used record key adopts the existing post", publish_existing_key_hidden_by_a_stale_read,
         check=adopted_after_500),
    Case("502 on createRecord is ambiguous", publish(),
         faults=({"mode": "error", "path": "createRecord", "status": 502,
                  "body": {"error": "UpstreamFailure", "message": "Upstream Failure"}},),
         raises=TransientError, ambiguous=True, message="UpstreamFailure"),
    Case("503 on reading metrics is not", lambda c, ctx: c.fetch_metrics(["at://x/y/z"]),
         faults=({"mode": "error", "path": "getPosts", "status": 503},), raises=TransientError, ambiguous=False),
    Case("getPosts in batches of 25", metrics_for_30, check=two_batches),
]


@pytest.fixture
def ctx(serve_sandbox, monkeypatch, tmp_path: Path) -> Context:
    monkeypatch.setenv(PASSWORD_ENV, DEMO_PASSWORD)
    monkeypatch.setenv("OUTREACH_TEST_BLUESKY_WRONG", "wron-gapp-pass-word")
    clock, store = FakeClock(START), MemoryCredentialStore()
    sandbox, url = serve_sandbox(BlueskySim(clock=clock))
    small, big = tmp_path / "meeting.png", tmp_path / "noise.png"
    Image.new("RGB", (120, 80), (200, 80, 120)).save(small, "PNG")
    Image.frombytes("RGB", (700, 700), os.urandom(700 * 700 * 3)).save(big, "PNG")  # ~1.5 MB

    def make_connector(*, timeout_s: float = 10.0, password_env: str = PASSWORD_ENV,
                       fresh_store: bool = False, **options: Any) -> BlueskyConnector:
        channel = ChannelConfig(name="peer-bluesky", platform=Platform("bluesky"), base_url=f"{url}/bluesky",
                                options={"identifier": DEMO_IDENTIFIER, **options},
                                secret_envs={"password": password_env})
        return BlueskyConnector(channel, timeout_s=timeout_s, clock=clock,
                                credentials=MemoryCredentialStore() if fresh_store else store)

    return Context(sandbox=sandbox, url=url, prefix="bluesky", make_connector=make_connector,
                   secrets=(DEMO_PASSWORD, "wron-gapp-pass-word"),
                   scratch={"clock": clock, "store": store, "image": str(small), "big": str(big)})


@pytest.mark.parametrize("case", CASES, ids=case_id)
def test_connector(case: Case, ctx: Context) -> None:
    outcome = run_case(case, ctx)
    if outcome.error is not None:  # session tokens never reach a message either
        saved = ctx.scratch["store"].load("peer-bluesky")
        for key in ("access_jwt", "refresh_jwt"):
            assert not saved.get(key) or saved[key] not in str(outcome.error)


def test_metrics_grow_with_the_sim_clock(ctx: Context) -> None:
    connector = ctx.make_connector()
    uri = connector.publish(post(ctx), save_handle=ctx.save_handle).remote_id
    seen = []
    for hours in (0, 1, 6, 48):
        ctx.scratch["clock"].now = START + timedelta(hours=hours)
        seen.append(connector.fetch_metrics([uri])[uri])
    likes = [m["likeCount"] for m in seen]
    assert likes[0] == 0 and likes == sorted(likes) and likes[-1] >= 19
    assert seen[-1]["repostCount"] == likes[-1] // 6
    assert BlueskyConnector.metric_names == {"likeCount": "likes", "repostCount": "shares",
                                             "replyCount": "comments"}


def test_validate_counts_graphemes_and_bytes() -> None:
    assert BlueskyConnector.text_unit is TextUnit.GRAPHEMES and BlueskyConnector.metrics_batch_size == 25
    assert BlueskyConnector.validate("🏳️‍🌈" * 200) == []  # one grapheme each, 14 bytes each: 2800 bytes
    assert BlueskyConnector.validate("x" * 300) == []
    [graphemes] = BlueskyConnector.validate("x" * 301)
    assert "301 graphemes long; bluesky allows 300" in graphemes
    [too_many_bytes] = BlueskyConnector.validate("👩🏽‍🤝‍👩🏿" * 120)  # 120 graphemes, 3120 bytes
    assert too_many_bytes == "text is 3120 bytes long; bluesky allows 3000"
    pictures = [MediaItem(f"{n}.png", mime_type="image/png") for n in range(5)]
    assert BlueskyConnector.validate("hoi", pictures) == ["5 images; bluesky allows 4"]
    assert BlueskyConnector.validate("hoi", pictures[:1], sizes={"0.png": 1_000_001})


def test_max_image_bytes_is_a_channel_option() -> None:
    channel = ChannelConfig(name="b", platform=Platform("bluesky"), base_url="http://127.0.0.1:9",
                            options={"identifier": "x.test", "max_image_bytes": 2_000_000})
    assert BlueskyConnector(channel).limits().max_image_bytes == 2_000_000
    assert BlueskyConnector.declared_limits().max_image_bytes == 1_000_000


def test_facets_use_utf8_byte_offsets() -> None:
    text = "Kayıt için 👉 https://example.org/a_(b) en (https://ex.com/x), #Eşitlik! #123 geen#tag #مساواة"
    raw = text.encode()
    found = [(raw[f["index"]["byteStart"]:f["index"]["byteEnd"]].decode(), f["features"][0].get("uri")
              or f["features"][0]["tag"]) for f in facets(text)]
    assert found == [("https://example.org/a_(b)", "https://example.org/a_(b)"),
                     ("https://ex.com/x", "https://ex.com/x"), ("#Eşitlik", "Eşitlik"), ("#مساواة", "مساواة")]
    assert facets("no links here") == []


def test_tids_are_sortable_and_unique() -> None:
    keys = [new_tid(START) for _ in range(50)] + [new_tid(START + timedelta(seconds=1))]
    assert len(set(keys)) == len(keys) == 51 and keys == sorted(keys)
    for key in keys:
        assert len(key) == 13 and key[0] in "234567abcdefghij"
        assert set(key) <= set("234567abcdefghijklmnopqrstuvwxyz")


def test_jwt_expiry_is_read_without_verifying() -> None:
    token = "eyJhbGciOiJIUzI1NiJ9.eyJleHAiOjE3NzI4MDU2MDB9.c2ln"  # {"exp": 1772805600}
    assert jwt_expiry(token) == datetime(2026, 3, 6, 14, 0, tzinfo=UTC)
    assert jwt_expiry("not a jwt") is None


def test_sim_speaks_the_wire_format(ctx: Context) -> None:
    """Raw XRPC against the simulation: errors by name, RateLimit-* epoch headers, record keys."""
    xrpc = f"{ctx.url}/bluesky/xrpc"
    wrong = requests.post(f"{xrpc}/com.atproto.server.createSession", timeout=5,
                          json={"identifier": DEMO_IDENTIFIER, "password": "nope"})
    assert (wrong.status_code, wrong.json()["error"]) == (401, "AuthenticationRequired")
    assert wrong.headers["RateLimit-Policy"] == "300;w=86400"
    session = requests.post(f"{xrpc}/com.atproto.server.createSession", timeout=5,
                            json={"identifier": DEMO_IDENTIFIER, "password": DEMO_PASSWORD}).json()
    assert session["didDoc"]["service"][0]["serviceEndpoint"] == f"{ctx.url}/bluesky"
    assert jwt_expiry(session["accessJwt"]) == START + timedelta(hours=2)
    auth = {"Authorization": f"Bearer {session['accessJwt']}"}
    missing = requests.get(f"{xrpc}/com.atproto.repo.getRecord", timeout=5,
                           params={"repo": session["did"], "collection": "app.bsky.feed.post", "rkey": "3lprdud4gi72i"})
    assert missing.status_code == 400 and missing.json()["error"] == "RecordNotFound"
    assert missing.headers["RateLimit-Reset"] == str(int((START + timedelta(minutes=5)).timestamp()))
    body = {"repo": session["did"], "collection": "app.bsky.feed.post", "rkey": "3lprdud4gi72i",
            "record": {"$type": "app.bsky.feed.post", "text": "hoi", "createdAt": "2026-03-06T14:00:00.000Z"}}
    first = requests.post(f"{xrpc}/com.atproto.repo.createRecord", json=body, headers=auth, timeout=5)
    again = requests.post(f"{xrpc}/com.atproto.repo.createRecord", json=body, headers=auth, timeout=5)
    assert first.status_code == 200 and first.json()["uri"].endswith("/3lprdud4gi72i")
    assert (again.status_code, again.json()["error"]) == (500, "InternalServerError")
    bad_key = requests.post(f"{xrpc}/com.atproto.repo.createRecord", json={**body, "rkey": "not-a-tid"},
                            headers=auth, timeout=5)
    assert bad_key.json()["message"].startswith("Invalid record key for app.bsky.feed.post")
    too_many = requests.get(f"{xrpc}/app.bsky.feed.getPosts", headers=auth, timeout=5,
                            params=[("uris", f"at://{session['did']}/app.bsky.feed.post/{n}") for n in range(26)])
    assert too_many.status_code == 400
    ctx.scratch["clock"].advance(hours=2)
    expired = requests.get(f"{xrpc}/com.atproto.server.getSession", headers=auth, timeout=5)
    assert (expired.status_code, expired.json()) == (400, {"error": "ExpiredToken", "message": "Token has expired"})
    assert session["accessJwt"] not in str(ctx.state()) and session["refreshJwt"] not in str(ctx.state())
