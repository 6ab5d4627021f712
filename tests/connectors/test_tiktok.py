"""TikTok connector against the TikTok simulation over real HTTP on loopback."""

from __future__ import annotations

import logging
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import requests
from PIL import Image

from outreach.config import ChannelConfig
from outreach.connectors.base import MemoryCredentialStore
from outreach.connectors.errors import AuthError, ContentRejected, NeedsPerson, RateLimited, TransientError
from outreach.connectors.tiktok import TikTokConnector
from outreach.domain import MediaItem, Platform, PublishRequest
from outreach.sandbox.tiktok import (
    DEMO_ACCESS_TOKEN,
    DEMO_CLIENT_KEY,
    DEMO_CLIENT_SECRET,
    DEMO_REFRESH_TOKEN,
    TikTokSim,
)
from tests.clock import FakeClock
from tests.connectors.harness import Case, Context, Outcome, case_id, run_case

ENVS = {"token": "OUTREACH_TEST_TIKTOK_TOKEN", "client_key": "OUTREACH_TEST_TIKTOK_KEY",
        "client_secret": "OUTREACH_TEST_TIKTOK_SECRET", "refresh_token": "OUTREACH_TEST_TIKTOK_REFRESH"}
START = datetime(2026, 11, 20, 14, 0, tzinfo=UTC)
TEXT = "Praat mee over gelijkheid in Utrecht 🏳️‍🌈\n\nZaterdag 15:00 in het buurthuis. #VanBinnenuit"
DIRECT = {"audited": True}  # Direct Post: only for an app TikTok has audited
PUBLIC = {**DIRECT, "privacy_level": "PUBLIC_TO_EVERYONE"}

def photo(ctx: Context, name: str = "photo.jpg", *, url: bool = True) -> MediaItem:
    return MediaItem(path=str(ctx.scratch["dir"] / name), alt_text="Een kring stoelen",
                     mime_type="image/png" if name.endswith(".png") else "image/jpeg",
                     public_url=f"{ctx.url}/media/{name}" if url else None)


def post(ctx: Context, text: str = TEXT, *, media: tuple[MediaItem, ...] | None = None,
         handle: dict[str, Any] | None = None) -> PublishRequest:
    return PublishRequest(post_id=1, text=text, language="nl", idempotency_key="post-1-nl",
                          media=(photo(ctx),) if media is None else media, handle=handle or {},
                          attempt_started_at=ctx.scratch["clock"]())


def publish(*names: str, url: bool = True, **kw: Any):
    def act(connector: TikTokConnector, ctx: Context):
        media = tuple(photo(ctx, n, url=url) for n in names) if names else None
        req = post(ctx, media=media, **kw)
        ctx.scratch["req"] = req
        return connector.publish(req, save_handle=ctx.save_handle)
    return act


# -- checks -----------------------------------------------------------------------------------

def private_post_done(outcome: Outcome) -> None:
    ctx, result = outcome.ctx, outcome.result
    [sim_post] = ctx.state()["posts"]
    assert sim_post["status"] == "PUBLISH_COMPLETE" and sim_post["post_id"] is None
    assert sim_post["privacy_level"] == "SELF_ONLY" and sim_post["description"] == TEXT
    assert sim_post["title"] == "Praat mee over gelijkheid in Utrecht 🏳️‍🌈"
    assert sim_post["sizes"][0] == (ctx.scratch["dir"] / "photo.jpg").stat().st_size  # pulled over HTTP
    assert ctx.saved_handles == [{"publish_id": sim_post["publish_id"], "creator_username": "doetank.peer"}]
    assert result.remote_id == sim_post["publish_id"] and result.url is None
    assert ctx.requests_to("POST", "/status/fetch/") == 2  # PROCESSING_DOWNLOAD, then PUBLISH_COMPLETE


