"""Opt-in timing of the Streamlit script's own runs (P4): with `OUTREACH_PROFILE_SCRIPT=<file>` set, every
script run of the app appends one JSON line to that file: the page it ran (its URL path), its duration in
milliseconds (`time.perf_counter` from the first line of the script to the end of the page), and a
wall-clock stamp. Unset (the default), nothing is measured or written. The benchmark (bench/bench_browser.py)
reads the lines that a visit produced; the same file can be read after a day of real use.

The line is written in a `finally`: a run that Streamlit cuts short (`st.rerun`, `st.stop`, a widget
change that restarts the script) is recorded too, with how long it ran."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

ENV = "OUTREACH_PROFILE_SCRIPT"


def record(page: str, started: float) -> None:
    """Append one script run (`started` is the `time.perf_counter()` taken on the script's first line)."""
    path = os.environ.get(ENV)
    if not path:
        return
    line = json.dumps({"page": page, "ms": round((time.perf_counter() - started) * 1000, 2), "at": time.time()})
    with Path(path).open("a", encoding="utf-8") as out:  # one short append per run: lines do not interleave
        out.write(line + "\n")


def runs(path: Path, *, after: float = 0.0) -> list[dict[str, object]]:
    """The runs recorded in `path` whose stamp is later than `after` (a `time.time()`)."""
    if not path.exists():
        return []
    lines = path.read_text(encoding="utf-8").splitlines()
    return [run for run in map(json.loads, lines) if float(run["at"]) > after]  # type: ignore[arg-type]
