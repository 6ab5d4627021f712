"""Run every benchmark: `python -m bench` (or `python -m bench storage analytics`)."""

from __future__ import annotations

import importlib
import sys

BENCHMARKS = ("bench.bench_storage", "bench.bench_analytics", "bench.bench_cards", "bench.bench_archive")


def main(argv: list[str]) -> None:
    wanted = [f"bench.bench_{name}" for name in argv] or list(BENCHMARKS)
    for name in wanted:
        try:
            module = importlib.import_module(name)
        except ModuleNotFoundError as exc:
            if exc.name != name:
                raise
            print(f"{name}: not present, skipped")
            continue
        print(f"== {name}", flush=True)
        module.main()


if __name__ == "__main__":
    main(sys.argv[1:])
