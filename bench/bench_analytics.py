"""The dashboard's overview queries on the five-year synthetic database, timed, and their ratio to
the same queries on the same programme at 1/10 scale. Databases are generated once and kept in
$BENCH_DIR (default .outreach/bench); delete them to regenerate."""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

from sqlalchemy import func, select

from outreach import analytics
from outreach.analytics import Dimension
from outreach.db import Database
from outreach.db.migrate import upgrade
from outreach.db.models import EngagementSnapshot
from outreach.harvest.synthetic import START, generate_history

SEED = 2026
REPEATS = 3


def database(scale: float) -> Database:
    directory = Path(os.environ.get("BENCH_DIR", ".outreach/bench"))
    path = directory / f"history-5y-seed{SEED}-x{scale:g}.db"
    done = path.with_suffix(".done")
    if not done.exists():
        for stale in directory.glob(f"{path.name}*"):
            stale.unlink()
        db = Database(f"sqlite:///{path}")
        upgrade(db)
        started = time.perf_counter()

        def progress(stage: str, n: int, total: int) -> None:
            print(f"\r  generating x{scale:g}: {stage} {n}/{total}   ", end="", flush=True)

        report = generate_history(db, years=5, seed=SEED, scale=scale, progress=progress)
        print(f"\r  {report.line()} in {time.perf_counter() - started:.0f} s")
        done.write_text("ok\n")
        return db
    db = Database(f"sqlite:///{path}")
    upgrade(db)  # one generated before a migration (0015 builds the monthly rollup once, seconds at 10x)
    return db


def overview_queries(db: Database) -> list[Callable[[], object]]:
    now = START + timedelta(days=round(365.25 * 5) - 30)
    queries: list[Callable[[], object]] = [lambda: analytics.overview(db, now=now)]
    queries += [lambda d=d: analytics.totals(db, by=d) for d in Dimension]
    queries += [lambda m=m: analytics.timeseries(db, metric=m, by=Dimension.ORGANISATION)
                for m in ("reach", "engagement", "youth_estimated", "youth_offline")]
    return queries


def timed(db: Database) -> float:
    queries = overview_queries(db)
    for query in queries:  # warm the page cache once
        query()
    best = float("inf")
    for _ in range(REPEATS):
        start = time.perf_counter()
        for query in queries:
            query()
        best = min(best, time.perf_counter() - start)
    return best


def main() -> None:
    full, tenth = database(1.0), database(0.1)
    with full.session() as s:
        snapshots = s.scalar(select(func.count()).select_from(EngagementSnapshot))
    t_full, t_tenth = timed(full), timed(tenth)
    n = len(overview_queries(full))
    print(f"analytics overview: {n} queries (overview + totals by {len(Dimension)} dimensions + 4 series), "
          f"best of {REPEATS}")
    print(f"  five-year programme ({snapshots:,} snapshots)   {t_full * 1000:8.1f} ms")
    print(f"  same at 1/10 scale                        {t_tenth * 1000:8.1f} ms")
    print(f"  ratio full / tenth                        {t_full / t_tenth:8.2f}x  "
          "(posts grow 10x; snapshot history is never read)")
    full.dispose()
    tenth.dispose()


if __name__ == "__main__":
    main()
