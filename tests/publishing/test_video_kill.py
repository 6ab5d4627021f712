"""kill -9 real worker processes while they upload videos and wait on the platforms' processing, and
restart them: every video post ends published exactly once, counted by text on the platforms' side,
with the platforms' own duplicate guards on and off. One run per set of platforms:

- Mastodon, Bluesky and LinkedIn (multi-part upload, finalize, processing);
- Instagram Reels and Threads video by URL (container -> IN_PROGRESS -> FINISHED -> publish), Facebook
  Page Reels (start -> rupload -> finish -> processing and publishing phases) and TikTok Direct Post
  (init -> chunk PUT -> status -> PUBLISH_COMPLETE);
- Instagram Reels by resumable upload (container -> rupload -> processing -> publish) and TikTok's inbox
  flow (init -> PUT -> SEND_TO_USER_INBOX), where a simulated creator finishes each draft in the app
  that outreach hands to a person (`manual_due`); a draft nobody was told of would stay in the inbox.

Every platform's processing takes a few status polls, so a worker waits (about a second) between
polls: a window to kill in; a worker is killed 0.3-3 s after its first request. Now and then a
platform stalls its answer to a POST (after acting) or to an upload (before or after taking the
bytes), and once per run surely the call that makes the post, the last chunk and TikTok's init; a
worker is then killed at once, while it waits.
"""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from PIL import Image
from sqlalchemy import func, select

from outreach.db.models import Post, PublishAttempt
from outreach.domain import PostStatus
from outreach.media.synthetic import PHONE_TAGS, write_clip
from outreach.sandbox.bluesky import BlueskySim
from outreach.sandbox.core import PlatformSim, Sandbox
from outreach.sandbox.facebook import FacebookSim
from outreach.sandbox.instagram import InstagramSim
from outreach.sandbox.linkedin import LinkedInSim
from outreach.sandbox.mastodon import MastodonSim
from outreach.sandbox.threads import ThreadsSim
from outreach.sandbox.tiktok import TikTokSim
from tests.publishing.conftest import account_table, add_post, killable_worker

DONE = (PostStatus.PUBLISHED.value, PostStatus.MANUAL_DUE.value)  # manual_due: TikTok's inbox, for a person


def _slow_mastodon_bluesky_linkedin(sims: dict[str, Any]) -> None:
    sims["mastodon"].control("set_processing", {"polls": 1})  # still processing at the first poll
    sims["bluesky"].control("video", {"polls": 1})
    sims["linkedin"].control("video", {"polls": 1})
    sims["mastodon"].control("set_limits", {"rate_limit": 3000})  # kills make reconcile read statuses often


def _slow_meta_tiktok(sims: dict[str, Any]) -> None:
    for prefix in ("instagram", "facebook", "threads"):
        if prefix in sims:  # containers and Reels finish at the third status read
            sims[prefix].control("config", {"ready_after_polls": 3})
    sims["tiktok"].control("configure", {"polls_to_complete": 3, "daily_post_cap": 10_000,
                                         "init_limit_per_min": 10_000})


@dataclass(frozen=True)
class PlatformSet:
    sims: tuple[type[PlatformSim], ...]
    slow_down: Callable[[dict[str, Any]], None]
    clip: dict[str, Any]  # write_clip's options: each platform's smallest acceptable video
    posts: int  # per channel
    public_urls: bool = False  # [media] public_base_url: Meta fetches the video by URL (Threads must)
    tiktok_inbox: bool = False  # TikTok's default flow: drafts a person finishes in the app
    channel_lines: dict[str, tuple[str, ...]] = field(default_factory=dict)


META_CLIP = {"width": 540, "height": 960, "seconds": 3.2}  # Page Reels: 9:16, at least 540x960 and 3 s
SETS = {
    # LinkedIn takes 3 s and 75 KB at least: a lossless clip, still tiny.
    "mastodon-bluesky-linkedin": PlatformSet(
        (MastodonSim, BlueskySim, LinkedInSim), _slow_mastodon_bluesky_linkedin, posts=5,
        clip={"width": 128, "height": 224, "seconds": 3.2, "options": {"preset": "ultrafast", "qp": "0"}}),
    "meta-by-url-tiktok-direct": PlatformSet(
        (InstagramSim, FacebookSim, ThreadsSim, TikTokSim), _slow_meta_tiktok, posts=3, clip=META_CLIP,
        public_urls=True, channel_lines={"tiktok": ("poll_interval_s = 1",)}),
    "instagram-upload-tiktok-inbox": PlatformSet(
        (InstagramSim, TikTokSim), _slow_meta_tiktok, posts=5, clip=META_CLIP, tiktok_inbox=True,
        channel_lines={"tiktok": ("poll_interval_s = 1",)}),
}
CASES = [pytest.param(name, guards, id=f"{name}-guards-{'on' if guards else 'off'}")
         for name in SETS for guards in (True, False)]


