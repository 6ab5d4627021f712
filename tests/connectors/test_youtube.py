"""YouTube connector against the YouTube simulation over real HTTP on loopback: OAuth refresh, the
resumable upload resuming from the committed offset, exactly-once after lost sessions, Shorts, captions
per language, the unaudited-project privacy lock, quota and errors."""

from __future__ import annotations

import contextlib
import hashlib
import random
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import requests

from outreach.config import ChannelConfig
from outreach.connectors.errors import AuthError, ContentRejected, RateLimited, TransientError
from outreach.connectors.google import next_pacific_midnight
from outreach.connectors.youtube import UNAUDITED, YouTubeConnector, post_title
from outreach.domain import MediaItem, Platform, PublishRequest
from outreach.sandbox.youtube import (
    CHUNK,
    DEMO_CLIENT_ID,
    DEMO_CLIENT_SECRET,
    DEMO_REFRESH_TOKEN,
    YouTubeSim,
)
from tests.clock import FakeClock
from tests.connectors.harness import Case, Context, Outcome, case_id, run_case
from tests.connectors.video_acts import elsewhere

START = datetime(2026, 10, 2, 9, 0, tzinfo=UTC)
ENVS = {"client_id": "YT_TEST_CLIENT_ID", "client_secret": "YT_TEST_CLIENT_SECRET",
        "refresh_token": "YT_TEST_REFRESH_TOKEN"}
TEXT = "Praat mee over gelijkwaardigheid in Utrecht\n\nEen avond met jongeren uit de buurt. #VanBinnenuit"
SIZE = 3 * CHUNK + 1000  # four chunks: three full, one short


def request(ctx: Context, *, key: str = "post-1-nl", handle: dict[str, Any] | None = None,
            short: bool = False, captions: tuple[tuple[str, str], ...] = (), cover: bool = False) -> PublishRequest:
    width, height, duration = (1080, 1920, 45.0) if short else (1920, 1080, 240.0)
    video = MediaItem(path=ctx.scratch["video"], mime_type="video/mp4", width=width, height=height,
                      duration_s=duration, captions=captions, cover_path=ctx.scratch["cover"] if cover else None)
    return PublishRequest(post_id=1, text=TEXT, language="nl", idempotency_key=key, media=(video,),
                          handle=handle or {}, attempt_started_at=ctx.scratch["clock"]())


def publish(**kw: Any):  # type: ignore[no-untyped-def]
    def act(connector: YouTubeConnector, ctx: Context) -> Any:
        return connector.publish(request(ctx, **kw), save_handle=ctx.save_handle)
    return act


def publish_twice(first: dict[str, Any], *, between: tuple[tuple[str, dict[str, Any]], ...] = (),  # type: ignore[no-untyped-def]
                  on_another_machine: bool = False):
    """Publish; if it fails, apply `between` (control actions) and publish again with the saved handle,
    as the dispatcher's retry would (on another machine: without the session URI, a capability)."""
    def act(connector: YouTubeConnector, ctx: Context) -> Any:
        try:
            return connector.publish(request(ctx, **first), save_handle=ctx.save_handle)
        except TransientError:
            ctx.scratch["first_failed"] = True
        for action, payload in between:
            ctx.control(action, payload)
        ctx.scratch["posts_before_retry"] = ctx.requests_to("POST", "/upload/youtube/v3/videos")
        handle = elsewhere(ctx.saved_handles[-1]) if on_another_machine else ctx.saved_handles[-1]
        return connector.publish(request(ctx, handle=handle), save_handle=ctx.save_handle)
    return act


# -- checks -------------------------------------------------------------------------------------

def one_whole_video(outcome: Outcome) -> None:
    ctx = outcome.ctx
    [video] = ctx.state()["videos"]
    assert video["sha256"] == ctx.scratch["sha256"] and video["size"] == SIZE
    assert video["description"] == TEXT and video["title"] == post_title(TEXT, 100)
    assert outcome.result.remote_id == video["id"]
    assert ctx.sandbox.published()["youtube"] == {TEXT: 1}


def uploaded_privately(outcome: Outcome) -> None:
    one_whole_video(outcome)
    result, ctx = outcome.result, outcome.ctx
    assert result.url == f"https://www.youtube.com/watch?v={result.remote_id}"
    assert result.raw["privacy_status"] == "private" and result.raw["note"] == UNAUDITED
    assert ctx.state()["videos"][0]["tags"] == [YouTubeConnector.marker(request(ctx))]
    handles = ctx.saved_handles
    assert list(handles[0]) == ["marker"]  # the marker is saved before any session exists
    assert handles[1]["session_uri"].startswith(ctx.url) and handles[-1]["video_id"] == result.remote_id
    assert ctx.requests_to("PUT", "/upload/youtube/v3/videos") == 4


