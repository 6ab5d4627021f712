"""Connectors: one module per platform, listed explicitly here."""

from __future__ import annotations

from outreach.connectors.base import Connector
from outreach.connectors.errors import (
    AuthError,
    ConnectorError,
    ContentRejected,
    RateLimited,
    TransientError,
)
from outreach.connectors.linkedin import LinkedInConnector
from outreach.connectors.mastodon import MastodonConnector
from outreach.connectors.tiktok import TikTokConnector
from outreach.domain import Platform

CONNECTORS: tuple[type[Connector], ...] = (
    MastodonConnector,
    LinkedInConnector,
    TikTokConnector,
)


def connector_class(platform: Platform | str) -> type[Connector]:
    platform = Platform(platform)
    for cls in CONNECTORS:
        if cls.platform is platform:
            return cls
    raise KeyError(f"no connector for platform {platform.value}")


__all__ = ["CONNECTORS", "AuthError", "Connector", "ConnectorError", "ContentRejected", "RateLimited",
           "TransientError", "connector_class"]