# Once per run the step that makes the post (or takes its last byte) is done and its answer stalls; and
# TikTok's init: a publish_id the worker never saw.
STALLED_ONCE = {"instagram": [{"path": "media_publish"}], "threads": [{"path": "threads_publish"}],
                "facebook": [{"path": "video_reels", "after": 1}],
                "tiktok": [{"method": "PUT"}, {"path": "video/init", "after": 1}]}


def _stall_now_and_then(sandbox: Sandbox) -> None:
    """The platform acts on a POST (create, start, finish, publish) and stalls its answer; an upload
    (a chunk PUT, a rupload POST) stalls before or after the platform took the bytes."""
    for prefix in set(sandbox.sims) & set(STALLED_ONCE):
        for where in STALLED_ONCE[prefix]:
            sandbox.add_fault(platform=prefix, mode="timeout_after", delay_s=3.0, **where)
    sandbox.add_fault(platform="*", mode="timeout_after", method="POST", delay_s=3.0, rate=0.05, times=None)
    for mode in ("timeout_before", "timeout_after"):
        sandbox.add_fault(platform="*", mode=mode, method="PUT", delay_s=3.0, rate=0.1, times=None)
        sandbox.add_fault(platform="*", mode=mode, path="upload", delay_s=3.0, rate=0.1, times=None)


class Creator:
    """The TikTok creator, in the app: finishes each draft in the inbox that outreach has handed to a
    person (`manual_due`, its publish_id saved), writing the post's text as the caption."""

    def __init__(self, sim: TikTokSim, db: Any) -> None:
        self.sim, self.db = sim, db

    def __call__(self) -> None:
        with self.db.session() as s:
            told = {p.handle.get("publish_id"): p.text for p in s.scalars(
                select(Post).where(Post.platform == "tiktok", Post.status == PostStatus.MANUAL_DUE.value))}
        for draft in self.sim.state()["posts"]:
            if draft["status"] == "SEND_TO_USER_INBOX" and draft["publish_id"] in told:
                self.sim.control("finish_in_app", {"publish_id": draft["publish_id"],
                                                   "description": told[draft["publish_id"]]})

    def drafts_left(self) -> list[str]:
        return [p["publish_id"] for p in self.sim.state()["posts"] if p["status"] == "SEND_TO_USER_INBOX"]


def _phase(sandbox: Sandbox, stalls: int, requests: int) -> str:
    """Where the killed worker was: the answer it was waiting for, or the last request it made."""
    if len(sandbox.fault_log) > stalls:
        rule = sandbox.fault_log[-1][3]
        return "stalled " + ("upload" if rule.method == "PUT" or rule.path == "upload" else "post")
    if len(sandbox.request_log) == requests:
        return "starting"
    _, method, path, _ = sandbox.request_log[-1]
    if method == "PUT" or "upload" in path:
        return "upload"
    if method == "GET" or "status" in path:
        return "processing"
    return "create/publish"