def sent_bytes(ctx: Context) -> int:
    return ctx.scratch["sent"]


def resumed_not_restarted(outcome: Outcome) -> None:
    one_whole_video(outcome)
    ctx = outcome.ctx
    assert ctx.requests_to("POST", "/upload/youtube/v3/videos") == 1  # one session, never a second
    assert sent_bytes(ctx) <= SIZE + CHUNK  # at most the refused chunk again; from byte 0 would be more


def retried_with_saved_session(outcome: Outcome) -> None:
    resumed_not_restarted(outcome)
    assert outcome.ctx.scratch["first_failed"] is True


def found_instead_of_uploaded_again(outcome: Outcome) -> None:
    one_whole_video(outcome)
    ctx = outcome.ctx
    assert ctx.scratch["first_failed"] is True
    assert ctx.requests_to("POST", "/upload/youtube/v3/videos") == ctx.scratch["posts_before_retry"] == 1
    assert ctx.requests_to("GET", "/youtube/v3/playlistItems") == 1


def new_session_after_search(outcome: Outcome) -> None:
    one_whole_video(outcome)
    ctx = outcome.ctx
    assert ctx.requests_to("GET", "/youtube/v3/playlistItems") == 1
    assert ctx.requests_to("POST", "/upload/youtube/v3/videos") == 2


def public_when_audited(outcome: Outcome) -> None:
    assert outcome.result.raw["privacy_status"] == "public" and "note" not in outcome.result.raw


def a_short(outcome: Outcome) -> None:
    assert outcome.result.url == f"https://www.youtube.com/shorts/{outcome.result.remote_id}"
    assert outcome.result.raw["short"] is True


def a_short_on_the_sandbox(outcome: Outcome) -> None:
    url = outcome.result.url
    assert url == f"{outcome.ctx.url}/youtube/shorts/{outcome.result.remote_id}", url
    page = requests.get(url, timeout=5)  # what the permalink capture fetches: a page, not the real YouTube
    assert page.status_code == 200 and "Private video" in page.text  # an unaudited project uploads privately
    assert requests.get(f"{outcome.ctx.url}/youtube/shorts/nope", timeout=5).status_code == 404


def captions_in_both_languages(outcome: Outcome) -> None:
    [video] = outcome.ctx.state()["videos"]
    assert sorted((c["language"], c["format"]) for c in video["captions"]) == [("en", "vtt"), ("nl", "srt")]
    assert outcome.ctx.saved_handles[-1]["captions"] == ["nl", "en"]


def cover_is_the_thumbnail(outcome: Outcome) -> None:
    [video] = outcome.ctx.state()["videos"]
    assert video["thumbnail"] == hashlib.sha256(Path(outcome.ctx.scratch["cover"]).read_bytes()).hexdigest()
    assert outcome.result.raw["thumbnail"] == "set" == outcome.ctx.saved_handles[-1]["thumbnail"]


def published_without_thumbnail(outcome: Outcome) -> None:
    [video] = outcome.ctx.state()["videos"]
    assert video["thumbnail"] is None and outcome.result.remote_id == video["id"]
    assert outcome.result.raw["thumbnail"].startswith("not set: ") and "custom video thumbnails" in \
        outcome.result.raw["thumbnail"]


def refreshed_once(outcome: Outcome) -> None:
    assert outcome.ctx.requests_to("POST", "/token") == 2  # the first token, then one after the 401


def nothing_uploaded(outcome: Outcome) -> None:
    assert outcome.ctx.state()["videos"] == []
    assert outcome.ctx.requests_to("POST", "/upload/youtube/v3/videos") == 0


def waits_until_pacific_midnight(outcome: Outcome) -> None:
    error = outcome.error
    assert isinstance(error, RateLimited)
    reset = next_pacific_midnight(START)
    assert error.reset_at == reset and error.retry_after_s == (reset - START).total_seconds()
    assert reset.utcoffset() == timedelta(hours=-7)  # PDT on 3 October


def second_upload_never_sent(outcome: Outcome) -> None:
    waits_until_pacific_midnight(outcome)
    assert outcome.ctx.requests_to("POST", "/upload/youtube/v3/videos") == 1
    assert len(outcome.ctx.state()["videos"]) == 1


def publish_two(connector: YouTubeConnector, ctx: Context) -> Any:
    connector.publish(request(ctx, key="a"), save_handle=ctx.save_handle)
    return connector.publish(request(ctx, key="b"), save_handle=ctx.save_handle)


