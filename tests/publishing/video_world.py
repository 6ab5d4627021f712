"""What the video dispatcher tests share: a demo channel of one simulation on a served sandbox, a
dispatcher whose media step is the real `MediaPreparer`, and approved posts that each carry a `video:`."""

from __future__ import annotations

import hashlib
import uuid
from datetime import timedelta
from pathlib import Path
from typing import Any

from outreach.config import parse_settings
from outreach.db.models import Post
from outreach.domain import PostStatus
from outreach.publishing import ConnectorCache, Dispatcher
from outreach.publishing.media import MediaPreparer
from outreach.publishing.retry import RetryPolicy
from outreach.sandbox.core import DemoAccount


def video_dispatcher(account: DemoAccount, *, db: Any, clock: Any, tmp_path: Path, monkeypatch: Any,
                     media: dict[str, str], drop: tuple[str, ...] = ()) -> Dispatcher:
    """A dispatcher for the demo channel (its options minus `drop`), secrets from the environment."""
    prefix = account.platform.upper()
    table = {"platform": account.platform, "base_url": account.base_url,
             **{k: v for k, v in account.options.items() if k not in drop}}
    for key, value in account.secrets.items():
        monkeypatch.setenv(f"FAULT_{prefix}_{key.upper()}", value)
        table[f"{key}_env"] = f"FAULT_{prefix}_{key.upper()}"
    settings = parse_settings({"channels": {account.channel: table}, "state_dir": str(tmp_path / "state"),
                               "media": media}, source="test")
    connectors = ConnectorCache(settings, clock=clock)
    connector = connectors(account.channel)
    connector.timeout_s, connector.poll_interval_s = 0.5, 0
    return Dispatcher(db, settings, worker_id="chaos", clock=clock, connectors=connectors,
                      media=MediaPreparer(settings, connectors=connectors),
                      retry=RetryPolicy(max_attempts=30, backoff_base_s=30, backoff_max_s=600))


def add_video_posts(db: Any, account: DemoAccount, clock: Any, clip: Path, count: int, *, spacing_s: float,
                    options: dict[str, Any] | None = None, **entry: Any) -> list[str]:
    """`count` approved posts with the clip as their `video:` (plus `entry` keys, e.g. a cover), due
    `spacing_s` apart; their texts."""
    texts = [f"Terugblik bijeenkomst {i} #{uuid.uuid4().hex[:6]}" for i in range(count)]
    with db.write() as s:
        for i, text in enumerate(texts):
            s.add(Post(source_key=f"chaos/{account.platform}/{i}", rule_key="chaos", channel=account.channel,
                       platform=account.platform, language="nl", text=text,
                       media=[{"video": str(clip), "options": options or {}, **entry}],
                       content_hash=hashlib.sha256(text.encode()).hexdigest(),
                       due_at=clock.now + timedelta(seconds=spacing_s * i), status=PostStatus.APPROVED.value,
                       idempotency_key=str(uuid.uuid4())))
    return texts
