"""LinkedIn connector against the LinkedIn simulation over real HTTP on loopback."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import requests
from PIL import Image

from outreach.config import ChannelConfig
from outreach.connectors.base import MemoryCredentialStore
from outreach.connectors.errors import AuthError, ContentRejected, RateLimited, TransientError
from outreach.connectors.linkedin import DEFAULT_VERSION, LinkedInConnector, escape_little_text
from outreach.domain import MediaItem, Platform, PublishRequest
from outreach.sandbox.linkedin import (
    DEMO_CLIENT_ID,
    DEMO_CLIENT_SECRET,
    DEMO_ORGANIZATION,
    DEMO_REFRESH_TOKEN,
    DEMO_TOKEN,
    LinkedInSim,
    render_little_text,
)
from tests.clock import FakeClock
from tests.connectors.harness import Case, Context, Outcome, case_id, run_case

TOKEN_ENV = "OUTREACH_TEST_LINKEDIN_TOKEN"
START = datetime(2026, 11, 20, 14, 0, tzinfo=UTC)
TEXT = ("Bijeenkomst (Utrecht) over gelijke_kansen: praat mee! #VanBinnenuit #LHBTI\n"
        "Aanmelden: https://example.org/aanmelden?x=1&y=[2] <gratis> *echt* ~ @iedereen | {welkom} \\o/")
ALT = "Vrijwilligers zetten stoelen klaar in een buurthuis"
MIDNIGHT = datetime(2026, 11, 21, tzinfo=UTC)



def post(ctx: Context, text: str = TEXT, *, media: tuple[MediaItem, ...] = (),
         handle: dict[str, Any] | None = None, started: datetime | None = None) -> PublishRequest:
    return PublishRequest(post_id=1, text=text, language="nl", idempotency_key="post-1-nl", media=media,
                          handle=handle or {}, attempt_started_at=started or ctx.scratch["clock"]())


def image(ctx: Context, name: str = "image", mime: str = "image/jpeg") -> MediaItem:
    return MediaItem(path=ctx.scratch[name], alt_text=ALT, mime_type=mime)


def publish(*, with_image: str | None = None, mime: str = "image/jpeg", **kw: Any):
    def act(connector: LinkedInConnector, ctx: Context):
        req = post(ctx, media=(image(ctx, with_image, mime),) if with_image else (), **kw)
        ctx.scratch["req"] = req
        return connector.publish(req, save_handle=ctx.save_handle)
    return act


# -- checks -----------------------------------------------------------------------------------

def published_as_written(outcome: Outcome) -> None:
    [sim_post] = outcome.ctx.state()["posts"]
    assert outcome.result.remote_id == sim_post["urn"] and sim_post["urn"].startswith("urn:li:share:")
    assert outcome.result.url == f"https://www.linkedin.com/feed/update/{sim_post['urn']}/"
    assert sim_post["text"] == TEXT and not sim_post["truncated"]
    assert "{hashtag|\\#|VanBinnenuit} {hashtag|\\#|LHBTI}" in sim_post["commentary"]
    assert sim_post["author"] == DEMO_ORGANIZATION


def published_with_image(outcome: Outcome) -> None:
    ctx = outcome.ctx
    state = ctx.state()
    [sim_post], [sim_image] = state["posts"], state["images"]
    assert sim_post["image"] == sim_image["urn"] and sim_post["alt_text"] == ALT
    assert sim_image["status"] == "AVAILABLE" and sim_image["mime_type"] == "image/jpeg"
    assert ctx.saved_handles == [{"image_urn": sim_image["urn"]}]
    assert ctx.requests_to("GET", "/rest/images/") == 2  # PROCESSING, then AVAILABLE
    assert outcome.result.remote_id == sim_post["urn"]


def posted(count: int):
    def check(outcome: Outcome) -> None:
        assert len(outcome.ctx.state()["posts"]) == count
    return check


def reconcile_adopts(outcome: Outcome) -> None:
    ctx = outcome.ctx
    found = ctx.make_connector().reconcile(ctx.scratch["req"])
    [sim_post] = ctx.state()["posts"]
    assert found is not None and found.remote_id == sim_post["urn"]
    assert found.raw == {"adopted_duplicate": sim_post["urn"]}
    assert ctx.state()["posts_per_commentary"] == {escape_little_text(TEXT): 1}


def reconcile_posts_once(outcome: Outcome) -> None:
    ctx = outcome.ctx
    assert ctx.state()["posts"] == []
    found = ctx.make_connector().reconcile(ctx.scratch["req"])
    [sim_post] = ctx.state()["posts"]
    assert found is not None and found.remote_id == sim_post["urn"] and "adopted_duplicate" not in found.raw


def until_midnight(outcome: Outcome) -> None:
    error = outcome.error
    assert isinstance(error, RateLimited)
    assert error.reset_at == MIDNIGHT and error.retry_after_s == 10 * 3600


def handle_saved_image_waiting(outcome: Outcome) -> None:
    ctx = outcome.ctx
    [saved] = ctx.saved_handles
    assert saved["image_urn"].startswith("urn:li:image:")
    req = ctx.scratch["req"]
    crashed = PublishRequest(post_id=1, text=req.text, language="nl", idempotency_key=req.idempotency_key,
                             media=req.media, handle=saved, attempt_started_at=req.attempt_started_at)
    assert ctx.make_connector().reconcile(crashed) is None  # the post cannot have gone out yet
    posted(0)(outcome)


def duplicate_of_last_week(connector: LinkedInConnector, ctx: Context):
    connector.publish(post(ctx), save_handle=ctx.save_handle)
    ctx.scratch["clock"].advance(days=7)
    return connector.publish(post(ctx), save_handle=ctx.save_handle)


def retry_reuses_image(connector: LinkedInConnector, ctx: Context):
    req = post(ctx, media=(image(ctx),))
    ctx.sandbox.add_fault(platform="linkedin", mode="reset_after", path="/rest/posts")
    with pytest.raises(TransientError):
        connector.publish(req, save_handle=ctx.save_handle)
    ctx.scratch["clock"].advance(minutes=10)
    retry = post(ctx, media=(image(ctx),), handle=ctx.saved_handles[-1], started=req.attempt_started_at)
    return connector.publish(retry, save_handle=ctx.save_handle)


def one_image_one_post(outcome: Outcome) -> None:
    ctx = outcome.ctx
    assert ctx.requests_to("POST", "/rest/images") == 1
    [sim_post] = ctx.state()["posts"]
    assert outcome.result.remote_id == sim_post["urn"] and sim_post["image"] == ctx.saved_handles[0]["image_urn"]


def org_and_expiry(outcome: Outcome) -> None:
    info = outcome.result
    assert (info.account_id, info.name) == (DEMO_ORGANIZATION, "Verandering van binnenuit (sandbox)")
    assert info.token_expires_at == datetime(2026, 12, 10, tzinfo=UTC)
    assert info.detail == f"LinkedIn-Version {DEFAULT_VERSION}; token expires 2026-12-10 (in 19 days)"


def expiry_unknown(outcome: Outcome) -> None:
    assert outcome.result.token_expires_at is None
    assert outcome.result.detail.endswith("token expiry unknown: set token_expires_at so status can warn "
                                          "before the 60 days end")


CASES = [
    Case("text post with reserved characters and hashtags", publish(), check=published_as_written),
    Case("image post with alt text", publish(with_image="image"), control=(("configure", {"processing_polls": 1}),),
         check=published_with_image),
    Case("GIF is accepted", publish(with_image="gif", mime="image/gif"), check=posted(1)),
    Case("check reads the organisation and the token expiry", lambda c, ctx: c.check(),
         options={"token_expires_at": "2026-12-10"}, check=org_and_expiry),
    Case("check without a known expiry says so", lambda c, ctx: c.check(), check=expiry_unknown),
    Case("revoked token", publish(), control=(("revoke", {"token": DEMO_TOKEN}),), raises=AuthError,
         message="LinkedIn rejected the access token for channel peer-linkedin (INVALID_ACCESS_TOKEN, "
                 "serviceErrorCode 65600)", check=posted(0)),
    Case("expired token", lambda c, ctx: c.check(), control=(("expire", {"token": DEMO_TOKEN}),),
         raises=AuthError, message="EXPIRED_ACCESS_TOKEN"),
    Case("token variable not set", publish(), options={"token_env": "OUTREACH_TEST_UNSET_TOKEN"},
         raises=AuthError, message="OUTREACH_TEST_UNSET_TOKEN is not set"),
    Case("retired LinkedIn-Version", publish(), options={"linkedin_version": "202409"}, raises=ContentRejected,
         message="LinkedIn does not accept API version 202409 (Requested version 202409 is not active); "
                 "set linkedin_version"),
    Case("malformed linkedin_version option", publish(), options={"linkedin_version": "2026-10"},
         raises=ContentRejected, message="linkedin_version must be YYYYMM"),
    Case("commentary too long", publish(text="x" * 3001), raises=ContentRejected,
         message="FIELD_LENGTH_TOO_LONG: /commentary :: length 3001 exceeds 3000 (HTTP 400)"),
    Case("posting for another organisation", publish(), options={"organization_urn": "urn:li:organization:1"},
         raises=AuthError, message="ACCESS_DENIED"),
    Case("unreadable image fails processing", publish(with_image="broken", mime="image/png"),
         raises=ContentRejected, message="could not process the image", check=posted(0)),
    Case("image still processing after the last poll", publish(with_image="image"), options={"max_polls": 2},
         control=(("configure", {"processing_polls": 5}),), raises=TransientError, ambiguous=False,
         message="still processing", check=handle_saved_image_waiting),
    Case("injected daily limit: 429 without headers", publish(), faults=({"mode": "rate_limit"},),
         raises=RateLimited, message="resets at 00:00 UTC", check=until_midnight),
    Case("the simulation's own daily post limit", publish(), control=(("configure", {"daily_post_limit": 0}),),
         raises=RateLimited, message="APPLICATION DAY limit", check=until_midnight),
    Case("connection dropped after the post was created", publish(),
         faults=({"mode": "reset_after", "path": "/rest/posts"},), raises=TransientError, ambiguous=True,
         check=reconcile_adopts),
    Case("connection dropped before the post was created", publish(),
         faults=({"mode": "reset_before", "path": "/rest/posts"},), raises=TransientError, ambiguous=True,
         check=reconcile_posts_once),
    Case("503 on posting is ambiguous", publish(), faults=({"mode": "error", "path": "/rest/posts", "status": 503,
                                                            "body": {"status": 503, "message": "Service Unavailable"}},),
         raises=TransientError, ambiguous=True, message="Service Unavailable"),
    Case("500 on reading is not", lambda c, ctx: c.check(), faults=({"mode": "error", "status": 500},),
         raises=TransientError, ambiguous=False),
    Case("retry after a drop reuses the image and adopts the post", retry_reuses_image, check=one_image_one_post),
    Case("identical text to last week's post is refused, not adopted", duplicate_of_last_week,
         raises=ContentRejected, message="it duplicates urn:li:share:", check=posted(1)),
]


@pytest.fixture
def ctx(serve_sandbox, monkeypatch, tmp_path: Path) -> Context:
    monkeypatch.setenv(TOKEN_ENV, DEMO_TOKEN)
    clock = FakeClock(START)
    sandbox, url = serve_sandbox(LinkedInSim(clock=clock))
    files = {"image": tmp_path / "meeting.jpg", "gif": tmp_path / "meeting.gif", "broken": tmp_path / "x.png"}
    Image.new("RGB", (64, 48), (200, 80, 120)).save(files["image"], "JPEG")
    Image.new("RGB", (64, 48), (20, 80, 120)).save(files["gif"], "GIF")
    files["broken"].write_bytes(b"BM this is not a PNG at all")

    def make_connector(*, token_env: str = TOKEN_ENV, max_polls: int = 5, secret_envs: dict[str, str] | None = None,
                       credentials: MemoryCredentialStore | None = None, **options: Any) -> LinkedInConnector:
        options = {"organization_urn": DEMO_ORGANIZATION, "oauth_url": f"{url}/linkedin/oauth/v2/accessToken",
                   **options}
        channel = ChannelConfig(name="peer-linkedin", platform=Platform("linkedin"), base_url=f"{url}/linkedin",
                                options=options, secret_envs={"token": token_env, **(secret_envs or {})})
        return LinkedInConnector(channel, timeout_s=10.0, clock=clock, sleep=lambda s: None, max_polls=max_polls,
                                 credentials=credentials)

    return Context(sandbox=sandbox, url=url, prefix="linkedin", make_connector=make_connector,
                   secrets=(DEMO_TOKEN, DEMO_REFRESH_TOKEN, DEMO_CLIENT_SECRET),
                   scratch={"clock": clock, **{k: str(v) for k, v in files.items()}})


@pytest.mark.parametrize("case", CASES, ids=case_id)
def test_connector(case: Case, ctx: Context) -> None:
    run_case(case, ctx)


def test_metrics_in_batches_grow_with_the_sim_clock(ctx: Context) -> None:
    connector = ctx.make_connector()
    urns = [connector.publish(post(ctx, f"bericht {n}"), save_handle=ctx.save_handle).remote_id
            for n in range(3)]
    asked = urns + [f"urn:li:share:{n}" for n in range(22)] + ["urn:li:ugcPost:7"]
    seen = []
    for hours in (0, 2, 24, 96):
        ctx.scratch["clock"].now = START + timedelta(hours=hours)
        metrics = connector.fetch_metrics(asked)
        assert sorted(metrics) == sorted(urns)  # unknown URNs are simply absent
        seen.append(metrics[urns[0]])
    assert ctx.requests_to("GET", "/rest/organizationalEntityShareStatistics") == 4 * 2  # 26 ids, 20 a call
    views = [m["impressionCount"] for m in seen]
    assert views[0] == 0 and views == sorted(views) and views[-1] >= 400
    assert seen[-1]["likeCount"] == views[-1] // 25 and "engagement" not in seen[-1]
    assert set(seen[-1]) <= set(LinkedInConnector.metric_names)


def test_refresh_for_marketing_partners_persists_the_new_token(ctx: Context, monkeypatch) -> None:
    monkeypatch.setenv("OUTREACH_TEST_LINKEDIN_REFRESH", DEMO_REFRESH_TOKEN)
    monkeypatch.setenv("OUTREACH_TEST_LINKEDIN_SECRET", DEMO_CLIENT_SECRET)
    store = MemoryCredentialStore()
    connector = ctx.make_connector(client_id=DEMO_CLIENT_ID, credentials=store, secret_envs={
        "refresh_token": "OUTREACH_TEST_LINKEDIN_REFRESH", "client_secret": "OUTREACH_TEST_LINKEDIN_SECRET"})
    expires = connector.refresh_credentials()
    assert expires == START + timedelta(seconds=60 * 86400 - 1)
    saved = store.load("peer-linkedin")
    assert saved["access_token"] != DEMO_TOKEN and saved["expires_at"] == expires.isoformat()
    assert saved["refresh_expires_at"] == (START + timedelta(days=365)).isoformat()
    ctx.control("revoke", {"token": DEMO_TOKEN})  # from now on only the refreshed token works
    assert connector.check().token_expires_at == expires
    assert connector.refresh_credentials() == expires  # far from expiry: no new call
    assert ctx.requests_to("POST", "/oauth/v2/accessToken") == 1
    ctx.scratch["clock"].advance(days=55)
    assert connector.refresh_credentials() == START + timedelta(days=55, seconds=60 * 86400 - 1)


def test_refresh_with_a_bad_refresh_token_is_an_auth_error(ctx: Context, monkeypatch) -> None:
    monkeypatch.setenv("OUTREACH_TEST_LINKEDIN_REFRESH", "not-the-refresh-token")
    monkeypatch.setenv("OUTREACH_TEST_LINKEDIN_SECRET", DEMO_CLIENT_SECRET)
    connector = ctx.make_connector(client_id=DEMO_CLIENT_ID, secret_envs={
        "refresh_token": "OUTREACH_TEST_LINKEDIN_REFRESH", "client_secret": "OUTREACH_TEST_LINKEDIN_SECRET"})
    with pytest.raises(AuthError, match="refused the token refresh \\(invalid_request") as caught:
        connector.refresh_credentials()
    assert "not-the-refresh-token" not in str(caught.value) and DEMO_CLIENT_SECRET not in str(caught.value)


def test_without_a_refresh_token_nothing_is_refreshed(ctx: Context) -> None:
    assert ctx.make_connector().refresh_credentials() is None
    assert ctx.requests_to("POST", "/oauth/") == 0


def test_little_text_escaping_round_trips_through_the_simulation() -> None:
    assert escape_little_text("a (b) #tag c#d #_x") == "a \\(b\\) {hashtag|\\#|tag} c\\#d \\#\\_x"
    for text in (TEXT, "#Trots! 100% (echt)", "e-mail: info@example.org", "\\#geen-tag"):
        assert render_little_text(escape_little_text(text)) == (text, False)
    assert render_little_text("Kom (morgen) langs") == ("Kom ", True)  # unescaped: LinkedIn cuts it short


def test_validate_declares_linkedin_limits() -> None:
    assert LinkedInConnector.validate("x" * 3000, [MediaItem("a.gif", mime_type="image/gif")]) == []
    [too_long] = LinkedInConnector.validate("x" * 3001)
    assert "3001" in too_long and "3000" in too_long
    problems = LinkedInConnector.validate("x", [MediaItem("a.webp", mime_type="image/webp"),
                                                MediaItem("b.jpg", width=7000, height=6000)])
    assert any("2 images" in p for p in problems)
    assert any("image/webp is not accepted" in p for p in problems)
    assert any("7000x6000 pixels" in p for p in problems)
    assert LinkedInConnector.validate("x", [MediaItem("c.jpg", alt_text="a" * 4087)])


def test_sim_speaks_the_wire_format(ctx: Context) -> None:
    """Raw HTTP: required headers, 201 with an empty body and x-restli-id, 422 duplicate, upload PUT."""
    rest = f"{ctx.url}/linkedin/rest"
    auth = {"Authorization": f"Bearer {DEMO_TOKEN}"}
    full = {**auth, "LinkedIn-Version": "202611", "X-Restli-Protocol-Version": "2.0.0"}
    missing = requests.get(f"{rest}/organizations/5515715", headers=auth, timeout=5)
    assert (missing.status_code, missing.json()["code"]) == (400, "VERSION_MISSING")
    no_restli = requests.get(f"{rest}/organizations/5515715", headers={**auth, "LinkedIn-Version": "202611"},
                             timeout=5)
    assert no_restli.status_code == 400 and "X-Restli-Protocol-Version" in no_restli.json()["message"]
    future = requests.get(f"{rest}/organizations/5515715", headers={**full, "LinkedIn-Version": "202612"},
                          timeout=5)
    assert future.status_code == 426
    body = {"author": DEMO_ORGANIZATION, "commentary": "Hallo", "visibility": "PUBLIC",
            "distribution": {"feedDistribution": "MAIN_FEED"}, "lifecycleState": "PUBLISHED"}
    created = requests.post(f"{rest}/posts", headers=full, json=body, timeout=5)
    assert created.status_code == 201 and created.content == b""
    urn = created.headers["x-restli-id"]
    again = requests.post(f"{rest}/posts", headers=full, json=body, timeout=5)
    assert (again.status_code, again.json()) == (422, {"status": 422, "code": "DUPLICATE_POST",
                                                       "message": f"Content is a duplicate of {urn}"})
    init = requests.post(f"{rest}/images?action=initializeUpload", headers=full, timeout=5,
                         json={"initializeUploadRequest": {"owner": DEMO_ORGANIZATION}}).json()["value"]
    assert init["uploadUrl"].startswith(f"{ctx.url}/linkedin/dms-uploads/")
    with open(ctx.scratch["image"], "rb") as fh:
        assert requests.put(init["uploadUrl"], headers=auth, data=fh.read(), timeout=5).status_code == 201
    throttled = ctx.sandbox.sims["linkedin"].rate_limited(None)  # type: ignore[arg-type]
    assert throttled.status == 429 and throttled.headers == {}