def public_post_done(outcome: Outcome) -> None:
    [sim_post] = outcome.ctx.state()["posts"]
    assert outcome.result.remote_id == sim_post["post_id"] and sim_post["post_id"].isdigit()
    assert outcome.result.url == f"https://www.tiktok.com/@doetank.peer/photo/{sim_post['post_id']}"
    assert [len(sim_post["photo_images"]), sim_post["privacy_level"]] == [2, "PUBLIC_TO_EVERYONE"]


def posted(count: int):
    def check(outcome: Outcome) -> None:
        assert len(outcome.ctx.state()["posts"]) == count
    return check


def pull_failed_starts_over(outcome: Outcome) -> None:
    ctx = outcome.ctx
    [sim_post] = ctx.state()["posts"]
    assert (sim_post["status"], sim_post["fail_reason"]) == ("FAILED", "photo_pull_failed")
    assert ctx.saved_handles[-1] == {"publish_id": None, "failed_publish_id": sim_post["publish_id"]}


def tomorrow(outcome: Outcome) -> None:
    error = outcome.error
    assert isinstance(error, RateLimited)
    assert error.reset_at == datetime(2026, 11, 21, tzinfo=UTC) and error.retry_after_s == 10 * 3600


def one_minute(outcome: Outcome) -> None:
    assert isinstance(outcome.error, RateLimited) and outcome.error.retry_after_s == 60
    posted(0)(outcome)


def an_hour(outcome: Outcome) -> None:
    assert isinstance(outcome.error, RateLimited) and outcome.error.retry_after_s == 3600
    posted(0)(outcome)


def reconcile_by_publish_id(outcome: Outcome) -> None:
    ctx = outcome.ctx
    [saved] = ctx.saved_handles
    req = PublishRequest(**{**_fields(ctx.scratch["req"]), "handle": saved})
    connector = ctx.make_connector()
    with pytest.raises(TransientError, match="still processing") as early:
        connector.reconcile(req)
    assert early.value.ambiguous
    ctx.scratch["clock"].advance(minutes=1)  # TikTok finishes processing
    found = connector.reconcile(req)
    [sim_post] = ctx.state()["posts"]
    assert found is not None and found.remote_id == saved["publish_id"] == sim_post["publish_id"]
    assert found.raw["status"] == "PUBLISH_COMPLETE"
    assert ctx.requests_to("POST", "/content/init/") == 1 and ctx.state()["posts_per_description"] == {TEXT: 1}


def _fields(req: PublishRequest) -> dict[str, Any]:
    return {name: getattr(req, name) for name in req.__dataclass_fields__}


def private_without_publish_id_needs_a_person(outcome: Outcome) -> None:
    ctx = outcome.ctx
    assert ctx.saved_handles == []
    with pytest.raises(NeedsPerson, match="does not list private posts; look in the TikTok app: if post 1"):
        ctx.make_connector(**DIRECT).reconcile(ctx.scratch["req"])
    assert len(ctx.state()["posts"]) == 1  # it did go out, and is never sent again


def public_without_publish_id_found_in_the_list(outcome: Outcome) -> None:
    ctx = outcome.ctx
    connector = ctx.make_connector(**PUBLIC)
    with pytest.raises(TransientError, match="not listed \\(yet\\)") as early:
        connector.reconcile(ctx.scratch["req"])  # still being processed, not listed yet
    assert early.value.ambiguous
    ctx.scratch["clock"].advance(minutes=2)
    found = connector.reconcile(ctx.scratch["req"])
    [sim_post] = ctx.state()["posts"]
    assert found is not None and found.remote_id == sim_post["post_id"]
    assert found.url == f"https://www.tiktok.com/@doetank.peer/photo/{sim_post['post_id']}"


def retry_polls_the_saved_publish_id(outcome: Outcome) -> None:
    ctx = outcome.ctx
    [saved] = ctx.saved_handles
    retry = PublishRequest(**{**_fields(ctx.scratch["req"]), "handle": saved})
    result = ctx.make_connector(**PUBLIC).publish(retry, save_handle=ctx.save_handle)
    [sim_post] = ctx.state()["posts"]
    assert result.remote_id == sim_post["post_id"] and sim_post["publish_id"] == saved["publish_id"]
    assert ctx.requests_to("POST", "/content/init/") == 1


