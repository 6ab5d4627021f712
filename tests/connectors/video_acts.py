"""Acts shared by the connector video tables: publish once, and the dispatcher's retry path (a first
attempt fails, the retry gets the handle as the dispatcher merged it, reconciles, then publishes)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from outreach.connectors.base import Connector
from outreach.connectors.errors import TransientError
from outreach.domain import PublishRequest
from tests.connectors.harness import Act, Context

Request = Callable[..., PublishRequest]  # request(ctx, handle=..., **kw)


def merged(ctx: Context) -> dict[str, Any]:
    """The handle as the dispatcher keeps it: every save merged into one."""
    handle: dict[str, Any] = {}
    for saved in ctx.saved_handles:
        handle.update(saved)
    return handle


def publishing(request: Request) -> Callable[..., Act]:
    def publish(**kw: Any) -> Act:
        def act(connector: Connector, ctx: Context) -> Any:
            return connector.publish(request(ctx, **kw), save_handle=ctx.save_handle)
        return act
    return publish


def after_failure(request: Request) -> Act:
    def act(connector: Connector, ctx: Context) -> Any:
        try:
            connector.publish(request(ctx), save_handle=ctx.save_handle)
        except TransientError as exc:
            ctx.scratch["first"] = exc
        found = connector.reconcile(request(ctx, handle=merged(ctx)))
        return found or connector.publish(request(ctx, handle=merged(ctx)), save_handle=ctx.save_handle)
    return act
