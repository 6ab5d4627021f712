"""Facebook Pages connector against the Facebook simulation over real HTTP on loopback."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from outreach.connectors.errors import AuthError, ContentRejected, RateLimited, TransientError
from outreach.connectors.facebook import DEFAULT_METRICS, FacebookConnector
from outreach.domain import METRIC_NAMES, MediaItem, Platform
from outreach.sandbox.facebook import DEMO_TOKEN, PAGE_ID, FacebookSim
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
)

TEXT = "Donderdag praten we in Rotterdam over veiligheid en acceptatie. Iedereen welkom!"
LINK = "https://example.org/bijeenkomst/rotterdam"
SLOW = {"timeout_s": 0.5}


def publish(*, text: str = TEXT, link: str | None = LINK, photo: str | None = None, public: bool = True):
    def act(connector: FacebookConnector, ctx: Context):
        mime = "image/png" if photo and photo.endswith(".png") else "image/jpeg"
        media = (image(ctx, photo, public=public, mime=mime),) if photo else ()
        req = request(ctx, text, media=media, link=link)
        ctx.scratch["req"] = req
        return connector.publish(req, save_handle=ctx.save_handle)
    return act


def posts(outcome: Outcome) -> list[dict[str, Any]]:
    return outcome.ctx.state()["posts"]


def link_post(outcome: Outcome) -> None:
    [post] = posts(outcome)
    result = outcome.result
    assert (post["message"], post["link"], post["status_type"]) == (TEXT, LINK, "shared_story")
    assert result.remote_id == post["id"] and post["id"].startswith(f"{PAGE_ID}_")
    assert result.url == f"https://www.facebook.com/{PAGE_ID}/posts/{post['id'].split('_')[1]}"
    assert result.published_at == START and outcome.ctx.saved_handles == []


def photo_post(outcome: Outcome) -> None:
    [post] = posts(outcome)
    assert post["message"] == f"{TEXT}\n\n{LINK}"  # photos take no link: it goes into the caption
    assert post["alt_text"] == ALT and post["photo_id"] and post["status_type"] == "added_photos"
    assert outcome.result.remote_id == post["id"]


def posted_once_and_found(outcome: Outcome) -> None:
    ctx = outcome.ctx
    [post] = posts(outcome)
    found = ctx.make_connector().reconcile(ctx.scratch["req"])
    assert found is not None and found.remote_id == post["id"] and found.url


def reconcile_finds_nothing(outcome: Outcome) -> None:
    assert posts(outcome) == []
    assert outcome.ctx.make_connector().reconcile(outcome.ctx.scratch["req"]) is None


def twice(connector: FacebookConnector, ctx: Context):
    first = publish()(connector, ctx)
    ctx.scratch["clock"].advance(minutes=3)
    return first, publish()(connector, ctx)


def duplicate_adopts_first(outcome: Outcome) -> None:
    first, second = outcome.result
    assert first.remote_id == second.remote_id and len(posts(outcome)) == 1


def duplicate_of_older_post(connector: FacebookConnector, ctx: Context):
    publish()(connector, ctx)
    ctx.scratch["clock"].advance(hours=2)  # outside the reconcile window, inside Meta's duplicate window
    return publish()(connector, ctx)


def metrics(*, options_metrics: list[str] | None = None, rounds: int = 1):
    def act(connector: FacebookConnector, ctx: Context):
        remote_id = publish()(connector, ctx).remote_id
        ctx.scratch["clock"].advance(hours=30)
        ctx.scratch["id"] = remote_id
        before = ctx.requests_to("GET", "/insights")
        results = [connector.fetch_metrics([remote_id])[remote_id] for _ in range(rounds)]
        ctx.scratch["insight_calls"] = ctx.requests_to("GET", "/insights") - before
        ctx.scratch["rejected"] = set(connector.rejected_metrics)
        return results
    return act


def full_metrics(outcome: Outcome) -> None:
    [values] = outcome.result
    assert set(values) == {"shares", "reactions", "comments", *DEFAULT_METRICS}
    assert values["post_total_media_view_unique"] > 100
    assert values["post_media_view"] >= values["post_total_media_view_unique"]
    assert outcome.ctx.scratch["insight_calls"] == 1


def degraded(outcome: Outcome) -> None:
    """One request fails whole (code 100), then one per metric; the refused one is never asked again."""
    first, second = outcome.result
    assert "post_clicks" not in first and first == second
    assert {"post_total_media_view_unique", "post_media_view", "reactions"} <= set(first)
    assert outcome.ctx.scratch["rejected"] == {"post_clicks"}
    assert outcome.ctx.scratch["insight_calls"] == 1 + 3 + 1


def deprecated_dropped(outcome: Outcome) -> None:
    [values] = outcome.result
    assert "post_impressions_unique" not in values and "post_media_view" in values
    assert outcome.ctx.scratch["rejected"] == {"post_impressions_unique", "post_engaged_users"}


def without_reactions(outcome: Outcome) -> None:
    [values] = outcome.result
    assert "reactions" not in values and "comments" not in values and "shares" in values


def page_read(outcome: Outcome) -> None:
    assert outcome.result.account_id == PAGE_ID and outcome.result.name == "Verandering van binnenuit"
    assert "does not expire" in outcome.result.detail


def uploaded(how: str):
    def check(outcome: Outcome) -> None:
        [post] = posts(outcome)
        assert post["upload"] == how
    return check


def backed_off_15_min(outcome: Outcome) -> None:
    assert outcome.error.retry_after_s == 900 and outcome.error.code == "32"


def blocked_10_min(outcome: Outcome) -> None:
    assert outcome.result == START + timedelta(minutes=10)


def check_then_blocked(connector: FacebookConnector, ctx: Context):
    connector.check()
    return connector.blocked_until


CASES = [
    Case("text with link via /feed", publish(), check=link_post),
    Case("photo by public URL via /photos", publish(photo="meeting.jpg"), check=both(photo_post, uploaded("url"))),
    Case("photo without public URL goes as multipart source", publish(photo="card.png", public=False),
         check=both(photo_post, uploaded("file"))),
    Case("unfetchable photo URL", publish(photo="missing.jpg"), raises=ContentRejected,
         message="could not be downloaded", check=error_code("324")),
    Case("check reads the Page", lambda c, ctx: c.check(), check=page_read),
    Case("duplicate message (506) adopts our own earlier post", twice, check=duplicate_adopts_first),
    Case("duplicate of an older post stays rejected", duplicate_of_older_post, raises=ContentRejected,
         message="Duplicate status message", check=error_code("506")),
    Case("timeout after /feed: reconcile by message", publish(), options=SLOW,
         faults=({"mode": "timeout_after", "path": "/feed", "delay_s": 5.0},),
         raises=TransientError, ambiguous=True, check=posted_once_and_found),
    Case("dropped after /photos: reconcile by caption", publish(photo="meeting.jpg"),
         faults=({"mode": "reset_after", "path": "/photos"},),
         raises=TransientError, ambiguous=True, check=posted_once_and_found),
    Case("dropped before /feed: reconcile finds nothing", publish(),
         faults=({"mode": "reset_before", "path": "/feed"},),
         raises=TransientError, ambiguous=True, check=reconcile_finds_nothing),
    Case("revoked Page token", publish(), control=(("revoke", {}),), raises=AuthError,
         message="check the token for channel peer-facebook", check=error_code("190/460")),
    Case("throttled with HTTP 400 code 80001 and a BUC header", publish(),
         faults=({"mode": "rate_limit", "retry_after_s": 1200},), raises=RateLimited, message="(#80001)",
         check=both(blocked_for(1200), error_code("80001"))),
    Case("code 32 without headers backs off 15 min", publish(),
         faults=({"mode": "error", "status": 400, "path": "/feed",
                  "body": graph_error_body(32, "(#32) Page request limit reached")},),
         raises=RateLimited, check=backed_off_15_min),
    Case("page usage at 91 % blocks", check_then_blocked, control=(("usage", {"total_time": 91}),),
         check=blocked_10_min),
    Case("policy block 368 is rejected for a person to look at", publish(),
         faults=({"mode": "error", "status": 400, "path": "/feed",
                  "body": graph_error_body(368, "Temporarily blocked for policies violations")},),
         raises=ContentRejected, message="a person should look"),
    Case("HTTP 500 without an envelope on posting is ambiguous", publish(),
         faults=({"mode": "error", "status": 500, "path": "/feed", "body": "<html>oops</html>"},),
         raises=TransientError, ambiguous=True),
    Case("metrics: fields plus insights", metrics(), check=full_metrics),
    Case("metrics degrade per rejected metric", metrics(rounds=2),
         control=(("config", {"rejected_metrics": ["post_clicks"]}),), check=degraded),
    Case("deprecated metrics in the channel options are dropped",
         metrics(), options={"metrics": ["post_impressions_unique", "post_media_view", "post_engaged_users"]},
         check=deprecated_dropped),
    Case("without pages_read_user_content: no reactions, still shares", metrics(),
         control=(("config", {"user_content_permission": False}),), check=without_reactions),
]


@pytest.fixture
def ctx(serve_sandbox, monkeypatch, tmp_path: Path) -> Context:
    return make_context(serve_sandbox=serve_sandbox, monkeypatch=monkeypatch, tmp_path=tmp_path,
                        sim=FacebookSim, connector=FacebookConnector, platform=Platform("facebook"),
                        token=DEMO_TOKEN, base_options={"page_id": PAGE_ID})


@pytest.mark.parametrize("case", CASES, ids=case_id)
def test_connector(case: Case, ctx: Context) -> None:
    run_case(case, ctx)


def test_metrics_grow_skip_deleted_and_map(ctx: Context) -> None:
    connector = ctx.make_connector()
    remote_id = publish()(connector, ctx).remote_id
    reach = []
    for hours in (0, 3, 24, 72):
        ctx.scratch["clock"].now = START + timedelta(hours=hours)
        values = connector.fetch_metrics([remote_id, f"{PAGE_ID}_999"])
        assert list(values) == [remote_id]
        reach.append(values[remote_id]["post_total_media_view_unique"])
    assert reach[0] == 0 and reach == sorted(reach) and reach[-1] > 100
    assert set(FacebookConnector.metric_names.values()) <= set(METRIC_NAMES)


def test_no_audience_and_page_tokens_need_no_refresh(ctx: Context) -> None:
    connector = ctx.make_connector()
    assert connector.fetch_audience() == [] and connector.refresh_credentials() is None
    assert ctx.sandbox.requests_seen == []


def test_validate_declared_limits() -> None:
    assert FacebookConnector.validate("x" * 63206) == []
    problems = FacebookConnector.validate("x" * 63207, [
        MediaItem("a.webp", mime_type="image/webp"), MediaItem("b.jpg")], sizes={"b.jpg": 5 * 1024 * 1024})
    text = "\n".join(problems)
    for needle in ("63207", "image/webp", "2 images", "5242880"):
        assert needle in text, needle


def test_sim_wire_format(ctx: Context) -> None:
    remote_id = publish()(ctx.make_connector(), ctx).remote_id
    bad = graph_get(ctx, f"v25.0/{remote_id}/insights", DEMO_TOKEN, metric="post_media_view,post_impressions")
    assert bad.status_code == 400
    assert bad.json()["error"]["message"] == "(#100) The value must be a valid insights metric"
    good = graph_get(ctx, f"v25.0/{remote_id}/insights", DEMO_TOKEN, metric="post_reactions_by_type_total")
    [entry] = good.json()["data"]
    assert entry["id"] == f"{remote_id}/insights/post_reactions_by_type_total/lifetime"
    assert entry["period"] == "lifetime" and isinstance(entry["values"][0]["value"], dict)
    assert '"type": "pages"' in good.headers["X-Business-Use-Case-Usage"]
    none = graph_get(ctx, f"v25.0/{remote_id}/insights", DEMO_TOKEN)
    assert none.json()["error"]["code"] == 3001 and none.json()["error"]["error_subcode"] == 1504028


def test_reconcile_pages_back_through_a_busy_page(ctx: Context, caplog: pytest.LogCaptureFixture) -> None:
    check_reconcile_pages_back(ctx, caplog, edge="published_posts")


def test_sim_pages_published_posts(ctx: Context) -> None:
    check_graph_paging(ctx, DEMO_TOKEN, "published_posts")