def seven_in_a_minute(connector: TikTokConnector, ctx: Context):
    for n in range(7):
        connector.publish(post(ctx, f"bericht {n}"), save_handle=ctx.save_handle)


def seven_with_fresh_connectors(connector: TikTokConnector, ctx: Context):
    for n in range(7):
        ctx.make_connector(**DIRECT).publish(post(ctx, f"bericht {n}"), save_handle=ctx.save_handle)


def six_inits(platform_saw: int):
    def check(outcome: Outcome) -> None:
        assert outcome.ctx.requests_to("POST", "/content/init/") == platform_saw
        posted(6)(outcome)
    return check


def account_read(outcome: Outcome) -> None:
    info = outcome.result
    assert (info.account_id, info.name) == ("doetank.peer", "Doetank Peer (sandbox)")
    assert info.detail == "Direct Post, privacy level SELF_ONLY; no refresh token configured: the access " \
                          "token expires within a day"


def in_the_inbox(outcome: Outcome) -> None:
    """The default: the photos land in the creator's inbox, nothing is posted, a person is told."""
    ctx = outcome.ctx
    [sim_post] = ctx.state()["posts"]
    assert (sim_post["post_mode"], sim_post["status"], sim_post["post_id"]) == ("MEDIA_UPLOAD", "SEND_TO_USER_INBOX", None)
    assert sim_post["privacy_level"] == "" and sim_post["description"] == TEXT  # privacy is chosen in the app
    assert ctx.requests_to("POST", "/creator_info/") == 0  # Direct Post's UX rules do not apply
    assert ctx.saved_handles == [{"uploads": 1}, {"publish_id": sim_post["publish_id"], "creator_username": None}]
    assert outcome.error.code == "SEND_TO_USER_INBOX" and "twice" not in outcome.error.message


def inbox_draft_finished_by_the_creator(outcome: Outcome) -> None:
    """Still processing at the last poll; reconcile then finds the draft in the inbox (a person is told),
    and once the creator has posted it, the public post."""
    ctx = outcome.ctx
    req = PublishRequest(**{**_fields(ctx.scratch["req"]), "handle": {k: v for h in ctx.saved_handles
                                                                      for k, v in h.items()}})
    ctx.scratch["clock"].advance(minutes=1)
    with pytest.raises(NeedsPerson, match="finish the post in the TikTok app"):
        ctx.make_connector().reconcile(req)
    ctx.control("finish_in_app", {"publish_id": req.handle["publish_id"]})
    found = ctx.make_connector().reconcile(req)
    [sim_post] = ctx.state()["posts"]
    assert found is not None and found.remote_id == sim_post["post_id"] and sim_post["post_id"].isdigit()
    assert ctx.requests_to("POST", "/content/init/") == 1


def inbox_upload_repeated_and_person_warned(outcome: Outcome) -> None:
    """An interrupted inbox upload is repeated (a draft is never public by itself) and the person
    finishing it is told the inbox may hold it twice."""
    ctx = outcome.ctx
    req = PublishRequest(**{**_fields(ctx.scratch["req"]), "handle": dict(ctx.saved_handles[-1])})
    connector = ctx.make_connector()
    assert connector.reconcile(req) is None
    with pytest.raises(NeedsPerson, match="may hold it twice: finish one and delete the other"):
        connector.publish(req, save_handle=ctx.save_handle)
    assert [p["post_mode"] for p in ctx.state()["posts"]] == ["MEDIA_UPLOAD"] * 2
    assert not any(p["post_id"] for p in ctx.state()["posts"])


def six_drafts(connector: TikTokConnector, ctx: Context):
    for n in range(6):
        ctx.scratch["clock"].advance(seconds=11)
        with pytest.raises(NeedsPerson) if n < 5 else _nothing():
            connector.publish(post(ctx, f"concept {n}"), save_handle=ctx.save_handle)


class _nothing:
    def __enter__(self) -> None:
        return None

    def __exit__(self, *exc: object) -> None:
        return None


