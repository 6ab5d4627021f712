"""P2: publish lateness of 500 posts due within 10 s (spread evenly over the window), driven by a real
`outreach run` worker (APScheduler wake-ups) against the sandbox in its own process; lateness is the
sandbox's `created_at` minus `due_at`. Baseline in the same run: the same schedule driven by a bare
sleep-until-due loop sending the same requests. Prints p50 / p99 / max of both (goal p99 <= 250 ms),
and of the worker once more with `[archive] capture = false` (no WARC records, no permalink fetches).

    python -m bench.bench_lateness [--posts 500] [--window 10] [--lead 5]
"""

from __future__ import annotations

import argparse
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from bench.publishing_kit import (
    Sandbox,
    Worker,
    bare_post,
    bare_session,
    duplicates,
    fresh_posts,
    parse_iso,
    percentile,
    queue_posts,
    settings_data,
    wait_until,
    write_toml,
)
from outreach.db import Database
from outreach.db.migrate import upgrade

POSTS = 500
WINDOW_S = 10.0
LEAD_S = 5.0  # a worker process needs a few seconds to start on a busy machine


def schedule(n: int, window_s: float, lead_s: float) -> list[datetime]:
    t0 = datetime.now(UTC) + timedelta(seconds=lead_s)
    return [t0 + timedelta(seconds=window_s * i / n) for i in range(n)]


def lateness_ms(sandbox: Sandbox, due_by_key: dict[str, datetime]) -> list[float]:
    state = sandbox.mastodon()
    if duplicates(state) or len(state["statuses"]) != len(due_by_key):
        raise SystemExit(f"{len(state['statuses'])}/{len(due_by_key)} statuses, {duplicates(state)} duplicates")
    return [(parse_iso(s["created_at"]) - due_by_key[s["idempotency_key"]]).total_seconds() * 1000
            for s in state["statuses"]]


def through_worker(sandbox: Sandbox, directory: Path, *, n: int, window_s: float, lead_s: float,
                   capture: bool) -> tuple[list[float], float]:
    """Lateness of each post published by a real `outreach run`; also how long the worker took to start."""
    directory.mkdir()
    db = Database(f"sqlite:///{directory / 'lateness.db'}")
    upgrade(db)
    data = settings_data(sandbox.url, db.url, directory / "state")
    if not capture:
        data["archive"] = {"capture": False}
    config = write_toml(directory / "outreach.toml", data)
    sandbox.reset()
    posts = queue_posts(db, schedule(n, window_s, lead_s), tag="worker")
    started = time.monotonic()
    worker = Worker(config, directory / "worker.log")
    try:
        wait_until(worker.running, timeout_s=lead_s + window_s, every_s=0.05)
        startup_s = time.monotonic() - started
        wait_until(lambda: len(sandbox.mastodon()["statuses"]) >= n, timeout_s=lead_s + window_s + 30, every_s=0.5)
    finally:
        worker.stop()
        db.dispose()
    if startup_s > lead_s:
        print(f"  note: the worker took {startup_s:.1f} s to start, more than the {lead_s:g} s lead; "
              "the first posts were late because of it (raise --lead)")
    return lateness_ms(sandbox, {p.idempotency_key: p.due_at for p in posts}), startup_s


def through_sleep_loop(sandbox: Sandbox, *, n: int, window_s: float, lead_s: float) -> list[float]:
    """The same schedule, driven by `sleep until due, then POST` (the least any scheduler can do)."""
    sandbox.reset()
    posts = fresh_posts(n, tag="bare", due=schedule(n, window_s, min(lead_s, 1.0)))
    session, url, headers = bare_session(sandbox.url)
    for post in posts:
        wait = (post.due_at - datetime.now(UTC)).total_seconds()
        if wait > 0:
            time.sleep(wait)
        bare_post(session, url, headers, post)
    session.close()
    return lateness_ms(sandbox, {p.idempotency_key: p.due_at for p in posts})


def line(name: str, values: list[float]) -> str:
    return (f"  {name:<36} p50 {percentile(values, 50):6.1f} ms   p99 {percentile(values, 99):6.1f} ms   "
            f"max {max(values):6.1f} ms")


def main(argv: list[str] | None = None, *, quick: bool = False) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.bench_lateness", description=__doc__.split("\n\n")[0])
    parser.add_argument("--posts", type=int, default=100 if quick else POSTS)
    parser.add_argument("--window", type=float, default=3.0 if quick else WINDOW_S, help="seconds")
    parser.add_argument("--lead", type=float, default=LEAD_S, help="seconds between start and the first due post")
    args = parser.parse_args(argv or [])
    with tempfile.TemporaryDirectory() as tmp, Sandbox() as sandbox:
        bare = through_sleep_loop(sandbox, n=args.posts, window_s=args.window, lead_s=args.lead)
        ours, startup_s = through_worker(sandbox, Path(tmp) / "default", n=args.posts, window_s=args.window,
                                         lead_s=args.lead, capture=True)
        off, _ = through_worker(sandbox, Path(tmp) / "off", n=args.posts, window_s=args.window,
                                lead_s=args.lead, capture=False)
    print(f"P2 publish lateness: {args.posts} posts due within {args.window:g} s "
          f"(created_at on the sandbox minus due_at; worker started in {startup_s:.1f} s)")
    print(line("bare sleep-until-due loop", bare))
    print(line("outreach run (APScheduler wake-ups)", ours))
    print(line("  same, archive captures off", off))
    p99_bare, p99_ours = percentile(bare, 99), percentile(ours, 99)
    print(f"  p99 worker - bare                    {p99_ours - p99_bare:6.1f} ms   "
          f"ratio {p99_ours / max(p99_bare, 0.1):.1f}x   (goal p99 <= 250 ms)")


if __name__ == "__main__":
    import sys

    main(sys.argv[1:])
