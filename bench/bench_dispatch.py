"""P1: dispatch 2,000 text-only Mastodon posts with `Dispatcher.run_due` on SQLite, against a bare
`requests.Session` loop POSTing the same payloads (same endpoint, headers and Idempotency-Key) to
the same sandbox server, in the same run (goal <= 1.2x). Each round also runs the bare loop on the
connectors' own `PlatformSession` (which reads the environment's proxy settings once per host, not on
every request as `requests.Session` does): the dispatcher against that loop is its own cost, apart
from the HTTP session's. Rounds vary which goes first, and each round's runs make a set: the figure is
the median of the rounds' ratios (drift on a shared machine hits a round's runs alike); best and
median times are printed too.

The dispatcher runs as configured by default: every exchange is kept as WARC evidence (written by a
background thread once the burst pauses) and each permalink is fetched after the burst. "dispatch"
stops the clock when `run_due` returns, every post published and recorded in the database;
"+ evidence" also waits until the exchanges' WARC records are on disk (permalink fetching is not
timed). Once, the dispatcher also runs with `[archive] capture = false`. The sandbox runs in its
own process unless `--placement in-process` (or `both`).

    python -m bench.bench_dispatch [--posts 2000] [--rounds 6] [--placement process|in-process|both]
"""

from __future__ import annotations

import argparse
import itertools
import os
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from bench.publishing_kit import (
    TOKEN_ENV,
    Sandbox,
    bare_post,
    bare_session,
    duplicates,
    fresh_posts,
    median,
    queue_posts,
    settings_data,
)
from outreach.config import parse_settings
from outreach.connectors.http import PlatformSession
from outreach.db import Database
from outreach.db.migrate import upgrade
from outreach.publishing.dispatcher import Dispatcher
from outreach.sandbox.mastodon import DEMO_TOKEN

POSTS = 2000
ROUNDS = 6
WARMUP = 50


def through_dispatcher(sandbox: Sandbox, n: int, directory: Path, tag: str, *,
                       capture: bool) -> tuple[float, float]:
    """Seconds for `run_due` to publish `n` due posts from a fresh SQLite database, and seconds
    until the evidence of those exchanges is on disk as well."""
    db = Database(f"sqlite:///{directory / f'{tag}.db'}")
    upgrade(db)
    data = settings_data(sandbox.url, db.url, directory / tag)
    if not capture:
        data["archive"] = {"capture": False}
    settings = parse_settings(data)
    queue_posts(db, [datetime.now(UTC) - timedelta(seconds=1)] * n, tag=tag)
    dispatcher = Dispatcher(db, settings, worker_id=f"bench-{tag}")
    sandbox.reset()
    start = time.perf_counter()
    outcomes = dispatcher.run_due()
    elapsed = time.perf_counter() - start
    dispatcher.close()  # writes the queued WARC records; drops the permalink fetches still queued
    with_evidence = time.perf_counter() - start
    db.dispose()
    _check(sandbox, n, [o.status for o in outcomes].count("published"), tag)
    return elapsed, with_evidence


def through_requests(sandbox: Sandbox, n: int, tag: str, *, platform_session: bool = False) -> float:
    """Seconds for a bare loop to POST the same kind of payloads on a `requests.Session` (or on the
    connectors' `PlatformSession`)."""
    posts = fresh_posts(n, tag=tag)
    session, url, headers = bare_session(sandbox.url, PlatformSession() if platform_session else None)
    sandbox.reset()
    start = time.perf_counter()
    for post in posts:
        bare_post(session, url, headers, post)
    elapsed = time.perf_counter() - start
    session.close()
    _check(sandbox, n, n, tag)
    return elapsed


def _check(sandbox: Sandbox, n: int, published: int, tag: str) -> None:
    state = sandbox.mastodon()
    if published != n or len(state["statuses"]) != n or duplicates(state):
        raise SystemExit(f"{tag}: {published}/{n} published, {len(state['statuses'])} statuses on the sandbox, "
                         f"{duplicates(state)} duplicates")