def inbox_account_read(outcome: Outcome) -> None:
    info = outcome.result
    assert (info.account_id, info.name) == ("sandbox-open-id-peer", "Doetank Peer (sandbox)")
    assert info.detail.startswith("inbox (draft) flow: a person finishes each post in the TikTok app")
    assert outcome.ctx.requests_to("POST", "/creator_info/") == 0


CASES = [
    Case("inbox (draft) flow by default", publish(), raises=NeedsPerson, message="in the TikTok inbox: finish "
         "the post in the TikTok app, then `outreach confirm 1 --permalink URL --by NAME`", check=in_the_inbox),
    Case("inbox draft still processing, then finished by the creator", publish(), options={"max_polls": 1},
         control=(("configure", {"polls_to_complete": 5}),), raises=TransientError, ambiguous=True,
         message="still processing", check=inbox_draft_finished_by_the_creator),
    Case("drop during an inbox upload: uploaded again, person warned", publish(),
         faults=({"mode": "reset_after", "path": "/content/init/"},), raises=TransientError, ambiguous=True,
         check=inbox_upload_repeated_and_person_warned),
    Case("five drafts waiting in the inbox", six_drafts, raises=RateLimited,
         message="finish or delete them in the TikTok app", check=posted(5)),
    Case("check in the inbox flow", lambda c, ctx: c.check(), check=inbox_account_read),
    Case("private Direct Post (audited app)", publish(), options=DIRECT, check=private_post_done),
    Case("public post with two photos", publish("photo.jpg", "photo2.jpg"), options=PUBLIC, check=public_post_done),
    Case("check reports the privacy level", lambda c, ctx: c.check(), options=DIRECT, check=account_read),
    Case("photo without a public URL", publish("photo.jpg", url=False), raises=ContentRejected,
         message="set [media] public_base_url", check=posted(0)),
    Case("photo the platform cannot fetch", publish("missing.jpg"), raises=TransientError, ambiguous=False,
         message="photo_pull_failed", check=pull_failed_starts_over),
    Case("PNG is refused by TikTok", publish("photo.png"), raises=ContentRejected,
         message="file_format_check_failed", check=posted(1)),
    Case("unaudited app posting publicly", publish(), options=PUBLIC, control=(("configure", {"audited": False}),),
         raises=ContentRejected, message="remove `audited` from the channel", check=posted(0)),
    Case("unverified URL prefix", publish(), control=(("configure", {"verified_prefixes": ["https://cdn."]}),),
         raises=ContentRejected, message="url_ownership_unverified", check=posted(0)),
    Case("unknown privacy_level option", publish(), options={**DIRECT, "privacy_level": "FRIENDS"},
         raises=ContentRejected,
         message="privacy_level 'FRIENDS' is not one of"),
    Case("revoked token and no refresh token", publish(), control=(("revoke", {"token": DEMO_ACCESS_TOKEN}),),
         raises=AuthError, message="access_token_invalid"),
    Case("token without the video.upload scope", publish(), options={"token": "act.no-scope"},
         control=(("add_token", {"token": "act.no-scope", "scopes": ["video.list"]}),),
         raises=AuthError, message="scope_not_authorized"),
    Case("token variable not set", publish(), options={"token": None}, raises=AuthError,
         message="OUTREACH_TEST_TIKTOK_TOKEN is not set"),
    Case("injected rate limit", publish(), faults=({"mode": "rate_limit"},), raises=RateLimited,
         message="rate_limit_exceeded", check=one_minute),
    Case("the connector paces 6 inits a minute", seven_in_a_minute, options=DIRECT, raises=RateLimited,
         message="6 posts a minute", check=six_inits(6)),
    Case("the platform's own 6-a-minute limit", seven_with_fresh_connectors, raises=RateLimited,
         message="rate_limit_exceeded", check=six_inits(7)),
    Case("daily post cap", publish(), control=(("configure", {"daily_post_cap": 0}),), raises=RateLimited,
         message="try again tomorrow", check=tomorrow),
    # video.md 7.4: a full inbox (5 drafts waiting) is a rate limit: wait for a person to finish them, never fail.
    Case("inbox full: waits an hour for a person to finish the drafts", publish(), faults=({
        "mode": "error", "path": "/content/init/", "status": 403, "body": {"data": {}, "error": {
            "code": "spam_risk_too_many_pending_share", "message": "Too many pending shares"}}},),
         raises=RateLimited, message="finish or delete them in the TikTok app", check=an_hour),
    Case("internal_error on init is ambiguous", publish(), faults=({"mode": "error", "path": "/content/init/",
         "status": 500, "body": {"data": {}, "error": {"code": "internal_error", "message": "Something broke"}}},),
         raises=TransientError, ambiguous=True, message="internal_error: Something broke"),
    # After the publish_id is saved a lost status answer is not ambiguous: the retry only polls.
    Case("drop of a status answer after init was saved", publish(), options=PUBLIC,
         faults=({"mode": "reset_after", "path": "/status/fetch/"},), raises=TransientError, ambiguous=False,
         check=retry_polls_the_saved_publish_id),
    Case("drop during a private init: a person must check", publish(), options=DIRECT,
         faults=({"mode": "reset_after", "path": "/content/init/"},), raises=TransientError, ambiguous=True,
         check=private_without_publish_id_needs_a_person),
    Case("drop during a public init: found in video/list", publish(), options=PUBLIC,
         faults=({"mode": "reset_after", "path": "/content/init/"},), raises=TransientError, ambiguous=True,
         check=public_without_publish_id_found_in_the_list),
    Case("still processing after the last poll", publish(), options={**DIRECT, "max_polls": 1},
         control=(("configure", {"polls_to_complete": 5}),), raises=TransientError, ambiguous=True,
         message="still processing", check=reconcile_by_publish_id),
]


