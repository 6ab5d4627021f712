"""Instagram Reels and Threads video against the Meta simulations over real HTTP on loopback: the sim
fetches `video_url` (or receives the bytes on rupload), probes the clip, and refuses it on the container
as Meta does. Posts are counted on the sandbox side by content (the video's SHA-256)."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

import pytest

from outreach.connectors.errors import ContentRejected, TransientError
from outreach.connectors.instagram import InstagramConnector
from outreach.connectors.threads import ThreadsConnector
from outreach.domain import MediaItem, Platform
from outreach.media.synthetic import write_clip
from outreach.sandbox.instagram import DEMO_TOKEN as IG_TOKEN
from outreach.sandbox.instagram import IG_USER_ID, InstagramSim
from outreach.sandbox.threads import DEMO_TOKEN as TH_TOKEN
from outreach.sandbox.threads import THREADS_USER_ID, ThreadsSim
from tests.connectors.harness import Case, Context, Outcome, case_id, run_case
from tests.connectors.meta_fixtures import make_context, request

TEXT = "Bekijk de samenvatting van de bijeenkomst in Tilburg"
SLOW = {"timeout_s": 0.5}


def clips(media: Path) -> None:
    """media/video/reel.mp4 (3.2 s, 9:16), short.mp4 (1 s), cover.jpg next to them (as the media step
    lays them out), and a file that is not a video."""
    (media / "video").mkdir(exist_ok=True)
    write_clip(media / "video" / "reel.mp4", seconds=3.2, audio=False)
    write_clip(media / "video" / "short.mp4", seconds=1.0, audio=False)
    (media / "video" / "broken.mp4").write_bytes(b"\0\0\0\x18ftypisom" + b"\0" * 64)
    (media / "meeting.jpg").replace(media / "cover.jpg")


def video(ctx: Context, name: str = "reel.mp4", *, public: bool = True, cover: bool = False,
          cover_s: float | None = None, **options: Any) -> MediaItem:
    path = ctx.scratch["media"] / "video" / name
    return MediaItem(path=str(path), mime_type="video/mp4", width=64, height=112, duration_s=3.2,
                     public_url=f"{ctx.url}/media/video/{name}" if public else None,
                     cover_path=str(ctx.scratch["media"] / "cover.jpg") if cover else None, cover_s=cover_s,
                     options=tuple(options.items()))


def publish(name: str = "reel.mp4", *, handle: dict[str, Any] | None = None, **kw: Any):
    def act(connector, ctx: Context):
        req = request(ctx, TEXT, media=(video(ctx, name, **kw),), handle=handle)
        ctx.scratch["req"] = req
        return connector.publish(req, save_handle=ctx.save_handle)
    return act


def sha(ctx: Context, name: str = "reel.mp4") -> str:
    return hashlib.sha256((ctx.scratch["media"] / "video" / name).read_bytes()).hexdigest()


def posts(outcome: Outcome) -> list[dict[str, Any]]:
    return outcome.ctx.state()["posts"]


def reel(*, share: bool = True, cover: str | None = None, offset: str | None = None, uploaded: bool = False):
    def check(outcome: Outcome) -> None:
        [post] = posts(outcome)
        assert (post["media_type"], post["share_to_feed"], post["video_sha"]) == ("REELS", share, sha(outcome.ctx))
        assert (post["cover_url"] or "").endswith(cover or "") and bool(post["cover_url"]) == bool(cover)
        assert post["thumb_offset"] == offset
        assert "/reel/" in outcome.result.url and outcome.result.remote_id == post["id"]
        handles = outcome.ctx.saved_handles
        assert handles[0]["container_id"] == post["container_id"]
        assert bool(handles[0].get("upload_uri")) is uploaded and handles[-1].get("uploaded", False) is uploaded
    return check


def thread_video(outcome: Outcome) -> None:
    [post] = posts(outcome)
    assert (post["media_type"], post["text"], post["video_sha"]) == ("VIDEO", TEXT, sha(outcome.ctx))
    assert post["video_url"].endswith("/media/video/reel.mp4")


def posted(n: int):
    def check(outcome: Outcome) -> None:
        assert len(posts(outcome)) == n
    return check


def reconcile_then_retry_publishes_once(outcome: Outcome) -> None:
    """After a lost answer to the publish call: reconcile finds the post; a retry adopts it."""
    ctx = outcome.ctx
    retry = request(ctx, TEXT, media=ctx.scratch["req"].media, handle=ctx.saved_handles[-1])
    found = ctx.make_connector().reconcile(retry)
    [post] = posts(outcome)
    assert found is not None and found.remote_id == post["id"]
    assert ctx.make_connector().publish(retry, save_handle=ctx.save_handle).remote_id == post["id"]
    assert len(posts(outcome)) == 1 and post["video_sha"] == sha(ctx)


def retry_uploads_again_into_the_same_container(outcome: Outcome) -> None:
    """The upload's answer was lost: the retry sends the bytes again to the saved container, once."""
    ctx = outcome.ctx
    [handle] = ctx.saved_handles
    assert posts(outcome) == [] and ctx.make_connector().reconcile(
        request(ctx, TEXT, handle=handle)) is None
    result = ctx.make_connector().publish(request(ctx, TEXT, media=ctx.scratch["req"].media, handle=handle),
                                          save_handle=ctx.save_handle)
    [post] = posts(outcome)
    assert result.remote_id == post["id"] and post["container_id"] == handle["container_id"]
    assert len(outcome.ctx.state()["containers"]) == 1 and post["video_sha"] == sha(ctx)