def reconcile_without_upload(connector: YouTubeConnector, ctx: Context) -> Any:
    return connector.reconcile(request(ctx, handle={"marker": YouTubeConnector.marker(request(ctx))}))


def reconcile_after_publish(connector: YouTubeConnector, ctx: Context) -> Any:
    published = connector.publish(request(ctx), save_handle=ctx.save_handle)
    ctx.scratch["published"] = published
    return connector.reconcile(request(ctx, handle={"marker": ctx.saved_handles[0]["marker"]}))


def nothing_found(outcome: Outcome) -> None:
    assert outcome.result is None


def found_the_same(outcome: Outcome) -> None:
    assert outcome.result.remote_id == outcome.ctx.scratch["published"].remote_id


def caption_files(ctx: Context) -> tuple[tuple[str, str], ...]:
    return (("nl", ctx.scratch["srt"]), ("en", ctx.scratch["vtt"]))


def publish_with_captions(connector: YouTubeConnector, ctx: Context) -> Any:
    return connector.publish(request(ctx, captions=caption_files(ctx)), save_handle=ctx.save_handle)


def captions_resent_after_a_lost_answer(connector: YouTubeConnector, ctx: Context) -> Any:
    """The nl track went in but its answer was lost: the retry meets 409 captionExists and carries on."""
    ctx.sandbox.add_fault(platform="youtube", mode="reset_after", path="/captions", times=1)
    with contextlib.suppress(TransientError):
        connector.publish(request(ctx, captions=caption_files(ctx)), save_handle=ctx.save_handle)
    return connector.publish(request(ctx, captions=caption_files(ctx), handle=ctx.saved_handles[-1]),
                             save_handle=ctx.save_handle)


def check_says_private_and_quota(outcome: Outcome) -> None:
    info = outcome.result
    assert info.account_id.startswith("UC") and info.name == "Doetank Peer (sandbox)"
    assert UNAUDITED in info.detail and "quota today: 1 units, 0 uploads" in info.detail


GOOGLE_401 = {"error": {"code": 401, "message": "Invalid Credentials", "status": "UNAUTHENTICATED",
                        "errors": [{"message": "Invalid Credentials", "domain": "global", "reason": "authError"}]}}
BACKEND = {"error": {"code": 503, "message": "Backend Error", "errors": [{"reason": "backendError"}]}}

