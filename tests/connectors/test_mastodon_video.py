"""Mastodon video over real HTTP against the simulation: 202 upload, 206 polls until processed, the poster
(`thumbnail`), the instance's 422s, processing failures, and faults around the upload and the status."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from PIL import Image

from outreach.config import ChannelConfig
from outreach.connectors.errors import ContentRejected, TransientError
from outreach.connectors.mastodon import MastodonConnector
from outreach.domain import MediaItem, Platform, PublishRequest
from outreach.media.synthetic import write_clip
from outreach.sandbox.mastodon import DEMO_TOKEN, MastodonSim
from tests.clock import FakeClock
from tests.connectors.harness import Case, Context, Outcome, case_id, run_case
from tests.connectors.video_acts import after_failure, publishing

TOKEN_ENV = "OUTREACH_TEST_MASTODON_TOKEN"
START = datetime(2026, 3, 6, 14, 0, tzinfo=UTC)
TEXT = "Terugblik op de bijeenkomst in Utrecht #VanBinnenuit"
ALT = "Kaarten met de vragen van de avond, zonder mensen in beeld"


def request(ctx: Context, *, handle: dict[str, Any] | None = None, with_image: bool = False,
            cover: bool = True) -> PublishRequest:
    clip = MediaItem(path=ctx.scratch["clip"], alt_text=ALT, mime_type="video/mp4", width=64, height=112,
                     duration_s=1.0, cover_path=ctx.scratch["cover"] if cover else None)
    media = (clip, MediaItem(path=ctx.scratch["cover"], alt_text="Poster")) if with_image else (clip,)
    return PublishRequest(post_id=1, text=TEXT, language="nl", idempotency_key="post-1-nl", media=media,
                          handle=handle or {}, attempt_started_at=ctx.scratch["clock"]())


publish = publishing(request)
publish_after_failure = after_failure(request)


# -- checks -----------------------------------------------------------------------------------

def one_video_status(outcome: Outcome) -> None:
    state = outcome.ctx.state()
    [status] = state["statuses"]
    assert state["statuses_per_text"] == {TEXT: 1}
    assert outcome.result.remote_id == status["id"]
    [media] = status["media"]
    assert (media["mime_type"], media["description"]) == ("video/mp4", ALT)
    uploaded = next(m for m in state["media"] if m["id"] == media["id"])
    assert (uploaded["width"], uploaded["height"]) == (64, 112)


def with_poster(outcome: Outcome) -> None:
    one_video_status(outcome)
    [media] = [m for m in outcome.ctx.state()["media"] if m["status_id"]]
    assert media["thumbnail"][0] == "image/jpeg"
    assert outcome.ctx.requests_to("GET", "/api/v1/media/") == 3  # 206, 206, 200


def nothing_posted(outcome: Outcome) -> None:
    assert outcome.ctx.state()["statuses"] == []


def saved_then_reused(outcome: Outcome) -> None:
    one_video_status(outcome)
    assert outcome.ctx.requests_to("POST", "/api/v2/media") == 1  # the retry polled the saved id
    assert isinstance(outcome.ctx.scratch["first"], TransientError)


def uploaded_twice_posted_once(outcome: Outcome) -> None:
    one_video_status(outcome)
    assert outcome.ctx.requests_to("POST", "/api/v2/media") == 2


def found_by_reconcile(outcome: Outcome) -> None:
    one_video_status(outcome)
    assert outcome.ctx.scratch["first"].ambiguous
    assert outcome.ctx.requests_to("POST", "/api/v1/statuses") == 1


CASES = [
    Case("video with alt text and poster: 202, 206 twice, 200", publish(), check=with_poster),
    Case("video without a poster", publish(cover=False), check=one_video_status),
    Case("processing fails on the instance", publish(), control=(("set_processing", {"fail": True}),),
         raises=ContentRejected, message="could not process the video", check=nothing_posted),
    Case("frame size over the instance's matrix limit", publish(),
         control=(("set_limits", {"video_matrix_limit": 64 * 100}),),
         raises=ContentRejected, message="64x112 videos are not supported", check=nothing_posted),
    Case("frame rate over the instance's limit", publish(),
         control=(("set_limits", {"video_frame_rate_limit": 25}),),
         raises=ContentRejected, message="30fps videos are not supported", check=nothing_posted),
    Case("a video beside an image", publish(with_image=True), raises=ContentRejected,
         message="Cannot attach a video to a post that already contains images"),
    Case("still processing after the last poll, then the retry reuses it", publish_after_failure,
         control=(("set_processing", {"polls": 4}),), options={"max_polls": 3}, check=saved_then_reused),
    Case("connection dropped after the upload: uploaded again, posted once", publish_after_failure,
         faults=({"mode": "reset_after", "path": "/api/v2/media"},), check=uploaded_twice_posted_once),
    Case("502 while polling: same media next time", publish_after_failure,
         faults=({"mode": "error", "path": "/api/v1/media/", "status": 502},), check=saved_then_reused),
    Case("status created, answer lost: reconcile finds it", publish_after_failure,
         faults=({"mode": "reset_after", "path": "/api/v1/statuses"},), check=found_by_reconcile),
]


@pytest.fixture
def ctx(serve_sandbox, monkeypatch, tmp_path: Path) -> Context:  # type: ignore[no-untyped-def]
    monkeypatch.setenv(TOKEN_ENV, DEMO_TOKEN)
    clock = FakeClock(START)
    sandbox, url = serve_sandbox(MastodonSim(clock=clock))
    clip = write_clip(tmp_path / "clip.mp4", seconds=0.5)
    cover = tmp_path / "cover.jpg"
    Image.new("RGB", (64, 112), (30, 90, 160)).save(cover, "JPEG")

    def make_connector(*, max_polls: int = 10, **options: Any) -> MastodonConnector:
        channel = ChannelConfig(name="peer-mastodon", platform=Platform("mastodon"), base_url=f"{url}/mastodon",
                                options=options, secret_envs={"token": TOKEN_ENV})
        connector = MastodonConnector(channel, timeout_s=10.0, clock=clock, sleep=lambda s: None)
        connector.video_max_polls = max_polls
        return connector

    return Context(sandbox=sandbox, url=url, prefix="mastodon", make_connector=make_connector,
                   secrets=(DEMO_TOKEN,), scratch={"clock": clock, "clip": str(clip), "cover": str(cover)})


@pytest.mark.parametrize("case", CASES, ids=case_id)
def test_video(case: Case, ctx: Context) -> None:
    run_case(case, ctx)
