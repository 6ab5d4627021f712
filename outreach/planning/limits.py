"""Per-channel platform limits, checked while planning so a too-long text fails `outreach validate`."""

from __future__ import annotations

import mimetypes
from collections.abc import Callable
from dataclasses import replace

from outreach.config import ChannelConfig
from outreach.connectors import connector_class
from outreach.domain import MediaItem, Platform

Validator = Callable[[str, list[dict[str, str]]], list[str]]


def mime_type(path: str) -> str:
    return mimetypes.guess_type(path)[0] or "application/octet-stream"


def platform_validator(channel: ChannelConfig) -> Validator | None:
    """The platform's own limits for this channel, or None (manual channels; no connector yet).
    A channel option `max_text` overrides the text limit (e.g. a Mastodon instance allowing 1000).
    Cards are rendered later in a format the platform accepts, so only their alt text is checked."""
    if channel.platform is Platform.MANUAL:
        return None
    try:
        cls = connector_class(channel.platform)
    except KeyError:
        return None
    limits = cls.declared_limits()
    if isinstance(channel.options.get("max_text"), int):
        limits = replace(limits, max_text=channel.options["max_text"])

    def validate(text: str, media: list[dict[str, str]]) -> list[str]:
        items = [MediaItem(path=m.get("path") or f"card:{m['card']}", alt_text=m.get("alt_text", ""),
                           mime_type=mime_type(m["path"]) if m.get("path") else limits.image_mime_types[0])
                 for m in media if not m.get("video")]
        # A video is checked against the platform's video limits by planning/video.py.
        has_video = any(m.get("video") for m in media)
        return cls.validate(text, items, limits=replace(limits, requires_media=False) if has_video else limits)

    return validate