CASES = [
    Case("channels check: the channel, today's quota, and that uploads stay private",
         lambda c, ctx: c.check(), check=check_says_private_and_quota),
    Case("upload in 256 KiB chunks, private while the project is unaudited", publish(), check=uploaded_privately),
    Case("audited project: the asked privacy holds", publish(), options={"audited_project": True,
                                                                         "privacy_status": "public"},
         control=(("set", {"project_audited": True}),), check=public_when_audited),
    Case("vertical and under 3 minutes: a Short", publish(short=True), check=a_short),
    Case("watch_url: the link, and so the evidence capture, goes to that site (the sandbox's own)",
         publish(short=True), options={"watch_url": "SANDBOX"}, check=a_short_on_the_sandbox),
    Case("connection dropped mid-chunk: continues from the committed byte", publish(),
         control=(("set", {"interrupt_after_bytes": CHUNK + 1000}),), check=resumed_not_restarted),
    Case("503 on a chunk: asks the session and continues", publish(),
         faults=({"mode": "error", "method": "PUT", "path": "/upload", "status": 503, "body": BACKEND,
                  "after": 1},), check=resumed_not_restarted),
    Case("answer to the last chunk lost: the session says it is done", publish(),
         faults=({"mode": "reset_after", "method": "PUT", "path": "/upload", "after": 3},),
         check=resumed_not_restarted),
    Case("more interruptions than one call allows: the retry uses the saved session",
         publish_twice({}), options={"max_resumes": 0},
         faults=({"mode": "error", "method": "PUT", "path": "/upload", "status": 503, "body": BACKEND,
                  "after": 1},), check=retried_with_saved_session),
    Case("session expired after the last byte: found in the uploads, not uploaded again",
         publish_twice({}, between=(("expire_sessions", {}),)), options={"max_resumes": 0},
         faults=({"mode": "reset_after", "method": "PUT", "path": "/upload", "after": 3},),
         check=found_instead_of_uploaded_again),
    Case("session expired half-way: not in the uploads, so a new session", publish_twice(
        {}, between=(("expire_sessions", {}),)), options={"max_resumes": 0},
         faults=({"mode": "error", "method": "PUT", "path": "/upload", "status": 503, "body": BACKEND,
                  "after": 1},), check=new_session_after_search),
    Case("half-way, the retry on another machine (no session URI): uploads searched, then a new session",
         publish_twice({}, on_another_machine=True), options={"max_resumes": 0},
         faults=({"mode": "error", "method": "PUT", "path": "/upload", "status": 503, "body": BACKEND,
                  "after": 1},), check=new_session_after_search),
    Case("captions per language (SRT and WebVTT)", publish_with_captions, check=captions_in_both_languages),
    Case("caption answer lost: 409 captionExists on the retry is success", captions_resent_after_a_lost_answer,
         check=captions_in_both_languages),
    Case("cover image becomes the custom thumbnail (thumbnails.set)", publish(cover=True),
         check=cover_is_the_thumbnail),
    Case("channel may not set thumbnails (not phone-verified): published with YouTube's own", publish(cover=True),
         control=(("set", {"custom_thumbnails": False}),), check=published_without_thumbnail),
    Case("expired access token: refreshed once, then the call succeeds", publish(),
         faults=({"mode": "error", "method": "GET", "path": "/videos", "status": 401, "body": GOOGLE_401},),
         check=refreshed_once),
    Case("refresh token dead (consent screen in Testing, 7 days)", publish(),
         control=(("set", {"testing_refresh_ttl_s": 0}),), raises=AuthError, message="In production",
         check=nothing_uploaded),
    Case("processing failed: refused, not retried", publish(), control=(("set", {"fail_processing": "codec"}),),
         raises=ContentRejected, message="codec"),
    Case("YouTube says the quota is spent", publish(), control=(("set", {"daily_inserts": 0}),),
         raises=RateLimited, message="midnight Pacific", check=waits_until_pacific_midnight),
    Case("own ledger: the second upload of the day waits, nothing sent", publish_two,
         options={"daily_inserts": 1}, raises=RateLimited, message="1 of 1 uploads",
         check=second_upload_never_sent),
    Case("channel's 24 h upload limit", publish(), control=(("set", {"daily_channel_uploads": 0}),),
         raises=RateLimited, message="24 hours"),
    Case("rate limited: waits as told", publish(), faults=({"mode": "rate_limit", "retry_after_s": 300},),
         raises=RateLimited, message="rate limited"),
    Case("title with < is refused", lambda c, ctx: c.publish(
        PublishRequest(1, "<b>hoi</b>", "nl", "k", media=request(ctx).media), save_handle=ctx.save_handle),
         raises=ContentRejected, message="invalidTitle"),
    Case("reconcile: nothing uploaded, nothing found", reconcile_without_upload, check=nothing_found),
    Case("reconcile: the marker finds the video", reconcile_after_publish, check=found_the_same),
]


@pytest.fixture
def ctx(serve_sandbox, monkeypatch, tmp_path: Path) -> Context:  # type: ignore[no-untyped-def]
    for key, value in (("client_id", DEMO_CLIENT_ID), ("client_secret", DEMO_CLIENT_SECRET),
                       ("refresh_token", DEMO_REFRESH_TOKEN)):
        monkeypatch.setenv(ENVS[key], value)
    clock = FakeClock(START)
    sandbox, url = serve_sandbox(YouTubeSim(clock=clock))
    data = random.Random(18).randbytes(SIZE)
    video = tmp_path / "meeting.mp4"
    video.write_bytes(data)
    srt, vtt = tmp_path / "meeting.nl.srt", tmp_path / "meeting.en.vtt"
    srt.write_text("1\n00:00:00,000 --> 00:00:02,500\nWelkom allemaal\n", encoding="utf-8")
    vtt.write_text("WEBVTT\n\n00:00:00.000 --> 00:00:02.500\nWelcome everyone\n", encoding="utf-8")
    cover = tmp_path / "cover.jpg"
    cover.write_bytes(b"\xff\xd8\xff\xe0" + random.Random(2).randbytes(2000) + b"\xff\xd9")
    scratch: dict[str, Any] = {"clock": clock, "video": str(video), "sha256": hashlib.sha256(data).hexdigest(),
                               "srt": str(srt), "vtt": str(vtt), "cover": str(cover), "sent": 0}

    def count_sent(response: requests.Response) -> None:
        if response.request.method == "PUT":
            scratch["sent"] += len(response.request.body or b"")

    def make_connector(*, max_resumes: int | None = None, **options: Any) -> YouTubeConnector:
        channel = ChannelConfig(name="peer-youtube", platform=Platform("youtube"), base_url=f"{url}/youtube",
                                options={"token_url": f"{url}/youtube/token", **{
                                    k: f"{url}/youtube" if v == "SANDBOX" else v for k, v in options.items()}},
                                secret_envs=dict(ENVS))
        connector = YouTubeConnector(channel, timeout_s=5, clock=clock, sleep=lambda s: None,
                                     poll_interval_s=0, max_polls=3, on_exchange=count_sent)
        connector.chunk_bytes = CHUNK
        if max_resumes is not None:
            connector.max_resumes = max_resumes  # type: ignore[misc]
        return connector

    return Context(sandbox=sandbox, url=url, prefix="youtube", make_connector=make_connector,
                   secrets=(DEMO_CLIENT_SECRET, DEMO_REFRESH_TOKEN), scratch=scratch)