@pytest.fixture
def ctx(serve_sandbox, monkeypatch, tmp_path: Path) -> Context:
    return make_tiktok_context(serve_sandbox, monkeypatch, tmp_path)


def make_tiktok_context(serve_sandbox, monkeypatch, tmp_path: Path) -> Context:  # type: ignore[no-untyped-def]
    """The TikTok sim on loopback (photos in tmp_path, served as media) and a connector factory."""
    monkeypatch.setenv(ENVS["token"], DEMO_ACCESS_TOKEN)
    clock = FakeClock(START)
    for name in ("photo.jpg", "photo2.jpg"):
        Image.new("RGB", (108, 192), (200, 80, 120)).save(tmp_path / name, "JPEG")
    Image.new("RGB", (108, 192), (20, 80, 120)).save(tmp_path / "photo.png", "PNG")
    sandbox, url = serve_sandbox(TikTokSim(clock=clock, fetch_timeout_s=2.0), media_dir=tmp_path)

    def make_connector(*, max_polls: int = 5, max_pages: int = 10, refresh: bool = False,
                       token: str | None = DEMO_ACCESS_TOKEN, credentials: MemoryCredentialStore | None = None,
                       **options: Any) -> TikTokConnector:
        envs = dict(ENVS) if refresh else {"token": ENVS["token"]}
        if token is None:
            monkeypatch.delenv(ENVS["token"])
        elif token != DEMO_ACCESS_TOKEN:
            monkeypatch.setenv(ENVS["token"], token)
        channel = ChannelConfig(name="peer-tiktok", platform=Platform("tiktok"), base_url=f"{url}/tiktok",
                                options=options, secret_envs=envs)
        return TikTokConnector(channel, timeout_s=10.0, clock=clock, sleep=lambda s: None, max_polls=max_polls,
                               max_pages=max_pages, credentials=credentials)

    return Context(sandbox=sandbox, url=url, prefix="tiktok", make_connector=make_connector,
                   secrets=(DEMO_ACCESS_TOKEN, DEMO_REFRESH_TOKEN, DEMO_CLIENT_SECRET),
                   scratch={"clock": clock, "dir": tmp_path, "monkeypatch": monkeypatch})


