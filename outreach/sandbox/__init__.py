"""Local, wire-compatible simulations of the platform APIs, for the demo and the tests."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from outreach.sandbox import bluesky, facebook, instagram, linkedin, mastodon, threads, tiktok
from outreach.sandbox.bluesky import BlueskySim
from outreach.sandbox.core import Clock, PlatformSim, Sandbox, serve, utcnow
from outreach.sandbox.facebook import FacebookSim
from outreach.sandbox.instagram import InstagramSim
from outreach.sandbox.linkedin import LinkedInSim
from outreach.sandbox.mastodon import MastodonSim
from outreach.sandbox.threads import ThreadsSim
from outreach.sandbox.tiktok import TikTokSim

SIMULATIONS: tuple[type[PlatformSim], ...] = (
    MastodonSim,
    BlueskySim,
    InstagramSim,
    FacebookSim,
    ThreadsSim,
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
        DemoAccount("peer-bluesky", "bluesky", f"{url}/bluesky", options={"identifier": bluesky.DEMO_IDENTIFIER},
                    secrets={"password": bluesky.DEMO_PASSWORD}),
        DemoAccount("peer-instagram", "instagram", f"{url}/instagram",
                    options={"ig_user_id": instagram.IG_USER_ID}, secrets={"token": instagram.DEMO_TOKEN}),
        DemoAccount("peer-facebook", "facebook", f"{url}/facebook",
                    options={"page_id": facebook.PAGE_ID}, secrets={"token": facebook.DEMO_TOKEN}),
        DemoAccount("peer-threads", "threads", f"{url}/threads",
                    options={"threads_user_id": threads.THREADS_USER_ID}, secrets={"token": threads.DEMO_TOKEN}),
        DemoAccount("peer-linkedin", "linkedin", f"{url}/linkedin",
                    options={"organization_urn": linkedin.DEMO_ORGANIZATION},
                    secrets={"token": linkedin.DEMO_TOKEN}),
        DemoAccount("peer-tiktok", "tiktok", f"{url}/tiktok",
                    options={"audited": True, "privacy_level": "PUBLIC_TO_EVERYONE"},  # the sim's app is audited
                    secrets={"token": tiktok.DEMO_ACCESS_TOKEN, "client_key": tiktok.DEMO_CLIENT_KEY,
                             "client_secret": tiktok.DEMO_CLIENT_SECRET,
                             "refresh_token": tiktok.DEMO_REFRESH_TOKEN}),
    ]


def build_sandbox(*, clock: Clock = utcnow, media_dir: Path | None = None, seed: int = 0) -> Sandbox:
    """A sandbox with every platform simulation mounted under its prefix."""
    return Sandbox([cls(clock=clock, media_dir=media_dir) for cls in SIMULATIONS],
                   media_dir=media_dir, seed=seed)


__all__ = ["SIMULATIONS", "DemoAccount", "Sandbox", "build_sandbox", "demo_accounts", "serve"]
