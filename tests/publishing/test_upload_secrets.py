"""Upload URLs and session URIs are capabilities: whoever holds YouTube's session URI (`upload_id`), TikTok's
`upload_url` (`upload_token`) or LinkedIn's signed `uploadUrl`s (`sau`) can write to that upload. Every
simulation issues them with a random marker of its own; a real worker publishes a video to every platform
that takes one, is interrupted mid-upload (the platforms refuse the bytes until it is killed with SIGKILL),
and a second worker finishes — on the same machine (it resumes from the owner-only file) or on another
(no file: it takes the safe path). Then the marker and every channel token are looked for in every text
column of every table (SQLite and PostgreSQL), both workers' stderr (debug logging on), `status --json`,
an `archive export` (WARC captures unpacked) and every dashboard page: found nowhere."""

from __future__ import annotations

import gzip
import os
import shutil
import signal
import stat
import subprocess
import sys
import time
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import create_engine, inspect, select, text

from outreach.connectors import connector_class
from outreach.db import Database
from outreach.db.migrate import upgrade
from outreach.db.models import Post, PublishAttempt
from outreach.domain import PostStatus
from outreach.media.synthetic import write_clip
from outreach.sandbox import simulations
from tests.dashboard.conftest import HASH
from tests.publishing.conftest import account_table, add_post

VIDEO_SIMS = [cls for cls in simulations() if connector_class(cls.prefix).uploads_video]
# The upload steps refused until the kill (LinkedIn's first part goes through: the clip is one chunk elsewhere).
UPLOAD_FAULTS = {
    "youtube": dict(method="PUT", path="upload/youtube/v3/videos", body={"error": {
        "code": 503, "message": "Backend Error", "errors": [{"reason": "backendError", "message": "Backend Error"}]}}),
    "linkedin": dict(method="PUT", path="/dms-uploads/video/", after=1),
    "tiktok": dict(method="PUT", path="/video/"),
    "facebook": dict(method="POST", path="/video-upload/"),
}
DONE = (PostStatus.PUBLISHED.value, PostStatus.MANUAL_DUE.value)


def _config(tmp_path: Path, db_url: str, body: str) -> Path:
    config = tmp_path / "outreach.toml"
    config.write_text(f"""state_dir = "{tmp_path / 'state'}"
[database]
url = "{db_url}"
[worker]
dispatch_interval_s = 0.3
lease_s = 1.5
http_timeout_s = 0.5
[worker.retry]
backoff_base_s = 0.2
backoff_max_s = 0.5
max_attempts = 1000
[dashboard.users.rita]
password_hash = "{HASH}"
roles = ["planner", "reviewer"]
""" + body, encoding="utf-8")
    return config


def _leaks(haystack: str | bytes, needles: list[str], where: str) -> list[str]:
    data = haystack if isinstance(haystack, bytes) else haystack.encode("utf-8", "replace")
    return [f"{where}: {needle[:12]}…" for needle in needles if needle.encode() in data]


def _database_leaks(db_url: str, needles: list[str]) -> list[str]:
    """Every text-like column of every table, read as text."""
    engine = create_engine(db_url)
    found: list[str] = []
    try:
        with engine.connect() as conn:
            for table in inspect(conn).get_table_names():
                for row in conn.execute(text(f'SELECT * FROM "{table}"')).mappings():
                    for column, value in row.items():
                        if value is not None and not isinstance(value, int | float | datetime):
                            found += _leaks(str(value), needles, f"{table}.{column}")
    finally:
        engine.dispose()
    return found


def _archive_leaks(bag: Path, needles: list[str]) -> list[str]:
    found: list[str] = []
    for path in bag.rglob("*"):
        if path.is_file():
            data = path.read_bytes()
            found += _leaks(gzip.decompress(data) if path.name.endswith(".gz") else data, needles,
                            str(path.relative_to(bag)))
    return found


def _dashboard_text() -> str:
    import streamlit as st

    from tests.dashboard.test_pages import PAGES, app, texts, visit

    st.cache_data.clear()
    st.cache_resource.clear()
    at = app().run()
    shown = [texts(at)]
    for page in PAGES:
        at = visit(at, page)
        shown.append(texts(at))
        shown += [str(getattr(e, "value", "")) for e in [*at.dataframe, *at.table, *at.metric]]
    return "\n".join(shown)