@pytest.mark.parametrize("case", CASES, ids=case_id)
def test_connector(case: Case, ctx: Context) -> None:
    run_case(case, ctx)


def _refreshing(ctx: Context, store: MemoryCredentialStore, **options: Any) -> TikTokConnector:
    monkeypatch = ctx.scratch["monkeypatch"]
    monkeypatch.setenv(ENVS["client_key"], DEMO_CLIENT_KEY)
    monkeypatch.setenv(ENVS["client_secret"], DEMO_CLIENT_SECRET)
    monkeypatch.setenv(ENVS["refresh_token"], DEMO_REFRESH_TOKEN)
    return ctx.make_connector(refresh=True, credentials=store, **options)


def test_rejected_token_is_refreshed_and_the_rotated_pair_persisted(ctx: Context) -> None:
    store = MemoryCredentialStore()
    connector = _refreshing(ctx, store, **DIRECT)
    ctx.control("revoke", {"token": DEMO_ACCESS_TOKEN})
    result = connector.publish(post(ctx), save_handle=ctx.save_handle)
    saved = store.load("peer-tiktok")
    assert saved["access_token"].startswith("act.") and saved["refresh_token"].startswith("rft.")
    assert saved["refresh_token"] != DEMO_REFRESH_TOKEN
    assert saved["expires_at"] == (START + timedelta(hours=2)).isoformat()
    assert result.remote_id == ctx.state()["posts"][0]["publish_id"]
    assert ctx.state()["refreshes"] == 1
    # The old refresh token died with the rotation; the stored one is used from now on.
    old = requests.post(f"{ctx.url}/tiktok/v2/oauth/token/", timeout=5, data={
        "client_key": DEMO_CLIENT_KEY, "client_secret": DEMO_CLIENT_SECRET, "grant_type": "refresh_token",
        "refresh_token": DEMO_REFRESH_TOKEN})
    assert old.status_code == 400 and old.json()["error"] == "invalid_grant"
    first_pair = dict(saved)
    ctx.scratch["clock"].advance(hours=1, minutes=55)  # within the refresh margin: refresh ahead of expiry
    connector.check()
    assert store.load("peer-tiktok")["refresh_token"] not in (first_pair["refresh_token"], DEMO_REFRESH_TOKEN)
    assert ctx.state()["refreshes"] == 2 and ctx.state()["live_refresh_tokens"] == 1


def test_refresh_ahead_of_expiry_only_when_due(ctx: Context) -> None:
    store = MemoryCredentialStore()
    connector = _refreshing(ctx, store)
    first = connector.refresh_credentials()
    assert first == START + timedelta(hours=2)
    assert connector.refresh_credentials() == first  # not due yet: no call
    assert ctx.state()["refreshes"] == 1
    ctx.scratch["clock"].advance(hours=1, minutes=51)
    assert connector.refresh_credentials() == START + timedelta(hours=3, minutes=51)
    assert ctx.state()["refreshes"] == 2
    # A person re-authorized and put a new refresh token in the environment: that one wins.
    ctx.scratch["monkeypatch"].setenv(ENVS["refresh_token"], "rft.someone-elses")
    with pytest.raises(AuthError, match="invalid_grant") as caught:
        connector.refresh_credentials(force=True)
    assert "rft.someone-elses" not in str(caught.value)


def test_without_refresh_settings_nothing_is_refreshed(ctx: Context) -> None:
    assert ctx.make_connector().refresh_credentials() is None
    assert ctx.requests_to("POST", "/oauth/") == 0


