"""Connectors: one module per platform, listed explicitly here."""

from __future__ import annotations

from outreach.connectors.base import Connector
from outreach.connectors.bluesky import BlueskyConnector
from outreach.connectors.errors import (
    AuthError,
    ConnectorError,
    ContentRejected,
    RateLimited,
    TransientError,
)
from outreach.connectors.facebook import FacebookConnector
from outreach.connectors.instagram import InstagramConnector
from outreach.connectors.linkedin import LinkedInConnector
from outreach.connectors.manual import ManualChannel
from outreach.connectors.mastodon import MastodonConnector
from outreach.connectors.threads import ThreadsConnector
from outreach.connectors.tiktok import TikTokConnector
from outreach.connectors.youtube import YouTubeConnector
from outreach.domain import Platform

CONNECTORS: tuple[type[Connector], ...] = (
    MastodonConnector,
    BlueskyConnector,
    InstagramConnector,
    FacebookConnector,
    ThreadsConnector,
    LinkedInConnector,
    TikTokConnector,
    YouTubeConnector,
)


def connector_class(platform: Platform | str) -> type[Connector]:
    platform = Platform(platform)
    for cls in CONNECTORS:
        if cls.platform is platform:
            return cls
    raise KeyError(f"no connector for platform {platform.value}")


def platform_class(platform: Platform | str) -> type[Connector]:
    """Where a platform's limits live: its connector class, or `ManualChannel` for manual channels."""
    platform = Platform(platform)
    return ManualChannel if platform is Platform.MANUAL else connector_class(platform)


__all__ = ["CONNECTORS", "AuthError", "Connector", "ConnectorError", "ContentRejected", "RateLimited",
           "TransientError", "connector_class", "platform_class"]