def poll_limit_then_continue(outcome: Outcome) -> None:
    ctx = outcome.ctx
    [handle] = ctx.saved_handles
    result = ctx.make_connector().publish(request(ctx, TEXT, media=ctx.scratch["req"].media, handle=handle),
                                          save_handle=ctx.save_handle)
    assert [p["id"] for p in posts(outcome)] == [result.remote_id]
    assert len(ctx.state()["containers"]) == 1


def new_container_uploads_again(outcome: Outcome) -> None:
    """The first container died after its upload; the retry, with the handles merged as the dispatcher
    keeps them, creates a new container and uploads into it (not trusting the old `uploaded`)."""
    ctx = outcome.ctx
    merged: dict[str, Any] = {}
    for handle in ctx.saved_handles:
        merged.update(handle)
    assert merged["uploaded"] is True
    ctx.control("config", {"container_error_subcode": None})
    result = ctx.make_connector().publish(request(ctx, TEXT, media=ctx.scratch["req"].media, handle=merged),
                                          save_handle=ctx.save_handle)
    [post] = posts(outcome)
    assert result.remote_id == post["id"] and post["video_sha"] == sha(ctx)
    assert len(ctx.state()["containers"]) == 2 and ctx.requests_to("POST", "/ig-api-upload/") == 2


IG_CASES = [
    Case("reel by video_url, shared to the feed", publish(), check=reel()),
    Case("reel kept off the feed, cover image served next to it", publish(share_to_feed=False, cover=True),
         check=reel(share=False, cover="/media/cover.jpg")),
    Case("reel with a cover frame at 1.5 s", publish(cover_s=1.5), check=reel(offset="1500")),
    Case("reel without a public URL: resumable upload to the returned uri", publish(public=False),
         check=reel(uploaded=True)),
    Case("reel under 3 s: the container errors, refused", publish("short.mp4"), raises=ContentRejected,
         message="2207026", check=posted(0)),
    Case("not a video: refused on the container", publish("broken.mp4", public=False), raises=ContentRejected,
         message="could not process the media", check=posted(0)),
    Case("video_url that cannot be fetched", publish("missing.mp4"), raises=ContentRejected,
         message="could not be fetched", check=posted(0)),
    Case("answer to media_publish lost: reconcile, one reel", publish(), options=SLOW,
         faults=({"mode": "timeout_after", "method": "POST", "path": "/media_publish", "delay_s": 5.0},),
         raises=TransientError, ambiguous=True, check=reconcile_then_retry_publishes_once),
    Case("connection dropped after the upload: same container, one reel", publish(public=False),
         faults=({"mode": "reset_after", "method": "POST", "path": "/ig-api-upload/"},),
         raises=TransientError, ambiguous=True, check=retry_uploads_again_into_the_same_container),
    Case("still processing after the poll limit: the next attempt continues", publish(),
         options={"max_polls": 1}, raises=TransientError, message="still processing",
         check=poll_limit_then_continue),
    Case("login without resumable upload: told to set public_base_url", publish(public=False),
         control=(("config", {"resumable_upload": False}),), raises=ContentRejected,
         message="set [media] public_base_url", check=posted(0)),
    Case("uploaded container fails (2207001): a new container gets the bytes", publish(public=False),
         control=(("config", {"container_error_subcode": 2207001}),), raises=TransientError,
         check=new_container_uploads_again),
]

