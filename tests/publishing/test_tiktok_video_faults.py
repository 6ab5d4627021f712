"""TikTok video through the real dispatcher and the real media step. Direct Post (an audited channel) with
dropped, refused and failing chunk PUTs and status calls injected at random: every video ends published
exactly once (counted on the simulation's side by the bytes) because the publish_id and upload_url are
saved before the first byte and a broken upload continues where TikTok's `uploaded_bytes` says. The
inbox flow ends with one draft per post, handed to a person (`manual_due`)."""

from __future__ import annotations

import hashlib
import os
from collections import Counter
from pathlib import Path

import pytest

from outreach.db.models import Post
from outreach.domain import PostStatus
from outreach.media.synthetic import PHONE_TAGS, write_clip
from outreach.sandbox import build_sandbox, serve
from outreach.sandbox.tiktok import TikTokSim
from tests.publishing.conftest import FakeClock
from tests.publishing.drain import drain
from tests.publishing.video_world import add_video_posts, video_dispatcher

INTERNAL = {"data": {}, "error": {"code": "internal_error", "message": "Something went wrong.", "log_id": "x"}}
WHERE = [dict(method="PUT"), dict(path="/status/fetch/")]  # after the init's publish_id is saved
MODES = [dict(mode="error", status=500, body=INTERNAL), dict(mode="timeout_after", delay_s=0.35),
         dict(mode="reset_after"), dict(mode="reset_before")]


@pytest.mark.parametrize("audited", [True, False], ids=["direct", "inbox"])
def test_tiktok_video_through_the_dispatcher(audited: bool, tmp_path: Path, sqlite_db, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    clock = FakeClock()
    media_dir = tmp_path / "media"
    sandbox = build_sandbox(clock=clock, seed=int(os.environ.get("OUTREACH_FAULT_SEED", "5")), media_dir=media_dir)
    server = serve(sandbox)
    try:
        account = TikTokSim.demo_account(server.url)
        dispatcher = video_dispatcher(account, db=sqlite_db, clock=clock, tmp_path=tmp_path, monkeypatch=monkeypatch,
                                      media={"directory": str(media_dir)},
                                      drop=() if audited else ("audited", "privacy_level"))
        clip = write_clip(tmp_path / "phone.mov", container="mov", tags=PHONE_TAGS, seconds=3.2, audio=False,
                          width=360, height=640)
        texts = add_video_posts(sqlite_db, account, clock, clip, 5, spacing_s=20)
        if audited:
            for where in WHERE:
                for mode in MODES:
                    sandbox.add_fault(platform="tiktok", times=None, rate=0.12, **where, **mode)
        clock.advance(seconds=10)
        in_app = (Post.platform == "tiktok") & (Post.status == PostStatus.MANUAL_DUE.value)
        stuck = drain(dispatcher, sqlite_db, clock, settled=None if audited else in_app)
        fired = Counter(mode for _, mode, _, _ in sandbox.fault_log)
        assert not stuck, f"still not done: {stuck}; faults fired: {fired}"
        posts = sandbox.sims["tiktok"].state()["posts"]
        [served] = list((media_dir / "video").iterdir())
        assert [t for t in (b"+52.3676", b"iPhone", b"Apple") if t in served.read_bytes()] == []
        assert {p["video_sha256"] for p in posts} == {hashlib.sha256(served.read_bytes()).hexdigest()}
        if audited:
            assert sum(fired.values()) >= 4, fired
            assert sandbox.published()["tiktok"] == Counter(texts)  # each video exactly once
        else:
            assert [p["status"] for p in posts] == ["SEND_TO_USER_INBOX"] * len(texts)  # one draft per post
            with sqlite_db.session() as s:
                assert s.query(Post).filter(in_app).count() == len(texts)
    finally:
        server.stop()


@pytest.mark.parametrize(("privacy", "lost"), [("PUBLIC_TO_EVERYONE", 1), ("SELF_ONLY", 1), (None, 1), (None, 5)],
                         ids=["public", "private", "inbox", "inbox-five-lost"])
def test_video_whose_init_answer_was_lost_is_sent_once(privacy: str | None, lost: int, tmp_path: Path, sqlite_db,
                                                       monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """TikTok acts on `video/init` but its answer never arrives (a worker killed, a timeout): no
    publish_id was saved, so no byte went up, and TikTok cannot publish (or put in the inbox) a video it
    never got. The next attempt inits again at once, instead of waiting 30 minutes for `video/list` or
    handing a post that cannot exist to a person; the orphaned init holds nothing, and the person who
    finishes an inbox draft is not told of a second one. Five such inbox inits are no five drafts
    waiting (at most 5 may): the sixth is not refused with `spam_risk_too_many_pending_share`, which
    nobody could clear (the creator sees no draft to finish or delete)."""
    clock = FakeClock()
    media_dir = tmp_path / "media"
    sandbox = build_sandbox(clock=clock, media_dir=media_dir)
    server = serve(sandbox)
    try:
        account = TikTokSim.demo_account(server.url)
        account.options["privacy_level"] = privacy
        dispatcher = video_dispatcher(account, db=sqlite_db, clock=clock, tmp_path=tmp_path, monkeypatch=monkeypatch,
                                      media={"directory": str(media_dir)},
                                      drop=() if privacy else ("audited", "privacy_level"))
        clip = write_clip(tmp_path / "clip.mp4", seconds=3.2, audio=False, width=360, height=640)
        texts = add_video_posts(sqlite_db, account, clock, clip, 1, spacing_s=1)
        sandbox.add_fault(platform="tiktok", mode="timeout_after", method="POST", path="/video/init/", delay_s=1.0,
                          times=lost)
        clock.advance(seconds=10)
        in_app = Post.status == PostStatus.MANUAL_DUE.value
        stuck = drain(dispatcher, sqlite_db, clock, settled=None if privacy else in_app)
        assert not stuck, stuck
        assert len(sandbox.fault_log) == lost
        posts = sandbox.sims["tiktok"].state()["posts"]
        done = "PUBLISH_COMPLETE" if privacy else "SEND_TO_USER_INBOX"
        assert [p["status"] for p in posts] == ["PROCESSING_UPLOAD"] * lost + [done]  # the orphans got no bytes
        if privacy:
            assert [p["privacy_level"] for p in posts] == [privacy, privacy]
            assert Counter(p["description"] for p in posts if p["status"] == done) == Counter(texts)
        else:
            with sqlite_db.session() as s:
                [post] = s.query(Post).all()
            assert post.status == PostStatus.MANUAL_DUE and "twice" not in (post.last_error or ""), post.last_error
    finally:
        server.stop()
