"""Acts shared by the connector video tables: publish once, and the dispatcher's retry path (a first
attempt fails, the retry gets the handle as the dispatcher merged it, reconciles, then publishes)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from outreach.connectors.base import Connector
from outreach.connectors.capability import split
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


def elsewhere(handle: dict[str, Any]) -> dict[str, Any]:
    """The handle as a worker on another machine reads it from the database: None where a capability
    was (upload URLs stay in the resume file of the machine that opened the upload)."""
    public, _ = split(handle)
    return public


def publishing(request: Request) -> Callable[..., Act]:
    def publish(**kw: Any) -> Act:
        def act(connector: Connector, ctx: Context) -> Any:
            return connector.publish(request(ctx, **kw), save_handle=ctx.save_handle)
        return act
    return publish


def after_failure(request: Request, *, on_another_machine: bool = False) -> Act:
    def act(connector: Connector, ctx: Context) -> Any:
        try:
            connector.publish(request(ctx), save_handle=ctx.save_handle)
        except TransientError as exc:
            ctx.scratch["first"] = exc
        handle = elsewhere(merged(ctx)) if on_another_machine else merged(ctx)
        found = connector.reconcile(request(ctx, handle=handle))
        return found or connector.publish(request(ctx, handle=handle), save_handle=ctx.save_handle)
    return act
