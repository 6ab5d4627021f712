"""Local, wire-compatible simulations of the platform APIs, for the demo and the tests."""

from __future__ import annotations

from pathlib import Path

from outreach.sandbox.bluesky import BlueskySim
from outreach.sandbox.core import Clock, DemoAccount, PlatformSim, Sandbox, serve, utcnow
from outreach.sandbox.facebook import FacebookSim
from outreach.sandbox.instagram import InstagramSim
from outreach.sandbox.linkedin import LinkedInSim
from outreach.sandbox.mastodon import MastodonSim
from outreach.sandbox.threads import ThreadsSim
from outreach.sandbox.tiktok import TikTokSim
from outreach.sandbox.youtube import YouTubeSim

SIMULATIONS: tuple[type[PlatformSim], ...] = (
    MastodonSim,
    BlueskySim,
    InstagramSim,
    FacebookSim,
    ThreadsSim,
    LinkedInSim,
    TikTokSim,
    YouTubeSim,
)


def demo_accounts(url: str) -> list[DemoAccount]:
    """One ready-made channel per simulated platform, named as in the example campaigns."""
    return [cls.demo_account(url) for cls in SIMULATIONS]


def build_sandbox(*, clock: Clock = utcnow, media_dir: Path | None = None, seed: int = 0) -> Sandbox:
    """A sandbox with every platform simulation mounted under its prefix."""
    return Sandbox([cls(clock=clock, media_dir=media_dir) for cls in SIMULATIONS],
                   media_dir=media_dir, seed=seed)


__all__ = ["SIMULATIONS", "DemoAccount", "Sandbox", "build_sandbox", "demo_accounts", "serve"]
