"""Harvest, youth-reach and privacy settings: the `[harvest]`, `[youth]`, `[privacy]` and `[programme]`
tables of outreach.toml (`Settings.raw`), with defaults."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from outreach.config import ConfigError, Settings

HOUR, DAY = 3600, 86400
DEFAULT_CADENCE = ("1h", "6h", "24h", "3d", "7d", "30d")
_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([smhdw])\s*$")
_UNITS = {"s": 1, "m": 60, "h": HOUR, "d": DAY, "w": 7 * DAY}


def parse_duration(value: str | int | float, *, where: str = "duration") -> int:
    """'90m', '6h', '3d', '2w' or a number of seconds -> whole seconds."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        return int(value)
    match = _DURATION.match(str(value))
    if not match:
        raise ConfigError(f"{where}: {value!r} is not a duration like 90m, 6h, 3d or 2w")
    return int(float(match.group(1)) * _UNITS[match.group(2)])


@dataclass(frozen=True, slots=True)
class AgeRange:
    """Who counts as young, inclusive (default 13-24)."""

    low: int = 13
    high: int = 24

    def __post_init__(self) -> None:
        if not 0 <= self.low <= self.high:
            raise ConfigError(f"[youth] young age range {self.low}-{self.high} is not a range")

    @property
    def label(self) -> str:
        return f"{self.low}-{self.high}"

    def overlap(self, low: int, high: int) -> float:
        """Fraction of the ages low..high (inclusive) inside this range (ages spread evenly)."""
        inside = min(high, self.high) - max(low, self.low) + 1
        return max(0, inside) / (high - low + 1)


@dataclass(frozen=True, slots=True)
class HarvestSettings:
    """Cadence offsets (seconds after publication), then a repeat step up to a horizon."""

    cadence_s: tuple[int, ...] = tuple(parse_duration(d) for d in DEFAULT_CADENCE)
    then_every_s: int = 30 * DAY
    until_s: int = 365 * DAY
    audience_every_s: int = DAY
    young: AgeRange = field(default_factory=AgeRange)
    audience_metrics: tuple[str, ...] = ("follower_demographics", "engaged_audience_demographics")
    privacy_threshold: int = 10
    meetings_target: int = 700
    programme_start: datetime | None = None  # default: the first community meeting
    programme_years: int = 5
    organisation_targets: tuple[tuple[str, int], ...] = ()  # `[programme.organisation_targets]`: code -> meetings

    def organisation_target(self, code: str) -> int | None:
        """An organisation's own five-year plan, when one is configured (else it gets no verdict)."""
        return next((n for c, n in self.organisation_targets if c.lower() == code.lower()), None)

    def __post_init__(self) -> None:
        offsets = list(self.cadence_s)
        if not offsets or any(b <= a for a, b in zip(offsets, offsets[1:], strict=False)) or offsets[0] <= 0:
            raise ConfigError("[harvest] cadence must be increasing positive durations, e.g. [\"1h\", \"6h\"]")
        if self.then_every_s <= 0:
            raise ConfigError("[harvest] then_every must be positive")

    def slots(self) -> list[int]:
        """Every harvest offset after publication, in seconds."""
        slots = list(self.cadence_s)
        step = slots[-1] + self.then_every_s
        while step <= self.until_s:
            slots.append(step)
            step += self.then_every_s
        return slots

    def next_slot(self, published_at: int, now: int) -> int | None:
        """The first harvest time strictly after `now` (epoch), or None once the horizon is past.
        Missed slots are never replayed: after downtime the next one counts from now."""
        for offset in self.slots():
            if published_at + offset > now:
                return published_at + offset
        return None


def _table(data: Mapping[str, Any], name: str) -> dict[str, Any]:
    value = data.get(name, {})
    if not isinstance(value, dict):
        raise ConfigError(f"[{name}] must be a table")
    return value


def parse_harvest_settings(data: Mapping[str, Any], *, source: str = "<config>") -> HarvestSettings:
    """Build from an outreach.toml document (already parsed)."""
    harvest, youth = _table(data, "harvest"), _table(data, "youth")
    privacy, programme = _table(data, "privacy"), _table(data, "programme")
    kwargs: dict[str, Any] = {}
    if "cadence" in harvest:
        kwargs["cadence_s"] = tuple(parse_duration(v, where=f"{source}: [harvest] cadence")
                                    for v in harvest["cadence"])
    for key, name in (("then_every", "then_every_s"), ("until", "until_s"), ("audience_every", "audience_every_s")):
        if key in harvest:
            kwargs[name] = parse_duration(harvest[key], where=f"{source}: [harvest] {key}")
    if "young" in youth:
        low, _, high = str(youth["young"]).partition("-")
        try:
            kwargs["young"] = AgeRange(int(low), int(high))
        except ValueError:
            raise ConfigError(f"{source}: [youth] young = {youth['young']!r}; write it like \"13-24\"") from None
    if "audience_metrics" in youth:
        kwargs["audience_metrics"] = tuple(str(m) for m in youth["audience_metrics"])
    if "threshold" in privacy:
        kwargs["privacy_threshold"] = int(privacy["threshold"])
    if "meetings_target" in programme:
        kwargs["meetings_target"] = int(programme["meetings_target"])
    if "years" in programme:
        kwargs["programme_years"] = int(programme["years"])
    if "organisation_targets" in programme:
        targets = programme["organisation_targets"]
        if not isinstance(targets, dict):
            raise ConfigError(f"{source}: [programme.organisation_targets] must be a table like IOT = 100")
        kwargs["organisation_targets"] = tuple((str(k), int(v)) for k, v in targets.items())
    if "start" in programme:
        start = programme["start"]
        start = datetime.fromisoformat(str(start)) if not isinstance(start, datetime) else start
        kwargs["programme_start"] = start if start.tzinfo else start.replace(tzinfo=UTC)
    return HarvestSettings(**kwargs)


def harvest_settings(settings: Settings | None) -> HarvestSettings:
    """The harvest settings for these Settings (their `[harvest]`, `[youth]`, ... tables), else defaults."""
    if settings is None:
        return HarvestSettings()
    return parse_harvest_settings(settings.raw, source=settings.source or "<config>")
