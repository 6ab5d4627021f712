"""A realistic, deterministic five-year programme in a database, for the demo, the dashboard and
the benchmarks: the seven organisations, their communities and cities, 700 community meetings (plus
trainings and municipal sessions), ~25,000 posts, millions of metrics snapshots, daily audience
breakdowns whose youth share drifts, and attendance outcomes. Written through the real storage path.
Each community meeting's recap is also a YouTube video whose snapshots carry YouTube Analytics' viewer
age shares (after its data delay, above its threshold), so its youth reach is measured, not estimated.

Snapshots follow a dense cadence (hourly on day one, daily for a month, weekly for a year) so the
history is as long as a busy deployment's; the rollup and youth estimates are derived as the
harvester would derive them.
"""

from __future__ import annotations

import math
import random
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import func, insert, select

from outreach import rollup
from outreach.connectors.youtube import YOUTH_BASIS, YouTubeConnector
from outreach.db import Database
from outreach.db.models import Campaign, Meeting, MeetingOutcome, Organisation, Post
from outreach.domain import AudienceRow, MeetingKind, PostStatus
from outreach.harvest import storage
from outreach.harvest.settings import DAY, HOUR, HarvestSettings
from outreach.harvest.youth import ShareAt, estimate_row, measured_youth_reach

Progress = Callable[[str, int, int], None]

ORGANISATIONS = (  # code, name, communities (community, language), cities
    ("IOT", "Inspraakorgaan Turken", (("Turkish", "tr"),), ("Rotterdam", "Amsterdam", "Den Haag")),
    ("Kezban", "Kezban", (("Turkish", "tr"), ("Kurdish", "ku")), ("Amsterdam", "Utrecht")),
    ("FSAN", "Federatie Somalische Associaties Nederland", (("Somali", "so"),), ("Tilburg", "Amsterdam", "Eindhoven")),
    ("SMN", "Samenwerkingsverband Marokkaanse Nederlanders", (("Moroccan", "ar"), ("Amazigh", "ber")),
     ("Utrecht", "Amsterdam", "Rotterdam", "Gouda")),
    ("Mudawwanah", "Mudawwanah", (("Moroccan", "ar"),), ("Den Haag", "Rotterdam")),
    ("HTIB", "Turkse Arbeidersvereniging in Nederland", (("Turkish", "tr"), ("Kurdish", "ku")), ("Amsterdam", "Arnhem")),
    ("VON", "Vluchtelingen-Organisaties Nederland", (("Syrian", "ar"), ("Eritrean", "ti"), ("Afghan", "fa")),
     ("Utrecht", "Groningen", "Zwolle", "Almere", "Amersfoort")),
)
THEMES = ("gender-equality", "lgbti-acceptance", "safety", "family-conversations", "self-determination")
RULES = (("announce", -7 * DAY), ("reminder", -DAY), ("recap", DAY))
CHANNELS = (("peer-instagram", "instagram"), ("peer-facebook", "facebook"), ("peer-threads", "threads"),
            ("peer-bluesky", "bluesky"), ("peer-mastodon", "mastodon"), ("peer-linkedin", "linkedin"))
