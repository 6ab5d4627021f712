"""Connectors: one module per platform, found through the one table of platforms (outreach.platforms)."""

from __future__ import annotations

import difflib
from collections import Counter

from outreach import platforms
from outreach.config import ConfigError, Settings
from outreach.connectors.base import Connector
from outreach.connectors.errors import (
    AuthError,
    ConnectorError,
    ContentRejected,
    RateLimited,
    TransientError,
)
from outreach.connectors.manual import ManualChannel
from outreach.domain import Platform


class UnknownPlatform(ConfigError):
    """A channel names a platform no connector speaks: fix the configuration (never a retry)."""


def connector_classes() -> tuple[type[Connector], ...]:
    """Every registered platform's connector class, in the table's order (read afresh on each call)."""
    return tuple(connector_class(name) for name in platforms.names())


def connector_class(platform: Platform | str) -> type[Connector]:
    entry = platforms.REGISTRY.get(platform)
    if entry is None:
        raise UnknownPlatform(f"no connector for platform {platform}")
    cls: type[Connector] = platforms.load(entry.connector)
    if cls.platform != platform:  # a registry line pointing at another platform's class
        raise UnknownPlatform(f"the registry line for {platform} names {entry.connector}, "
                              f"a connector for {cls.platform}")
    return cls


def platform_class(platform: Platform | str) -> type[Connector]:
    """Where a platform's limits live: its connector class, or `ManualChannel` for manual channels."""
    return ManualChannel if platform == Platform.MANUAL else connector_class(platform)


def display_name(platform: str) -> str:
    """A platform's name as people write it ("YouTube" for "youtube"), from its connector class; the code
    itself for a platform no longer registered (old posts in the database keep their platform)."""
    try:
        return platform_class(platform).display_name
    except UnknownPlatform:
        return platform


def check_channel_options(settings: Settings) -> Settings:
    """The settings, once every channel's keys are ones its platform's connector reads (its
    `channel_options`): a misspelt or pasted key is refused in one line naming the table and the key."""
    for channel in settings.channels.values():
        known = platform_class(channel.platform).channel_options
        unknown = [key for key in channel.options if key not in known]  # as written in the file
        if unknown:
            close = difflib.get_close_matches(unknown[0], known, n=1)
            hint = f"did you mean {close[0]!r}? " if close else ""
            raise ConfigError(f"{settings.source}: [channels.{channel.name}]: unknown setting {unknown[0]!r} "
                              f"({hint}known: platform, base_url, NAME_env, {_short_list(known)})")
        types = getattr(platform_class(channel.platform), "option_types", {})
        for key, value in channel.options.items():
            want = types.get(key)
            if want is not None and not _of_type(value, want):
                raise ConfigError(f"{settings.source}: [channels.{channel.name}]: {key} must be {_TYPE_WORDS[want]}, "
                                  f"not {value!r}")
    return settings


_TYPE_WORDS = {bool: "true or false (without quotes)", int: "a whole number", float: "a number",
               list: 'a list, e.g. ["a", "b"]'}


def _of_type(value: object, want: type) -> bool:
    """TOML's types as a channel key needs them: a bool is no number, a whole number is a number."""
    if want is bool or isinstance(value, bool):
        return want is bool and isinstance(value, bool)
    if want is float:
        return isinstance(value, int | float)
    return isinstance(value, want)


def _short_list(keys: frozenset[str]) -> str:
    """Keys for a one-line message: a family of four or more (YouTube's quota_<method>) as `quota_*`."""
    def family(key: str) -> str:
        return key.split("_", 1)[0] + "_*" if "_" in key else key

    sizes = Counter(family(key) for key in keys)
    return ", ".join(sorted({family(key) if sizes[family(key)] >= 4 else key for key in keys}))


def video_option_platforms(option: str) -> list[str]:
    """The platforms whose channels take this per-channel video option, for messages."""
    return sorted(cls.display_name for cls in (*connector_classes(), ManualChannel) if option in cls.video_options)


__all__ = ["AuthError", "Connector", "ConnectorError", "ContentRejected", "RateLimited", "TransientError",
           "UnknownPlatform", "check_channel_options", "connector_class", "connector_classes", "display_name",
           "platform_class", "video_option_platforms"]