@pytest.mark.slow
@pytest.mark.parametrize(("platforms", "guards"), CASES)
def test_kill_9_during_video_uploads_and_processing(tmp_path: Path, serve_sandbox, platforms: str,
                                                    guards: bool) -> None:  # type: ignore[no-untyped-def]
    spec = SETS[platforms]
    media = tmp_path / "media"
    sims = [cls(media_dir=media) for cls in spec.sims]
    seed = os.environ.get("OUTREACH_FAULT_SEED")  # another seed: other kill moments, other stalls
    sandbox, url = serve_sandbox(*sims, media_dir=media, seed=int(seed or 0))
    sandbox.set_guards(guards)
    spec.slow_down(sandbox.sims)
    env: dict[str, str] = {**os.environ}
    accounts = [sim.demo_account(url) for sim in sims]
    if spec.tiktok_inbox:  # TikTok's default: not audited, so the inbox flow
        accounts = [replace(a, options={k: v for k, v in a.options.items() if k not in ("audited", "privacy_level")})
                    if a.platform == "tiktok" else a for a in accounts]
    channels = [account_table(a, env, "KILL", *spec.channel_lines.get(a.platform, ())) for a in accounts]
    public = f'public_base_url = "{url}/media"\n' if spec.public_urls else ""
    db = killable_worker(tmp_path, env, f'[media]\ndirectory = "{media}"\n{public}' + "\n".join(channels) + "\n")
    clip = write_clip(tmp_path / "phone.mov", container="mov", tags=PHONE_TAGS, **spec.clip)  # tags to be stripped
    Image.new("RGB", (spec.clip["width"], spec.clip["height"]), (200, 30, 30)).save(tmp_path / "cover.jpg")
    (tmp_path / "c.nl.srt").write_text("1\n00:00:00,000 --> 00:00:01,000\nWelkom\n", encoding="utf-8")
    entry = {"video": str(clip), "alt_text": "Kaarten, geen mensen", "cover": str(tmp_path / "cover.jpg"),
             "captions": {"nl": str(tmp_path / "c.nl.srt")}}
    now = datetime.now(UTC)
    texts: dict[str, list[str]] = {}
    for account in accounts:
        for i in range(spec.posts):
            text = f"{account.platform} video {i}: terugblik op de bijeenkomst"
            texts.setdefault(account.platform, []).append(text)
            add_post(db, text=text, due_at=now - timedelta(seconds=1), channel=account.channel,
                     platform=account.platform, media=[entry])
    total = sum(len(t) for t in texts.values())
    creator = Creator(sandbox.sims["tiktok"], db) if spec.tiktok_inbox else (lambda: None)
    _stall_now_and_then(sandbox)

    def done() -> int:
        with db.session() as s:
            return s.scalar(select(func.count()).where(Post.status.in_(DONE)))

    rng = random.Random(int(seed or 18))
    kills: Counter[str] = Counter()
    deadline = time.monotonic() + 100
    while done() < total and time.monotonic() < deadline and sum(kills.values()) < 15:
        worker = subprocess.Popen([sys.executable, "-m", "outreach", "run", "--worker-id", f"kill-{sum(kills.values())}"],
                                  env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        stalls, requests = len(sandbox.fault_log), len(sandbox.request_log)
        started = time.monotonic() + 30  # its first request starts the clock (start-up takes seconds)
        until = rng.uniform(0.3, 3.0)
        while time.monotonic() < started + until and worker.poll() is None and len(sandbox.fault_log) == stalls:
            if started > time.monotonic() and len(sandbox.request_log) > requests:
                started = time.monotonic()
            creator()
            time.sleep(0.02)
        worker.send_signal(signal.SIGKILL)
        worker.wait(timeout=10)
        kills[_phase(sandbox, stalls, requests)] += 1
    sandbox.clear_faults()
    time.sleep(1.6)  # let the last killed worker's lease run out
    drain_until, final = time.monotonic() + 60, 0  # retries scheduled a moment ahead need another pass
    while done() < total and time.monotonic() < drain_until:
        errors = tmp_path / f"final-{final}.err"
        with errors.open("w") as err:
            run = subprocess.Popen([sys.executable, "-m", "outreach", "run", "--once", "--worker-id", f"final-{final}"],
                                   env=env, stdout=subprocess.DEVNULL, stderr=err)
            while run.poll() is None:
                creator()
                time.sleep(0.02)
        assert run.returncode == 0, errors.read_text()
        final += 1
        time.sleep(0 if done() == total else 1)
    creator()
    with db.session() as s:
        stuck = [(p.id, p.channel, p.status, p.last_error) for p in s.scalars(select(Post).where(Post.status.not_in(DONE)))]
        outcomes = Counter(s.scalars(select(PublishAttempt.outcome)))
        handed = [(p.channel, p.status, p.last_error) for p in s.scalars(select(Post).where(
            Post.status == PostStatus.MANUAL_DUE.value))]
    print(f"\n{platforms}: {total} posts, kills by where the worker was: {dict(kills)}; attempts: {dict(outcomes)}")
    assert not stuck, stuck
    held = sandbox.published()  # TikTok's inbox: what the creator finished in the app
    for platform, expected in texts.items():
        assert held[platform] == Counter(expected), f"{platform}: not exactly once"
    if spec.tiktok_inbox:
        assert creator.drafts_left() == []  # no second draft that nobody was told of
        assert all(p[0] == "peer-tiktok" and "twice" not in (p[2] or "") for p in handed), handed
    else:
        assert handed == []
    assert sum(kills.values()) >= 5 and kills["processing"] >= 1, kills
    assert outcomes["abandoned"] >= 1 and outcomes["reconciled"] >= 1, outcomes  # killed mid-publish, then found
