"""Threads connector against the Threads simulation over real HTTP on loopback."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from outreach.connectors.errors import AuthError, ContentRejected, RateLimited, TransientError
from outreach.connectors.threads import ThreadsConnector
from outreach.domain import METRIC_NAMES, MediaItem, Platform, TextUnit
from outreach.sandbox.threads import DEMO_TOKEN, THREADS_USER_ID, ThreadsSim, threads_length
from tests.connectors.harness import Case, Context, Outcome, case_id, run_case
from tests.connectors.meta_fixtures import (
    ALT,
    START,
    check_graph_paging,
    check_reconcile_pages_back,
    error_code,
    image,
    make_context,
    request,
)

TEXT = "Vanavond in Den Haag: samen in gesprek over gelijkheid 🌈"
LINK = "https://example.org/den-haag"
SLOW = {"timeout_s": 0.5}


def publish(*, text: str = TEXT, photo: str | None = None, link: str | None = None,
            handle: dict[str, Any] | None = None):
    def act(connector: ThreadsConnector, ctx: Context):
        media = (image(ctx, photo),) if photo else ()
        req = request(ctx, text, media=media, link=link, handle=handle)
        ctx.scratch["req"] = req
        return connector.publish(req, save_handle=ctx.save_handle)
    return act


def posts(outcome: Outcome) -> list[dict[str, Any]]:
    return outcome.ctx.state()["posts"]


def text_post(outcome: Outcome) -> None:
    [post] = posts(outcome)
    [container] = outcome.ctx.state()["containers"]
    assert (post["text"], post["media_type"]) == (TEXT, "TEXT")
    assert outcome.result.remote_id == post["id"] and "threads.net/@vanbinnenuit/post/" in outcome.result.url
    assert outcome.ctx.saved_handles == [{"container_id": container["id"]}]
    assert outcome.result.published_at == START


def image_post(outcome: Outcome) -> None:
    [post] = posts(outcome)
    [container] = outcome.ctx.state()["containers"]
    assert (post["media_type"], post["alt_text"]) == ("IMAGE", ALT)
    assert post["image_url"].endswith("/media/meeting.jpg") and container["polls"] == 2


def link_attached(outcome: Outcome) -> None:
    [container] = outcome.ctx.state()["containers"]
    [post] = posts(outcome)
    assert post["text"] == TEXT and container["link_attachment"] == LINK


def posted_once(outcome: Outcome) -> None:
    assert len(posts(outcome)) == 1


def reconcile_finds_it(outcome: Outcome) -> None:
    ctx = outcome.ctx
    [post] = posts(outcome)
    retry = request(ctx, TEXT, handle=ctx.saved_handles[-1])
    found = ctx.make_connector().reconcile(retry)
    assert found is not None and found.remote_id == post["id"]
    assert ctx.make_connector().publish(retry, save_handle=ctx.save_handle).remote_id == post["id"]
    assert len(posts(outcome)) == 1 and ctx.requests_to("POST", "/threads_publish") == 1


def reconcile_without_container(outcome: Outcome) -> None:
    assert posts(outcome) == []
    assert outcome.ctx.make_connector().reconcile(request(outcome.ctx, TEXT)) is None


def quota_full(connector: ThreadsConnector, ctx: Context):
    publish(text="eerder bericht")(connector, ctx)
    ctx.scratch["clock"].advance(hours=23)
    return publish()(connector, ctx)


def one_hour_left(outcome: Outcome) -> None:
    assert [p["text"] for p in posts(outcome)] == ["eerder bericht"]
    assert outcome.error.retry_after_s == 3600


def app_usage_block(outcome: Outcome) -> None:
    """X-App-Usage carries no regain time: the usage back-off (10 min) applies."""
    assert outcome.error.retry_after_s == 600 and outcome.error.code == "4"
    assert outcome.error.reset_at == START + timedelta(minutes=10)


CASES = [
    Case("text post", publish(), check=text_post),
    Case("image post with alt text", publish(photo="meeting.jpg"), check=image_post),
    Case("text post with a link attachment", publish(link=LINK), check=link_attached),
    Case("500 counting emoji as bytes: over", publish(text="x" * 497 + "👍"), raises=ContentRejected,
         message="501 characters", check=error_code("100")),
    Case("500 counting emoji as bytes: exactly", publish(text="x" * 496 + "👍"), check=posted_once),
    Case("unfetchable image", publish(photo="missing.jpg"), raises=ContentRejected,
         message="could not be fetched", check=error_code("9004/2207052")),
    Case("revoked token", publish(), control=(("revoke", {}),), raises=AuthError,
         message="check the token for channel peer-threads", check=error_code("190/460")),
    Case("throttled: HTTP 400 code 4 with X-App-Usage", publish(),
         faults=({"mode": "rate_limit"},), raises=RateLimited, check=app_usage_block),
    Case("publishing quota used up", quota_full, control=(("config", {"quota_total": 1}),),
         raises=RateLimited, message="1 of 1", check=one_hour_left),
    Case("timeout after threads_publish: reconcile by container", publish(), options=SLOW,
         faults=({"mode": "timeout_after", "method": "POST", "path": "/threads_publish", "delay_s": 5.0},),
         raises=TransientError, ambiguous=True, check=reconcile_finds_it),
    Case("container creation dropped", publish(),
         faults=({"mode": "reset_before", "method": "POST", "path": "/threads"},),
         raises=TransientError, ambiguous=False, check=reconcile_without_container),
]


@pytest.fixture
def ctx(serve_sandbox, monkeypatch, tmp_path: Path) -> Context:
    return make_context(serve_sandbox=serve_sandbox, monkeypatch=monkeypatch, tmp_path=tmp_path,
                        sim=ThreadsSim, connector=ThreadsConnector, platform=Platform("threads"),
                        token=DEMO_TOKEN, base_options={"threads_user_id": THREADS_USER_ID})


@pytest.mark.parametrize("case", CASES, ids=case_id)
def test_connector(case: Case, ctx: Context) -> None:
    run_case(case, ctx)


def test_token_refresh_is_persisted_and_used(ctx: Context) -> None:
    connector = ctx.make_connector()
    ctx.scratch["clock"].advance(days=1)
    expires = connector.refresh_credentials()
    assert expires == START + timedelta(days=61)
    saved = ctx.scratch["store"].load("peer-threads")
    assert saved["access_token"] != DEMO_TOKEN
    ctx.control("revoke", {"token": DEMO_TOKEN})
    info = ctx.make_connector().check()
    assert info.account_id == THREADS_USER_ID and info.token_expires_at == expires
    assert ctx.sandbox.requests_seen[0][2] == "/refresh_access_token"  # no version in the path


def test_metrics_and_audience(ctx: Context) -> None:
    connector = ctx.make_connector()
    remote_id = publish()(connector, ctx).remote_id
    ctx.scratch["clock"].advance(hours=48)
    values = connector.fetch_metrics([remote_id, "18049999999999999"])
    assert list(values) == [remote_id] and set(values[remote_id]) == set(ThreadsConnector.media_metrics)
    assert values[remote_id]["views"] > 100
    assert set(ThreadsConnector.metric_names.values()) <= set(METRIC_NAMES)
    rows = connector.fetch_audience()
    assert {r.metric for r in rows} == {"follower_demographics"} and all(r.gender is None for r in rows)
    ages = {r.age_bucket: r.value for r in rows}
    assert set(ages) == {"13-17", "18-24", "25-34", "35-44", "45-54", "55-64", "65+"}
    assert abs(sum(ages.values()) - 1240) <= 7
    ctx.control("config", {"followers": 60, "with_13_17": False})  # under 100 followers: no breakdown
    assert connector.fetch_audience() == []


def test_text_length_counts_emoji_as_utf8_bytes() -> None:
    assert ThreadsConnector.text_unit is TextUnit.UTF8_BYTES
    for text, expected in (("abc", 3), ("👍", 4), ("👍🏽", 8), ("é", 1), ("ü" * 10, 10), ("🇳🇱", 8),
                           ("Hoi 👋 allemaal", 17)):
        assert ThreadsConnector.text_length(text) == expected == threads_length(text), text
    assert ThreadsConnector.validate("x" * 496 + "👍") == []
    [problem] = ThreadsConnector.validate("ë" * 497 + "👍")
    assert "501" in problem and "500" in problem
    problems = ThreadsConnector.validate("hoi", [MediaItem("a.gif", mime_type="image/gif"), MediaItem("b.jpg")])
    assert len(problems) == 2 and ThreadsConnector.has_audience


def test_reconcile_pages_back_through_a_busy_profile(ctx: Context, caplog: pytest.LogCaptureFixture) -> None:
    check_reconcile_pages_back(ctx, caplog, edge="threads")


def test_sim_pages_the_threads_list(ctx: Context) -> None:
    check_graph_paging(ctx, DEMO_TOKEN, "threads")
