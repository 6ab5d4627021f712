"""Bluesky video over real HTTP against the PDS simulation and its video service: service auth with the
PDS's did:web, upload limits, uploadVideo, job status until COMPLETED, WebVTT caption blobs (SRT
converted), the app.bsky.embed.video record; failures, daily limits, unconfirmed email, dropped answers."""

from __future__ import annotations

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
from tests.connectors.harness import Case, Context, Outcome, case_id, run_case
from tests.connectors.video_acts import after_failure, publishing

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
]


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