@pytest.mark.slow
@pytest.mark.parametrize("database,machine", [("sqlite", "same"), ("postgresql", "other")])
def test_no_upload_capability_is_kept_logged_archived_or_shown(
        database: str, machine: str, tmp_path: Path, serve_sandbox, monkeypatch, request) -> None:  # type: ignore[no-untyped-def]
    db_url = f"sqlite:///{tmp_path / 'outreach.db'}"
    if database == "postgresql":
        pg = request.getfixturevalue("pg_db")
        db_url = pg.url
    media = tmp_path / "media"
    sims = [cls(media_dir=media) for cls in VIDEO_SIMS]
    sandbox, url = serve_sandbox(*sims, media_dir=media)
    sandbox.sims["linkedin"].control("video", {"part_bytes": 256 * 1024})  # several parts: one goes, one is refused
    env: dict[str, str] = {**os.environ}
    channels = [account_table(sim.demo_account(url), env, "LEAK", "poll_interval_s = 0.1") for sim in sims]
    config = _config(tmp_path, db_url, f"""[media]
directory = "{media}"
public_base_url = "{url}/media"
""" + "\n".join(channels) + "\n")
    env["OUTREACH_CONFIG"] = str(config)
    env.pop("OUTREACH_DATABASE_URL", None)
    db = Database(db_url)
    upgrade(db)
    markers = [sim.capability_marker for sim in sims]
    tokens = sorted({v for k, v in env.items() if k.startswith("LEAK_") and len(v) >= 6})
    needles = markers + tokens

    clip = write_clip(tmp_path / "clip.mp4", seconds=3.2, audio=False, width=540, height=960)
    texts = {}
    for sim in sims:
        account = sim.demo_account(url)
        texts[sim.prefix] = f"Terugblik bijeenkomst Utrecht ({sim.prefix})"
        add_post(db, text=texts[sim.prefix], due_at=datetime.now(UTC) - timedelta(seconds=1),
                 channel=account.channel, platform=account.platform, media=[{"video": str(clip)}])
        if sim.prefix in UPLOAD_FAULTS:
            sandbox.add_fault(platform=sim.prefix, mode="error", status=503, times=None, **UPLOAD_FAULTS[sim.prefix])

    # 1. A worker starts every upload, is refused mid-way, retries, and is killed.
    first_log = (tmp_path / "first.err").open("wb")
    worker = subprocess.Popen([sys.executable, "-m", "outreach", "-v", "run", "--worker-id", "doomed"], env=env,
                              stdout=subprocess.DEVNULL, stderr=first_log)
    deadline = time.monotonic() + 90
    interrupted: set[str] = set()
    while time.monotonic() < deadline and worker.poll() is None and interrupted != set(UPLOAD_FAULTS):
        time.sleep(0.2)
        with db.session() as s:
            interrupted = set(s.scalars(select(Post.platform).join(PublishAttempt, PublishAttempt.post_id == Post.id)
                                        .where(PublishAttempt.outcome == "retry")))
    worker.send_signal(signal.SIGKILL)
    worker.wait(timeout=10)
    first_log.close()
    assert interrupted >= set(UPLOAD_FAULTS), f"not interrupted mid-upload: {set(UPLOAD_FAULTS) - interrupted}"
    leaks = _database_leaks(db_url, needles)  # the moment the most is in flight
    assert not leaks, "\n".join(leaks)
    resume = tmp_path / "state" / "resume"
    kept = sorted(resume.iterdir())
    assert len(kept) == 3, kept  # YouTube, LinkedIn and TikTok hold a capability while the upload is open
    assert {stat.S_IMODE(p.stat().st_mode) for p in kept} == {0o600}
    assert stat.S_IMODE(resume.stat().st_mode) == 0o700

    # 2. The faults end; a worker on this machine (or another, without the files) finishes.
    sandbox.clear_faults()
    if machine == "other":
        shutil.rmtree(resume)
    time.sleep(1.6)  # the killed worker's lease runs out
    logs = [(tmp_path / "first.err").read_bytes()]
    for _ in range(4):
        final = subprocess.run([sys.executable, "-m", "outreach", "-v", "run", "--once", "--worker-id", "after"],
                               env=env, capture_output=True, timeout=180)
        logs.append(final.stderr)
        assert final.returncode == 0, final.stderr.decode()[-3000:]
        with db.session() as s:
            open_posts = s.scalars(select(Post.platform).where(Post.status.not_in(DONE))).all()
        if not open_posts:
            break
        time.sleep(0.6)
    assert not open_posts, open_posts
    published = sandbox.published()
    for prefix, text_ in texts.items():
        if prefix != "tiktok" or published[prefix]:
            assert published[prefix] == Counter([text_]), (prefix, published[prefix])
    if machine == "same":  # resumed where the upload stood, not started over
        assert len(sandbox.sims["youtube"].sessions) == 1
        assert len(sandbox.sims["linkedin"].video.videos) == 1
        assert len(sandbox.sims["tiktok"].posts) == 1
    assert not resume.exists() or not list(resume.iterdir())  # deleted when the publish ended

    # 3. Nowhere: database, logs, status, archive, dashboard.
    leaks = _database_leaks(db_url, needles)
    for i, log in enumerate(logs):
        assert b"DEBUG" in log or i > 0
        leaks += _leaks(log, needles, f"worker {i} stderr")
    status = subprocess.run([sys.executable, "-m", "outreach", "status", "--json"], env=env, capture_output=True,
                            timeout=60)
    assert status.returncode == 0, status.stderr
    leaks += _leaks(status.stdout + status.stderr, needles, "status --json")
    today = datetime.now(UTC).date()
    bag = tmp_path / "bag"
    export = subprocess.run([sys.executable, "-m", "outreach", "archive", "export", "--from",
                             (today - timedelta(days=1)).isoformat(), "--to", (today + timedelta(days=1)).isoformat(),
                             str(bag)], env=env, capture_output=True, timeout=180)
    assert export.returncode == 0, export.stderr
    assert list(bag.rglob("*.warc.gz")), "the export holds the WARC captures of the uploads"
    leaks += _archive_leaks(bag, needles)
    monkeypatch.setenv("OUTREACH_CONFIG", str(config))
    shown = _dashboard_text()
    assert len(shown) > 500  # every page rendered
    leaks += _leaks(shown, needles, "dashboard")
    assert not leaks, "\n".join(leaks)
    db.dispose()