TH_CASES = [
    Case("video by video_url", publish(), check=thread_video),
    Case("no public URL: Threads cannot take bytes", publish(public=False), raises=ContentRejected,
         message="public_base_url", check=posted(0)),
    Case("unfetchable video: FAILED_DOWNLOADING_VIDEO, a new container next time", publish("missing.mp4"),
         raises=TransientError, message="FAILED_DOWNLOADING_VIDEO", check=posted(0)),
    Case("answer to threads_publish lost: reconcile, one post", publish(), options=SLOW,
         faults=({"mode": "timeout_after", "method": "POST", "path": "/threads_publish", "delay_s": 5.0},),
         raises=TransientError, ambiguous=True, check=reconcile_then_retry_publishes_once),
    Case("still processing after the poll limit: the next attempt continues", publish(),
         options={"max_polls": 1}, raises=TransientError, message="still processing",
         check=poll_limit_then_continue),
]


def video_context(serve_sandbox, monkeypatch, tmp_path: Path, sim, connector, platform: Platform,  # type: ignore[no-untyped-def]
                  token: str, **options: Any) -> Context:
    """A Meta sim on loopback serving the test clips, and a connector factory for it."""
    ctx = make_context(serve_sandbox=serve_sandbox, monkeypatch=monkeypatch, tmp_path=tmp_path, sim=sim,
                       connector=connector, platform=platform, token=token, base_options=options)
    clips(ctx.scratch["media"])
    return ctx


@pytest.fixture
def ig(serve_sandbox, monkeypatch, tmp_path: Path) -> Context:
    return video_context(serve_sandbox, monkeypatch, tmp_path, InstagramSim, InstagramConnector,
                         Platform("instagram"), IG_TOKEN, ig_user_id=IG_USER_ID)


@pytest.fixture
def th(serve_sandbox, monkeypatch, tmp_path: Path) -> Context:
    return video_context(serve_sandbox, monkeypatch, tmp_path, ThreadsSim, ThreadsConnector, Platform("threads"),
                         TH_TOKEN, threads_user_id=THREADS_USER_ID)


def test_reel_without_public_url_says_its_cover_is_not_sent(ig: Context, caplog: pytest.LogCaptureFixture) -> None:
    result = publish(public=False, cover=True)(ig.make_connector(), ig)
    [post] = ig.state()["posts"]
    assert result.remote_id == post["id"] and post["cover_url"] is None
    assert "post 1: the cover image is not sent: Instagram takes a cover only by URL" in caplog.text


@pytest.mark.parametrize("case", IG_CASES, ids=case_id)
def test_instagram_reels(case: Case, ig: Context) -> None:
    run_case(case, ig)


@pytest.mark.parametrize("case", TH_CASES, ids=case_id)
def test_threads_video(case: Case, th: Context) -> None:
    run_case(case, th)


def test_threads_refuses_a_too_long_video_on_the_container(th: Context) -> None:
    write_clip(th.scratch["media"] / "video" / "long.mp4", width=16, height=16, seconds=301, fps=1, audio=False)
    with pytest.raises(ContentRejected, match="INVALID_DURATION"):
        publish("long.mp4")(th.make_connector(), th)