VIDEO_CHANNEL = ("peer-youtube", "youtube")  # the recap video of each community meeting, in Dutch
# platform -> (median ceiling reach, which normalised metrics it reports, raw names)
PLATFORMS: dict[str, tuple[int, tuple[str, ...], dict[str, str]]] = {
    "instagram": (900, ("reach", "views", "likes", "comments", "shares", "saves"),
                  {"reach": "reach", "views": "views", "likes": "likes", "comments": "comments",
                   "shares": "shares", "saves": "saved"}),
    "facebook": (700, ("reach", "views", "likes", "comments", "shares", "clicks"),
                 {"reach": "post_impressions_unique", "views": "post_impressions", "likes": "reactions",
                  "comments": "comments", "shares": "shares", "clicks": "post_clicks"}),
    "threads": (500, ("views", "likes", "comments", "shares"),
                {"views": "views", "likes": "likes", "comments": "replies", "shares": "reposts"}),
    "bluesky": (300, ("likes", "comments", "shares"), {"likes": "likeCount", "comments": "replyCount",
                                                       "shares": "repostCount"}),
    "mastodon": (150, ("likes", "comments", "shares"), {"likes": "favourites_count", "comments": "replies_count",
                                                        "shares": "reblogs_count"}),
    "linkedin": (400, ("views", "likes", "comments", "shares", "clicks"),
                 {"views": "impressionCount", "likes": "likeCount", "comments": "commentCount",
                  "shares": "shareCount", "clicks": "clickCount"}),
    "youtube": (450, ("views", "likes", "comments"), {"views": "viewCount", "likes": "likeCount",
                                                      "comments": "commentCount"}),
}
AUDIENCE_CHANNELS = ("peer-instagram", "peer-threads")
AGE_BUCKETS = (("13-17", 0.06), ("18-24", 0.24), ("25-34", 0.31), ("35-44", 0.19), ("45-54", 0.11),
               ("55-64", 0.06), ("65+", 0.03))
START = datetime(2026, 1, 5, tzinfo=UTC)


def dense_slots() -> list[int]:
    """Hourly on the first day, daily for a month, weekly until a year: ~100 snapshots per post."""
    return ([h * HOUR for h in range(1, 25)] + [d * DAY for d in range(2, 31)]
            + [30 * DAY + w * 7 * DAY for w in range(1, 48)])


@dataclass
class HistoryReport:
    organisations: int = 0
    campaigns: int = 0
    meetings: int = 0
    posts: int = 0
    snapshots: int = 0
    audience_rows: int = 0
    outcomes: int = 0

    def line(self) -> str:
        return (f"synthetic history: {self.meetings} meetings, {self.posts} posts, {self.snapshots} snapshots, "
                f"{self.audience_rows} audience cells, {self.outcomes} meeting outcomes")


def _youth_share(day: int, days: int) -> float:
    """The programme's follower youth share drifts from ~0.27 to ~0.38 over the years (plus wobble)."""
    return 0.27 + 0.11 * day / max(1, days) + 0.015 * math.sin(day / 29)


def _audience_cells(share: float, followers: int) -> list[AudienceRow]:
    young_base = AGE_BUCKETS[0][1] + AGE_BUCKETS[1][1]
    rows = []
    for bucket, weight in AGE_BUCKETS:
        scaled = weight * share / young_base if bucket in ("13-17", "18-24") else \
            weight * (1 - share) / (1 - young_base)
        rows.append(AudienceRow("follower_demographics", round(followers * scaled), bucket, None, "this_month"))
    for gender, weight in (("F", 0.57), ("M", 0.39), ("U", 0.04)):
        rows.append(AudienceRow("follower_demographics", round(followers * weight), None, gender, "this_month"))
    return rows


