"""Youth reach, honestly: measured where a platform counts it per post, estimated as post reach ×
the account's youth share at the audience snapshot nearest the post's publication, offline from
meeting attendance, unknown otherwise.

The youth share of an audience snapshot is the share of the age breakdown inside the "young" range
(default 13-24); a bucket that straddles the range counts pro rata (ages spread evenly). Age-only
cells are used when the snapshot has them, else age × gender cells summed per age.
"""

from __future__ import annotations

import bisect
import re
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import Connection, select

from outreach.db.models import AudienceSnapshot
from outreach.harvest.settings import AgeRange
from outreach.harvest.values import Count, ReachKind, YouthReach

OLDEST = 120
TIMEFRAME_PREFERENCE = ("this_month", "lifetime", None, "this_week")
# Offline age groups in meeting outcomes (the programme's meetings are for ages 13 and up).
OFFLINE_BUCKETS = {"age_under_18": (13, 17), "age_18_24": (18, 24), "age_25_34": (25, 34),
                   "age_35_plus": (35, OLDEST)}
_BUCKET = re.compile(r"^\s*(\d+)\s*(?:[-–]\s*(\d+)|(\+))\s*$")


def parse_bucket(label: str | None) -> tuple[int, int] | None:
    """'18-24' -> (18, 24); '65+' -> (65, 120); anything else (unknown, '') -> None."""
    match = _BUCKET.match(label or "")
    if not match:
        return None
    low = int(match.group(1))
    return (low, OLDEST) if match.group(3) else (low, int(match.group(2)))


def youth_share(cells: Iterable[tuple[str | None, str | None, float]], young: AgeRange) -> float | None:
    """(age_bucket, gender, value) cells of one snapshot -> the young share, or None without ages."""
    age_only: dict[str, float] = defaultdict(float)
    by_gender: dict[str, float] = defaultdict(float)
    for age, gender, value in cells:
        if age is None:
            continue
        (by_gender if gender else age_only)[age] += value
    ages = age_only or by_gender
    total = sum(v for a, v in ages.items() if parse_bucket(a))
    if total <= 0:
        return None
    inside = sum(v * young.overlap(*bounds) for a, v in ages.items() if (bounds := parse_bucket(a)))
    return inside / total


@dataclass(frozen=True, slots=True)
class ShareAt:
    captured_at: int
    share: float
    metric: str


class AudienceIndex:
    """Youth share per channel per audience snapshot, for the nearest-snapshot lookups of one pass."""

    def __init__(self, shares: dict[str, list[ShareAt]]) -> None:
        self.shares = shares
        self._times = {ch: [s.captured_at for s in items] for ch, items in shares.items()}

    @classmethod
    def load(cls, conn: Connection, channels: Iterable[str], *, young: AgeRange,
             metrics: Sequence[str]) -> AudienceIndex:
        t = AudienceSnapshot.__table__.c
        rows = conn.execute(select(t.channel, t.captured_at, t.metric, t.timeframe, t.age_bucket, t.gender,
                                   t.value).where(t.channel.in_(list(channels)), t.metric.in_(list(metrics)),
                                                  t.age_bucket.is_not(None))).all()
        groups: dict[tuple[str, int], dict[tuple[str, str | None], list]] = defaultdict(lambda: defaultdict(list))
        for channel, at, metric, timeframe, age, gender, value in rows:
            groups[(channel, at)][(metric, timeframe)].append((age, gender, value))
        shares: dict[str, list[ShareAt]] = defaultdict(list)
        for (channel, at), per in groups.items():
            best = min(per, key=lambda k: (metrics.index(k[0]), _timeframe_rank(k[1])))
            share = youth_share(per[best], young)
            if share is not None:
                shares[channel].append(ShareAt(at, share, best[0]))
        for items in shares.values():
            items.sort(key=lambda s: s.captured_at)
        return cls(dict(shares))

    def nearest(self, channel: str, at: int) -> ShareAt | None:
        times = self._times.get(channel)
        if not times:
            return None
        i = bisect.bisect_left(times, at)
        candidates = [j for j in (i - 1, i) if 0 <= j < len(times)]
        return self.shares[channel][min(candidates, key=lambda j: (abs(times[j] - at), j))]


def _timeframe_rank(timeframe: str | None) -> int:
    return TIMEFRAME_PREFERENCE.index(timeframe) if timeframe in TIMEFRAME_PREFERENCE else len(TIMEFRAME_PREFERENCE)


def estimate_row(post_id: int, reach: int | None, share: ShareAt, young: AgeRange) -> dict:
    """A `post_youth_estimates` row for the storage path."""
    return {"post_id": post_id, "share": share.share, "source_metric": share.metric,
            "source_captured_at": share.captured_at, "young": young.label,
            "estimated": None if reach is None else round(reach * share.share)}


def measured_youth_reach(raw: dict | None, young: AgeRange) -> int | None:
    """Youth reach a platform measured per post: its views × the share of its viewers' age groups inside
    the young range (YouTube Analytics: `age_shares` of logged-in viewers, `analytics_views` over the
    same window). None when the platform gave no age rows (below its privacy threshold): unknown, not 0."""
    if not raw or not isinstance(raw.get("age_shares"), dict) or raw.get("analytics_views") is None:
        return None
    share = youth_share(((age, None, float(pct)) for age, pct in raw["age_shares"].items()), young)
    return None if share is None else round(int(raw["analytics_views"]) * share)


def offline_young(attendance: dict[str, int], young: AgeRange) -> float:
    """Young attendees of one meeting from its age groups (unknown ages are not counted)."""
    return sum(attendance.get(k, 0) * young.overlap(*bounds) for k, bounds in OFFLINE_BUCKETS.items())


def post_youth_reach(*, measured: int | None, estimated: int | None, share: float | None,
                     source_metric: str | None, source_at: int | None, threshold: int) -> YouthReach:
    """The one youth-reach figure of a post, best kind first: measured, estimated, unknown."""
    if measured is not None:
        return YouthReach(ReachKind.MEASURED, Count.of(measured, threshold=threshold), "platform")
    if estimated is not None and share is not None:
        when = datetime.fromtimestamp(source_at, UTC) if source_at is not None else None
        return YouthReach(ReachKind.ESTIMATED, Count.of(estimated, threshold=threshold),
                          f"{source_metric} youth share {share:.1%}", when, source_metric, share)
    return YouthReach(ReachKind.UNKNOWN, Count(None, threshold=threshold))
