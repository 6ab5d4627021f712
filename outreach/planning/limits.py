"""Per-channel platform limits, checked while planning so a too-long text fails `outreach validate`."""

from __future__ import annotations

import mimetypes
from collections.abc import Callable
from dataclasses import replace
from typing import Any

from outreach.config import ChannelConfig
from outreach.connectors import connector_class
from outreach.domain import MediaItem, Platform

Validator = Callable[[str, list[dict[str, str]]], list[str]]


def mime_type(path: str) -> str:
    return mimetypes.guess_type(path)[0] or "application/octet-stream"


def text_limit(channel: ChannelConfig) -> tuple[Callable[[str], int], int] | None:
    """How the channel's platform counts a text and how much it allows (None: no limit known), so a
    planner can say "384 of 300"; the same limits as `platform_validator`."""
    found = _limits(channel)
    if found is None:
        return None
    cls, limits = found
    return (lambda text: cls.text_length(text, limits)), limits.max_text


def _limits(channel: ChannelConfig) -> tuple[Any, Any] | None:
    if channel.platform is Platform.MANUAL:
        return None
    try:
        cls = connector_class(channel.platform)
    except KeyError:
        return None
    limits = cls.declared_limits()
    if isinstance(channel.options.get("max_text"), int):
        limits = replace(limits, max_text=channel.options["max_text"])
    return cls, limits


def platform_validator(channel: ChannelConfig) -> Validator | None:
    """The platform's own limits for this channel, or None (manual channels; no connector yet).
    A channel option `max_text` overrides the text limit (e.g. a Mastodon instance allowing 1000).
    Cards are rendered later in a format the platform accepts, so only their alt text is checked."""
    found = _limits(channel)
    if found is None:
        return None
    cls, limits = found

    def validate(text: str, media: list[dict[str, str]]) -> list[str]:
        items = [MediaItem(path=m.get("path") or f"card:{m['card']}", alt_text=m.get("alt_text", ""),
                           mime_type=mime_type(m["path"]) if m.get("path") else limits.image_mime_types[0])
                 for m in media]
        return cls.validate(text, items, limits=limits)

    return validate
