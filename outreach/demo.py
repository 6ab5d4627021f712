"""`outreach demo` and `outreach sandbox`: everything on one machine, no accounts needed.

The demo starts the simulated platforms on loopback, writes a config whose channels point at them,
creates a fresh SQLite database, loads the example campaigns on a timeline shifted so the first
posts fall due within seconds, approves them as "demo", and runs the worker (and the dashboard).
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from outreach.config import Settings, dump_toml, parse_settings
from outreach.connectors import check_channel_options
from outreach.sandbox.http import free_port

DEMO_REVIEWER = "demo (auto-approved)"


def demo_channels(sandbox_url: str) -> tuple[dict[str, dict[str, Any]], dict[str, str]]:
    """Channel tables pointing at the sandbox, and the env vars holding the sandbox's demo secrets."""
    from outreach.sandbox import demo_accounts

    channels: dict[str, dict[str, Any]] = {}
    environ: dict[str, str] = {}
    for account in demo_accounts(sandbox_url):
        table = {"platform": account.platform, "base_url": account.base_url, **account.options}
        for key, value in account.secrets.items():
            var = f"OUTREACH_DEMO_{account.channel.upper().replace('-', '_')}_{key.upper()}"
            table[f"{key}_env"] = var
            environ[var] = value
        channels[account.channel] = table
    channels.setdefault("peer-whatsapp", {"platform": "manual", "utm_source": "whatsapp"})
    return channels, environ


def demo_settings(state_dir: Path, sandbox_url: str) -> tuple[Settings, dict[str, Any], dict[str, str]]:
    channels, environ = demo_channels(sandbox_url)
    data: dict[str, Any] = {
        "database": {"url": f"sqlite:///{state_dir / 'outreach.db'}"},
        "state_dir": str(state_dir),
        "media": {"directory": str(state_dir / "media"), "public_base_url": f"{sandbox_url}/media"},
        "worker": {"dispatch_interval_s": 5.0, "http_timeout_s": 10.0, "harvest_interval_s": 30.0,
                   "retry": {"backoff_base_s": 5.0, "backoff_max_s": 120.0}},
        "channels": channels,
    }
    env = {k: v for k, v in os.environ.items() if k != "OUTREACH_DATABASE_URL"}
    settings = parse_settings(data, source=str(state_dir / "outreach.toml"), environ=env)
    return check_channel_options(settings), data, environ


