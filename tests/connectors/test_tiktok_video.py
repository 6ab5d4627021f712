"""TikTok video against the TikTok simulation over real HTTP on loopback: the inbox flow (the creator
finishes the post in the app) and Direct Post for an audited channel, chunked by TikTok's rules, with
dropped chunks resumed from the status's `uploaded_bytes`; counted on the sandbox side by the bytes."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

import pytest

from outreach.connectors.errors import ContentRejected, NeedsPerson, TransientError
from outreach.connectors.tiktok_video import MB, chunk_plan, chunk_ranges
from outreach.domain import MediaItem, PublishRequest
from outreach.media.synthetic import write_clip
from outreach.sandbox.tiktok_video import chunk_problem
from tests.connectors.harness import Case, Context, Outcome, case_id, run_case
from tests.connectors.test_tiktok import PUBLIC, TEXT, make_tiktok_context
from tests.connectors.video_acts import elsewhere

SHORT_POLLS = {"max_polls": 8}


def clip(ctx: Context, name: str) -> Path:
    """reel.mp4 (3.2 s, 360x640), short.mp4 (1 s), big.mp4 (the reel padded with a `free` box to 21 MB)."""
    path = ctx.scratch["dir"] / name
    if not path.exists():
        seconds = 1.0 if name == "short.mp4" else 3.2
        write_clip(path, width=360, height=640, seconds=seconds, audio=False)
        if name == "big.mp4":
            pad = 21 * MB - path.stat().st_size
            with path.open("ab") as fh:
                fh.write(pad.to_bytes(4, "big") + b"free" + bytes(pad - 8))
    return path


def request(ctx: Context, name: str = "reel.mp4", handle: dict[str, Any] | None = None) -> PublishRequest:
    media = (MediaItem(path=str(clip(ctx, name)), mime_type="video/mp4", width=360, height=640, duration_s=3.2,
                       cover_s=1.0),)
    return PublishRequest(post_id=1, text=TEXT, language="nl", idempotency_key="post-1-nl", media=media,
                          handle=handle or {}, attempt_started_at=ctx.scratch["clock"]())


def publish(name: str = "reel.mp4"):
    def act(connector, ctx: Context):
        req = request(ctx, name)
        ctx.scratch["req"] = req
        return connector.publish(req, save_handle=ctx.save_handle)
    return act


def sha(ctx: Context, name: str = "reel.mp4") -> str:
    return hashlib.sha256(clip(ctx, name).read_bytes()).hexdigest()


def merged(ctx: Context) -> dict[str, Any]:
    handle: dict[str, Any] = {}
    for saved in ctx.saved_handles:
        handle.update(saved)
    return handle


def in_inbox(outcome: Outcome) -> None:
    ctx = outcome.ctx
    [post] = ctx.state()["posts"]
    assert (post["status"], post["post_mode"], post["description"]) == ("SEND_TO_USER_INBOX", "MEDIA_UPLOAD", "")
    assert post["video_sha256"] == sha(ctx) and ctx.requests_to("POST", "/inbox/video/init/") == 1
    assert merged(ctx)["publish_id"] == post["publish_id"]
    assert "finish the post in the TikTok app" in str(outcome.error) and "twice" not in str(outcome.error)
    ctx.control("finish_in_app", {"publish_id": post["publish_id"]})
    assert ctx.state()["posts"][0]["status"] == "PUBLISH_COMPLETE"


def published(name: str = "reel.mp4", *, puts: int = 1):
    def check(outcome: Outcome) -> None:
        ctx = outcome.ctx
        [post] = ctx.state()["posts"]
        assert (post["status"], post["description"], post["privacy_level"]) == (
            "PUBLISH_COMPLETE", TEXT, "PUBLIC_TO_EVERYONE")
        assert post["video_sha256"] == sha(ctx, name) and post["video_cover_ms"] == 1000
        assert outcome.result.url == f"https://www.tiktok.com/@doetank.peer/video/{post['post_id']}"
        assert ctx.requests_to("PUT", "/video/") == puts
    return check


def retry_finishes_once(*, reconcile_none: bool, puts: int, name: str = "reel.mp4"):
    """After a broken chunk: reconcile says whether bytes are missing; the retry sends only those."""
    def check(outcome: Outcome) -> None:
        ctx = outcome.ctx
        retry = request(ctx, name, handle=merged(ctx))
        connector = ctx.make_connector(**PUBLIC, **SHORT_POLLS)
        if reconcile_none:
            assert connector.reconcile(retry) is None
        result = connector.publish(retry, save_handle=ctx.save_handle)
        [post] = ctx.state()["posts"]
        assert result.remote_id == post["post_id"] and post["video_sha256"] == sha(ctx, name)
        assert ctx.requests_to("POST", "/video/init/") == 1 and ctx.requests_to("PUT", "/video/") == puts
    return check


def retried_on_another_machine(outcome: Outcome) -> None:
    """Without the upload_url (a capability, in the first machine's resume file): the status shows the
    upload unfinished, nothing was created, so a new init; one post."""
    ctx = outcome.ctx
    retry = request(ctx, "big.mp4", handle=elsewhere(merged(ctx)))
    assert retry.handle["publish_id"] and retry.handle["upload_url"] is None
    connector = ctx.make_connector(**PUBLIC, **SHORT_POLLS)
    assert connector.reconcile(retry) is None
    result = connector.publish(retry, save_handle=ctx.save_handle)
    first, second = ctx.state()["posts"]
    assert first["status"] == "PROCESSING_UPLOAD"  # half a file: no post, expires at TikTok
    assert result.remote_id == second["post_id"] and second["video_sha256"] == sha(ctx, "big.mp4")
    assert ctx.requests_to("POST", "/video/init/") == 2


CASES = [
    Case("inbox video (default): uploaded, the creator finishes it in the app", publish(), raises=NeedsPerson,
         check=in_inbox),
    Case("direct post video (audited, public): one chunk under 5 MB", publish(), options={**PUBLIC, **SHORT_POLLS},
         check=published()),
    Case("direct post video of 21 MB: two chunks of 10 MB and 11 MB", publish("big.mp4"),
         options={**PUBLIC, **SHORT_POLLS}, check=published("big.mp4", puts=2)),
    Case("second chunk refused before it arrived: the retry sends only that chunk", publish("big.mp4"),
         options={**PUBLIC, **SHORT_POLLS}, faults=({"mode": "reset_before", "method": "PUT", "after": 1},),
         raises=TransientError, check=retry_finishes_once(reconcile_none=True, puts=3, name="big.mp4")),
    Case("second chunk refused, the retry on another machine: a new init, one post", publish("big.mp4"),
         options={**PUBLIC, **SHORT_POLLS}, faults=({"mode": "reset_before", "method": "PUT", "after": 1},),
         raises=TransientError, check=retried_on_another_machine),
    Case("answer to the last chunk lost: no new init, the retry only polls", publish(),
         options={**PUBLIC, **SHORT_POLLS}, faults=({"mode": "reset_after", "method": "PUT"},),
         raises=TransientError, ambiguous=True, check=retry_finishes_once(reconcile_none=False, puts=1)),
    Case("video under 3 s: TikTok fails it (duration_check_failed)", publish("short.mp4"),
         options={**PUBLIC, **SHORT_POLLS}, raises=ContentRejected, message="duration_check_failed"),
]


@pytest.fixture
def ctx(serve_sandbox, monkeypatch, tmp_path: Path) -> Context:
    return make_tiktok_context(serve_sandbox, monkeypatch, tmp_path)


@pytest.mark.parametrize("case", CASES, ids=case_id)
def test_tiktok_video(case: Case, ctx: Context) -> None:
    run_case(case, ctx)


def test_direct_post_caption_over_2200_utf16_units_is_refused_before_init(ctx: Context) -> None:
    req = request(ctx)
    long = PublishRequest(**{**{f: getattr(req, f) for f in req.__dataclass_fields__}, "text": "🏳️‍🌈" * 400})
    with pytest.raises(ContentRejected, match="2400 UTF-16 units long; a TikTok video's caption allows 2200"):
        ctx.make_connector(**PUBLIC).publish(long, save_handle=ctx.save_handle)
    assert ctx.requests_to("POST", "/video/init/") == 0


@pytest.mark.parametrize("size", [1, 5 * MB - 1, 5 * MB, 12 * MB, 64 * MB, 64 * MB + 1, 130 * MB, 4 * 1024 * MB,
                                  int(4.9 * 1024 * MB)])
def test_chunk_plan_follows_tiktoks_rules(size: int) -> None:
    chunk, count = chunk_plan(size)
    assert chunk_problem(size, chunk, count) is None, (size, chunk, count)
    ranges = chunk_ranges(size, chunk, count)
    assert ranges[0][0] == 0 and ranges[-1][1] == size and len(ranges) == count <= 1000
    assert all(a[1] == b[0] for a, b in zip(ranges, ranges[1:], strict=False))


def test_sim_refuses_broken_chunk_plans() -> None:
    assert chunk_problem(3 * MB, 3 * MB, 1) is None
    assert "under 5 MB" in chunk_problem(3 * MB, 1 * MB, 3)
    assert "between 5 MB and 64 MB" in chunk_problem(200 * MB, 100 * MB, 2)
    assert "floor" in chunk_problem(25 * MB, 10 * MB, 3)
    assert "over 64 MB" in chunk_problem(100 * MB, 60 * MB, 1)
    assert "1000" in chunk_problem(6000 * MB, 5 * MB, 1200)
