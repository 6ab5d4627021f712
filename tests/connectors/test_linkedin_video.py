"""LinkedIn video over real HTTP against the Videos API simulation: initializeUpload, part PUTs with
ETags (several parts), finalizeUpload, SRT captions and thumbnail, processing until AVAILABLE, the post
with content.media.id; processing failures, interrupted parts resumed, a lost finalize answer, a lost
post answer reconciled."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from PIL import Image

from outreach.config import ChannelConfig
from outreach.connectors.errors import ContentRejected
from outreach.connectors.linkedin import LinkedInConnector
from outreach.domain import MediaItem, Platform, PublishRequest
from outreach.media.synthetic import write_clip
from outreach.sandbox.linkedin import DEMO_ORGANIZATION, DEMO_TOKEN, LinkedInSim
from tests.clock import FakeClock
from tests.connectors.harness import Case, Context, Outcome, case_id, run_case
from tests.connectors.video_acts import after_failure, publishing

TOKEN_ENV = "OUTREACH_TEST_LINKEDIN_TOKEN"
START = datetime(2026, 11, 6, 14, 0, tzinfo=UTC)
TEXT = "Terugblik op de bijeenkomst in Utrecht #VanBinnenuit"
PART = 80 * 1024
LOSSLESS = {"preset": "ultrafast", "qp": "0"}  # big enough for LinkedIn's 75 KB minimum


def request(ctx: Context, *, handle: dict[str, Any] | None = None, clip: str = "clip") -> PublishRequest:
    item = MediaItem(path=ctx.scratch[clip], alt_text="Kaarten", mime_type="video/mp4", width=128, height=224,
                     duration_s=3.2, captions=(("en", ctx.scratch["vtt"]), ("nl", ctx.scratch["srt"])),
                     cover_path=ctx.scratch["cover"])
    return PublishRequest(post_id=1, text=TEXT, language="nl", idempotency_key="post-1-nl", media=(item,),
                          handle=handle or {}, attempt_started_at=ctx.scratch["clock"]())


publish = publishing(request)
publish_after_failure = after_failure(request)
publish_elsewhere_after_failure = after_failure(request, on_another_machine=True)


# -- checks -----------------------------------------------------------------------------------

def one_video_post(outcome: Outcome) -> None:
    state = outcome.ctx.state()
    [post] = state["posts"]
    assert post["text"] == TEXT and outcome.result.remote_id == post["urn"]
    videos = [v for v in state["videos"] if v["status"] == "AVAILABLE"]
    assert [v["urn"] for v in videos] == [post["image"]]
    [video] = videos
    assert video["parts"] == 3 and video["finalized"] == 1
    assert video["sha256"] == outcome.ctx.scratch["sha256"]  # every byte arrived, in order


def with_extras(outcome: Outcome) -> None:
    one_video_post(outcome)
    [video] = outcome.ctx.state()["videos"]
    assert video["captions"].startswith("1\n00:00:00,000 --> 00:00:01,000\nWelkom")  # the post's language, SRT
    assert video["thumbnail"] and video["thumbnail"] > 0
    saved = outcome.ctx.saved_handles
    assert "etags" in saved[0]["video"] and not saved[0]["video"]["etags"]  # urn saved before any part
    assert outcome.ctx.requests_to("PUT", "/dms-uploads/video/") == 5  # 3 parts, captions, thumbnail


def nothing_posted(outcome: Outcome) -> None:
    assert outcome.ctx.state()["posts"] == []


def resumed(outcome: Outcome) -> None:
    one_video_post(outcome)
    assert len(outcome.ctx.state()["videos"]) == 1  # the same video, not a second upload
    sent = [outcome.ctx.requests_to("PUT", f"/dms-uploads/video/video-000001/{i}") for i in range(3)]
    assert sent == [1, 2, 1]  # only the dropped part was sent again


def uploaded_anew(outcome: Outcome) -> None:
    one_video_post(outcome)
    first, second = outcome.ctx.state()["videos"]
    assert first["status"] == "WAITING_UPLOAD" and second["status"] == "AVAILABLE"  # the first never became a post


def finalize_recognised(outcome: Outcome) -> None:
    one_video_post(outcome)
    assert len(outcome.ctx.state()["videos"]) == 1


def found_by_reconcile(outcome: Outcome) -> None:
    one_video_post(outcome)
    assert outcome.ctx.scratch["first"].ambiguous


CASES = [
    Case("video in three parts with SRT captions and a thumbnail", publish(), check=with_extras),
    Case("too short a video: PROCESSING_FAILED is a rejection", publish(clip="short"),
         raises=ContentRejected, message="LinkedIn could not process the video", check=nothing_posted),
    Case("second part dropped: the retry sends only what is missing", publish_after_failure,
         faults=({"mode": "reset_before", "path": "/dms-uploads/video/video-000001/1"},), check=resumed),
    Case("second part dropped, the retry on another machine (no signed URLs): a new video, one post",
         publish_elsewhere_after_failure, faults=({"mode": "reset_before", "path": "/dms-uploads/video/video-000001/1"},),
         check=uploaded_anew),
    Case("finalize answer lost: recognised by the video's status", publish_after_failure,
         faults=({"mode": "reset_after", "path": "/rest/videos", "method": "POST", "after": 1},),
         check=finalize_recognised),
    Case("still processing after the last poll: the retry waits for the same video", publish_after_failure,
         control=(("video", {"part_bytes": PART, "polls": 6}),), options={"max_polls": 4},
         check=finalize_recognised),
    Case("post created, answer lost: reconcile adopts the duplicate", publish_after_failure,
         faults=({"mode": "reset_after", "path": "/rest/posts"},), check=found_by_reconcile),
]


@pytest.fixture
def ctx(serve_sandbox, monkeypatch, tmp_path: Path) -> Context:  # type: ignore[no-untyped-def]
    import hashlib

    monkeypatch.setenv(TOKEN_ENV, DEMO_TOKEN)
    clock = FakeClock(START)
    sandbox, url = serve_sandbox(LinkedInSim(clock=clock))
    sandbox.sims["linkedin"].video.part_bytes = PART
    clip = write_clip(tmp_path / "clip.mp4", width=128, height=224, seconds=3.2, options=LOSSLESS)
    short = write_clip(tmp_path / "short.mp4", width=128, height=224, seconds=1.5, options=LOSSLESS)
    assert 2 * PART < clip.stat().st_size <= 3 * PART and short.stat().st_size > 75 * 1024
    cover = tmp_path / "cover.jpg"
    Image.new("RGB", (128, 224), (30, 90, 160)).save(cover)
    (tmp_path / "c.nl.srt").write_text("1\n00:00:00,000 --> 00:00:01,000\nWelkom\n", encoding="utf-8")
    (tmp_path / "c.en.vtt").write_text("WEBVTT\n\n00:00.000 --> 00:01.000\nWelcome\n", encoding="utf-8")

    def make_connector(*, max_polls: int = 5, **options: Any) -> LinkedInConnector:
        channel = ChannelConfig(name="peer-linkedin", platform=Platform("linkedin"), base_url=f"{url}/linkedin",
                                options={"organization_urn": DEMO_ORGANIZATION, **options},
                                secret_envs={"token": TOKEN_ENV})
        connector = LinkedInConnector(channel, timeout_s=10.0, clock=clock, sleep=lambda s: None)
        connector.video_max_polls = max_polls
        return connector

    return Context(sandbox=sandbox, url=url, prefix="linkedin", make_connector=make_connector, secrets=(DEMO_TOKEN,),
                   scratch={"clock": clock, "clip": str(clip), "short": str(short), "cover": str(cover),
                            "srt": str(tmp_path / "c.nl.srt"), "vtt": str(tmp_path / "c.en.vtt"),
                            "sha256": hashlib.sha256(clip.read_bytes()).hexdigest()})


@pytest.mark.parametrize("case", CASES, ids=case_id)
def test_video(case: Case, ctx: Context) -> None:
    run_case(case, ctx)
