"""Metric definitions: what a platform's raw metric name meant, from when to when, and where that is
documented (`definitions.csv`, shipped with the project). A snapshot records which definitions its
numbers were taken under; a series crossing a change (Meta's `impressions` -> `views`) is footnoted.
Each row says whether it was checked against its source (`verified`: yes, corrected, or no, with a
`note` saying what was or was not confirmed); every reader shows an unconfirmed row as such, in the
words of `UNCONFIRMED`."""

from __future__ import annotations

import csv
from dataclasses import dataclass
from datetime import UTC, date, datetime
from functools import cache
from pathlib import Path

TABLE = Path(__file__).with_name("definitions.csv")
VERIFIED = ("yes", "corrected", "no")  # checked against the source / corrected after checking / not confirmed
# What dashboard and report write next to a definition that could not be confirmed (one place, NL and EN).
UNCONFIRMED = {"nl": "definitie niet bevestigd", "en": "definition not confirmed"}


@dataclass(frozen=True, slots=True)
class Definition:
    platform: str
    raw_name: str
    measure: str  # the shared name it feeds (reach, views, likes, ...)
    meaning: str
    valid_from: date
    valid_to: date | None  # None: still current
    replaced_by: str | None
    source: str
    verified: str = "no"  # one of VERIFIED
    note: str = ""  # what the source confirmed, what was corrected, or what could not be confirmed

    @property
    def confirmed(self) -> bool:
        """The meaning and dates were checked against the source (possibly after a correction)."""
        return self.verified != "no"

    @property
    def id(self) -> str:
        """Stable id stored with each snapshot: platform/raw_name@valid_from."""
        return f"{self.platform}/{self.raw_name}@{self.valid_from.isoformat()}"

    def valid_at(self, day: date) -> bool:
        return self.valid_from <= day and (self.valid_to is None or day < self.valid_to)


def _day(text: str, *, line: int, field: str) -> date | None:
    if not text.strip():
        return None
    try:
        return date.fromisoformat(text.strip())
    except ValueError:
        raise ValueError(f"{TABLE.name}:{line}: {field} {text!r} is not a date like 2025-04-21") from None


@cache
def definitions() -> tuple[Definition, ...]:
    """Every row of the table, checked (dates, a replacement that exists)."""
    rows = []
    with TABLE.open(encoding="utf-8", newline="") as fh:
        for line, r in enumerate(csv.DictReader(fh), start=2):
            start = _day(r["valid_from"], line=line, field="valid_from")
            if start is None:
                raise ValueError(f"{TABLE.name}:{line}: valid_from is required")
            verified = (r.get("verified") or "").strip()
            if verified not in VERIFIED:
                raise ValueError(f"{TABLE.name}:{line}: verified {verified!r} must be one of {', '.join(VERIFIED)}")
            rows.append(Definition(r["platform"], r["raw_name"], r["measure"], r["meaning"], start,
                                   _day(r["valid_to"], line=line, field="valid_to"), r["replaced_by"] or None,
                                   r["source"], verified, (r.get("note") or "").strip()))
    names = {(d.platform, d.raw_name) for d in rows}
    for d in rows:
        if d.replaced_by and (d.platform, d.replaced_by) not in names:
            raise ValueError(f"{TABLE.name}: {d.platform} {d.raw_name} is replaced by unknown {d.replaced_by!r}")
    return tuple(rows)


def definitions_at(platform: str, raw_names: list[str] | tuple[str, ...], at: datetime) -> dict[str, str]:
    """raw name -> definition id for the names this platform reported at `at` (unknown names left out)."""
    day = at.astimezone(UTC).date()
    found: dict[str, str] = {}
    for d in definitions():
        if d.platform == platform and d.raw_name in raw_names and d.valid_at(day):
            found[d.raw_name] = d.id
    return found


def definition_set(platform: str, at: datetime) -> str:
    """A short id for the definitions of one platform in force at `at`: the platform and the date of
    its last change on or before that day ("instagram@2025-04-21"). Stored with every snapshot (20-odd
    bytes instead of one id per metric); `definitions_in(set id)` gives the rows back."""
    day = at.astimezone(UTC).date()
    edges = [e for d in definitions() if d.platform == platform for e in (d.valid_from, d.valid_to)
             if e is not None and e <= day]
    return f"{platform}@{max(edges).isoformat()}" if edges else f"{platform}@-"


def definitions_in(set_id: str) -> list[Definition]:
    """The definitions a snapshot's `definition` id stands for."""
    platform, _, edge = set_id.partition("@")
    if edge == "-":
        return []
    day = date.fromisoformat(edge)
    return [d for d in definitions() if d.platform == platform and d.valid_at(day)]


def changes_within(platforms: list[str] | tuple[str, ...], start: date, end: date) -> list[Definition]:
    """Definitions of these platforms that end (are replaced or retired) inside [start, end): a series over
    that period mixes two meanings and needs a footnote."""
    return sorted((d for d in definitions() if d.platform in platforms and d.valid_to is not None
                   and start < d.valid_to < end), key=lambda d: (d.valid_to, d.platform, d.raw_name))
