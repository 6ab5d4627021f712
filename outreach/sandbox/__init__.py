"""Local, wire-compatible simulations of the platform APIs, for the demo and the tests."""

from __future__ import annotations

from pathlib import Path

from outreach import platforms
from outreach.sandbox.core import Clock, DemoAccount, PlatformSim, Sandbox, serve, utcnow


def simulations() -> tuple[type[PlatformSim], ...]:
    """Every registered platform's simulation, in the order of outreach.platforms (read on each call)."""
    sims: tuple[type[PlatformSim], ...] = tuple(platforms.load(entry.simulation)
                                                for entry in platforms.REGISTRY.values())
    for name, sim in zip(platforms.names(), sims, strict=True):
        if sim.prefix != name:  # it is served under /{prefix}, where the platform's channels look
            raise ValueError(f"the registry line for {name} names a simulation served at /{sim.prefix}")
    return sims


def demo_accounts(url: str) -> list[DemoAccount]:
    """One ready-made channel per simulated platform, named as in the example campaigns."""
    return [cls.demo_account(url) for cls in simulations()]


def build_sandbox(*, clock: Clock = utcnow, media_dir: Path | None = None, seed: int = 0) -> Sandbox:
    """A sandbox with every platform simulation mounted under its prefix."""
    return Sandbox([cls(clock=clock, media_dir=media_dir) for cls in simulations()],
                   media_dir=media_dir, seed=seed)


__all__ = ["DemoAccount", "Sandbox", "build_sandbox", "demo_accounts", "serve", "simulations"]
