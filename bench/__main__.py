"""Run every benchmark: `python -m bench`; some by name: `python -m bench dispatch lateness`;
smaller sizes for a smoke run: `python -m bench --quick`; options for one benchmark go to its own
module: `python -m bench.bench_dispatch --posts 500`."""

from __future__ import annotations

import argparse
import importlib
import inspect
import sys
import time

BENCHMARKS = ("bench.bench_storage", "bench.bench_analytics", "bench.bench_cards", "bench.bench_archive",
              "bench.bench_dashboard", "bench.bench_browser", "bench.bench_dispatch", "bench.bench_lateness",
              "bench.bench_rss", "bench.bench_scaleout", "bench.bench_warc", "bench.bench_video")


def main(argv: list[str]) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.split(";")[0])
    parser.add_argument("names", nargs="*", metavar="NAME",
                        help="benchmarks to run: " + ", ".join(n.removeprefix("bench.bench_") for n in BENCHMARKS))
    parser.add_argument("--quick", action="store_true",
                        help="smaller sizes, for checking that the benchmarks run (figures are not comparable)")
    parser.add_argument("--list", action="store_true", help="list the benchmarks and exit")
    args = parser.parse_args(argv)
    if args.list:
        print("\n".join(n.removeprefix("bench.bench_") for n in BENCHMARKS))
        return
    wanted = [f"bench.bench_{name.removeprefix('bench_')}" for name in args.names] or list(BENCHMARKS)
    for name in wanted:
        try:
            module = importlib.import_module(name)
        except ModuleNotFoundError as exc:
            if exc.name != name:
                raise
            print(f"{name}: not present, skipped")
            continue
        print(f"== {name}", flush=True)
        started = time.perf_counter()
        if "quick" in inspect.signature(module.main).parameters:
            module.main(quick=args.quick)
        else:
            module.main()
        print(f"   ({time.perf_counter() - started:.0f} s)", flush=True)


if __name__ == "__main__":
    main(sys.argv[1:])
