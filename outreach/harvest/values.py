"""Typed figures analytics hands out: privacy-safe counts and youth reach that always carries its kind.

`Count` (from `outreach.privacy`, the one place the privacy rule lives) never carries a number below
the threshold (only "<10"), so whatever shows or exports it cannot leak a small group. A `YouthReach` says how it was
obtained; `YouthTotals` keeps one sum per kind and adds kinds together only when asked to.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum

from outreach.privacy import DEFAULT_THRESHOLD, Count

__all__ = ["DEFAULT_THRESHOLD", "Count", "ReachKind", "YouthReach", "YouthTotals"]


class ReachKind(StrEnum):
    MEASURED = "measured"  # the platform counted young people reached by this post
    ESTIMATED = "estimated"  # post reach × the account's youth share (source and date kept)
    OFFLINE = "offline"  # meeting attendance, counted by the organisers
    UNKNOWN = "unknown"  # no basis for a figure


@dataclass(frozen=True, slots=True)
class YouthReach:
    """Youth reach of one post (or one meeting): the figure, its kind and where it came from."""

    kind: ReachKind
    count: Count
    source: str | None = None  # e.g. "follower_demographics 18.0% of 13-24" or "meeting attendance"
    source_at: datetime | None = None  # when the audience snapshot was taken
    metric: str | None = None  # estimated: the audience breakdown it came from (follower_demographics, ...)
    share: float | None = None  # estimated: the account's youth share applied to the post's reach


@dataclass(frozen=True, slots=True)
class YouthTotals:
    """Sums per kind, kept apart. `posts` counts posts per kind (unknown posts have no figure)."""

    by_kind: Mapping[ReachKind, Count] = field(default_factory=dict)
    posts: Mapping[ReachKind, int] = field(default_factory=dict)

    @classmethod
    def build(cls, raw: Mapping[ReachKind, float | None], posts: Mapping[ReachKind, int], *,
              threshold: int = DEFAULT_THRESHOLD) -> YouthTotals:
        return cls({k: Count.of(v, threshold=threshold) for k, v in raw.items() if k is not ReachKind.UNKNOWN},
                   dict(posts))

    def get(self, kind: ReachKind) -> Count:
        return self.by_kind.get(kind, Count(None))
