"""Benchmark: export the synthetic five-year programme as a BagIt archive; print time and peak memory
against a bare baseline (copying the same bytes, hashed once with SHA-256 and SHA-512).

    .venv/bin/python bench/bench_archive.py              # the full five-year programme (slow to generate)
    .venv/bin/python bench/bench_archive.py --scale 0.1  # a tenth of it

Peak memory is measured with tracemalloc (Python allocations), for the whole period and for its
first half: a streaming export keeps the two close whatever the archive's size.
"""

from __future__ import annotations

import argparse
import hashlib
import shutil
import sys
import tempfile
import time
import tracemalloc
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from outreach.archive import export_archive  # noqa: E402
from outreach.config import parse_settings  # noqa: E402
from outreach.db import Database  # noqa: E402
from outreach.db.migrate import upgrade  # noqa: E402
from outreach.harvest.synthetic import START, generate_history  # noqa: E402


def measure(fn: Callable[[], Any], *, memory: bool) -> tuple[float, int]:
    """(seconds, peak bytes); timing runs without tracemalloc, which slows Python down."""
    if memory:
        tracemalloc.start()
        fn()
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
        return 0.0, peak
    began = time.perf_counter()
    fn()
    return time.perf_counter() - began, 0


def baseline(src: Path, dst: Path) -> None:
    """The bare minimum an archive needs: copy every payload byte and hash it with both algorithms."""
    for path in sorted(src.rglob("*")):
        if not path.is_file():
            continue
        target = dst / path.relative_to(src)
        target.parent.mkdir(parents=True, exist_ok=True)
        sha256, sha512 = hashlib.sha256(), hashlib.sha512()
        with path.open("rb") as fh, target.open("wb") as out:
            for chunk in iter(lambda fh=fh: fh.read(1 << 20), b""):
                out.write(chunk)
                sha256.update(chunk)
                sha512.update(chunk)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", type=float, default=1.0, help="fraction of the 700-meeting programme")
    parser.add_argument("--years", type=int, default=5)
    parser.add_argument("--pdf", action="store_true", help="also print the report PDF with Chromium")
    args = parser.parse_args(argv or [])
    with tempfile.TemporaryDirectory(prefix="bench-archive-") as tmp:
        root = Path(tmp)
        db = Database(f"sqlite:///{root / 'outreach.db'}")
        upgrade(db)
        began = time.perf_counter()
        history = generate_history(db, years=args.years, scale=args.scale)
        print(f"{history.line()} (generated in {time.perf_counter() - began:.1f} s)")
        settings = parse_settings({"state_dir": str(root / "state")}, environ={})
        end = START + timedelta(days=round(365.25 * args.years))
        now = datetime.now(UTC)
        result: dict[str, Any] = {}

        def export(name: str, until: datetime) -> Callable[[], None]:
            def run() -> None:
                out = root / name
                shutil.rmtree(out, ignore_errors=True)
                result[name] = export_archive(db, settings, out, start=START, end=until, pdf=args.pdf, now=now)
            return run

        seconds, _ = measure(export("full", end), memory=False)
        _, peak_full = measure(export("full", end), memory=True)
        _, peak_half = measure(export("half", START + (end - START) / 2), memory=True)
        report = result["full"]
        payload = root / "full" / "data"
        base_s, _ = measure(lambda: baseline(payload, root / "copy1"), memory=False)
        _, base_peak = measure(lambda: baseline(payload, root / "copy2"), memory=True)
        db.dispose()
        mb = 1024 * 1024
        print(f"export: {report.counts.get('posts', 0):,} posts, "
              f"{report.counts.get('engagement_snapshots', 0):,} snapshots, "
              f"{report.payload_bytes / mb:.1f} MB payload")
        print(f"time:   export {seconds:.2f} s, baseline copy+hash {base_s:.2f} s, ratio {seconds / base_s:.1f}x")
        print(f"memory: export peak {peak_full / mb:.1f} MB (first half of the period {peak_half / mb:.1f} MB), "
              f"baseline {base_peak / mb:.2f} MB, ratio {peak_full / max(1, base_peak):.1f}x")
        print(f"flat:   peak(full) / peak(half) = {peak_full / max(1, peak_half):.2f} "
              f"for {report.counts.get('engagement_snapshots', 0) / max(1, result['half'].counts.get('engagement_snapshots', 1)):.1f}x the rows")


if __name__ == "__main__":
    import sys

    main(sys.argv[1:])