def test_metrics_grow_and_private_posts_have_none(ctx: Context) -> None:
    public = ctx.make_connector(**PUBLIC).publish(post(ctx, "openbaar"), save_handle=ctx.save_handle)
    private = ctx.make_connector(**DIRECT).publish(post(ctx, "privé"), save_handle=ctx.save_handle)
    [public_sim] = [p for p in ctx.state()["posts"] if p["post_id"]]
    pending = public_sim["publish_id"]  # a public post stored before its id was known
    connector = _refreshing(ctx, MemoryCredentialStore())  # the access token lasts 2 hours
    seen = []
    for hours in (0, 3, 48):
        ctx.scratch["clock"].now = START + timedelta(hours=hours)
        metrics = connector.fetch_metrics([public.remote_id, private.remote_id])
        assert list(metrics) == [public.remote_id]
        seen.append(metrics[public.remote_id])
    assert connector.fetch_metrics([pending, "p_pub_url~v2.404"]) == {pending: seen[-1]}
    views = [m["view_count"] for m in seen]
    assert views[0] == 0 and views == sorted(views) and views[-1] >= 300
    assert seen[-1]["like_count"] == views[-1] // 12
    assert set(seen[-1]) == set(TikTokConnector.metric_names)


def test_private_reconcile_asks_a_person() -> None:
    """Checked in the table ("drop during a private init"): NeedsPerson, never a second send."""


def test_validate_declares_tiktok_limits() -> None:
    jpeg = MediaItem("a.jpg")
    assert TikTokConnector.validate("x" * 4000, [jpeg]) == []
    [needs_image] = TikTokConnector.validate("tekst")
    assert needs_image == "tiktok needs an image; this post has none"
    problems = TikTokConnector.validate("x" * 4001, [MediaItem("b.png", mime_type="image/png")] + [jpeg] * 35)
    assert any("4001" in p for p in problems) and any("36 images" in p for p in problems)
    assert any("image/png is not accepted" in p for p in problems)
    assert TikTokConnector.validate("x", [MediaItem("c.webp", mime_type="image/webp")], sizes={"c.webp": 21 << 20})
    assert TikTokConnector.title("🏳️‍🌈" * 100 + "\ntweede regel") == "🏳️‍🌈" * 90


def test_sim_speaks_the_wire_format(ctx: Context) -> None:
    """Raw HTTP: the envelope on success and error, rotation, status fields as TikTok spells them."""
    api = f"{ctx.url}/tiktok/v2"
    auth = {"Authorization": f"Bearer {DEMO_ACCESS_TOKEN}"}
    info = requests.post(f"{api}/post/publish/creator_info/query/", headers=auth, timeout=5).json()
    assert info["error"]["code"] == "ok" and "SELF_ONLY" in info["data"]["privacy_level_options"]
    bad = requests.post(f"{api}/post/publish/creator_info/query/", timeout=5)
    assert bad.status_code == 401 and bad.json()["error"]["code"] == "access_token_invalid"
    init = requests.post(f"{api}/post/publish/content/init/", headers=auth, timeout=5, json={
        "post_info": {"title": "t", "description": "d", "privacy_level": "SELF_ONLY"},
        "source_info": {"source": "PULL_FROM_URL", "photo_cover_index": 0,
                        "photo_images": [f"{ctx.url}/media/photo.jpg"]},
        "post_mode": "MEDIA_UPLOAD", "media_type": "PHOTO"}).json()
    publish_id = init["data"]["publish_id"]
    assert publish_id.startswith("p_pub_url~v2.")
    statuses = [requests.post(f"{api}/post/publish/status/fetch/", headers=auth, timeout=5,
                              json={"publish_id": publish_id}).json()["data"] for _ in range(2)]
    assert [s["status"] for s in statuses] == ["PROCESSING_DOWNLOAD", "SEND_TO_USER_INBOX"]
    assert statuses[1]["publicaly_available_post_id"] == []
    no_fields = requests.post(f"{api}/video/query/", headers=auth, timeout=5, json={"filters": {"video_ids": ["1"]}})
    assert no_fields.status_code == 400 and no_fields.json()["error"]["code"] == "invalid_params"
    user = requests.get(f"{api}/user/info/", params={"fields": "open_id,display_name"}, headers=auth, timeout=5)
    assert user.json() == {"data": {"user": {"open_id": "sandbox-open-id-peer", "display_name": "Doetank Peer (sandbox)"}},
                           "error": {"code": "ok", "message": "", "log_id": user.json()["error"]["log_id"]}}
    ctx.control("add_token", {"token": "act.direct-only", "scopes": ["user.info.basic", "video.publish"]})
    inbox = requests.post(f"{api}/post/publish/content/init/", timeout=5, json={
        "post_info": {"title": "t", "description": "d"}, "post_mode": "MEDIA_UPLOAD", "media_type": "PHOTO",
        "source_info": {"source": "PULL_FROM_URL", "photo_images": [f"{ctx.url}/media/photo.jpg"]}},
        headers={"Authorization": "Bearer act.direct-only"})
    assert inbox.status_code == 401 and inbox.json()["error"]["code"] == "scope_not_authorized"
    assert "video.upload" in inbox.json()["error"]["message"]


