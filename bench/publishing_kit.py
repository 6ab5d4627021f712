"""Shared parts of the publishing benchmarks (P1, P2, P6, P7): a sandbox in its own process (or in
this one), configs pointing at it, posts written straight into the queue, the bare-`requests`
baseline, and a few statistics. No pytest: `python -m bench` must run without the test tree."""

from __future__ import annotations

import hashlib
import os
import statistics
import subprocess
import sys
import time
import uuid
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import requests
from sqlalchemy import insert

from outreach.config import dump_toml
from outreach.db import Database
from outreach.db.models import Post
from outreach.domain import PostStatus
from outreach.sandbox.mastodon import DEMO_TOKEN

ROOT = Path(__file__).resolve().parent.parent
PYTHON = sys.executable
CHANNEL = "peer-mastodon"
TOKEN_ENV = "BENCH_MASTODON_TOKEN"
UNLIMITED = {"rate_limit": 1_000_000_000}  # the sim's 300 per 5 min would turn a benchmark into a wait


class Sandbox:
    """The simulated platforms behind one URL, served by a child process (default) or a thread here.

    Driven only through the HTTP control API, so both placements behave the same to the caller."""

    def __init__(self, *, in_process: bool = False) -> None:
        self.in_process = in_process
        self._proc: subprocess.Popen[str] | None = None
        self._server: Any = None
        if in_process:
            from outreach.sandbox import build_sandbox, serve

            self._server = serve(build_sandbox())
            self.url = self._server.url
        else:
            self._proc = subprocess.Popen([PYTHON, "-m", "bench.sandbox_server"], cwd=ROOT, text=True,
                                          stdin=subprocess.PIPE, stdout=subprocess.PIPE)
            assert self._proc.stdout is not None
            self.url = self._proc.stdout.readline().strip()
            if not self.url.startswith("http"):
                raise RuntimeError("the sandbox process did not start")
        self.http = requests.Session()
        self.reset()

    @property
    def pid(self) -> int:
        return self._proc.pid if self._proc else os.getpid()

    def _control(self, method: str, path: str, payload: Any = None) -> Any:
        response = self.http.request(method, f"{self.url}/_sandbox/{path}", json=payload, timeout=60)
        response.raise_for_status()
        return response.json()

    def reset(self) -> None:
        """Forget every status and fault, then lift the rate limit again (reset restores it); the
        platforms' own duplicate guards stay off, so duplicates counted are outreach's."""
        self._control("POST", "reset")
        self._control("POST", "mastodon/set_limits", UNLIMITED)
        self._control("POST", "guards", {"enabled": False})

    def add_latency(self, delay_s: float) -> None:
        """Every status POST is answered `delay_s` late (after the platform acted)."""
        self._control("POST", "faults", {"platform": "mastodon", "mode": "timeout_after", "method": "POST",
                                         "path": "/api/v1/statuses", "delay_s": delay_s, "times": None})

    def mastodon(self) -> dict[str, Any]:
        return self._control("GET", "state")["mastodon"]

    def close(self) -> None:
        self.http.close()
        if self._server is not None:
            self._server.stop()
        if self._proc is not None:
            assert self._proc.stdin is not None
            self._proc.stdin.close()
            try:
                self._proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self._proc.kill()
                self._proc.wait()

    def __enter__(self) -> Sandbox:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def settings_data(sandbox_url: str, database_url: str, state_dir: Path, **worker: Any) -> dict[str, Any]:
    """A config with one Mastodon channel on the sandbox (secret by env-var name, as always)."""
    return {"database": {"url": database_url}, "state_dir": str(state_dir),
            "media": {"directory": str(state_dir / "media")},
            "worker": {"http_timeout_s": 10.0, **worker},
            "channels": {CHANNEL: {"platform": "mastodon", "base_url": f"{sandbox_url}/mastodon",
                                   "token_env": TOKEN_ENV}}}


def write_toml(path: Path, data: dict[str, Any]) -> Path:
    path.write_text(dump_toml(data), encoding="utf-8")
    return path


def child_env(**extra: str) -> dict[str, str]:
    """The environment for an `outreach` child: the sandbox token, no stray database override."""
    env = {k: v for k, v in os.environ.items() if k not in ("OUTREACH_DATABASE_URL", "OUTREACH_CONFIG")}
    env[TOKEN_ENV] = DEMO_TOKEN
    env["PYTHONPATH"] = str(ROOT)
    env.update(extra)
    return env


@dataclass(frozen=True)
class QueuedPost:
    id: int
    text: str
    language: str
    idempotency_key: str
    due_at: datetime


