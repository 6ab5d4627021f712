"""Facebook Page Reels against the Facebook simulation over real HTTP on loopback: start, rupload with
offset/file_size, finish, status phases; faults between the steps end in one Reel, counted on the
simulation's side by description and by the video's bytes."""

from __future__ import annotations

import hashlib
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from outreach.connectors.errors import ContentRejected, TransientError
from outreach.connectors.facebook import FacebookConnector
from outreach.domain import Platform
from outreach.media.synthetic import write_clip
from outreach.sandbox.facebook import DEMO_TOKEN, PAGE_ID, FacebookSim
from tests.connectors.harness import Case, Context, Outcome, case_id, run_case
from tests.connectors.meta_fixtures import request
from tests.connectors.test_meta_video import TEXT, publish, sha, video, video_context

SLOW = {"timeout_s": 0.5}


def reels(outcome: Outcome) -> list[dict[str, Any]]:
    return [p for p in outcome.ctx.state()["posts"] if p.get("video_id")]


def one_reel(outcome: Outcome) -> None:
    [post] = reels(outcome)
    assert (post["message"], post["video_sha"], post["status_type"]) == (TEXT, sha(outcome.ctx), "added_video")
    assert outcome.result.remote_id == post["id"] and outcome.result.raw["video_id"] == post["video_id"]
    assert outcome.ctx.saved_handles[0]["video_id"] == post["video_id"]
    assert outcome.ctx.requests_to("POST", "/video-upload/") == 1


def none(outcome: Outcome) -> None:
    assert reels(outcome) == []


def retry_makes_one(*, finishes: int):
    """The retry (with the saved handle) ends with one Reel, after `reconcile` said what it knows."""
    def check(outcome: Outcome) -> None:
        ctx = outcome.ctx
        retry = request(ctx, TEXT, media=ctx.scratch["req"].media, handle=ctx.saved_handles[-1])
        ctx.make_connector().reconcile(retry)
        result = ctx.make_connector().publish(retry, save_handle=ctx.save_handle)
        [post] = reels(outcome)
        assert result.remote_id == post["id"] and post["video_sha"] == sha(ctx)
        assert len(ctx.state()["reels"]) == 1
        assert ctx.requests_to("POST", "/video_reels") == 1 + finishes
    return check


def resumed_from_offset(outcome: Outcome) -> None:
    ctx = outcome.ctx
    [handle] = ctx.saved_handles
    [reel] = ctx.state()["reels"]
    assert reel["bytes"] == 0 and not reel["finished"]
    ctx.make_connector().publish(request(ctx, TEXT, media=ctx.scratch["req"].media, handle=handle),
                                 save_handle=ctx.save_handle)
    [post] = reels(outcome)
    assert post["video_sha"] == sha(ctx) and ctx.requests_to("POST", "/video_reels") == 2


CASES = [
    Case("reel: start, upload, finish, phases", publish(), check=one_reel),
    Case("reel too short: processing error 1363023", publish("short.mp4"), raises=ContentRejected,
         message="1363023", check=none),
    Case("not a video: processing error", publish("broken.mp4"), raises=ContentRejected,
         message="could not process the Reel", check=none),
    Case("answer to finish lost: reconcile reads the status, no second finish", publish(), options=SLOW,
         faults=({"mode": "timeout_after", "method": "POST", "path": "/video_reels", "delay_s": 5.0, "after": 1},),
         raises=TransientError, ambiguous=True, check=retry_makes_one(finishes=1)),
    Case("connection dropped after the upload: the retry finishes the same video", publish(),
         faults=({"mode": "reset_after", "method": "POST", "path": "/video-upload/"},),
         raises=TransientError, ambiguous=True, check=retry_makes_one(finishes=1)),
    Case("upload refused before any byte: the retry uploads from 0", publish(),
         faults=({"mode": "reset_before", "method": "POST", "path": "/video-upload/"},),
         raises=TransientError, check=resumed_from_offset),
    Case("still processing after the poll limit: the next attempt only polls", publish(),
         options={"max_polls": 1}, raises=TransientError, message="still processing",
         check=retry_makes_one(finishes=1)),
]


@pytest.fixture
def fb(serve_sandbox, monkeypatch, tmp_path: Path) -> Context:
    return video_context(serve_sandbox, monkeypatch, tmp_path, FacebookSim, FacebookConnector, Platform("facebook"),
                         DEMO_TOKEN, page_id=PAGE_ID)


@pytest.mark.parametrize("case", CASES, ids=case_id)
def test_facebook_reels(case: Case, fb: Context) -> None:
    run_case(case, fb)


def test_landscape_reel_is_refused_by_processing(fb: Context) -> None:
    write_clip(fb.scratch["media"] / "video" / "wide.mp4", width=112, height=64, seconds=3.2, audio=False)
    with pytest.raises(ContentRejected, match="9:16"):
        publish("wide.mp4")(fb.make_connector(), fb)


def test_captions_per_locale_and_the_cover_go_up_before_finish(fb: Context) -> None:
    srt = fb.scratch["media"] / "reel.nl.srt"
    srt.write_text("1\n00:00:00,000 --> 00:00:01,000\nWelkom\n", encoding="utf-8")
    en = fb.scratch["media"] / "reel.en.srt"
    en.write_text("1\n00:00:00,000 --> 00:00:01,000\nWelcome\n", encoding="utf-8")
    item = replace(video(fb, cover=True), captions=(("en", str(en)), ("nl", str(srt))))
    fb.make_connector().publish(request(fb, TEXT, media=(item,)), save_handle=fb.save_handle)
    [reel] = fb.state()["reels"]
    assert reel["captions"] == ["en_US", "nl_NL"] and reel["post_id"]
    assert reel["cover_sha"] == hashlib.sha256((fb.scratch["media"] / "cover.jpg").read_bytes()).hexdigest()


def test_webvtt_captions_go_up_as_srt(fb: Context) -> None:
    """Facebook takes SRT only: a .vtt caption file is converted, not sent as it is under an .srt name."""
    vtt = fb.scratch["media"] / "reel.en.vtt"
    vtt.write_text("WEBVTT\n\n00:00.000 --> 00:01.000\nWelcome\n", encoding="utf-8")
    item = replace(video(fb), captions=(("en", str(vtt)),))
    fb.make_connector().publish(request(fb, TEXT, media=(item,)), save_handle=fb.save_handle)
    [reel] = fb.sandbox.sims["facebook"].reels.values()  # type: ignore[attr-defined]
    assert reel.captions == {"en_US": "1\n00:00:00,000 --> 00:00:01,000\nWelcome\n"}
