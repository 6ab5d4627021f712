"""Run the `outreach` command in-process on hostile input and measure what it cost.

Each case gets a fresh folder with an outreach.toml, an initialised SQLite database and the case's
files; the database's bytes are hashed before and after, so any write is caught.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import shutil
import sqlite3
import time
import tracemalloc
from dataclasses import dataclass, field
from pathlib import Path

from outreach.cli import main

MAX_SECONDS = 5.0
MAX_BYTES = 200 * 1024 * 1024

CONFIG = """\
[database]
url = "sqlite:///outreach.db"

[channels.peer-mastodon]
platform = "mastodon"
base_url = "http://127.0.0.1:1/mastodon"
token_env = "PEER_MASTODON_TOKEN"

[channels.peer-instagram]
platform = "instagram"
base_url = "http://127.0.0.1:1/graph"
token_env = "PEER_INSTAGRAM_TOKEN"
"""

CAMPAIGN = """\
campaign:
  id: test
  name: Test campaign
  channels: [peer-mastodon]
meetings:
  - id: iot-rotterdam
    organisation: IOT
    community: Turkse Nederlanders
    city: Rotterdam
    venue: Wijkcentrum Feijenoord
    start: 2027-03-12 19:00
    languages: [nl]
posts:
  - id: announce
    at: {days: -7, time: "18:00"}
    text:
      nl: "Bijeenkomst in {{ meeting.city }} op {{ meeting.start | date }}."
"""


@dataclass
class Run:
    code: int
    out: str
    err: str
    seconds: float
    peak_bytes: int
    db_changed: bool
    lines: list[str] = field(default_factory=list)


def template_db(root: Path) -> Path:
    """An initialised database, made once and copied into every case's folder."""
    db = root / "template.db"
    if not db.exists():
        root.mkdir(parents=True, exist_ok=True)
        (root / "outreach.toml").write_text(CONFIG, encoding="utf-8")
        with contextlib.chdir(root), contextlib.redirect_stdout(io.StringIO()):
            assert main(["--config", str(root / "outreach.toml"), "init"]) == 0
        with contextlib.closing(sqlite3.connect(root / "outreach.db")) as src, \
                contextlib.closing(sqlite3.connect(db)) as dst:
            src.backup(dst)  # the whole database, including what is still in the -wal file
        (root / "c.yaml").write_text(CAMPAIGN, encoding="utf-8")  # warm up: imports are not the case's cost
        with contextlib.chdir(root), contextlib.redirect_stdout(io.StringIO()):
            assert main(["--config", str(root / "outreach.toml"), "validate", "c.yaml"]) == 0
    return db


def digest(path: Path) -> str:
    """The database's bytes plus its write-ahead log's (a write may sit in the -wal file)."""
    wal = path.with_name(path.name + "-wal")
    parts = [p.read_bytes() if p.exists() else b"missing" for p in (path, wal)]
    return hashlib.sha256(parts[0] + b"|" + (parts[1] if parts[1] != b"missing" else b"")).hexdigest()


def run(folder: Path, argv: list[str], files: dict[str, str | bytes | int], *, template: Path,
        config: str | bytes = CONFIG) -> Run:
    """Run the case with its memory traced; if tracing made it slower than the budget, time it again
    untraced (tracemalloc slows Python code several-fold), so `seconds` is the command's own time."""
    traced = _run(folder, argv, files, template=template, config=config, trace=True)
    if traced.seconds < MAX_SECONDS:
        return traced
    untraced = _run(folder, argv, files, template=template, config=config, trace=False)
    return Run(code=traced.code, out=traced.out, err=traced.err, seconds=untraced.seconds,
               peak_bytes=traced.peak_bytes, db_changed=traced.db_changed or untraced.db_changed, lines=traced.lines)


def _run(folder: Path, argv: list[str], files: dict[str, str | bytes | int], *, template: Path,
         config: str | bytes, trace: bool) -> Run:
    """Write the case's files, run `outreach --config outreach.toml ARGV` in `folder`, measure it."""
    folder.mkdir(parents=True, exist_ok=True)
    if isinstance(config, bytes):
        (folder / "outreach.toml").write_bytes(config)
    else:
        (folder / "outreach.toml").write_text(config, encoding="utf-8")
    shutil.copy(template, folder / "outreach.db")
    for name, content in files.items():
        path = folder / name
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, int):  # a sparse file of that many bytes (size limits, without the writing)
            with path.open("wb") as handle:
                handle.truncate(content)
        elif isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content, encoding="utf-8")
    before = digest(folder / "outreach.db")
    out, err = io.StringIO(), io.StringIO()
    if trace:
        tracemalloc.start()
    started = time.perf_counter()
    try:
        with contextlib.chdir(folder), contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            try:
                code = main(["--config", str(folder / "outreach.toml"), *argv])
            except SystemExit as exc:  # argparse: a wrong argument
                code = exc.code if isinstance(exc.code, int) else 2
    finally:
        seconds = time.perf_counter() - started
        peak = tracemalloc.get_traced_memory()[1] if trace else 0
        if trace:
            tracemalloc.stop()
    text = out.getvalue() + err.getvalue()
    return Run(code=int(code), out=out.getvalue(), err=err.getvalue(), seconds=seconds, peak_bytes=peak,
               db_changed=digest(folder / "outreach.db") != before,
               lines=[line for line in text.splitlines() if line.strip()])
