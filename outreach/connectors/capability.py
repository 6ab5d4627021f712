"""Resume state that is a capability: an upload URL or session URI whose holder can write to the upload
without any other credential (YouTube's session URI, TikTok's `upload_url`, LinkedIn's signed `uploadUrl`s).

A connector wraps such a value in `Capability` before it goes into a handle. The dispatcher keeps
capabilities out of the database (`split`): they live in an owner-only file on the worker's machine
(`outreach.publishing.resume`) and come back, wrapped again (`restore`), on the next attempt there. A
handle read anywhere else has None in their place, and the connector takes the safe path (it asks the
platform what exists, then starts a new upload). Their `repr` hides the value, so a handle in a log
line or an error shows none.
"""

from __future__ import annotations

from typing import Any


class Capability(str):
    """A string that grants access by itself: kept out of the database, logs and archives."""

    __slots__ = ()

    def __repr__(self) -> str:
        return "Capability('***')"

    def __reduce__(self) -> tuple[Any, ...]:  # copy.deepcopy and pickle keep the type
        return (Capability, (str(self),))


def capability(value: Any) -> Capability | None:
    """`value` (an upload URL, a token) as a `Capability`; None when the platform gave none."""
    return Capability(str(value)) if value else None


def split(value: Any, path: str = "") -> tuple[Any, dict[str, str]]:
    """`value` (a handle: dicts, lists, scalars) with every `Capability` replaced by None, and the
    capabilities by their path (keys and list indexes joined by '/')."""
    if isinstance(value, Capability):
        return None, {path: str(value)}
    found: dict[str, str] = {}
    if isinstance(value, dict):
        public: dict[str, Any] = {}
        for key, item in value.items():
            public[key], inner = split(item, f"{path}/{key}")
            found.update(inner)
        return public, found
    if isinstance(value, list | tuple):
        items = []
        for index, item in enumerate(value):
            kept, inner = split(item, f"{path}/{index}")
            items.append(kept)
            found.update(inner)
        return items, found
    return value, {}


def restore(handle: dict[str, Any], capabilities: dict[str, str]) -> dict[str, Any]:
    """`handle` with each capability put back at its path (as a `Capability`); a path the handle no
    longer has is skipped. `handle` is changed in place and returned."""
    for path, secret in capabilities.items():
        *parents, last = path.strip("/").split("/")
        node: Any = handle
        for step in parents:
            node = _child(node, step)
            if node is None:
                break
        if isinstance(node, dict) and last in node:
            node[last] = Capability(secret)
        elif isinstance(node, list) and last.isdigit() and int(last) < len(node):
            node[int(last)] = Capability(secret)
    return handle


def _child(node: Any, step: str) -> Any:
    if isinstance(node, dict):
        return node.get(step)
    if isinstance(node, list) and step.isdigit() and int(step) < len(node):
        return node[int(step)]
    return None
