"""Per-channel platform limits, checked while planning so a too-long text fails `outreach validate`."""

from __future__ import annotations

import mimetypes
from collections.abc import Callable, Mapping
from dataclasses import replace
from typing import Any

from outreach.cards.media import upload_mime_type
from outreach.config import ChannelConfig
from outreach.connectors import UnknownPlatform, connector_class
from outreach.credentials import FileCredentialStore
from outreach.domain import ImagePolicy, MediaItem, Platform

Validator = Callable[[str, list[dict[str, str]]], list[str]]


def mime_type(path: str) -> str:
    return mimetypes.guess_type(path)[0] or "application/octet-stream"


def _mime(path: str, policy: ImagePolicy, formats: Mapping[str, str] | None) -> str:
    real = (formats or {}).get(path)
    return mime_type(path) if real is None else upload_mime_type(real, policy)


def _limits(channel: ChannelConfig, state_dir: str | None) -> tuple[Any, Any] | None:
    """The connector class and the limits that apply to this channel (None: manual channel or no
    connector yet): a platform's self-reported limits when `state_dir` holds them, else the declared
    ones; the channel option `max_text` has the last word."""
    if channel.platform == Platform.MANUAL:
        return None
    try:
        cls = connector_class(channel.platform)
    except UnknownPlatform:
        return None
    store = FileCredentialStore(f"{state_dir}/credentials") if state_dir else None
    return cls, cls(channel, credentials=store).known_limits()


def text_limit(channel: ChannelConfig, *, state_dir: str | None = None
               ) -> tuple[Callable[[str], int], int] | None:
    """How the channel's platform counts a text and how much it allows (None: no limit known), so a
    planner can say "384 of 300"; the same limits as `platform_validator`."""
    found = _limits(channel, state_dir)
    if found is None:
        return None
    cls, limits = found
    return (lambda text: cls.text_length(text, limits)), limits.max_text


def platform_validator(channel: ChannelConfig, formats: Mapping[str, str] | None = None, *,
                       state_dir: str | None = None) -> Validator | None:
    """The platform's own limits for this channel, or None (manual channels; no connector yet).
    With `state_dir`, limits a platform reported itself (a Mastodon instance's, kept by the worker and
    `channels check`) apply; the channel option `max_text` overrides the text limit (e.g. 1000).
    Cards are rendered later in a format the platform accepts, so only their alt text is checked.
    `formats` holds each image's real format (read from its content at validate); an image is
    checked in the format it will be uploaded in (cards.media decides), else by its file name."""
    found = _limits(channel, state_dir)
    if found is None:
        return None
    cls, limits = found
    policy = cls.image_policy_for(limits)

    def validate(text: str, media: list[dict[str, str]]) -> list[str]:
        items = [MediaItem(path=m.get("path") or f"card:{m['card']}", alt_text=m.get("alt_text", ""),
                           mime_type=_mime(m["path"], policy, formats) if m.get("path")
                           else limits.image_mime_types[0])
                 for m in media if not m.get("video")]
        # A video is checked against the platform's video limits by planning/video.py.
        has_video = any(m.get("video") for m in media)
        return cls.validate(text, items, limits=replace(limits, requires_media=False) if has_video else limits)

    return validate
