"""Local, wire-compatible simulations of the platform APIs, for the demo and the tests."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from outreach.sandbox import linkedin, mastodon, tiktok
from outreach.sandbox.core import Clock, PlatformSim, Sandbox, serve, utcnow
from outreach.sandbox.linkedin import LinkedInSim
from outreach.sandbox.mastodon import MastodonSim
from outreach.sandbox.tiktok import TikTokSim

SIMULATIONS: tuple[type[PlatformSim], ...] = (
    MastodonSim,
    LinkedInSim,
    TikTokSim,
)


@dataclass(frozen=True)
class DemoAccount:
    """A channel that works against the sandbox out of the box (the demo writes these into its config)."""

    channel: str
    platform: str
    base_url: str
    options: dict[str, Any] = field(default_factory=dict)
    secrets: dict[str, str] = field(default_factory=dict)  # key -> value; public sandbox values only


def demo_accounts(url: str) -> list[DemoAccount]:
    """One ready-made channel per simulated platform, named as in the example campaigns."""
    return [
        DemoAccount("peer-mastodon", "mastodon", f"{url}/mastodon", secrets={"token": mastodon.DEMO_TOKEN}),
        DemoAccount("peer-linkedin", "linkedin", f"{url}/linkedin",
                    options={"organization_urn": linkedin.DEMO_ORGANIZATION},
                    secrets={"token": linkedin.DEMO_TOKEN}),
        DemoAccount("peer-tiktok", "tiktok", f"{url}/tiktok",
                    options={"privacy_level": "PUBLIC_TO_EVERYONE"},
                    secrets={"token": tiktok.DEMO_ACCESS_TOKEN, "client_key": tiktok.DEMO_CLIENT_KEY,
                             "client_secret": tiktok.DEMO_CLIENT_SECRET,
                             "refresh_token": tiktok.DEMO_REFRESH_TOKEN}),
    ]


def build_sandbox(*, clock: Clock = utcnow, media_dir: Path | None = None, seed: int = 0) -> Sandbox:
    """A sandbox with every platform simulation mounted under its prefix."""
    return Sandbox([cls(clock=clock, media_dir=media_dir) for cls in SIMULATIONS],
                   media_dir=media_dir, seed=seed)


__all__ = ["SIMULATIONS", "DemoAccount", "Sandbox", "build_sandbox", "demo_accounts", "serve"]
