"""Instagram connector against the Instagram simulation over real HTTP on loopback."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from outreach.config import ChannelConfig
from outreach.connectors.errors import AuthError, ContentRejected, RateLimited, TransientError
from outreach.connectors.instagram import InstagramConnector
from outreach.domain import METRIC_NAMES, MediaItem, Platform
from outreach.sandbox.instagram import DEMO_TOKEN, IG_USER_ID, InstagramSim
from tests.connectors.harness import Case, Context, Outcome, case_id, run_case
from tests.connectors.meta_fixtures import (
    ALT,
    START,
    blocked_for,
    both,
    check_graph_paging,
    check_reconcile_pages_back,
    error_code,
    graph_error_body,
    graph_get,
    image,
    make_context,
    request,
    write_big_jpeg,
)

CAPTION = "Bijeenkomst in Utrecht: praat mee over gelijkheid en veiligheid. #VanBinnenuit"
SLOW = {"timeout_s": 0.5}


def publish(name: str = "meeting.jpg", *, text: str = CAPTION, public: bool = True,
            handle: dict[str, Any] | None = None, with_image: bool = True, link: str | None = None):
    def act(connector: InstagramConnector, ctx: Context):
        media = (image(ctx, name, public=public),) if with_image else ()
        req = request(ctx, text, media=media, handle=handle, link=link)
        ctx.scratch["req"] = req
        return connector.publish(req, save_handle=ctx.save_handle)
    return act


def posts(outcome: Outcome) -> list[dict[str, Any]]:
    return outcome.ctx.state()["posts"]


def published(outcome: Outcome) -> None:
    result, ctx = outcome.result, outcome.ctx
    [post] = posts(outcome)
    [container] = ctx.state()["containers"]
    assert result.remote_id == post["id"] and result.url.startswith("https://www.instagram.com/p/")
    assert result.published_at == START and result.raw["container_id"] == container["id"]
    assert (post["caption"], post["alt_text"]) == (CAPTION, ALT)
    assert post["image_url"] == f"{ctx.url}/media/meeting.jpg"
    assert ctx.saved_handles == [{"container_id": container["id"]}]
    assert container["status_code"] == "PUBLISHED" and container["polls"] == 2  # IN_PROGRESS, FINISHED
    assert ctx.requests_to("GET", "/content_publishing_limit") == 1


def nothing_posted(outcome: Outcome) -> None:
    assert posts(outcome) == []


def reconcile_finds_it(outcome: Outcome) -> None:
    ctx = outcome.ctx
    [post] = posts(outcome)
    req = ctx.scratch["req"]
    retry = request(ctx, CAPTION, media=req.media, handle=ctx.saved_handles[-1])
    found = ctx.make_connector().reconcile(retry)
    assert found is not None and found.remote_id == post["id"] and found.url
    again = ctx.make_connector().publish(retry, save_handle=ctx.save_handle)  # a careless retry
    assert again.remote_id == post["id"]
    assert len(posts(outcome)) == 1 and ctx.requests_to("POST", "/media_publish") == 1


def reconcile_says_no_then_retry_reuses_container(outcome: Outcome) -> None:
    ctx = outcome.ctx
    nothing_posted(outcome)
    retry = request(ctx, CAPTION, media=ctx.scratch["req"].media, handle=ctx.saved_handles[-1])
    assert ctx.make_connector().reconcile(retry) is None
    result = ctx.make_connector().publish(retry, save_handle=ctx.save_handle)
    [post] = posts(outcome)
    assert result.remote_id == post["id"] and len(ctx.state()["containers"]) == 1


def account_read(outcome: Outcome) -> None:
    info = outcome.result
    assert (info.account_id, info.name) == (IG_USER_ID, "@verandering.van.binnenuit")
    assert "1240 followers; instagram login" in info.detail


def handle_saved_nothing_posted(outcome: Outcome) -> None:
    assert len(outcome.ctx.saved_handles) == 1
    nothing_posted(outcome)


def not_blocked(outcome: Outcome) -> None:
    assert outcome.result is None


def check_then_usage(connector: InstagramConnector, ctx: Context):
    connector.check()
    return connector.blocked_until


def blocked_until(minutes: float):
    def check(outcome: Outcome) -> None:
        assert outcome.result == START + timedelta(minutes=minutes)
    return check


def quota_full(connector: InstagramConnector, ctx: Context):
    publish(text="earlier post")(connector, ctx)
    ctx.scratch["clock"].advance(hours=2)
    return publish()(connector, ctx)


def only_the_earlier_post(outcome: Outcome) -> None:
    assert [p["caption"] for p in posts(outcome)] == ["earlier post"]
    assert len(outcome.ctx.state()["containers"]) == 1  # no container spent on a doomed post


def free_slot_after_24h(outcome: Outcome) -> None:
    """The first post (at START) leaves the rolling window at START + 24 h; it is now START + 2 h."""
    assert outcome.error.retry_after_s == 22 * 3600
    assert outcome.error.reset_at == START + timedelta(hours=24)


def create_container(ctx: Context) -> str:
    """A container made earlier (by a previous attempt), straight through the Graph API."""
    import requests

    response = requests.post(f"{ctx.url}/instagram/v25.0/{IG_USER_ID}/media", timeout=5,
                             headers={"Authorization": f"Bearer {DEMO_TOKEN}"},
                             data={"image_url": f"{ctx.url}/media/meeting.jpg", "caption": CAPTION})
    return response.json()["id"]


def resume(status: str | None):
    def act(connector: InstagramConnector, ctx: Context):
        container = create_container(ctx)
        ctx.scratch["old"] = container
        if status:
            ctx.control("container", {"id": container, "status_code": status, "error_subcode": 2207001})
        return publish(handle={"container_id": container})(connector, ctx)
    return act


def used_container(same: bool):
    def check(outcome: Outcome) -> None:
        [post] = posts(outcome)
        assert (post["container_id"] == outcome.ctx.scratch["old"]) is same
        assert len(outcome.ctx.state()["containers"]) == (1 if same else 2)
    return check


def retry_makes_new_container(outcome: Outcome) -> None:
    ctx = outcome.ctx
    ctx.control("config", {"container_error_subcode": None})
    retry = request(ctx, CAPTION, media=ctx.scratch["req"].media, handle=ctx.saved_handles[-1])
    result = ctx.make_connector().publish(retry, save_handle=ctx.save_handle)
    [post] = posts(outcome)
    assert result.remote_id == post["id"] and post["container_id"] == ctx.saved_handles[-1]["container_id"]
    assert [c["status_code"] for c in ctx.state()["containers"]] == ["ERROR", "PUBLISHED"]


def already_published(connector: InstagramConnector, ctx: Context):
    first = publish()(connector, ctx)
    ctx.saved_handles.clear()
    second = publish(handle={"container_id": first.raw["container_id"]})(connector, ctx)
    return first, second


def same_post_no_new_container(outcome: Outcome) -> None:
    first, second = outcome.result
    assert first.remote_id == second.remote_id and outcome.ctx.saved_handles == []
    assert len(posts(outcome)) == 1 and len(outcome.ctx.state()["containers"]) == 1


def big_image(connector: InstagramConnector, ctx: Context):
    name = write_big_jpeg(ctx.scratch["media"], 8 * 1024 * 1024 + 10)
    return publish(name)(connector, ctx)


def graph_fault(code: int, message: str, path: str, method: str = "POST", **kw: Any) -> dict[str, Any]:
    return {"mode": "error", "status": 400, "method": method, "path": path,
            "body": graph_error_body(code, message, **kw)}


CASES = [
    Case("publish with image and alt text", publish(), check=published),
    Case("check reads the account", lambda c, ctx: c.check(), check=account_read),
    Case("text-only post", publish(with_image=False), raises=ContentRejected, message="needs an image"),
    Case("image without a public URL", publish(public=False), raises=ContentRejected,
         message="public_base_url", check=nothing_posted),
    Case("unfetchable image URL", publish("missing.jpg"), raises=ContentRejected,
         message="The media could not be fetched from this URI", check=error_code("9004/2207052")),
    Case("PNG is not accepted", publish("card.png"), raises=ContentRejected, message="JPEG",
         check=error_code("9004/2207052")),
    Case("image over 8 MiB", big_image, raises=ContentRejected, message="less than 8 MiB",
         check=error_code("36000/2207004")),
    Case("aspect ratio outside 4:5..1.91:1", publish("wide.jpg"), raises=ContentRejected,
         message="aspect ratio ('1500/500')", check=error_code("36003/2207009")),
    Case("caption over 2200 characters", publish(text="x" * 2201), raises=ContentRejected,
         message="longer than 2200", check=error_code("100")),
    Case("revoked token", publish(), control=(("revoke", {}),), raises=AuthError,
         message="check the token for channel peer-instagram", check=error_code("190/460")),
    Case("expired token", lambda c, ctx: c.check(), control=(("expire", {}),), raises=AuthError,
         message="Session has expired", check=error_code("190/463")),
    Case("throttled with HTTP 400 code 80002 and a BUC header", publish(),
         faults=({"mode": "rate_limit", "retry_after_s": 300},), raises=RateLimited,
         message="(#80002)", check=both(blocked_for(300), error_code("80002"))),
    Case("usage at 95 % blocks for a while", check_then_usage, control=(("usage", {"call_count": 95}),),
         check=blocked_until(10)),
    Case("usage names a time to regain access", check_then_usage,
         control=(("usage", {"estimated_time_to_regain_access": 7}),), check=blocked_until(7)),
    Case("an absurd time to regain access is bounded, not a crash", check_then_usage,
         control=(("usage", {"estimated_time_to_regain_access": 10**15}),), check=blocked_until(2 * 24 * 60)),
    Case("low usage does not block", check_then_usage, check=not_blocked),
    Case("publishing quota used up: wait for the rolling window", quota_full,
         control=(("config", {"quota_total": 1}),), raises=RateLimited, message="1 of 1",
         check=both(only_the_earlier_post, free_slot_after_24h)),
    Case("quota hit at media_publish (code 9)", publish(),
         faults=(graph_fault(9, "Application request limit reached", "/media_publish", subcode=2207042),),
         raises=RateLimited, message="publishing quota reached", check=nothing_posted),
    Case("spam restriction 4/2207051 is not a throttle", publish(),
         faults=(graph_fault(4, "Spam restriction", "/media_publish", subcode=2207051),),
         raises=ContentRejected, message="spam"),
    Case("code 2 on publishing is transient and ambiguous", publish(),
         faults=(graph_fault(2, "Service temporarily unavailable", "/media_publish", transient=True),),
         raises=TransientError, ambiguous=True, message="[code 2]"),
    Case("code 1 on reading is transient, not ambiguous", lambda c, ctx: c.check(),
         faults=(graph_fault(1, "An unknown error occurred", "/", method="GET"),),
         raises=TransientError, ambiguous=False),
    Case("permission missing (code 10) is rejected", lambda c, ctx: c.fetch_audience(),
         faults=(graph_fault(10, "(#10) Application does not have permission", "/insights", "GET"),),
         raises=ContentRejected, check=error_code("10")),
    Case("timeout after media_publish: reconcile via container status", publish(), options=SLOW,
         faults=({"mode": "timeout_after", "path": "/media_publish", "delay_s": 5.0},),
         raises=TransientError, ambiguous=True, message="no answer", check=reconcile_finds_it),
    Case("connection dropped after media_publish", publish(),
         faults=({"mode": "reset_after", "path": "/media_publish"},),
         raises=TransientError, ambiguous=True, check=reconcile_finds_it),
    Case("connection dropped before media_publish", publish(),
         faults=({"mode": "reset_before", "path": "/media_publish"},),
         raises=TransientError, ambiguous=True, check=reconcile_says_no_then_retry_reuses_container),
    Case("container creation dropped is not ambiguous", publish(),
         faults=({"mode": "reset_before", "method": "POST", "path": "/media"},),
         raises=TransientError, ambiguous=False, check=nothing_posted),
    Case("container still processing after the last poll", publish(), options={"max_polls": 3},
         control=(("config", {"ready_after_polls": 9}),), raises=TransientError, ambiguous=False,
         message="still processing",
         check=handle_saved_nothing_posted),
    Case("processing fails for good (2207052)", publish(), control=(("config", {"container_error_subcode": 2207052}),),
         raises=ContentRejected, message="could not process the media: Error: Media upload has failed with "
         "error code 2207052", check=nothing_posted),
    Case("processing fails for now (2207001): next attempt, new container", publish(),
         control=(("config", {"container_error_subcode": 2207001}),), raises=TransientError, ambiguous=False,
         message="the next attempt creates a new one", check=retry_makes_new_container),
    Case("saved FINISHED container is published, not recreated", resume(None), check=used_container(True)),
    Case("saved EXPIRED container is replaced", resume("EXPIRED"), check=used_container(False)),
    Case("saved ERROR container is replaced", resume("ERROR"), check=used_container(False)),
    Case("saved PUBLISHED container: found, nothing new", already_published, check=same_post_no_new_container),
]


@pytest.fixture
def ctx(serve_sandbox, monkeypatch, tmp_path: Path) -> Context:
    return make_context(serve_sandbox=serve_sandbox, monkeypatch=monkeypatch, tmp_path=tmp_path,
                        sim=InstagramSim, connector=InstagramConnector, platform=Platform("instagram"),
                        token=DEMO_TOKEN, base_options={"ig_user_id": IG_USER_ID})


@pytest.mark.parametrize("case", CASES, ids=case_id)
def test_connector(case: Case, ctx: Context) -> None:
    run_case(case, ctx)


def test_token_refresh_is_persisted_and_used(ctx: Context) -> None:
    connector = ctx.make_connector()
    expires = connector.refresh_credentials()
    assert expires == START + timedelta(days=60)
    saved = ctx.scratch["store"].load("peer-instagram")
    new_token = saved["access_token"]
    assert new_token != DEMO_TOKEN and saved["expires_at"] == int(expires.timestamp())
    ctx.control("revoke", {"token": DEMO_TOKEN})  # the old token is dead; only the new one works
    fresh = ctx.make_connector()
    info = fresh.check()
    assert info.token_expires_at == expires
    ctx.control("revoke", {"token": new_token})
    with pytest.raises(AuthError) as caught:
        fresh.check()
    assert new_token not in str(caught.value) and DEMO_TOKEN not in str(caught.value)


def test_new_env_token_wins_over_an_old_refresh(ctx: Context, monkeypatch) -> None:
    ctx.make_connector().refresh_credentials()
    ctx.control("add_token", {"token": "IGQWRsomeone-pasted-a-new-token"})
    monkeypatch.setenv(ctx.scratch["env"], "IGQWRsomeone-pasted-a-new-token")
    ctx.control("revoke", {"token": ctx.scratch["store"].load("peer-instagram")["access_token"]})
    assert ctx.make_connector().check().account_id == IG_USER_ID


def test_refresh_too_early_and_facebook_login(ctx: Context, monkeypatch) -> None:
    ctx.control("add_token", {"token": "IGQWRbrand-new-token-0001"})
    monkeypatch.setenv(ctx.scratch["env"], "IGQWRbrand-new-token-0001")
    with pytest.raises(ContentRejected, match="at least 24 hours old"):
        ctx.make_connector().refresh_credentials()
    assert ctx.make_connector(login="facebook").refresh_credentials() is None
    assert ctx.scratch["store"].load("peer-instagram") == {}


def test_facebook_login_host_needs_the_ig_user_id(monkeypatch) -> None:
    monkeypatch.setenv("OUTREACH_TEST_IG_FB", "EAAGtoken-for-facebook-login")
    channel = ChannelConfig(name="peer-instagram", platform=Platform("instagram"),
                            base_url="https://graph.facebook.com", secret_envs={"token": "OUTREACH_TEST_IG_FB"})
    connector = InstagramConnector(channel)
    assert connector.login == "facebook" and connector.refresh_credentials() is None
    with pytest.raises(AuthError, match="instagram_business_account"):
        connector.check()  # raises before any request leaves


def test_metrics_grow_and_map_to_the_shared_vocabulary(ctx: Context) -> None:
    connector = ctx.make_connector()
    remote_id = publish()(connector, ctx).remote_id
    seen = []
    for hours in (0, 2, 24, 96):
        ctx.scratch["clock"].now = START + timedelta(hours=hours)
        seen.append(connector.fetch_metrics([remote_id, "17999999999999999"]))
    assert all(list(s) == [remote_id] for s in seen)  # the unknown id is skipped
    reach = [s[remote_id]["reach"] for s in seen]
    assert reach[0] == 0 and reach == sorted(reach) and reach[-1] > 100
    assert set(seen[-1][remote_id]) == set(InstagramConnector.media_metrics)
    assert set(InstagramConnector.metric_names.values()) <= set(METRIC_NAMES)
    assert InstagramConnector.metric_names["saved"] == "saves"


def test_audience_rows_by_age_and_gender(ctx: Context) -> None:
    rows = ctx.make_connector(audience_timeframes=["this_week", "this_month"]).fetch_audience()
    assert {(r.metric, r.timeframe) for r in rows} == {
        (m, t) for m in ("follower_demographics", "engaged_audience_demographics")
        for t in ("this_week", "this_month")}
    followers = [r for r in rows if r.metric == "follower_demographics" and r.timeframe == "this_month"]
    by_age = {r.age_bucket: r.value for r in followers if r.gender is None}
    assert set(by_age) == {"13-17", "18-24", "25-34", "35-44", "45-54", "55-64", "65+"}
    assert abs(sum(by_age.values()) - 1240) <= 7  # rounding per bucket
    cells = [r for r in followers if r.gender is not None]
    assert {r.gender for r in cells} == {"F", "M", "U"} and len(cells) == 21
    assert abs(sum(r.value for r in cells) - sum(by_age.values())) <= 21
    assert ctx.requests_to("GET", "/insights") == 8
    with pytest.raises(ContentRejected, match="audience_timeframes"):
        ctx.make_connector(audience_timeframes=["last_30_days"]).fetch_audience()


def test_validate_declared_limits() -> None:
    ok = MediaItem("a.jpg", alt_text="x", width=1080, height=1350)
    assert InstagramConnector.validate("x" * 2200, [ok]) == []
    assert InstagramConnector.requires_media and InstagramConnector.has_audience
    problems = InstagramConnector.validate("x" * 2201 + " #a" * 31, [
        MediaItem("b.png", mime_type="image/png", width=1000, height=400, alt_text="y" * 1001)],
        sizes={"b.png": 9 * 1024 * 1024})
    text = "\n".join(problems)
    for needle in ("2294", "image/png", "9437184", "31 hashtags", "aspect ratio", "alt text"):
        assert needle in text, needle
    assert InstagramConnector.validate("no image") == ["instagram needs an image; this post has none"]


def test_sim_speaks_the_graph_wire_format(ctx: Context) -> None:
    """Raw Graph calls: envelopes, usage header, legacy timeframe refused, deprecated metric refused."""
    legacy = graph_get(ctx, f"v25.0/{IG_USER_ID}/insights", DEMO_TOKEN, metric="follower_demographics",
                       period="lifetime", metric_type="total_value", timeframe="last_30_days", breakdown="age")
    error = legacy.json()["error"]
    assert legacy.status_code == 400 and error["code"] == 100 and error["type"] == "OAuthException"
    assert "this_week, this_month" in error["message"] and error["fbtrace_id"]
    usage = legacy.headers["X-Business-Use-Case-Usage"]
    assert f'"{IG_USER_ID}": [{{"type": "instagram", "call_count": 3' in usage
    media_id = publish()(ctx.make_connector(), ctx).remote_id
    old = graph_get(ctx, f"v25.0/{media_id}/insights", DEMO_TOKEN, metric="reach,impressions")
    assert old.status_code == 400 and "impressions metric is no longer supported" in old.json()["error"]["message"]
    quota = graph_get(ctx, f"v25.0/{IG_USER_ID}/content_publishing_limit", DEMO_TOKEN, fields="quota_usage,config")
    assert quota.json() == {"data": [{"quota_usage": 1, "config": {"quota_total": 50, "quota_duration": 86400}}]}
    nobody = graph_get(ctx, "v25.0/me", "")
    assert nobody.json()["error"]["code"] == 104


def test_reconcile_pages_back_through_a_busy_account(ctx: Context, caplog: pytest.LogCaptureFixture) -> None:
    ctx.control("config", {"quota_total": 200})
    check_reconcile_pages_back(ctx, caplog, edge="media", with_image=True)


def test_sim_pages_the_media_list(ctx: Context) -> None:
    check_graph_paging(ctx, DEMO_TOKEN, "media", with_image=True)
