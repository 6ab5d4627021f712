"""kill -9 real worker processes while they upload videos to Mastodon, Bluesky and LinkedIn and wait on
the platforms' processing, and restart them: every video post ends published exactly once, counted by
text on the platforms' side, with the platforms' own duplicate guards on and off."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from PIL import Image
from sqlalchemy import func, select

from outreach.db.models import Post, PublishAttempt
from outreach.domain import PostStatus
from outreach.media.synthetic import PHONE_TAGS, write_clip
from outreach.sandbox.bluesky import BlueskySim
from outreach.sandbox.linkedin import LinkedInSim
from outreach.sandbox.mastodon import MastodonSim
from tests.publishing.conftest import account_table, add_post, killable_worker

POSTS_PER_CHANNEL = 5


@pytest.mark.slow
@pytest.mark.parametrize("guards", [True, False], ids=["platform-guards-on", "platform-guards-off"])
def test_kill_9_during_video_uploads_and_processing(tmp_path: Path, serve_sandbox, guards: bool) -> None:  # type: ignore[no-untyped-def]
    media = tmp_path / "media"
    sims = [MastodonSim(media_dir=media), BlueskySim(media_dir=media), LinkedInSim(media_dir=media)]
    sims[0].control("set_processing", {"polls": 1})  # each video is still processing at the first poll,
    sims[1].control("video", {"polls": 1})  # so a worker sleeps (2-5 s) between polls: a window to kill in
    sims[2].control("video", {"polls": 1})
    sims[0].control("set_limits", {"rate_limit": 3000})  # kills make reconcile read statuses often
    sandbox, url = serve_sandbox(*sims, media_dir=media)
    sandbox.set_guards(guards)
    env: dict[str, str] = {**os.environ}
    channels = [account_table(sim.demo_account(url), env, "KILL") for sim in sims]
    db = killable_worker(tmp_path, env, f"""
[media]
directory = "{media}"
""" + "\n".join(channels) + "\n")
    # LinkedIn takes 3 s and 75 KB at least: a lossless clip, still tiny; phone tags to be stripped.
    clip = write_clip(tmp_path / "phone.mov", container="mov", tags=PHONE_TAGS, width=128, height=224,
                      seconds=3.2, options={"preset": "ultrafast", "qp": "0"})
    Image.new("RGB", (128, 224), (200, 30, 30)).save(tmp_path / "cover.jpg")
    (tmp_path / "c.nl.srt").write_text("1\n00:00:00,000 --> 00:00:01,000\nWelkom\n", encoding="utf-8")
    entry = {"video": str(clip), "alt_text": "Kaarten, geen mensen", "cover": str(tmp_path / "cover.jpg"),
             "captions": {"nl": str(tmp_path / "c.nl.srt")}}
    now = datetime.now(UTC)
    texts: dict[str, list[str]] = {}
    for sim in sims:
        account = sim.demo_account(url)
        for i in range(POSTS_PER_CHANNEL):
            text = f"{account.platform} video {i}: terugblik op de bijeenkomst"
            texts.setdefault(account.platform, []).append(text)
            add_post(db, text=text, due_at=now - timedelta(seconds=1), channel=account.channel,
                     platform=account.platform, media=[entry])
    # Now and then a platform acts on a POST and stalls its answer: the window to kill in.
    sandbox.add_fault(platform="*", mode="timeout_after", method="POST", delay_s=3.0, rate=0.05, times=None)

    def published() -> int:
        with db.session() as s:
            return s.scalar(select(func.count()).where(Post.status == PostStatus.PUBLISHED.value))

    rng = random.Random(18)
    kills, deadline, total = 0, time.monotonic() + 150, len(sims) * POSTS_PER_CHANNEL
    while published() < total and time.monotonic() < deadline and kills < 15:
        worker = subprocess.Popen([sys.executable, "-m", "outreach", "run", "--worker-id", f"kill-{kills}"],
                                  env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        time.sleep(rng.uniform(1.5, 4.0))
        worker.send_signal(signal.SIGKILL)
        worker.wait(timeout=10)
        kills += 1
    sandbox.clear_faults()
    time.sleep(1.6)  # let the last killed worker's lease run out
    final = subprocess.run([sys.executable, "-m", "outreach", "run", "--once", "--worker-id", "final"], env=env,
                           capture_output=True, text=True, timeout=300)
    assert final.returncode == 0, final.stderr
    assert kills >= 3, kills
    with db.session() as s:
        stuck = [(p.id, p.channel, p.status, p.last_error) for p in s.scalars(
            select(Post).where(Post.status != PostStatus.PUBLISHED.value))]
    assert not stuck, stuck
    with db.session() as s:
        outcomes = Counter(s.scalars(select(PublishAttempt.outcome)))
    print(f"kills {kills}, stalled answers {len(sandbox.fault_log)}, attempts {dict(outcomes)}")  # with -s
    assert outcomes["abandoned"] >= 1 and outcomes["reconciled"] >= 1  # killed mid-publish, then found
    held = sandbox.published()
    for platform, expected in texts.items():
        assert held[platform] == Counter(expected), f"{platform}: not exactly once"
