"""Shared setup for the Meta connector tests: a sim on loopback that also serves the media
directory (so the sim really fetches images by public URL), a fake clock, a credential store,
and a few helpers for Graph-shaped expectations."""

from __future__ import annotations

import logging
import os
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import requests
from PIL import Image

from outreach.config import ChannelConfig
from outreach.connectors.base import MemoryCredentialStore
from outreach.connectors.meta import GraphConnector
from outreach.domain import MediaItem, Platform, PublishRequest, PublishResult
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
    env = f"OUTREACH_TEST_{platform.upper()}_TOKEN"
    monkeypatch.setenv(env, token)
    clock, store = FakeClock(START), MemoryCredentialStore()
    media = tmp_path / "media"
    media.mkdir()
    write_images(media)
    sandbox, url = serve_sandbox(sim(clock=clock), media_dir=media)
    name = f"peer-{platform}"

    def make_connector(*, timeout_s: float = 10.0, max_polls: int = 10, max_pages: int = 10,
                       **options: Any) -> GraphConnector:
        channel = ChannelConfig(name=name, platform=platform, base_url=f"{url}/{platform}",
                                options={**(base_options or {}), **options}, secret_envs={"token": env})
        return connector(channel, timeout_s=timeout_s, clock=clock, credentials=store,
                         sleep=lambda s: None, poll_interval_s=0, max_polls=max_polls, max_pages=max_pages)

    return Context(sandbox=sandbox, url=url, prefix=platform, make_connector=make_connector,
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


def listings(ctx: Context, edge: str) -> int:
    """How often the account's listing (`GET /{version}/{account}/{edge}`) was read."""
    return sum(1 for prefix, method, path in ctx.sandbox.requests_seen
               if prefix == ctx.prefix and method == "GET" and path.endswith(f"/{edge}"))


def check_reconcile_pages_back(ctx: Context, caplog: Any, *, edge: str, with_image: bool = False) -> None:
    """Reconcile over a busy account: 120 posts went out after the one sought, inside the window,
    so it lies on the second page of 100. Reconcile pages back to it; an absent text is looked
    for on both pages and no further (the second has no `next`); `max_pages` caps the reading; a
    window that the first page already reaches past ends the search there."""
    clock, connector = ctx.scratch["clock"], ctx.make_connector()

    def publish(text: str) -> tuple[PublishRequest, PublishResult]:
        req = request(ctx, text, media=(image(ctx),) if with_image else ())
        result = connector.publish(req, save_handle=ctx.save_handle)
        return replace(req, handle=ctx.saved_handles[-1] if ctx.saved_handles else {}), result

    req, sought = publish("Het bericht dat na een onderbroken poging gezocht wordt")
    for n in range(120):
        clock.advance(seconds=1)
        publish(f"Een ander bericht van een andere vrijwilliger, nummer {n}")

    read = listings(ctx, edge)
    found = ctx.make_connector().reconcile(req)
    assert found is not None and found.remote_id == sought.remote_id and found.url == sought.url
    assert listings(ctx, edge) - read == 2

    read = listings(ctx, edge)
    assert ctx.make_connector().reconcile(replace(req, text="Dit bericht is nooit verstuurd")) is None
    assert listings(ctx, edge) - read == 2  # the listing ended: no third page asked for

    read = listings(ctx, edge)
    with caplog.at_level(logging.WARNING, logger="outreach.connectors.meta"):
        assert ctx.make_connector(max_pages=1).reconcile(req) is None
    assert listings(ctx, edge) - read == 1
    assert f"peer-{ctx.prefix}: read 1 pages of {edge} without reaching back to" in caplog.text

    clock.advance(hours=1)  # a later attempt: its window starts after every post on the first page
    read = listings(ctx, edge)
    later = replace(req, text="Dit bericht is nooit verstuurd", attempt_started_at=clock())
    assert ctx.make_connector().reconcile(later) is None
    assert listings(ctx, edge) - read == 1


def check_graph_paging(ctx: Context, token: str, edge: str, *, with_image: bool = False) -> None:
    """Raw Graph calls on the account's listing: opaque cursors, `next` (a working URL) only while
    there is a next page, `previous` back, and code 100 for a cursor that points nowhere."""
    connector = ctx.make_connector()
    for n in range(5):
        ctx.scratch["clock"].advance(seconds=1)
        connector.publish(request(ctx, f"Bericht {n}", media=(image(ctx),) if with_image else ()),
                          save_handle=ctx.save_handle)
    auth = {"Authorization": f"Bearer {token}"}
    first = graph_get(ctx, f"v25.0/me/{edge}", token, limit=2).json()
    assert len(first["data"]) == 2 and "previous" not in first["paging"]
    after = first["paging"]["cursors"]["after"]
    assert after not in (first["data"][-1]["id"], first["paging"]["cursors"]["before"])
    assert first["paging"]["next"].startswith(f"{ctx.url}/{ctx.prefix}/v25.0/me/{edge}?")
    second = requests.get(first["paging"]["next"], headers=auth, timeout=5).json()
    assert second["data"][0]["id"] != first["data"][-1]["id"] and "next" in second["paging"]
    back = requests.get(second["paging"]["previous"], headers=auth, timeout=5).json()
    assert back["data"] == first["data"]
    last = requests.get(second["paging"]["next"], headers=auth, timeout=5).json()
    assert len(last["data"]) == 1 and "next" not in last["paging"]
    ids = [m["id"] for page in (first, second, last) for m in page["data"]]
    assert len(set(ids)) == 5
    bad = graph_get(ctx, f"v25.0/me/{edge}", token, after="bm90LWEtY3Vyc29y")
    assert bad.status_code == 400 and bad.json()["error"]["code"] == 100
