"""P6: peak RSS of a worker on the five-year synthetic database (goal <= 150 MB).

Runs real `outreach` processes against a copy of the synthetic history (the one bench_analytics
caches in $BENCH_DIR) with a config whose channels point at a running sandbox: `outreach run
--once` publishing posts that are due now, and `outreach run` (the APScheduler worker, with its
harvest and audience jobs) for a few seconds with part of the history's metrics due again. Peak
RSS is the kernel's `ru_maxrss` of each child (os.wait4). Baselines in the same run: a bare
`python` and `python -c "import outreach.cli"`.

    python -m bench.bench_rss [--scale 1.0] [--due 200] [--harvest 300] [--seconds 8]
"""

from __future__ import annotations

import argparse
import json
import re
import shutil
import subprocess
import tempfile
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import text

from bench.bench_analytics import database as synthetic_database
from bench.publishing_kit import (
    CHANNEL,
    PYTHON,
    ROOT,
    Sandbox,
    child_env,
    outreach_command,
    queue_posts,
    settings_data,
    write_toml,
)
from outreach.db import Database
from outreach.db.migrate import upgrade
from outreach.demo import demo_channels

GOAL_MB = 150


# Runs in a small interpreter of its own: a child forked from this (large) benchmark process would
# inherit its high-water mark, since Linux carries ru_maxrss across fork and exec.
LAUNCHER = """
import json, os, signal, sys, time
cmd, run_for_s, log = json.loads(sys.argv[1])
pid = os.fork()
if pid == 0:
    fd = os.open(log, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
    os.dup2(fd, 1); os.dup2(fd, 2)
    os.execv(cmd[0], cmd)
deadline = None if run_for_s is None else time.monotonic() + run_for_s
while True:
    done, status, usage = os.wait4(pid, 0 if deadline is None else os.WNOHANG)
    if done:
        break
    if time.monotonic() >= deadline:
        os.kill(pid, signal.SIGTERM)
        deadline = None
    else:
        time.sleep(0.05)
print(json.dumps([usage.ru_maxrss, os.waitstatus_to_exitcode(status)]))
"""


def peak_rss(cmd: list[str], *, env: dict[str, str], log: Path, run_for_s: float | None = None) -> tuple[float, int]:
    """(peak RSS in MB, exit code) of one child; stopped with SIGTERM after `run_for_s` if given."""
    out = subprocess.run([PYTHON, "-S", "-c", LAUNCHER, json.dumps([cmd, run_for_s, str(log)])], cwd=ROOT, env=env,
                         capture_output=True, text=True, check=True)
    maxrss_kb, code = json.loads(out.stdout)
    return maxrss_kb / 1024, code


def copy_history(scale: float, directory: Path) -> Path:
    """A private copy of the cached synthetic history (generated first if missing)."""
    source = synthetic_database(scale)
    source.dispose()
    original = Path(source.url.split("///", 1)[1])
    target = directory / "history.db"
    shutil.copyfile(original, target)
    return target


def make_work(db: Database, *, due: int, harvest: int) -> None:
    """Posts due now (to publish) and metrics due now on published Mastodon posts (to harvest); the
    history is dated in the future of the wall clock, so without this the worker has nothing to do."""
    now = datetime.now(UTC)
    queue_posts(db, [now - timedelta(seconds=5)] * due, tag="rss")
    published = (now - timedelta(days=2)).strftime("%Y-%m-%d %H:%M:%S.%f")
    with db.engine.begin() as conn:
        ids = [row[0] for row in conn.execute(text(
            "SELECT id FROM posts WHERE status = 'published' AND channel = :channel ORDER BY id LIMIT :n"),
            {"channel": CHANNEL, "n": harvest})]
        if ids:
            marks = ",".join(str(i) for i in ids)
            conn.execute(text(f"UPDATE posts SET published_at = :at WHERE id IN ({marks})"), {"at": published})
            conn.execute(text(f"UPDATE post_metrics_latest SET next_harvest_at = :due WHERE post_id IN ({marks})"),
                         {"due": int(now.timestamp()) - 60})


def config_for(directory: Path, sandbox_url: str, db_path: Path) -> tuple[Path, dict[str, str]]:
    """Every demo channel on the sandbox (the history spans all platforms), secrets by env var."""
    channels, environ = demo_channels(sandbox_url)
    data = settings_data(sandbox_url, f"sqlite:///{db_path}", directory / "state", harvest_interval_s=60.0)
    data["channels"] = {**channels, **data["channels"]}
    return write_toml(directory / "outreach.toml", data), child_env(**environ)


def main(argv: list[str] | None = None, *, quick: bool = False) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.bench_rss", description=__doc__.split("\n\n")[0])
    parser.add_argument("--scale", type=float, default=0.1 if quick else 1.0,
                        help="size of the synthetic history (1.0 = five years, ~2 min to generate once)")
    parser.add_argument("--due", type=int, default=200, help="posts due now for the worker to publish")
    parser.add_argument("--harvest", type=int, default=300, help="published posts whose metrics fall due")
    parser.add_argument("--seconds", type=float, default=8.0, help="how long the full worker runs")
    args = parser.parse_args(argv or [])
    with tempfile.TemporaryDirectory() as tmp, Sandbox() as sandbox:
        directory = Path(tmp)
        path = copy_history(args.scale, directory)
        db = Database(f"sqlite:///{path}")
        upgrade(db)  # the cache may predate a migration
        make_work(db, due=args.due, harvest=args.harvest)
        db.dispose()
        config, env = config_for(directory, sandbox.url, path)
        size_mb = path.stat().st_size / 2**20
        bare, _ = peak_rss([PYTHON, "-c", "pass"], env=env, log=directory / "bare.log")
        imported, _ = peak_rss([PYTHON, "-c", "import outreach.cli"], env=env, log=directory / "import.log")
        once, code_once = peak_rss(outreach_command(config, "run", "--once"), env=env, log=directory / "once.log")
        published = len(sandbox.mastodon()["statuses"])
        worker, code_worker = peak_rss(outreach_command(config, "run"), env=env, log=directory / "worker.log",
                                       run_for_s=args.seconds)
        harvested = sum(int(n) for n in re.findall(r"(\d+) snapshots in", (directory / "worker.log").read_text()))
        for name, code in (("once", code_once), ("worker", code_worker)):
            if code != 0:
                print((directory / f"{name}.log").read_text()[-2000:])
                raise SystemExit(f"outreach run ({name}) exited with {code}")
    print(f"P6 worker peak RSS on the synthetic history x{args.scale:g} ({size_mb:,.0f} MB database), "
          f"ru_maxrss per process")
    print(f"  bare python                          {bare:6.1f} MB")
    print(f"  python -c 'import outreach.cli'      {imported:6.1f} MB")
    print(f"  outreach run --once ({published} published)  {once:6.1f} MB")
    print(f"  outreach run for {args.seconds:g} s (worker+harvest) {worker:6.1f} MB   "
          f"({harvested} snapshots harvested; goal <= {GOAL_MB} MB)")
    print(f"  worker - import outreach.cli         {max(once, worker) - imported:6.1f} MB")


if __name__ == "__main__":
    import sys

    main(sys.argv[1:])
