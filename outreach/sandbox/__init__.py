"""Local, wire-compatible simulations of the platform APIs, for the demo and the tests."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from outreach.sandbox import mastodon
from outreach.sandbox.core import Clock, PlatformSim, Sandbox, serve, utcnow
from outreach.sandbox.mastodon import MastodonSim

SIMULATIONS: tuple[type[PlatformSim], ...] = (MastodonSim,)


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
    ]


def build_sandbox(*, clock: Clock = utcnow, media_dir: Path | None = None, seed: int = 0) -> Sandbox:
    """A sandbox with every platform simulation mounted under its prefix."""
    return Sandbox([cls(clock=clock, media_dir=media_dir) for cls in SIMULATIONS],
                   media_dir=media_dir, seed=seed)


__all__ = ["SIMULATIONS", "DemoAccount", "Sandbox", "build_sandbox", "demo_accounts", "serve"]