ORDERS = list(itertools.permutations(range(3)))  # over six rounds, each run goes first, second, last twice


def measure(placement: str, *, posts: int, rounds: int) -> dict[str, list[float]]:
    times: dict[str, list[float]] = {"bare": [], "session": [], "ours": [], "evidence": [], "no-capture": []}
    with tempfile.TemporaryDirectory() as tmp, Sandbox(in_process=placement == "in-process") as sandbox:
        directory = Path(tmp)
        through_requests(sandbox, WARMUP, "warm-bare")  # imports, connections, the sandbox's first answers
        through_dispatcher(sandbox, WARMUP, directory, "warm-ours", capture=True)
        for r in range(rounds):
            runs = [lambda r=r: times["bare"].append(through_requests(sandbox, posts, f"bare-{r}")),
                    lambda r=r: times["session"].append(
                        through_requests(sandbox, posts, f"session-{r}", platform_session=True)),
                    lambda r=r: _ours(times, through_dispatcher(sandbox, posts, directory, f"ours-{r}", capture=True))]
            for i in ORDERS[r % len(ORDERS)]:  # drift does not favour any side
                runs[i]()
        # Once: it explains the figure above, it is not the figure.
        times["no-capture"].append(through_dispatcher(sandbox, posts, directory, "nocap", capture=False)[0])
    return times


def _ours(times: dict[str, list[float]], measured: tuple[float, float]) -> None:
    times["ours"].append(measured[0])
    times["evidence"].append(measured[1])


def report(placement: str, posts: int, times: dict[str, list[float]]) -> None:
    bare = times["bare"]
    print(f"P1 dispatch of {posts:,} text-only Mastodon posts, sandbox {placement}, "
          f"{len(bare)} rounds (best / median; ratio: median of the rounds' paired ratios)")
    rows = (("bare requests.Session loop", "bare"), ("bare loop, PlatformSession", "session"),
            ("Dispatcher.run_due (SQLite)", "ours"),
            ("  + evidence on disk", "evidence"), ("  archive captures off (once)", "no-capture"))
    for label, key in rows:
        t = times[key]
        paired = [a / b for a, b in zip(t, bare, strict=False)]
        ratio = "" if key == "bare" else f"  ratio {median(paired):5.2f}x (best/best {min(t) / min(bare):5.2f}x)"
        print(f"  {label:<30} {min(t):7.2f} s / {median(t):6.2f} s  ({posts / min(t):,.0f} posts/s){ratio}")
    paired = [a / b for a, b in zip(times["ours"], bare, strict=True)]
    print(f"  dispatcher / bare              {median(paired):7.2f}x  (goal <= 1.2x; rounds: "
          f"{', '.join(f'{p:.2f}' for p in paired)}; {1000 * (median(times['ours']) - median(bare)) / posts:.2f} "
          f"ms more per post)")
    own = [a / b for a, b in zip(times["ours"], times["session"], strict=True)]
    print(f"  dispatcher / PlatformSession loop {median(own):4.2f}x  (the dispatcher's own cost, same HTTP session; "
          f"rounds: {', '.join(f'{p:.2f}' for p in own)})")


def main(argv: list[str] | None = None, *, quick: bool = False) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.bench_dispatch", description=__doc__.split("\n\n")[0])
    parser.add_argument("--posts", type=int, default=300 if quick else POSTS)
    parser.add_argument("--rounds", type=int, default=1 if quick else ROUNDS)
    parser.add_argument("--placement", choices=("process", "in-process", "both"), default="process",
                        help="where the sandbox server runs (default: its own process, so the GIL is not shared)")
    args = parser.parse_args(argv or [])
    os.environ[TOKEN_ENV] = DEMO_TOKEN
    placements = ("process", "in-process") if args.placement == "both" else (args.placement,)
    for placement in placements:
        report(placement, args.posts, measure(placement, posts=args.posts, rounds=args.rounds))


if __name__ == "__main__":
    import sys

    main(sys.argv[1:])
