"""Mastodon connector against the Mastodon simulation over real HTTP on loopback."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import requests
from PIL import Image

from outreach.config import ChannelConfig
from outreach.connectors.errors import AuthError, ContentRejected, RateLimited, TransientError
from outreach.connectors.mastodon import MastodonConnector, plain_text
from outreach.domain import MediaItem, Platform, PublishRequest, TextUnit
from outreach.sandbox.mastodon import DEMO_TOKEN, MastodonSim, format_content
from tests.clock import FakeClock
from tests.connectors.harness import Case, Context, Outcome, case_id, closed_port_url, run_case

TOKEN_ENV = "OUTREACH_TEST_MASTODON_TOKEN"
START = datetime(2026, 3, 6, 14, 0, tzinfo=UTC)
TEXT = "Bijeenkomst in Utrecht: praat mee over gelijkheid.\n\nAanmelden: https://example.org/aanmelden #VanBinnenuit"
ALT = "Vrijwilligers zetten stoelen klaar in een buurthuis"



def post(ctx: Context, text: str = TEXT, *, key: str = "post-1-nl", media: tuple[MediaItem, ...] = (),
         handle: dict[str, Any] | None = None) -> PublishRequest:
    return PublishRequest(post_id=1, text=text, language="nl", idempotency_key=key, media=media,
                          handle=handle or {}, attempt_started_at=ctx.scratch["clock"]())


def image(ctx: Context, alt: str = ALT) -> MediaItem:
    return MediaItem(path=ctx.scratch["image"], alt_text=alt, mime_type="image/jpeg")


def publish(*, with_image: bool = False, **kw: Any):
    def act(connector: MastodonConnector, ctx: Context):
        req = post(ctx, media=(image(ctx),) if with_image else (), **kw)
        ctx.scratch["req"] = req
        return connector.publish(req, save_handle=ctx.save_handle)
    return act


# -- checks -----------------------------------------------------------------------------------

def posted_once(outcome: Outcome) -> None:
    state = outcome.ctx.state()
    assert state["statuses_per_text"] == {TEXT: 1}
    assert state["statuses_per_idempotency_key"] == {"post-1-nl": 1}


def published_with_media(outcome: Outcome) -> None:
    result, ctx = outcome.result, outcome.ctx
    [status] = ctx.state()["statuses"]
    assert result.remote_id == status["id"] and result.url.endswith(f"/@sandbox_peer/{status['id']}")
    assert result.published_at == START
    assert status["language"] == "nl" and status["visibility"] == "public"
    assert [m["description"] for m in status["media"]] == [ALT]
    assert ctx.saved_handles == [{"media_ids": [status["media"][0]["id"]]}]
    assert '<span class="invisible">https://</span>' in result.raw["content"]
    assert plain_text(result.raw["content"]) == TEXT


def reconcile_finds_it(outcome: Outcome) -> None:
    ctx = outcome.ctx
    [status] = ctx.state()["statuses"]
    found = ctx.make_connector().reconcile(ctx.scratch["req"])
    assert found is not None and found.remote_id == status["id"]
    posted_once(outcome)


def reconcile_finds_nothing(outcome: Outcome) -> None:
    ctx = outcome.ctx
    assert ctx.state()["statuses"] == []
    assert ctx.make_connector().reconcile(ctx.scratch["req"]) is None


def nothing_posted(outcome: Outcome) -> None:
    posted_count(outcome, 0)


def posted_count(outcome: Outcome, count: int) -> None:
    assert len(outcome.ctx.state()["statuses"]) == count


def account_read(outcome: Outcome) -> None:
    info = outcome.result
    assert info.name == "@sandbox_peer" and info.account_id.isdigit()
    assert "does not expire" in info.detail


def rate_limited_until(seconds: float):
    def check(outcome: Outcome) -> None:
        error = outcome.error
        assert isinstance(error, RateLimited)
        assert error.retry_after_s == seconds
        assert error.reset_at == START + timedelta(seconds=seconds)
    return check


def _waits(outcome: Outcome, seconds: float) -> None:
    error = outcome.error
    assert isinstance(error, RateLimited) and error.retry_after_s == seconds, error
    assert error.reset_at is None or error.reset_at <= START + timedelta(seconds=seconds)


def replay(connector: MastodonConnector, ctx: Context):
    first = publish()(connector, ctx)
    ctx.scratch["clock"].advance(minutes=30)
    second = connector.publish(ctx.scratch["req"], save_handle=ctx.save_handle)
    return first, second


def same_status_twice(outcome: Outcome) -> None:
    first, second = outcome.result
    assert first.remote_id == second.remote_id
    posted_once(outcome)


def check_three_times(connector: MastodonConnector, ctx: Context):
    connector.check()
    connector.check()
    ctx.scratch["blocked_until"] = connector.blocked_until
    connector.check()


def blocked_after_last_allowed(outcome: Outcome) -> None:
    assert outcome.ctx.scratch["blocked_until"] == START + timedelta(minutes=5)
    rate_limited_until(300)(outcome)


def polled_until_processed(outcome: Outcome) -> None:
    assert outcome.ctx.requests_to("GET", "/api/v1/media/") == 3  # 206, 206, 200
    published_with_media(outcome)


def handle_saved_before_failing(outcome: Outcome) -> None:
    [saved] = outcome.ctx.saved_handles
    assert len(saved["media_ids"]) == 1
    nothing_posted(outcome)


def reuploaded(outcome: Outcome) -> None:
    assert outcome.ctx.requests_to("POST", "/api/v2/media") == 1
    published_with_media(outcome)


def limits_from_instance(outcome: Outcome) -> None:
    first, second = outcome.result
    assert first is second
    assert (first.max_text, first.max_alt_text, first.max_images) == (1000, 10000, 4)
    assert first.max_image_bytes == 16 * 1024 * 1024 and "image/webp" in first.image_mime_types
    assert outcome.ctx.requests_to("GET", "/api/v2/instance") == 1


def metrics_of_missing(connector: MastodonConnector, ctx: Context):
    published = publish()(connector, ctx)
    ctx.scratch["id"] = published.remote_id
    return connector.fetch_metrics([published.remote_id, "1"])


def only_known_ids(outcome: Outcome) -> None:
    assert list(outcome.result) == [outcome.ctx.scratch["id"]]
    assert set(outcome.result[outcome.ctx.scratch["id"]]) == {
        "replies_count", "reblogs_count", "favourites_count", "quotes_count"}


PROCESSING = "Validation failed: Cannot attach files that have not finished processing. Try again in a moment!"
SLOW = {"timeout_s": 0.3}

CASES = [
    Case("publish with image and alt text", publish(with_image=True), check=published_with_media),
    Case("idempotency key replay returns the same status", replay, check=same_status_twice),
    Case("check reads the account", lambda c, ctx: c.check(), check=account_read),
    Case("revoked token", publish(), control=(("revoke", {"token": DEMO_TOKEN}),), raises=AuthError,
         message="The access token is invalid (HTTP 401); check the token for channel peer-mastodon"),
    Case("blank text", publish(text="  "), raises=ContentRejected,
         message="Validation failed: Text can't be blank (HTTP 422)"),
    Case("blank text, Dutch instance messages", publish(text=""), options={"accept_language": "nl"},
         raises=ContentRejected, message="Validatie mislukt: Tekst moet opgegeven zijn"),
    Case("text over the instance limit", publish(text="x" * 501), raises=ContentRejected,
         message="Text character limit of 500 exceeded"),
    Case("a long URL counts 23 on both sides", publish(text="a" * 470 + " https://example.org/" + "p" * 200),
         check=lambda o: posted_count(o, 1)),
    Case("injected rate limit", publish(), faults=({"mode": "rate_limit", "retry_after_s": 120},),
         raises=RateLimited, check=rate_limited_until(120)),
    # A server (or proxy) that sends the reset as epoch seconds and Retry-After: the message states
    # the wait the worker really keeps (it said "after a minute" while 300 s were waited).
    Case("429 with an epoch reset and Retry-After: 300", publish(), faults=({
        "mode": "error", "status": 429, "body": {"error": "Too many requests"},
        "headers": {"Retry-After": "300", "X-RateLimit-Remaining": "0",
                    "X-RateLimit-Reset": str(int((START + timedelta(seconds=300)).timestamp()))}},),
         raises=RateLimited, message="try again after 2026-03-06 14:05 UTC (in 5 minutes)",
         check=rate_limited_until(300)),
    # Malformed waits from a server or proxy: a date (RFC 9110 allows it), nonsense, a wait of decades.
    # None may crash the worker (timedelta(seconds=inf) did) or park a post for ever.
    Case("429 with Retry-After as an HTTP date", publish(), faults=({
        "mode": "error", "status": 429, "body": {"error": "Too many requests"},
        "headers": {"Retry-After": "Fri, 06 Mar 2026 14:05:00 GMT"}},),
         raises=RateLimited, message="(in 5 minutes)",
         check=lambda o: _waits(o, 300)),
    Case("429 with unreadable wait headers", publish(), faults=({
        "mode": "error", "status": 429, "body": {"error": "Too many requests"},
        "headers": {"Retry-After": "inf", "X-RateLimit-Remaining": "0", "X-RateLimit-Reset": "9" * 20}},),
         raises=RateLimited, message="(in 60 seconds)", check=lambda o: _waits(o, 60)),
    Case("429 asking for a wait of decades", publish(), faults=({
        "mode": "error", "status": 429, "body": {"error": "Too many requests"},
        "headers": {"Retry-After": "1e12"}},),
         raises=RateLimited, message="(in 2 days)", check=lambda o: _waits(o, 2 * 86400)),
    Case("429 with a reset in the year 3000", publish(), faults=({
        "mode": "error", "status": 429, "body": {"error": "Too many requests"},
        "headers": {"X-RateLimit-Remaining": "0", "X-RateLimit-Reset": "3000-01-01T00:00:00.000Z"}},),
         raises=RateLimited, message="try again in 2 days", check=lambda o: _waits(o, 2 * 86400)),
    Case("real 300-per-window limit", check_three_times, control=(("set_limits", {"rate_limit": 2}),),
         raises=RateLimited, message="Too many requests", check=blocked_after_last_allowed),
    Case("timeout after the status was created", publish(), options=SLOW,
         faults=({"mode": "timeout_after", "path": "/api/v1/statuses", "delay_s": 1.0},),
         raises=TransientError, ambiguous=True, message="no answer", check=reconcile_finds_it),
    Case("connection dropped after the status was created", publish(),
         faults=({"mode": "reset_after", "path": "/api/v1/statuses"},),
         raises=TransientError, ambiguous=True, check=reconcile_finds_it),
    # The client cannot tell a drop before acting from one after: ambiguous, and reconcile says no.
    Case("connection dropped before the status was created", publish(),
         faults=({"mode": "reset_before", "path": "/api/v1/statuses"},),
         raises=TransientError, ambiguous=True, check=reconcile_finds_nothing),
    Case("connection dropped during media upload", publish(with_image=True),
         faults=({"mode": "reset_before", "path": "/api/v2/media"},),
         raises=TransientError, ambiguous=False, check=nothing_posted),
    Case("connection refused", publish(), options={"base_url": "refused"},
         raises=TransientError, ambiguous=False, message="refused"),
    Case("no answer to a read is not ambiguous", lambda c, ctx: c.check(), options=SLOW,
         faults=({"mode": "timeout_before", "delay_s": 1.0},), raises=TransientError, ambiguous=False),
    Case("token variable not set", publish(), options={"token_env": "OUTREACH_TEST_UNSET_TOKEN"},
         raises=AuthError, message="OUTREACH_TEST_UNSET_TOKEN is not set", check=nothing_posted),
    Case("503 on posting is ambiguous", publish(),
         faults=({"mode": "error", "path": "/api/v1/statuses", "status": 503,
                  "body": {"error": "There was a temporary problem serving your request, please try again"}},),
         raises=TransientError, ambiguous=True, message="temporary problem"),
    Case("503 on reading is not", lambda c, ctx: c.fetch_metrics(["1"]),
         faults=({"mode": "error", "status": 503},), raises=TransientError, ambiguous=False),
    Case("422 media not finished processing is retryable", publish(),
         faults=({"mode": "error", "path": "/api/v1/statuses", "status": 422, "body": {"error": PROCESSING}},),
         raises=TransientError, ambiguous=False, message="not finished processing"),
    Case("async media: 202, then 206 until processed", publish(with_image=True),
         control=(("set_processing", {"async": True, "polls": 2}),), check=polled_until_processed),
    Case("media still processing after the last poll", publish(with_image=True),
         control=(("set_processing", {"async": True, "polls": 9}),), options={"max_polls": 3},
         raises=TransientError, ambiguous=False, message="still processing",
         check=handle_saved_before_failing),
    Case("saved media id no longer on the instance", publish(with_image=True, handle={"media_ids": ["77"]}),
         check=reuploaded),
    Case("limits come from the instance, read once", lambda c, ctx: (c.limits(), c.limits()),
         control=(("set_limits", {"max_characters": 1000, "description_limit": 10000}),),
         check=limits_from_instance),
    Case("metrics skip a status that is gone", metrics_of_missing, check=only_known_ids),
]


@pytest.fixture
def ctx(serve_sandbox, monkeypatch, tmp_path: Path) -> Context:
    monkeypatch.setenv(TOKEN_ENV, DEMO_TOKEN)
    clock = FakeClock(START)
    sandbox, url = serve_sandbox(MastodonSim(clock=clock))
    picture = tmp_path / "meeting.jpg"
    Image.new("RGB", (64, 48), (200, 80, 120)).save(picture, "JPEG")

    def make_connector(*, base_url: str | None = None, timeout_s: float = 10.0, max_polls: int = 10,
                       token_env: str = TOKEN_ENV, **options: Any) -> MastodonConnector:
        root = closed_port_url() if base_url == "refused" else url
        channel = ChannelConfig(name="peer-mastodon", platform=Platform("mastodon"), base_url=f"{root}/mastodon",
                                options=options, secret_envs={"token": token_env})
        return MastodonConnector(channel, timeout_s=timeout_s, clock=clock, sleep=lambda s: None,
                                 max_polls=max_polls)

    return Context(sandbox=sandbox, url=url, prefix="mastodon", make_connector=make_connector,
                   secrets=(DEMO_TOKEN,), scratch={"clock": clock, "image": str(picture)})


@pytest.mark.parametrize("case", CASES, ids=case_id)
def test_connector(case: Case, ctx: Context) -> None:
    run_case(case, ctx)


def test_retry_reuses_media_that_finished_processing(ctx: Context) -> None:
    ctx.control("set_processing", {"async": True, "polls": 4})
    connector = ctx.make_connector(max_polls=3)
    req = post(ctx, media=(image(ctx),))
    with pytest.raises(TransientError):
        connector.publish(req, save_handle=ctx.save_handle)
    retry = post(ctx, media=(image(ctx),), handle=ctx.saved_handles[-1])
    result = connector.publish(retry, save_handle=ctx.save_handle)
    assert ctx.requests_to("POST", "/api/v2/media") == 1
    [status] = ctx.state()["statuses"]
    assert result.remote_id == status["id"]
    assert [m["id"] for m in status["media"]] == ctx.saved_handles[0]["media_ids"]


def test_metrics_grow_with_the_sim_clock(ctx: Context) -> None:
    connector = ctx.make_connector()
    remote_id = connector.publish(post(ctx), save_handle=ctx.save_handle).remote_id
    seen = []
    for hours in (0, 1, 6, 48):
        ctx.scratch["clock"].now = START + timedelta(hours=hours)
        seen.append(connector.fetch_metrics([remote_id])[remote_id])
    likes = [m["favourites_count"] for m in seen]
    assert likes[0] == 0 and likes == sorted(likes) and likes[-1] >= 8
    assert seen[-1]["reblogs_count"] == likes[-1] // 3
    assert MastodonConnector.metric_names["favourites_count"] == "likes"


def test_reconcile_pages_back_and_stops_at_the_window(ctx: Context) -> None:
    connector = ctx.make_connector()
    target = connector.publish(post(ctx, "the one we look for", key="k0"), save_handle=ctx.save_handle)
    for n in range(45):
        ctx.scratch["clock"].advance(seconds=10)
        connector.publish(post(ctx, f"later post {n}", key=f"k{n + 1}"), save_handle=ctx.save_handle)
    req = PublishRequest(post_id=9, text="the  one we\nlook for", language="nl", idempotency_key="k0",
                         attempt_started_at=START)
    found = connector.reconcile(req)
    assert found is not None and found.remote_id == target.remote_id
    assert ctx.requests_to("GET", "/statuses") == 2  # two pages of 40
    late = PublishRequest(post_id=9, text="never posted", language="nl", idempotency_key="x",
                          attempt_started_at=START + timedelta(hours=2))
    assert connector.reconcile(late) is None
    assert ctx.requests_to("GET", "/statuses") == 3  # the newest page is already older than the window


def test_validate_counts_urls_as_23_and_graphemes() -> None:
    assert MastodonConnector.text_unit is TextUnit.GRAPHEMES
    assert MastodonConnector.validate("x" * 500) == []
    [problem] = MastodonConnector.validate("x" * 501)
    assert "501" in problem and "500" in problem
    long_url = "https://example.org/" + "p" * 300
    assert MastodonConnector.text_length(f"see {long_url}") == 4 + 23
    assert MastodonConnector.text_length("hoi @peer@mastodon.social") == len("hoi @peer")
    assert MastodonConnector.text_length("👩🏽‍🤝‍👩🏿") == 1
    assert MastodonConnector.validate("x", [MediaItem("a.jpg", alt_text="y" * 1501)])


def test_content_html_round_trips_to_the_posted_text() -> None:
    text = "Eerste regel\ntweede <regel> & meer\n\nLink: https://example.org/a/very/long/path/that/is/cut #Trots"
    content = format_content(text, base_url="http://sandbox/mastodon")
    assert content.startswith("<p>Eerste regel<br />tweede &lt;regel&gt; &amp; meer</p><p>")
    assert '<span class="ellipsis">example.org/a/very/long/path/t</span>' in content
    assert 'class="mention hashtag" rel="tag">#<span>Trots</span></a>' in content
    assert plain_text(content) == text


def test_sim_speaks_the_wire_format(ctx: Context) -> None:
    """Raw HTTP against the simulation: headers, async media codes, the processing 422."""
    api = f"{ctx.url}/mastodon/api"
    auth = {"Authorization": f"Bearer {DEMO_TOKEN}"}
    response = requests.get(f"{api}/v2/instance", timeout=5)
    assert response.json()["configuration"]["statuses"]["characters_reserved_per_url"] == 23
    assert response.headers["X-RateLimit-Reset"] == "2026-03-06T14:05:00.000000Z"
    ctx.control("set_processing", {"async": True, "polls": 1})
    with open(ctx.scratch["image"], "rb") as fh:
        upload = requests.post(f"{api}/v2/media", headers=auth, timeout=5,
                               files={"file": ("m.jpg", fh, "image/jpeg")}, data={"description": ALT})
    assert upload.status_code == 202 and upload.json()["url"] is None
    media_id = upload.json()["id"]
    early = requests.post(f"{api}/v1/statuses", headers=auth, timeout=5,
                          data={"status": "hoi", "media_ids[]": media_id})
    assert (early.status_code, early.json()) == (422, {"error": PROCESSING})
    polls = [requests.get(f"{api}/v1/media/{media_id}", headers=auth, timeout=5).status_code for _ in range(2)]
    assert polls == [206, 200]
    bad = requests.post(f"{api}/v2/media", headers=auth, timeout=5,
                        files={"file": ("notes.txt", b"hello", "text/plain")})
    assert bad.json() == {"error": "Validation failed: File content type is invalid, File is invalid"}
    assert int(bad.headers["X-RateLimit-Remaining"]) == 300 - 5  # the instance call was anonymous
    anonymous = requests.get(f"{api}/v1/accounts/verify_credentials", timeout=5)
    assert (anonymous.status_code, anonymous.json()) == (401, {"error": "The access token is invalid"})


def test_idempotency_key_is_kept_for_one_hour(ctx: Context) -> None:
    connector = ctx.make_connector()
    first = connector.publish(post(ctx), save_handle=ctx.save_handle)
    ctx.scratch["clock"].advance(minutes=59)
    assert connector.publish(post(ctx), save_handle=ctx.save_handle).remote_id == first.remote_id
    ctx.scratch["clock"].advance(minutes=2)  # past the hour: the instance has forgotten the key
    assert connector.publish(post(ctx), save_handle=ctx.save_handle).remote_id != first.remote_id
    assert ctx.state()["statuses_per_text"] == {TEXT: 2}
