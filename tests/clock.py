"""The one test clock: tests move time by hand, so no test sleeps."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

START = datetime(2027, 3, 20, 12, 0, tzinfo=UTC)


@dataclass
class FakeClock:
    """Shared by dispatcher, connectors and simulations in a test; `advance` moves them all."""

    now: datetime = field(default=START)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> datetime:
        self.now += timedelta(**delta)
        return self.now

    def set(self, moment: datetime) -> datetime:
        self.now = moment
        return moment