def _start_dashboard(config_path: Path, env: dict[str, str]) -> tuple[subprocess.Popen | None, str]:
    app = Path(__file__).resolve().parent.parent / "dashboard" / "app.py"
    try:
        import streamlit  # noqa: F401
    except ImportError:
        return None, "dashboard not started: streamlit is not installed (pip install 'outreach[dashboard]')"
    if not app.exists():
        return None, "dashboard not started: dashboard/app.py is not in this checkout"
    port = free_port()
    cmd = [sys.executable, "-m", "streamlit", "run", str(app), "--server.headless", "true",
           "--server.address", "127.0.0.1", "--server.port", str(port), "--browser.gatherUsageStats", "false",
           "--client.toolbarMode", "minimal"]
    proc = subprocess.Popen(cmd, env={**os.environ, **env, "OUTREACH_CONFIG": str(config_path)},
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    return proc, f"dashboard: http://127.0.0.1:{port}/"


def run_demo(*, state_dir: Path, port: int = 0, duration_s: float | None = None, fresh: bool = True,
             campaigns_dir: Path = Path("campaigns"), dashboard: bool = True, out: Any = print,
             history_years: int | None = None, history_scale: float = 1.0, seed: int = 2026) -> int:
    from outreach.db import Database
    from outreach.db.migrate import upgrade
    from outreach.planning import plan_campaign, schedule_campaign, shift_to_now
    from outreach.planning.review import PostSelector, approve
    from outreach.publishing.dispatcher import Dispatcher
    from outreach.publishing.status import status_report
    from outreach.sandbox import build_sandbox, serve
    from outreach.scheduler import run_worker

    state_dir = state_dir.resolve()
    if fresh and state_dir.exists():
        shutil.rmtree(state_dir)
    (state_dir / "media").mkdir(parents=True, exist_ok=True)
    files = sorted(p for p in campaigns_dir.glob("*.y*ml"))
    if not files:
        out(f"no campaign files in {campaigns_dir}/")
        return 2

    server = serve(build_sandbox(media_dir=state_dir / "media"), port=port)
    out(f"sandbox platforms: {server.url} (state: {server.url}/_sandbox/state)")
    settings, data, environ = demo_settings(state_dir, server.url)
    os.environ.update(environ)
    config_path = state_dir / "outreach.toml"
    config_path.write_text(dump_toml(data, header="Written by `outreach demo`. Secrets are named by env "
                           "var; the demo sets them itself."), encoding="utf-8")
    dash_proc = None
    try:
        db = Database(settings.database_url)
        upgrade(db)
        now = datetime.now(UTC)
        if history_years:
            _synthetic_history(db, settings, years=history_years, scale=history_scale, seed=seed, now=now, out=out)
        plans = [plan_campaign(path, settings) for path in files]
        shift = min(shift_to_now(plan, now, lead=timedelta(seconds=5)) for plan in plans)
        for path in files:
            plan = plan_campaign(path, settings, shift=shift)
            report = schedule_campaign(db, plan, now=now)
            out(f"{path}: {report.summary()}")
            approve(db, PostSelector(campaign=plan.campaign.slug), reviewer=DEMO_REVIEWER,
                    reason="approved automatically by `outreach demo`")
        out(f"timeline shifted by {shift}; the first posts are due in a few seconds")
        if dashboard:
            dash_proc, line = _start_dashboard(config_path, environ)
            out(line)
        out(f"inspect later: outreach --config {config_path} status")
        dispatcher = Dispatcher(db, settings, worker_id="demo-worker")
        run_worker(db, settings, out=out, until=duration_s, dispatcher=dispatcher)
        out("")
        out("\n".join(status_report(db).lines()))
        return 0
    finally:
        if dash_proc is not None:
            dash_proc.terminate()
            try:
                dash_proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                dash_proc.kill()
        server.stop()


def _synthetic_history(db: Any, settings: Settings, *, years: int, scale: float, seed: int, now: datetime,
                       out: Any) -> None:
    from outreach.harvest import harvest_settings
    from outreach.harvest.synthetic import generate_history

    started = time.monotonic()
    last = [0.0]

    def progress(stage: str, done: int, total: int) -> None:
        if time.monotonic() - last[0] > 2 or done == total:
            last[0] = time.monotonic()
            out(f"  history: {stage} {done:,}/{total:,}")

    out(f"generating a synthetic {years}-year history (scale {scale:g}, seed {seed}); this takes a while")
    report = generate_history(db, years=years, seed=seed, scale=scale,
                              start=now - timedelta(days=round(365.25 * years)), as_of=now - timedelta(days=1),
                              progress=progress, hs=harvest_settings(settings))
    out(f"{report.line()} ({time.monotonic() - started:.0f} s)")
    handled, final = settle_history(db, now=now)
    out(f"  history settled: {handled} old failures marked handled (cancelled), figures of {final} posts final")


# A synthetic failure older than this counts as handled: in a real installation someone retried or cancelled it.
HANDLED_AFTER = timedelta(days=14)


def settle_history(db: Any, *, now: datetime) -> tuple[int, int]:
    """Make the synthetic history a settled past that agrees with the sandbox (which never saw its posts):
    failures older than HANDLED_AFTER are cancelled (their error kept), and the history's figures are final
    (no harvest asks the sandbox for them). Returns (failures handled, posts no longer harvested)."""
    from sqlalchemy import select, update

    from outreach import lifecycle
    from outreach.db.models import Post, PostMetricsLatest
    from outreach.domain import PostStatus

    with db.write() as s:
        old = list(s.scalars(select(Post).where(Post.status == PostStatus.FAILED.value,
                                                Post.due_at < now - HANDLED_AFTER)))
        for post in old:
            lifecycle.transition(post, PostStatus.CANCELLED)
        final = s.execute(update(PostMetricsLatest).where(PostMetricsLatest.next_harvest_at.is_not(None))
                          .values(next_harvest_at=None)).rowcount
    return len(old), final


def run_sandbox(*, host: str = "127.0.0.1", port: int = 8765, media_dir: Path | None = None,
                out: Any = print) -> int:
    """`outreach sandbox`: serve the simulations until Ctrl-C; print where each platform lives."""
    from outreach.sandbox import build_sandbox, demo_accounts, serve

    server = serve(build_sandbox(media_dir=media_dir), host=host, port=port)
    out(f"sandbox serving on {server.url} (Ctrl-C stops)")
    for account in demo_accounts(server.url):
        secrets = ", ".join(f"{k}={v}" for k, v in account.secrets.items())
        out(f"  {account.platform:<10} base_url = {account.base_url}  ({secrets})")
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    try:
        while not stop.wait(0.5):
            pass
    finally:
        server.stop()
    return 0
