"""Bluesky video over real HTTP against the PDS simulation and its video service: service auth with the
PDS's did:web, upload limits, uploadVideo, job status until COMPLETED, WebVTT caption blobs (SRT
converted), the app.bsky.embed.video record; failures, daily limits, unconfirmed email, dropped answers."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from PIL import Image

from outreach.config import ChannelConfig
from outreach.connectors.base import MemoryCredentialStore
from outreach.connectors.bluesky import BlueskyConnector
from outreach.connectors.errors import AuthError, ContentRejected, RateLimited, TransientError
from outreach.domain import MediaItem, Platform, PublishRequest
from outreach.media.synthetic import write_clip
from outreach.sandbox.bluesky import DEMO_IDENTIFIER, DEMO_PASSWORD, BlueskySim
from tests.clock import FakeClock
from tests.connectors.harness import Act, Case, Context, Outcome, case_id, run_case
from tests.connectors.video_acts import after_failure, merged, publishing

PASSWORD_ENV = "OUTREACH_TEST_BLUESKY_PASSWORD"
START = datetime(2026, 3, 6, 14, 0, tzinfo=UTC)
TEXT = "Terugblik op de bijeenkomst in Utrecht #VanBinnenuit"
ALT = "Kaarten met de vragen van de avond, zonder mensen in beeld"
SRT = "1\n00:00:00,000 --> 00:00:00,400\nWelkom bij de bijeenkomst\n"


def request(ctx: Context, *, handle: dict[str, Any] | None = None, captions: bool = True,
            with_image: bool = False, clip: str = "clip") -> PublishRequest:
    item = MediaItem(path=ctx.scratch[clip], alt_text=ALT, mime_type="video/mp4", width=64, height=112,
                     duration_s=0.5, captions=(("nl", ctx.scratch["srt"]), ("en", ctx.scratch["vtt"])) if captions
                     else ())
    media = (item, MediaItem(path=ctx.scratch["cover"], alt_text="x", mime_type="image/png")) if with_image \
        else (item,)
    return PublishRequest(post_id=1, text=TEXT, language="nl", idempotency_key="post-1-nl", media=media,
                          handle=handle or {}, attempt_started_at=ctx.scratch["clock"]())


publish = publishing(request)
publish_after_failure = after_failure(request)


# -- checks -----------------------------------------------------------------------------------

def one_video_post(outcome: Outcome) -> None:
    state = outcome.ctx.state()
    [record] = state["records"]
    assert outcome.result.remote_id == record["uri"]
    embed = record["value"]["embed"]
    assert embed["$type"] == "app.bsky.embed.video" and embed["alt"] == ALT
    assert embed["aspectRatio"] == {"width": 64, "height": 112}
    video = next(b for b in state["blobs"] if b["cid"] == embed["video"]["ref"]["$link"])
    assert video["mimeType"] == "video/mp4"
    assert sum(1 for j in state["video_jobs"] if j["state"] == "JOB_STATE_COMPLETED") == 1


def with_captions(outcome: Outcome) -> None:
    one_video_post(outcome)
    embed = outcome.ctx.state()["records"][0]["value"]["embed"]
    assert [c["lang"] for c in embed["captions"]] == ["nl", "en"]
    sim = outcome.ctx.sandbox.sims["bluesky"]
    nl = sim.blobs[embed["captions"][0]["file"]["ref"]["$link"]]
    assert nl["mimeType"] == "text/vtt" and nl["data"].startswith(b"WEBVTT\n\n00:00:00.000 --> 00:00:00.400")
    assert outcome.ctx.requests_to("GET", "getJobStatus") == 4  # ENCODING, SCANNING, UPLOADING, COMPLETED
    [saved, with_job] = outcome.ctx.saved_handles
    assert saved["rkey"] == with_job["rkey"] and "video_job" in with_job  # the key first, then the job


def until_midnight(outcome: Outcome) -> None:
    assert outcome.error.retry_after_s == 10 * 3600  # START is 14:00 UTC
    assert outcome.error.reset_at == datetime(2026, 3, 7, tzinfo=UTC)


def email_warned(outcome: Outcome) -> None:
    assert outcome.result.detail.endswith("; email not confirmed: Bluesky refuses its video uploads")


def nothing_posted(outcome: Outcome) -> None:
    assert outcome.ctx.state()["records"] == []


def job_reused(outcome: Outcome) -> None:
    one_video_post(outcome)
    assert outcome.ctx.requests_to("POST", "uploadVideo") == 1
    assert len(outcome.ctx.state()["video_jobs"]) == 1


def deduplicated(outcome: Outcome) -> None:
    one_video_post(outcome)
    assert outcome.ctx.requests_to("POST", "uploadVideo") == 2  # the second answered already_exists
    assert len(outcome.ctx.state()["video_jobs"]) == 1


def found_by_reconcile(outcome: Outcome) -> None:
    one_video_post(outcome)
    assert outcome.ctx.scratch["first"].ambiguous
    assert outcome.ctx.requests_to("POST", "createRecord") == 1


def uploaded_again_after_failure(outcome: Outcome) -> None:
    one_video_post(outcome)
    states = sorted(j["state"] for j in outcome.ctx.state()["video_jobs"])
    assert states == ["JOB_STATE_COMPLETED", "JOB_STATE_FAILED"]


def fail_once(connector: BlueskyConnector, ctx: Context) -> Any:
    ctx.control("video", {"failure": "encoding_failure"})
    try:
        connector.publish(request(ctx), save_handle=ctx.save_handle)
    except TransientError as exc:
        assert exc.code == "encoding_failure" and not exc.ambiguous
    ctx.control("video", {"failure": None})
    return connector.publish(request(ctx, handle=ctx.saved_handles[-1]), save_handle=ctx.save_handle)


DEAD = "http://127.0.0.1:1"  # nothing listens on port 1: the video service is out of reach


def straight_to_the_pds(outcome: Outcome) -> None:
    """One post whose video blob went to the PDS by uploadBlob, with its captions; no job finished."""
    state = outcome.ctx.state()
    [record] = state["records"]
    embed = record["value"]["embed"]
    assert outcome.result.remote_id == record["uri"] and embed["$type"] == "app.bsky.embed.video"
    video = next(b for b in state["blobs"] if b["cid"] == embed["video"]["ref"]["$link"])
    assert video["mimeType"] == "video/mp4" and video["size"] == Path(outcome.ctx.scratch["clip"]).stat().st_size
    assert [c["lang"] for c in embed["captions"]] == ["nl", "en"]
    assert not any(j["state"] == "JOB_STATE_COMPLETED" for j in state["video_jobs"])
    assert [b["cid"] for b in state["blobs"] if b["mimeType"] == "video/mp4"] == [video["cid"]]


def too_big_for_the_pds(outcome: Outcome) -> None:
    nothing_posted(outcome)
    assert not outcome.error.ambiguous


def service_gone_on_the_retry(*, first: dict[str, Any]) -> Act:
    """The first attempt reaches the video service and fails ambiguously (`first`: a fault or a
    control); the retry finds the service out of reach and falls back to the PDS: still one post."""
    def act(connector: BlueskyConnector, ctx: Context) -> Any:
        if "fault" in first:
            ctx.sandbox.add_fault(platform="bluesky", **first["fault"])
        else:
            ctx.control("video", first["video"])
        with pytest.raises(TransientError) as caught:
            connector.publish(request(ctx), save_handle=ctx.save_handle)
        ctx.scratch["first"] = caught.value
        assert ctx.state()["video_jobs"], "the first attempt left a job at the video service"
        retry = ctx.make_connector(video_service_url=DEAD)
        handle = merged(ctx)
        return retry.reconcile(request(ctx, handle=handle)) or retry.publish(request(ctx, handle=handle),
                                                                             save_handle=ctx.save_handle)
    return act


CASES = [
    Case("video with alt text, aspect ratio and captions (SRT converted to WebVTT)", publish(), check=with_captions),
    Case("not a video: validation_failure is a rejection", publish(clip="cover", captions=False),
         raises=ContentRejected, message="Bluesky refused the video", check=nothing_posted),
    Case("encoding failure: uploaded again on the retry", fail_once, check=uploaded_again_after_failure),
    Case("daily limit reached: waits for the next day", publish(), control=(("video", {"daily_videos": 0}),),
         raises=RateLimited, message="daily video upload limit", check=lambda o: (nothing_posted(o),
                                                                                   until_midnight(o))),
    Case("DailyLimitExceeded on the upload itself: waits until 00:00 UTC", publish(),
         faults=({"mode": "error", "path": "uploadVideo", "status": 400,
                  "body": {"error": "DailyLimitExceeded", "message": "daily upload limit exceeded"}},),
         raises=RateLimited, message="daily upload limit exceeded", check=lambda o: (
             nothing_posted(o), until_midnight(o))),
    Case("unconfirmed email", publish(), control=(("video", {"email_confirmed": False}),), raises=AuthError,
         message="confirm the account's email address", check=nothing_posted),
    Case("check says when the email is not confirmed", lambda c, ctx: c.check(),
         control=(("video", {"email_confirmed": False}),),
         check=email_warned),
    Case("a video beside an image", publish(with_image=True), raises=ContentRejected, message="one video per post"),
    Case("still processing after the last poll: the retry keeps the job", publish_after_failure,
         control=(("video", {"polls": 5}),), options={"max_polls": 3}, check=job_reused),
    Case("upload answer lost: the same bytes again give the same job", publish_after_failure,
         faults=({"mode": "reset_after", "path": "uploadVideo"},), check=deduplicated),
    Case("503 from getJobStatus: same job next time", publish_after_failure,
         faults=({"mode": "error", "path": "getJobStatus", "status": 503},), check=job_reused),
    Case("record created, answer lost: reconcile finds it", publish_after_failure,
         faults=({"mode": "reset_after", "path": "createRecord"},), check=found_by_reconcile),
    Case("video service out of reach: the video goes straight to the PDS", publish(), options={"video_service_url": DEAD},
         check=straight_to_the_pds),
    Case("video service refuses the upload (503): straight to the PDS", publish(),
         faults=({"mode": "error", "path": "uploadVideo", "status": 503,
                  "body": {"error": "ServiceOverloaded", "message": "try again later"}},), check=straight_to_the_pds),
    Case("video service without the method (501): straight to the PDS", publish(),
         faults=({"mode": "error", "path": "getUploadLimits", "status": 501,
                  "body": {"error": "MethodNotImplemented", "message": "Method Not Implemented"}},),
         check=straight_to_the_pds),
    Case("out of reach and over the PDS's blob cap: says so, retries later", publish(),
         options={"video_service_url": DEAD}, control=(("set_limits", {"max_upload_bytes": 4000}),),
         raises=TransientError, message="too big to send straight to the PDS", check=too_big_for_the_pds),
    Case("upload answer lost, then the service is gone: one post from the PDS blob",
         service_gone_on_the_retry(first={"fault": {"mode": "reset_after", "path": "uploadVideo"}}),
         check=lambda o: (straight_to_the_pds(o), assert_one_record(o))),
    Case("job saved while processing, then the service is gone: one post from the PDS blob",
         service_gone_on_the_retry(first={"video": {"polls": 50}}), options={"max_polls": 2},
         check=lambda o: (straight_to_the_pds(o), assert_one_record(o))),
    Case("straight to the PDS, record created but answer lost: reconcile finds it", publish_after_failure,
         options={"video_service_url": DEAD}, faults=({"mode": "reset_after", "path": "createRecord"},),
         check=lambda o: (assert_one_record(o), o.ctx.scratch["first"].ambiguous)),
]


def in_parts(act: Act) -> Act:
    """The act with every video over the multipart threshold (the sandbox's clips are a few kB)."""
    def wrapped(connector: BlueskyConnector, ctx: Context) -> Any:
        connector.video_multipart_min_bytes = 0
        return act(connector, ctx)
    return wrapped


def sent_in_parts(*, part_requests: int) -> Callable[[Outcome], None]:
    def check(outcome: Outcome) -> None:
        one_video_post(outcome)
        ctx = outcome.ctx
        [upload] = ctx.state()["video_uploads"]
        assert upload["state"] == "completed" and upload["partCount"] == -(-Path(ctx.scratch["clip"]).stat().st_size
                                                                             // PART)
        assert ctx.requests_to("POST", "uploadPart") == upload["partCount"] + part_requests
        assert ctx.requests_to("POST", "uploadVideo") == 0 and len(ctx.state()["video_jobs"]) == 1
    return check


def finished_once(outcome: Outcome) -> None:
    sent_in_parts(part_requests=0)(outcome)
    assert outcome.ctx.requests_to("POST", "finishUpload") == 1  # the retry read getUploadStatus instead


def single_upload(outcome: Outcome) -> None:
    one_video_post(outcome)
    assert outcome.ctx.requests_to("POST", "startUpload") == 1 and outcome.ctx.requests_to("POST", "uploadVideo") == 1


PART = 1024
MULTIPART = ("video", {"multipart": True, "part_bytes": PART})
PART_CASES = [
    Case("over the threshold: start, parts of exactly partSizeBytes, finish, the job polled", in_parts(publish()),
         control=(MULTIPART,), check=sent_in_parts(part_requests=0)),
    Case("a service without multipart (501 on startUpload): one uploadVideo", in_parts(publish()),
         check=single_upload),
    Case("a part's answer lost: the retry asks getUploadStatus and sends only the missing parts",
         in_parts(publish_after_failure), control=(MULTIPART,),
         faults=({"mode": "reset_after", "path": "uploadPart", "after": 1},), check=sent_in_parts(part_requests=0)),
    Case("finish's answer lost: the retry reads the completed upload, one job, one post",
         in_parts(publish_after_failure), control=(MULTIPART,),
         faults=({"mode": "reset_after", "path": "finishUpload"},), check=lambda o: finished_once(o)),
]


@pytest.mark.parametrize("case", PART_CASES, ids=case_id)
def test_multipart(case: Case, ctx: Context) -> None:
    run_case(case, ctx)


def assert_one_record(outcome: Outcome) -> None:
    assert len(outcome.ctx.state()["records"]) == 1
    assert outcome.ctx.requests_to("POST", "createRecord") == 1


@pytest.fixture
def ctx(serve_sandbox, monkeypatch, tmp_path: Path) -> Context:  # type: ignore[no-untyped-def]
    monkeypatch.setenv(PASSWORD_ENV, DEMO_PASSWORD)
    clock, store = FakeClock(START), MemoryCredentialStore()
    sandbox, url = serve_sandbox(BlueskySim(clock=clock))
    clip = write_clip(tmp_path / "clip.mp4", seconds=0.5)
    cover = tmp_path / "cover.png"
    Image.new("RGB", (64, 112), (30, 90, 160)).save(cover)
    (tmp_path / "c.nl.srt").write_text(SRT, encoding="utf-8")
    (tmp_path / "c.en.vtt").write_text("WEBVTT\n\n00:00.000 --> 00:00.400\nWelcome\n", encoding="utf-8")

    def make_connector(*, max_polls: int = 10, **options: Any) -> BlueskyConnector:
        channel = ChannelConfig(name="peer-bluesky", platform=Platform("bluesky"), base_url=f"{url}/bluesky",
                                options={"identifier": DEMO_IDENTIFIER, "video_service_url": f"{url}/bluesky/video",
                                         "video_service_did": "did:web:video.sandbox.test", **options},
                                secret_envs={"password": PASSWORD_ENV})
        connector = BlueskyConnector(channel, timeout_s=10.0, clock=clock, credentials=store, sleep=lambda s: None)
        connector.video_max_polls = max_polls
        return connector

    return Context(sandbox=sandbox, url=url, prefix="bluesky", make_connector=make_connector,
                   secrets=(DEMO_PASSWORD,),
                   scratch={"clock": clock, "clip": str(clip), "cover": str(cover),
                            "srt": str(tmp_path / "c.nl.srt"), "vtt": str(tmp_path / "c.en.vtt")})


@pytest.mark.parametrize("case", CASES, ids=case_id)
def test_video(case: Case, ctx: Context) -> None:
    outcome = run_case(case, ctx)
    if outcome.error is not None:  # session and service tokens never reach a message
        saved = ctx.scratch["store"].load("peer-bluesky") if "store" in ctx.scratch else {}
        assert all(not saved.get(k) or saved[k] not in str(outcome.error) for k in ("access_jwt", "refresh_jwt"))
