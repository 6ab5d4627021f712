"""The platforms outreach publishes to, in one table: adding a platform is one line here, next to its
connector module (outreach/connectors/) and its simulation (outreach/sandbox/). Nothing else lists them.

The table holds "module:Class" strings, imported when first asked for, so that `domain` and `config`
can check a name without importing a connector, and the sandbox can find its simulations without
importing one (DESIGN.md: the simulation must not share the connectors' mistakes).
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from typing import Any

MANUAL = "manual"  # channels posted by hand: shapes of their media only (outreach.connectors.manual)


@dataclass(frozen=True, slots=True)
class Entry:
    connector: str  # "module:Class" of its `Connector` subclass (limits, display name, calls)
    simulation: str  # "module:Class" of its `PlatformSim` subclass (the local wire-compatible API)


REGISTRY: dict[str, Entry] = {
    "mastodon": Entry("outreach.connectors.mastodon:MastodonConnector", "outreach.sandbox.mastodon:MastodonSim"),
    "bluesky": Entry("outreach.connectors.bluesky:BlueskyConnector", "outreach.sandbox.bluesky:BlueskySim"),
    "instagram": Entry("outreach.connectors.instagram:InstagramConnector",
                       "outreach.sandbox.instagram:InstagramSim"),
    "facebook": Entry("outreach.connectors.facebook:FacebookConnector", "outreach.sandbox.facebook:FacebookSim"),
    "threads": Entry("outreach.connectors.threads:ThreadsConnector", "outreach.sandbox.threads:ThreadsSim"),
    "linkedin": Entry("outreach.connectors.linkedin:LinkedInConnector", "outreach.sandbox.linkedin:LinkedInSim"),
    "tiktok": Entry("outreach.connectors.tiktok:TikTokConnector", "outreach.sandbox.tiktok:TikTokSim"),
    "youtube": Entry("outreach.connectors.youtube:YouTubeConnector", "outreach.sandbox.youtube:YouTubeSim"),
}


def names() -> tuple[str, ...]:
    """Every platform with a connector, in the table's order (manual channels are not among them)."""
    return tuple(REGISTRY)


def is_platform(name: object) -> bool:
    """A name a channel may give as `platform`: one in the table, or `manual`."""
    return name == MANUAL or (isinstance(name, str) and name in REGISTRY)


def load(reference: str) -> Any:
    """The object a "module:Class" string names (Python caches the module after the first import)."""
    module, _, attribute = reference.partition(":")
    return getattr(importlib.import_module(module), attribute)