def text_for(i: int, tag: str) -> str:
    """A realistic Mastodon text (~220 graphemes, a link and hashtags), unique per post and run."""
    return (f"Bijeenkomst {i} ({tag}): praten over gelijkwaardigheid en acceptatie in onze gemeenschap. "
            f"Iedereen is welkom, koffie en thee staan klaar. Aanmelden via https://example.org/m/{i} "
            f"#gelijkwaardigheid #lhbti #samen{i % 7}")


def queue_posts(db: Database, due: Sequence[datetime], *, tag: str) -> list[QueuedPost]:
    """Approved text-only Mastodon posts due at the given moments, written in one transaction."""
    posts = [QueuedPost(0, text_for(i, tag), "nl", str(uuid.uuid4()), when) for i, when in enumerate(due)]
    rows = [{"source_key": f"bench/{tag}/{i}", "rule_key": "bench", "channel": CHANNEL, "platform": "mastodon",
             "language": p.language, "text": p.text, "media": [], "handle": {},
             "content_hash": hashlib.sha256(p.text.encode()).hexdigest(), "due_at": p.due_at,
             "status": PostStatus.APPROVED.value, "approval_required": False,
             "idempotency_key": p.idempotency_key} for i, p in enumerate(posts)]
    with db.engine.begin() as conn:
        conn.execute(insert(Post.__table__), rows)
    return posts


def fresh_posts(n: int, *, tag: str, due: Sequence[datetime] | None = None) -> list[QueuedPost]:
    """The same kind of posts, for the baseline (which has no database)."""
    now = datetime.now(UTC)
    moments = due or [now] * n
    return [QueuedPost(i, text_for(i, tag), "nl", str(uuid.uuid4()), moments[i]) for i in range(n)]


def bare_session(sandbox_url: str, session: requests.Session | None = None
                 ) -> tuple[requests.Session, str, dict[str, str]]:
    """What a hand-written client would send: the connector's headers, minus everything else
    (on a plain `requests.Session` unless another is given)."""
    session = session or requests.Session()
    headers = {"Authorization": f"Bearer {DEMO_TOKEN}", "Accept": "application/json"}
    return session, f"{sandbox_url}/mastodon/api/v1/statuses", headers


def bare_post(session: requests.Session, url: str, headers: dict[str, str], post: QueuedPost) -> None:
    """The connector's exact request for a text-only status: form fields and Idempotency-Key."""
    data = [("status", post.text), ("language", post.language), ("visibility", "public")]
    response = session.post(url, data=data, headers={**headers, "Idempotency-Key": post.idempotency_key},
                            timeout=10)
    response.raise_for_status()
    response.json()  # a client reads the answer (the connector builds its result from it)


def parse_iso(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


def duplicates(state: dict[str, Any]) -> int:
    """Statuses beyond the first per text (every queued text is unique), counted on the sandbox's side
    with its Idempotency-Key dedupe off (`Sandbox.reset`): a double post cannot hide behind the key."""
    return sum(n - 1 for n in Counter(s["text"] for s in state["statuses"]).values())


def percentile(values: Sequence[float], q: float) -> float:
    """Nearest-rank percentile (q in 0..100)."""
    ordered = sorted(values)
    rank = max(1, min(len(ordered), round(q / 100 * len(ordered) + 0.5)))
    return ordered[rank - 1]


def median(values: Sequence[float]) -> float:
    return statistics.median(values)


def wait_until(predicate: Callable[[], bool], *, timeout_s: float, every_s: float = 0.1) -> bool:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(every_s)
    return predicate()


def seconds(delta: timedelta) -> float:
    return delta.total_seconds()


def outreach_command(config: Path, *args: str) -> list[str]:
    """`outreach --config <config> <args>`, run by this interpreter (the venv's)."""
    return [PYTHON, "-m", "outreach", "--config", str(config), *args]


class Worker:
    """A real `outreach run` process; its output goes to a file, read back for readiness and errors."""

    def __init__(self, config: Path, log: Path, *args: str) -> None:
        self.log = log
        self._out = log.open("w")
        self.proc = subprocess.Popen(outreach_command(config, "run", *args), cwd=ROOT, env=child_env(),
                                     stdout=self._out, stderr=subprocess.STDOUT, text=True)

    def running(self) -> bool:
        """The worker has printed its start line (its clock is about to tick)."""
        return " running;" in self.log.read_text()

    def stop(self, *, timeout_s: float = 30.0) -> int:
        if self.proc.poll() is None:
            self.proc.terminate()
        try:
            code = self.proc.wait(timeout=timeout_s)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            code = self.proc.wait()
        self._out.close()
        return code

    def output(self) -> str:
        return self.log.read_text()
