"""P7: throughput of 4 `outreach run` processes vs 1 against one PostgreSQL database (a throwaway
cluster on loopback), with 50 ms added to every status POST by the sandbox (in its own process).
Posts are queued due a few seconds ahead so every worker is up when they fall due; throughput is
posts / (last `created_at` on the sandbox - due time). Duplicates are counted on the sandbox's side by
text, with the sandbox's Idempotency-Key dedupe off. Goal: >= 3x, 0 duplicates.

    python -m bench.bench_scaleout [--posts 300] [--workers 4] [--latency 0.05] [--lead 10]
"""

from __future__ import annotations

import argparse
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import create_engine, text

from bench.publishing_kit import (
    Sandbox,
    Worker,
    duplicates,
    parse_iso,
    queue_posts,
    settings_data,
    wait_until,
    write_toml,
)
from outreach.db import Database
from outreach.db.migrate import upgrade

POSTS = 300
WORKERS = 4
LATENCY_S = 0.05
LEAD_S = 10.0  # four Python processes importing at once on two busy cores take up to ~8 s


def create_database(server_url: str, name: str) -> str:
    engine = create_engine(server_url, isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    engine.dispose()
    return server_url.rsplit("/", 1)[0] + f"/{name}"


def run(sandbox: Sandbox, server_url: str, directory: Path, *, workers: int, n: int, latency_s: float,
        lead_s: float) -> tuple[float, int, float]:
    """(seconds from due to the last publish, duplicates, seconds until every worker was up)."""
    url = create_database(server_url, f"p7_{workers}")
    db = Database(url)
    upgrade(db)
    here = directory / f"w{workers}"
    here.mkdir()
    config = write_toml(here / "outreach.toml", settings_data(sandbox.url, url, here / "state", lease_s=120.0))
    sandbox.reset()
    sandbox.add_latency(latency_s)
    due = datetime.now(UTC) + timedelta(seconds=lead_s)
    posts = queue_posts(db, [due] * n, tag=f"w{workers}")
    db.dispose()
    started = time.monotonic()
    procs = [Worker(config, here / f"worker{i}.log", "--worker-id", f"bench-{workers}-{i}") for i in range(workers)]
    try:
        wait_until(lambda: all(p.running() for p in procs), timeout_s=lead_s * 3, every_s=0.1)
        ready_s = time.monotonic() - started
        wait_until(lambda: len(sandbox.mastodon()["statuses"]) >= n, timeout_s=lead_s + 60 + n * latency_s * 2,
                   every_s=0.5)
    finally:
        codes = [p.stop() for p in procs]
    state = sandbox.mastodon()
    keys = {p.idempotency_key for p in posts}
    mine = [s for s in state["statuses"] if s["idempotency_key"] in keys]
    if len(mine) != n or any(codes):
        tail = procs[0].output()[-1500:]
        raise SystemExit(f"{workers} workers: {len(mine)}/{n} published, exit codes {codes}\n{tail}")
    last = max(parse_iso(s["created_at"]) for s in mine)
    if ready_s > lead_s:
        print(f"  note: {workers} workers took {ready_s:.1f} s to start, more than the {lead_s:g} s lead (raise --lead)")
    return (last - due).total_seconds(), duplicates(state), ready_s


def main(argv: list[str] | None = None, *, quick: bool = False) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.bench_scaleout", description=__doc__.split("\n\n")[0])
    parser.add_argument("--posts", type=int, default=100 if quick else POSTS)
    parser.add_argument("--workers", type=int, default=WORKERS)
    parser.add_argument("--latency", type=float, default=LATENCY_S, help="seconds added to every status POST")
    parser.add_argument("--lead", type=float, default=LEAD_S, help="seconds between start and the due time")
    args = parser.parse_args(argv or [])
    try:
        from tests.postgres import TempPostgres

        server = TempPostgres().start()
    except (ImportError, RuntimeError) as exc:
        print(f"P7 skipped: {exc}")
        return
    try:
        with tempfile.TemporaryDirectory() as tmp, Sandbox() as sandbox:
            directory = Path(tmp)
            one, dup_one, ready_one = run(sandbox, server.url, directory, workers=1, n=args.posts,
                                           latency_s=args.latency, lead_s=args.lead)
            many, dup_many, ready_many = run(sandbox, server.url, directory, workers=args.workers, n=args.posts,
                                             latency_s=args.latency, lead_s=args.lead)
    finally:
        server.stop()
    print(f"P7 scale-out on PostgreSQL: {args.posts} posts, {args.latency * 1000:.0f} ms sandbox latency per post, "
          "real `outreach run` processes")
    for workers, span, dup, ready in ((1, one, dup_one, ready_one), (args.workers, many, dup_many, ready_many)):
        print(f"  {workers} worker{'s' if workers > 1 else ' '}  {span:6.2f} s  {args.posts / span:6.1f} posts/s  "
              f"{dup} duplicates  (all up after {ready:.1f} s)")
    print(f"  speed-up {args.workers} / 1    {one / many:6.2f}x  (goal >= 3x, 0 duplicates; "
          f"ideal with {args.latency * 1000:.0f} ms per post: {args.posts * args.latency:.1f} s for one worker)")


if __name__ == "__main__":
    import sys

    main(sys.argv[1:])