@pytest.mark.parametrize("case", CASES, ids=case_id)
def test_connector(case: Case, ctx: Context) -> None:
    run_case(case, ctx)


def test_sim_speaks_the_resumable_upload_protocol(ctx: Context) -> None:
    """Raw HTTP: 200 + Location, 308 + Range without Location, the 256 KiB rule, `bytes */N`, 404."""
    token = requests.post(f"{ctx.url}/youtube/token", timeout=5, data={
        "grant_type": "refresh_token", "refresh_token": DEMO_REFRESH_TOKEN, "client_id": DEMO_CLIENT_ID,
        "client_secret": DEMO_CLIENT_SECRET}).json()["access_token"]
    auth = {"Authorization": f"Bearer {token}"}
    start = requests.post(f"{ctx.url}/youtube/upload/youtube/v3/videos?uploadType=resumable&part=snippet,status",
                          json={"snippet": {"title": "t", "description": "d"}, "status": {"privacyStatus": "public"}},
                          headers={**auth, "X-Upload-Content-Length": str(2 * CHUNK + 10),
                                   "X-Upload-Content-Type": "video/mp4"}, timeout=5)
    assert start.status_code == 200 and start.content == b""
    session = start.headers["Location"]
    odd = requests.put(session, data=b"x" * (CHUNK + 1), timeout=5,
                       headers={**auth, "Content-Range": f"bytes 0-{CHUNK}/{2 * CHUNK + 10}"})
    assert odd.status_code == 400 and odd.json()["error"]["errors"][0]["reason"] == "invalidChunkSize"
    first = requests.put(session, data=b"x" * CHUNK, allow_redirects=False, timeout=5,
                         headers={**auth, "Content-Range": f"bytes 0-{CHUNK - 1}/{2 * CHUNK + 10}"})
    assert first.status_code == 308 and first.headers["Range"] == f"bytes=0-{CHUNK - 1}"
    assert "Location" not in first.headers
    probe = requests.put(session, data=b"", timeout=5, headers={**auth, "Content-Range": f"bytes */{2 * CHUNK + 10}"})
    assert probe.status_code == 308 and probe.headers["Range"] == f"bytes=0-{CHUNK - 1}"
    done = requests.put(session, data=b"y" * (CHUNK + 10), timeout=5,
                        headers={**auth, "Content-Range": f"bytes {CHUNK}-{2 * CHUNK + 9}/{2 * CHUNK + 10}"})
    assert done.status_code == 201 and done.json()["status"]["privacyStatus"] == "public"  # as asked ...
    listed = requests.get(f"{ctx.url}/youtube/youtube/v3/videos", params={"part": "status", "id": done.json()["id"]},
                          headers=auth, timeout=5).json()["items"][0]
    assert listed["status"]["privacyStatus"] == "private"  # ... but locked private: the project is unaudited
    ctx.control("expire_sessions")
    gone = requests.put(session, data=b"", timeout=5, headers={**auth, "Content-Range": f"bytes */{2 * CHUNK + 10}"})
    assert gone.status_code == 404
    assert requests.get(f"{ctx.url}/youtube/youtube/v3/channels", params={"mine": "true"}, timeout=5).status_code == 401


def test_validate_asks_for_one_video_a_title_and_no_angle_brackets() -> None:
    video = MediaItem("clip.mp4", mime_type="video/mp4")
    assert YouTubeConnector.validate(TEXT, [video]) == []
    assert "exactly one video" in YouTubeConnector.validate(TEXT, [])[0]
    assert "1 images" in YouTubeConnector.validate(TEXT, [video, MediaItem("a.png", mime_type="image/png")])[0]
    assert "< and >" in YouTubeConnector.validate("a <b> c", [video])[0]
    [too_long] = YouTubeConnector.validate("é" * 2501, [video])
    assert "5002" in too_long and "5000" in too_long
    assert "video/x-flv" in YouTubeConnector.validate(TEXT, [MediaItem("a.flv", mime_type="video/x-flv")])[0]