def test_reconcile_pages_back_through_a_busy_account(ctx: Context, caplog: pytest.LogCaptureFixture) -> None:
    """60 public posts went out after the one sought: it is on the fourth page of 20. Reconcile
    follows `cursor` while `has_more`; an absent post is looked for until the list ends; `max_pages`
    caps the reading; a window that the first page reaches past ends the search there."""
    ctx.control("configure", {"daily_post_cap": 100})
    clock, connector = ctx.scratch["clock"], ctx.make_connector(**PUBLIC)
    req = post(ctx, "Het bericht dat na een onderbroken poging gezocht wordt")
    sought = connector.publish(req, save_handle=ctx.save_handle)
    for n in range(60):
        clock.advance(seconds=11)  # within TikTok's 6 inits a minute
        connector.publish(post(ctx, f"Een ander bericht, nummer {n}"), save_handle=ctx.save_handle)

    def lists() -> int:
        return ctx.requests_to("POST", "/video/list/")

    found = ctx.make_connector(**PUBLIC).reconcile(req)
    assert found is not None and found.remote_id == sought.remote_id and lists() == 4
    clock.advance(minutes=30)  # past the listing delay: not listed, maybe still in moderation: ask a person
    with pytest.raises(NeedsPerson, match="not listed 30 minutes later"):
        ctx.make_connector(**PUBLIC).reconcile(replace(req, text="Nooit verstuurd"))
    assert lists() == 8  # the fourth page says has_more: false
    with caplog.at_level(logging.WARNING, logger="outreach.connectors.tiktok"), pytest.raises(NeedsPerson):
        ctx.make_connector(max_pages=2, **PUBLIC).reconcile(req)
    assert lists() == 10 and "peer-tiktok: read 2 pages of video/list without reaching back to" in caplog.text
    later = replace(req, text="Nooit verstuurd", attempt_started_at=clock())
    with pytest.raises(TransientError, match="not listed"):
        ctx.make_connector(**PUBLIC).reconcile(later)
    assert lists() == 11  # the newest page is already older than this attempt's window


def test_sim_pages_video_list_without_splitting_an_instant(ctx: Context) -> None:
    """Raw video/list: `cursor` (a millisecond create time) and `has_more`; three posts made at one
    instant of the sim clock still come out once each over two pages."""
    connector = ctx.make_connector(**PUBLIC)
    for n in range(3):
        connector.publish(post(ctx, f"Bericht {n}"), save_handle=ctx.save_handle)
    api, auth = f"{ctx.url}/tiktok/v2/video/list/", {"Authorization": f"Bearer {DEMO_ACCESS_TOKEN}"}

    def page(**body: Any) -> dict[str, Any]:
        return requests.post(api, params={"fields": "id,create_time"}, headers=auth, json=body, timeout=5).json()

    first = page(max_count=2)
    assert first["error"]["code"] == "ok" and first["data"]["has_more"] is True
    assert isinstance(first["data"]["cursor"], int)
    second = page(max_count=2, cursor=first["data"]["cursor"])
    assert second["data"]["has_more"] is False and len(second["data"]["videos"]) == 1
    ids = [v["id"] for v in first["data"]["videos"] + second["data"]["videos"]]
    assert len(set(ids)) == 3 and [v["id"] for v in page(max_count=20)["data"]["videos"]] == ids
