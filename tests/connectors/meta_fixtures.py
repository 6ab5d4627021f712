"""Shared setup for the Meta connector tests: a sim on loopback that also serves the media
directory (so the sim really fetches images by public URL), a fake clock, a credential store,
and a few helpers for Graph-shaped expectations."""

from __future__ import annotations

import os
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import requests
from PIL import Image

from outreach.config import ChannelConfig
from outreach.connectors.base import MemoryCredentialStore
from outreach.connectors.meta import GraphConnector
from outreach.domain import MediaItem, Platform, PublishRequest
from outreach.sandbox.meta import GraphSim
from tests.clock import FakeClock
from tests.connectors.harness import Context, Outcome

START = datetime(2026, 3, 6, 14, 0, tzinfo=UTC)
ALT = "Vrijwilligers zetten stoelen klaar in een buurthuis in Utrecht"



def write_images(root: Path) -> None:
    """A square JPEG, a too-wide JPEG, a PNG and a file that is not an image at all."""
    Image.new("RGB", (1080, 1080), (200, 80, 120)).save(root / "meeting.jpg", "JPEG")
    Image.new("RGB", (1500, 500), (20, 80, 120)).save(root / "wide.jpg", "JPEG")
    Image.new("RGB", (800, 800), (90, 160, 40)).save(root / "card.png", "PNG")


def write_big_jpeg(root: Path, size: int) -> str:
    """A file that starts like a JPEG and is `size` bytes long (the sim checks size before decoding)."""
    path = root / "big.jpg"
    path.write_bytes(b"\xff\xd8\xff\xe0" + os.urandom(size - 4))
    return path.name


def make_context(*, serve_sandbox: Callable[..., Any], monkeypatch: Any, tmp_path: Path,
                 sim: Callable[..., GraphSim], connector: type[GraphConnector], platform: Platform,
                 token: str, base_options: dict[str, Any] | None = None) -> Context:
    env = f"OUTREACH_TEST_{platform.value.upper()}_TOKEN"
    monkeypatch.setenv(env, token)
    clock, store = FakeClock(START), MemoryCredentialStore()
    media = tmp_path / "media"
    media.mkdir()
    write_images(media)
    sandbox, url = serve_sandbox(sim(clock=clock), media_dir=media)
    name = f"peer-{platform.value}"

    def make_connector(*, timeout_s: float = 10.0, max_polls: int = 10, **options: Any) -> GraphConnector:
        channel = ChannelConfig(name=name, platform=platform, base_url=f"{url}/{platform.value}",
                                options={**(base_options or {}), **options}, secret_envs={"token": env})
        return connector(channel, timeout_s=timeout_s, clock=clock, credentials=store,
                         sleep=lambda s: None, poll_interval_s=0, max_polls=max_polls)

    return Context(sandbox=sandbox, url=url, prefix=platform.value, make_connector=make_connector,
                   secrets=(token,), scratch={"clock": clock, "store": store, "media": media, "env": env,
                                              "channel": name})


def image(ctx: Context, name: str = "meeting.jpg", *, alt: str = ALT, public: bool = True,
          mime: str = "image/jpeg") -> MediaItem:
    path = ctx.scratch["media"] / name
    return MediaItem(path=str(path), alt_text=alt, mime_type=mime,
                     public_url=f"{ctx.url}/media/{name}" if public else None)


def request(ctx: Context, text: str, *, media: tuple[MediaItem, ...] = (), link: str | None = None,
            handle: dict[str, Any] | None = None) -> PublishRequest:
    return PublishRequest(post_id=1, text=text, language="nl", idempotency_key="post-1-nl", media=media,
                          link=link, handle=handle or {}, attempt_started_at=ctx.scratch["clock"]())


def graph_get(ctx: Context, path: str, token: str, **params: Any) -> requests.Response:
    """A raw Graph call against the sim, bypassing the connector."""
    return requests.get(f"{ctx.url}/{ctx.prefix}/{path.lstrip('/')}", params=params,
                        headers={"Authorization": f"Bearer {token}"}, timeout=5)


def graph_error_body(code: int, message: str, *, subcode: int | None = None,
                     transient: bool = False) -> dict[str, Any]:
    error: dict[str, Any] = {"message": message, "type": "OAuthException", "code": code,
                             "is_transient": transient, "fbtrace_id": "AtestTrace"}
    if subcode is not None:
        error["error_subcode"] = subcode
    return {"error": error}


def error_code(code: str) -> Callable[[Outcome], None]:
    def check(outcome: Outcome) -> None:
        assert outcome.error is not None and outcome.error.code == code, outcome.error
        assert outcome.error.http_status == 400
    return check


def blocked_for(seconds: float) -> Callable[[Outcome], None]:
    """The error says when to come back, and the connector's blocked_until agrees."""
    def check(outcome: Outcome) -> None:
        error = outcome.error
        assert error is not None and error.retry_after_s == seconds  # type: ignore[attr-defined]
        assert error.reset_at == START + timedelta(seconds=seconds)  # type: ignore[attr-defined]
    return check


def both(*checks: Callable[[Outcome], None]) -> Callable[[Outcome], None]:
    def check(outcome: Outcome) -> None:
        for one in checks:
            one(outcome)
    return check