def generate_history(db: Database, *, years: int = 5, seed: int = 2026, scale: float = 1.0,
                     start: datetime = START, as_of: datetime | None = None,
                     progress: Progress | None = None, hs: HarvestSettings | None = None) -> HistoryReport:
    """Fill a migrated (empty) database with a programme running `years` from `start`, as it looks at
    `as_of` (default: 30 days before the end, so some posts are still scheduled)."""
    rng = random.Random(seed)
    video_rng = random.Random(f"{seed}-youtube")  # its own stream: the other posts stay as they were
    hs = hs or HarvestSettings()
    end = start + timedelta(days=round(365.25 * years))
    as_of = as_of or end - timedelta(days=30)
    now_s, start_s = int(as_of.timestamp()), int(start.timestamp())
    note = progress or (lambda stage, done, total: None)
    report = HistoryReport()
    with db.engine.begin() as conn:
        base = {t: conn.execute(select(func.coalesce(func.max(t.c.id), 0))).scalar() or 0
                for t in (Organisation.__table__, Campaign.__table__, Meeting.__table__, Post.__table__)}
    org_rows, campaign_rows, meeting_rows, post_rows, outcome_rows = [], [], [], [], []
    campaign_of: dict[tuple[int, int], int] = {}
    for i, (code, name, _, _) in enumerate(ORGANISATIONS):
        org_rows.append({"id": base[Organisation.__table__] + i + 1, "code": code, "name": name})
        for year in range(years):
            cid = base[Campaign.__table__] + len(campaign_rows) + 1
            campaign_of[(i, year)] = cid
            campaign_rows.append({"id": cid, "slug": f"{code.lower()}-{start.year + year}",
                                  "name": f"{name} {start.year + year}", "timezone": "Europe/Amsterdam",
                                  "loaded_at": start})
    community_total = max(len(ORGANISATIONS), round(700 * scale))
    kinds = [MeetingKind.COMMUNITY] * community_total + [MeetingKind.TRAINING] * round(community_total * 0.06) \
        + [MeetingKind.MUNICIPAL] * round(community_total * 0.04)
    span_days = (end - start).days - 14
    for n, kind in enumerate(kinds):
        org = n % len(ORGANISATIONS)
        code, _, communities, cities = ORGANISATIONS[org]
        community, language = rng.choice(communities)
        # more meetings in later years (ramp-up), evenings on weekdays
        day = int(span_days * math.sqrt(rng.random() * 0.75 + 0.25 * (n / len(kinds))))
        starts = (start + timedelta(days=7 + day)).replace(hour=17, minute=30) + timedelta(hours=rng.choice((0, 1, 2)))
        year = min(years - 1, (starts - start).days * years // max(1, (end - start).days))
        mid = base[Meeting.__table__] + n + 1
        meeting_rows.append({"id": mid, "campaign_id": campaign_of[(org, year)], "key": f"m{n + 1:04d}",
                             "kind": kind.value, "organisation_id": org_rows[org]["id"], "community": community,
                             "city": rng.choice(cities), "venue": f"Buurthuis {rng.randint(1, 40)}",
                             "starts_at": starts, "ends_at": starts + timedelta(hours=2),
                             "languages": ["nl", language], "themes": rng.sample(THEMES, rng.choice((1, 2))),
                             "audience": "young adults 16-30"})
        if kind is MeetingKind.COMMUNITY and starts <= as_of and rng.random() < 0.93:
            outcome_rows.append(_outcome(rng, mid))
    for meeting in meeting_rows:
        rules = RULES if meeting["kind"] == MeetingKind.COMMUNITY.value else RULES[:1]
        for rule, offset in rules:
            due = meeting["starts_at"].replace(hour=16, minute=0) + timedelta(seconds=offset)
            for channel, platform in CHANNELS:
                for language in meeting["languages"]:
                    post_rows.append(_post(rng, base[Post.__table__] + len(post_rows) + 1, meeting, rule, due,
                                           channel, platform, language, as_of))
            if rule == "recap" and meeting["kind"] == MeetingKind.COMMUNITY.value:
                post_rows.append(_post(video_rng, base[Post.__table__] + len(post_rows) + 1, meeting, rule, due,
                                       *VIDEO_CHANNEL, "nl", as_of))
    with db.engine.begin() as conn:
        for table, rows in ((Organisation, org_rows), (Campaign, campaign_rows), (Meeting, meeting_rows),
                            (MeetingOutcome, outcome_rows)):
            conn.execute(insert(table.__table__), rows)
        for i in range(0, len(post_rows), 5000):
            conn.execute(insert(Post.__table__), post_rows[i:i + 5000])
            note("posts", min(i + 5000, len(post_rows)), len(post_rows))
    report.organisations, report.campaigns = len(org_rows), len(campaign_rows)
    report.meetings, report.posts, report.outcomes = len(meeting_rows), len(post_rows), len(outcome_rows)
    shares = _write_audience(db, start_s, now_s, report, note)
    _write_metrics(db, (rng, video_rng), post_rows, shares, now_s, start_s, hs, report, note)
    rollup.refresh(db)
    return report


def _outcome(rng: random.Random, meeting_id: int) -> dict[str, Any]:
    total = max(4, int(rng.gauss(24, 9)))
    young = rng.betavariate(3, 4)
    ages = {"age_under_18": int(total * young * 0.25), "age_18_24": int(total * young * 0.75)}
    ages["age_25_34"] = int((total - sum(ages.values())) * 0.5)
    ages["age_35_plus"] = int((total - sum(ages.values())) * 0.8)
    ages["age_unknown"] = total - sum(ages.values())
    women = int(total * rng.uniform(0.45, 0.8))
    other = 1 if rng.random() < 0.1 else 0
    genders = {"gender_woman": women, "gender_other": other, "gender_man": max(0, total - women - other - 1)}
    genders["gender_unknown"] = total - sum(genders.values())
    return {"meeting_id": meeting_id, **ages, **genders, "evaluation": round(rng.uniform(6.0, 9.5), 1),
            "notes": "", "source": "synthetic", "source_line": None, "recorded_at": datetime.now(UTC)}


def _post(rng: random.Random, pid: int, meeting: dict[str, Any], rule: str, due: datetime, channel: str,
          platform: str, language: str, as_of: datetime) -> dict[str, Any]:
    published = due <= as_of
    failed = published and rng.random() < 0.004
    status = PostStatus.FAILED if failed else PostStatus.PUBLISHED if published else PostStatus.APPROVED
    text = f"{rule.title()}: bijeenkomst {meeting['key']} in {meeting['city']} ({language})"
    return {"id": pid, "campaign_id": meeting["campaign_id"], "meeting_id": meeting["id"],
            "source_key": f"{rule}/{meeting['key']}", "rule_key": rule, "channel": channel, "platform": platform,
            "language": language, "text": text, "link": None, "media": [], "content_hash": f"{pid:064x}",
            "due_at": due, "status": status.value, "approval_required": True, "idempotency_key": f"synthetic-{pid}",
            "attempts": 8 if failed else 1, "rate_limited_count": 0, "needs_reconcile": False, "handle": {},
            "remote_id": f"{platform}-{pid}" if status is PostStatus.PUBLISHED else None,
            "remote_url": None, "published_at": due + timedelta(seconds=rng.randint(1, 40)) if published else None,
            "last_error": "rejected: image too large (HTTP 400)" if failed else None,
            "error_kind": "rejected" if failed else None, "created_at": due - timedelta(days=14),
            "updated_at": due}


def _write_audience(db: Database, start_s: int, now_s: int, report: HistoryReport,
                    note: Progress) -> dict[str, list[ShareAt]]:
    days = (now_s - start_s) // DAY
    shares: dict[str, list[ShareAt]] = {ch: [] for ch in AUDIENCE_CHANNELS}
    with db.engine.begin() as conn:
        for day in range(days + 1):
            at = start_s + day * DAY + 6 * HOUR
            for k, channel in enumerate(AUDIENCE_CHANNELS):
                share = _youth_share(day, days) - 0.03 * k
                followers = 800 + 9 * day * (2 - k)
                cells = _audience_cells(share, followers)
                report.audience_rows += storage.append_audience(conn, channel, at, cells)
                age_total = sum(c.value for c in cells if c.age_bucket)
                young = sum(c.value for c in cells if c.age_bucket in ("13-17", "18-24"))
                shares[channel].append(ShareAt(at, young / age_total, "follower_demographics"))
            if day % 200 == 0:
                note("audience", day, days)
    return shares


def _write_metrics(db: Database, rngs: tuple[random.Random, random.Random], post_rows: list[dict[str, Any]],
                   shares: dict[str, list[ShareAt]], now_s: int, start_s: int, hs: HarvestSettings,
                   report: HistoryReport, note: Progress) -> None:
    slots = dense_slots()
    published = [p for p in post_rows if p["status"] == PostStatus.PUBLISHED.value]
    batch_snapshots: list[dict[str, Any]] = []
    rollups: list[dict[str, Any]] = []
    estimates: list[dict[str, Any]] = []

    def flush() -> None:
        with db.engine.begin() as conn:
            storage.append_snapshots(conn, batch_snapshots)
            storage.upsert_rollup(conn, rollups)
            storage.upsert_youth_estimates(conn, estimates)
        report.snapshots += len(batch_snapshots)
        for pending in (batch_snapshots, rollups, estimates):
            pending.clear()

    for n, post in enumerate(published):
        median, metrics, raw_names = PLATFORMS[post["platform"]]
        rng = rngs[post["platform"] == "youtube"]
        ceiling = median * rng.lognormvariate(0, 0.6) * (1.4 if post["rule_key"] == "recap" else 1.0)
        rates = {"likes": rng.uniform(0.03, 0.09), "comments": rng.uniform(0.002, 0.01),
                 "shares": rng.uniform(0.004, 0.02), "saves": rng.uniform(0.005, 0.02),
                 "clicks": rng.uniform(0.005, 0.03), "views": rng.uniform(1.3, 1.8), "reach": 1.0}
        tau = rng.uniform(5, 30) * HOUR
        pub = int(post["published_at"].timestamp())
        values: dict[str, int | None] = {}
        ages = _viewer_ages(rng) if post["platform"] == "youtube" else None
        average_s = 20 + post["id"] * 7919 % 41  # a recap video watched 20-60 s a view (no draw: streams stay)
        count = 0
        for offset in slots:
            at = pub + offset
            if at > now_s:
                break
            reach = ceiling * (1 - math.exp(-offset / tau))
            values = {m: int(reach * rates[m]) for m in metrics}
            raw: dict[str, Any] = {raw_names[m]: v for m, v in values.items()}
            if ages is not None:
                _add_analytics(raw, values, ages, offset, hs, average_s=average_s)
            batch_snapshots.append(storage.snapshot_row(post["id"], at, values, raw))
            count += 1
        if count:
            rollups.append({"post_id": post["id"], "captured_at": pub + slots[count - 1], **values,
                            "snapshots": count, "next_harvest_at": hs.next_slot(pub, now_s)})
            share = _nearest(shares.get(post["channel"]), pub, start_s)
            if share is not None and values.get("reach") is not None:
                estimates.append(estimate_row(post["id"], values["reach"], share, hs.young))
        if len(batch_snapshots) >= 50_000:
            flush()
            note("snapshots", n + 1, len(published))
    flush()
    note("snapshots", len(published), len(published))


def _viewer_ages(rng: random.Random) -> dict[str, float]:
    """One video's logged-in viewers by age group, in percent (as the connector stores them): the
    programme's videos lean younger than its followers."""
    weights = [weight * rng.uniform(0.6, 1.4) * (1.6 if bucket in ("13-17", "18-24") else 1.0)
               for bucket, weight in AGE_BUCKETS]
    return {bucket: round(100 * w / sum(weights), 2) for (bucket, _), w in zip(AGE_BUCKETS, weights, strict=True)}


def _add_analytics(raw: dict[str, Any], values: dict[str, int | None], ages: dict[str, float], offset: int,
                   hs: HarvestSettings, *, average_s: int = 30) -> None:
    """What YouTube Analytics adds to a snapshot: nothing in its first days (its data delay) or below its
    threshold; after that the views, minutes watched and age shares, from which youth reach is measured.
    Watch time is stored as the harvester stores it (minutes x 60, via the connector's `metric_scale`)."""
    views = values.get("views") or 0
    if offset < YouTubeConnector.analytics_delay_s or views < YouTubeConnector.analytics_min_views:
        return
    minutes = round(views * average_s / 60)
    raw.update(analytics_views=views, estimatedMinutesWatched=minutes, averageViewDuration=average_s,
               age_shares=ages, youth_basis=YOUTH_BASIS)
    values["watch_time_s"] = round(minutes * YouTubeConnector.metric_scale["estimatedMinutesWatched"])
    values["youth_reach"] = measured_youth_reach(raw, hs.young)


def _nearest(items: list[ShareAt] | None, at: int, start_s: int) -> ShareAt | None:
    if not items:
        return None
    day = min(len(items) - 1, max(0, round((at - start_s - 6 * HOUR) / DAY)))
    return items[day]
