"""Graph API cursor paging, as the simulated Meta hosts answer a listing (Facebook's
`published_posts`, Instagram's `media`, Threads' `threads`).

Like Graph (developers.facebook.com/docs/graph-api/results): `limit` (at most 100 here),
`after`/`before` cursors that point at an item and are opaque to the client, and
`paging.next` only when there is a next page: no `next` means the last page.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

from outreach.sandbox.http import Request

T = TypeVar("T")


class PagingError(ValueError):
    """A `limit` or cursor the listing cannot use (Graph answers code 100)."""


def cursor_for(item_id: str) -> str:
    return base64.urlsafe_b64encode(f"sandbox:{item_id}".encode()).decode()


def item_of(cursor: str) -> str:
    try:
        kind, _, item_id = base64.urlsafe_b64decode(cursor.encode()).decode().partition(":")
    except (binascii.Error, UnicodeDecodeError, ValueError):
        kind, item_id = "", ""
    if kind != "sandbox" or not item_id:
        raise PagingError(f"Invalid cursor {cursor!r}")
    return item_id


def graph_page(req: Request, items: Sequence[T], *, id_of: Callable[[T], str], default_limit: int = 25,
               max_limit: int = 100) -> tuple[list[T], dict[str, Any]]:
    """One page of `items` (already in listing order) and its `paging` object, for `?limit=`,
    `?after=` and `?before=`. Raises PagingError for a bad limit or a cursor to a missing item."""
    try:
        limit = max(1, min(max_limit, int(req.param("limit") or default_limit)))
    except ValueError:
        raise PagingError(f"Invalid limit {req.param('limit')!r}") from None
    ids = [id_of(item) for item in items]
    after, before = req.param("after"), req.param("before")
    start, end = 0, limit
    if after:
        start = _index(ids, after) + 1
        end = start + limit
    elif before:
        end = _index(ids, before)
        start = max(0, end - limit)
    end = min(end, len(ids))
    page = list(items[start:end])
    if not page:
        return page, {}
    first, last = cursor_for(ids[start]), cursor_for(ids[end - 1])
    paging: dict[str, Any] = {"cursors": {"before": first, "after": last}}
    if start > 0:
        paging["previous"] = req.link(before=first, after=None)
    if end < len(ids):
        paging["next"] = req.link(after=last, before=None)
    return page, paging


def _index(ids: list[str], cursor: str) -> int:
    item_id = item_of(cursor)
    if item_id not in ids:
        raise PagingError("The cursor points at an item that is no longer in this list")
    return ids.index(item_id)
