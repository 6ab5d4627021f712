"""kill -9 a real worker process while it uploads a video to YouTube, at three points, and restart:
every video ends on the channel exactly once (counted by text on the simulation's side), nothing lost.

- the upload session is opened but its URI never reached the worker (only the marker was saved);
- the last chunk is in (YouTube made the video) but the answer with its id never arrived;
- YouTube is still processing the video and the worker is between two polls.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select

from outreach.db.models import Post, PublishAttempt
from outreach.domain import PostStatus
from outreach.media.synthetic import write_clip
from outreach.sandbox.youtube import YouTubeSim
from tests.publishing.conftest import add_post, killable_worker, youtube_channel

POSTS = 3


def _session_opened(sandbox, sim) -> Callable[[], bool]:  # type: ignore[no-untyped-def]
    sandbox.add_fault(platform="youtube", mode="timeout_after", method="POST", path="upload/youtube/v3/videos",
                      delay_s=4.0)
    return lambda: bool(sandbox.fault_log) and bool(sim.sessions)


def _last_chunk_in(sandbox, sim) -> Callable[[], bool]:  # type: ignore[no-untyped-def]
    sandbox.add_fault(platform="youtube", mode="timeout_after", method="PUT", path="upload/youtube/v3/videos",
                      delay_s=4.0)
    return lambda: bool(sandbox.fault_log) and bool(sim.videos)


def _processing(sandbox, sim) -> Callable[[], bool]:  # type: ignore[no-untyped-def]
    sim.config["processing_polls"] = 3  # the worker polls, then waits poll_interval_s (5 s) before the next
    return lambda: any(v.polls_left < 3 for v in list(sim.videos.values()))


POINTS = {"session-opened": _session_opened, "last-chunk-in": _last_chunk_in, "processing": _processing}


@pytest.mark.slow
@pytest.mark.parametrize("point", list(POINTS))
def test_kill_9_during_a_youtube_upload(tmp_path: Path, serve_sandbox, point: str) -> None:  # type: ignore[no-untyped-def]
    media = tmp_path / "media"
    sim = YouTubeSim(media_dir=media)
    sim.config["processing_polls"] = 0
    sandbox, url = serve_sandbox(sim, media_dir=media)
    clip = write_clip(tmp_path / "clip.mp4", seconds=1.5)
    channel, secrets = youtube_channel(url, "KILL_YT")
    env = {**os.environ, **secrets}
    db = killable_worker(tmp_path, env, f"""
[media]
directory = "{media}"
""" + channel, max_attempts=20)
    texts = [f"Bijeenkomst {i} in Utrecht ({point})" for i in range(POSTS)]
    for text in texts:
        add_post(db, text=text, due_at=datetime.now(UTC) - timedelta(seconds=1), channel="peer-youtube",
                 platform="youtube", media=[{"video": str(clip), "captions": {}}])
    reached = POINTS[point](sandbox, sim)

    worker = subprocess.Popen([sys.executable, "-m", "outreach", "run", "--worker-id", "doomed"], env=env,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 60
    while not reached() and time.monotonic() < deadline and worker.poll() is None:
        time.sleep(0.02)
    worker.send_signal(signal.SIGKILL)
    worker.wait(timeout=10)
    assert reached(), f"the worker never reached {point}"
    with db.session() as s:
        assert s.scalar(select(func.count()).where(Post.status == PostStatus.PUBLISHED.value)) < POSTS
    sandbox.clear_faults()
    time.sleep(1.6)  # the killed worker's lease runs out
    final = subprocess.run([sys.executable, "-m", "outreach", "run", "--once", "--worker-id", "after"], env=env,
                           capture_output=True, text=True, timeout=120)
    assert final.returncode == 0, final.stderr

    assert Counter(sim.published_texts()) == Counter(texts)  # exactly once on the channel
    with db.session() as s:
        assert s.scalar(select(func.count()).where(Post.status == PostStatus.PUBLISHED.value)) == POSTS
        abandoned = s.scalar(select(func.count()).where(PublishAttempt.outcome == "abandoned"))
        reconciled = s.scalar(select(func.count()).where(PublishAttempt.outcome == "reconciled"))
    assert abandoned == 1  # the killed worker's attempt
    if point != "session-opened":  # there the video never existed: found nothing, uploaded once
        assert reconciled == 1
    db.dispose()
