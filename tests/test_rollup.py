"""The monthly rollup gives exactly what a pass over the posts gives, whatever writes the database and in
whatever order: an adversary's sequence of writes (the harvester's upserts, publishing at a month's last
microsecond, a post moved to another month or meeting, a meeting moved to another organisation, metrics
and estimates deleted, a published post without a time, raw deletes), refreshes at random moments, two
refreshes at once, on SQLite and PostgreSQL. Checked against the posts themselves (`live=True`) and,
for the overall figures, against sums computed here in Python from the rows."""

from __future__ import annotations

import random
import threading
from collections import defaultdict
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import delete, func, insert, select, text, update

from outreach import analytics, rollup
from outreach.analytics import Dimension, Filters
from outreach.db import Database
from outreach.db.migrate import upgrade
from outreach.db.models import (
    Meeting,
    Organisation,
    Post,
    PostMetricsLatest,
    PostMonthRollup,
    PostYouthEstimate,
)
from outreach.harvest import storage
from outreach.harvest.synthetic import generate_history

START = datetime(2027, 1, 4, tzinfo=UTC)
KEYS = [(), ("month",), ("year",), ("campaign", "campaign_name"), ("organisation", "organisation_name"),
        ("community",), ("city",), ("platform",), ("channel",), ("language",), ("platform", "language")]
MEASURES = tuple(m.name for m in rollup.MEASURES)


def views(db: Database) -> list[Filters]:
    with db.session() as s:
        org = s.scalar(select(Organisation.code).order_by(Organisation.id))
        community = s.scalar(select(Meeting.community).order_by(Meeting.id))
    mid = datetime(2027, 5, 17, 10, 30, tzinfo=UTC)
    return [Filters(), Filters(start=mid), Filters(end=mid), Filters(start=mid, end=mid + timedelta(days=150)),
            Filters(start=datetime(2027, 6, 3, tzinfo=UTC), end=datetime(2027, 6, 20, tzinfo=UTC)),  # inside a month
            Filters(start=datetime(2027, 1, 1, tzinfo=UTC), end=datetime(2028, 1, 1, tzinfo=UTC)),  # whole months
            Filters(start=datetime(2027, 4, 30, 23, 59, 59, 999999, tzinfo=UTC), end=datetime(2027, 9, 1, tzinfo=UTC)),
            Filters(organisation=org, start=mid), Filters(platform="instagram", language="nl"),
            Filters(community=community, campaign=None), Filters(channel="peer-facebook", end=mid)]


@pytest.fixture(params=["sqlite", "postgresql"])
def db(request: pytest.FixtureRequest) -> Database:
    database = request.getfixturevalue("sqlite_db" if request.param == "sqlite" else "pg_db")
    generate_history(database, years=1, seed=11, scale=0.03, start=START, as_of=START + timedelta(days=300))
    return database


def same(db: Database, keys: tuple[str, ...], f: Filters) -> None:
    got = rollup.read(db, keys=keys, measures=MEASURES, filters=f)
    want = rollup.read(db, keys=keys, measures=MEASURES, filters=f, live=True)
    assert got == want, (keys, f)


def by_hand(db: Database, f: Filters) -> dict[str, list[int]]:
    """[posts, reach] per platform for published posts in `f`'s period, summed here from the rows."""
    found: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    with db.session() as s:
        rows = s.execute(select(Post.platform, Post.published_at, PostMetricsLatest.reach)
                         .outerjoin(PostMetricsLatest, PostMetricsLatest.post_id == Post.id)
                         .where(Post.status == "published")).all()
    for platform, at, reach in rows:
        if (f.start and (at is None or at < f.start)) or (f.end and (at is None or at >= f.end)):
            continue
        found[platform][0] += 1
        found[platform][1] += reach or 0
    return dict(found)


class Adversary:
    """Writes as the worker, the harvester, the CLI or an operator with SQL would."""

    def __init__(self, db: Database, rng: random.Random) -> None:
        self.db, self.rng = db, rng

    def published(self) -> int:
        with self.db.session() as s:
            return self.rng.choice(s.scalars(select(Post.id).where(Post.status == "published")).all())

    def post(self, status: str) -> int | None:
        with self.db.session() as s:
            ids = s.scalars(select(Post.id).where(Post.status == status)).all()
        return self.rng.choice(ids) if ids else None

    def edge_time(self) -> datetime:
        """A month's first or last instant, or a time in the middle of one."""
        month = self.rng.randint(1, 12)
        first = datetime(2027, month, 1, tzinfo=UTC)
        return self.rng.choice([first, first - timedelta(microseconds=1), first + timedelta(days=14, hours=3)])

    STEPS = ("harvest", "metrics", "metrics_gone", "estimate", "estimate_gone", "publish", "unpublish",
             "move_month", "move_meeting", "channel", "meeting", "meeting_org", "no_time", "new_post", "refresh")

    def step(self, what: str) -> None:
        rng, db = self.rng, self.db
        with db.engine.begin() as conn:
            if what == "harvest":  # the harvester's own upserts
                pid = self.published()
                storage.upsert_rollup(conn, [{"post_id": pid, "captured_at": 2_000_000_000, "reach": rng.randint(0, 5000),
                                              "views": rng.randint(0, 9000), "likes": rng.randint(0, 99),
                                              "watch_time_s": rng.choice([None, 120]), "youth_reach": rng.choice([None, 30])}])
            elif what == "metrics":
                conn.execute(update(PostMetricsLatest).where(PostMetricsLatest.post_id == self.published())
                             .values(reach=rng.choice([None, 0, 7, 12_345]), comments=rng.randint(0, 9)))
            elif what == "metrics_gone":
                conn.execute(delete(PostMetricsLatest).where(PostMetricsLatest.post_id == self.published()))
            elif what == "estimate":
                storage.upsert_youth_estimates(conn, [{"post_id": self.published(), "share": 0.3,
                                                       "estimated": rng.randint(0, 300), "source_metric": "m",
                                                       "source_captured_at": 1, "young": "13-24"}])
            elif what == "estimate_gone":
                conn.execute(delete(PostYouthEstimate).where(PostYouthEstimate.post_id == self.published()))
            elif what == "publish" and (pid := self.post("approved")) is not None:
                conn.execute(update(Post).where(Post.id == pid).values(status="published", published_at=self.edge_time()))
            elif what == "unpublish":
                conn.execute(update(Post).where(Post.id == self.published()).values(status="failed"))
            elif what == "move_month":
                conn.execute(update(Post).where(Post.id == self.published()).values(published_at=self.edge_time()))
            elif what == "move_meeting":
                meeting = conn.scalar(select(Meeting.id).order_by(func.random()).limit(1))
                conn.execute(update(Post).where(Post.id == self.published()).values(meeting_id=meeting))
            elif what == "channel":
                conn.execute(update(Post).where(Post.id == self.published())
                             .values(channel="peer-facebook-2", language=rng.choice(["ar", "so"])))
            elif what == "meeting":
                conn.execute(update(Meeting).where(Meeting.id == conn.scalar(select(Post.meeting_id).where(
                    Post.id == self.published()))).values(community=rng.choice(["Somali", "Eritrean"]), city="Zwolle"))
            elif what == "meeting_org":
                org = conn.scalar(select(Organisation.id).order_by(func.random()).limit(1))
                conn.execute(update(Meeting).where(Meeting.id == conn.scalar(select(Post.meeting_id).where(
                    Post.id == self.published()))).values(organisation_id=org))
            elif what == "no_time":
                conn.execute(update(Post).where(Post.id == self.published()).values(published_at=None))
            elif what == "new_post":  # inserted published, then maybe deleted again by hand
                pid = conn.scalar(select(func.max(Post.id))) + 1
                at = self.edge_time()
                conn.execute(insert(Post).values(id=pid, channel="peer-mastodon", platform="mastodon", language="nl",
                                                 source_key=f"adversary-{pid}", rule_key="r", text="x", due_at=at,
                                                 content_hash="h", idempotency_key=f"adversary-{pid}",
                                                 status="published", published_at=at, attempts=0))
                conn.execute(insert(PostMetricsLatest).values(post_id=pid, captured_at=1, reach=rng.randint(1, 50)))
                if rng.random() < 0.5:
                    conn.execute(delete(PostMetricsLatest).where(PostMetricsLatest.post_id == pid))
                    conn.execute(delete(Post).where(Post.id == pid))
        if what == "refresh":
            rollup.refresh(db)


def test_the_rollup_equals_a_pass_over_the_posts_after_every_write(db: Database) -> None:
    rng = random.Random(2027)
    adversary, checks = Adversary(db, rng), [(k, f) for k in KEYS for f in views(db)]
    assert rollup.stale_months(db) == set()  # the synthetic history refreshed it
    for key, f in checks:
        same(db, key, f)
    steps = [*Adversary.STEPS * 4, *(("harvest", "metrics", "publish", "move_month") * 3)]
    rng.shuffle(steps)
    for what in [*steps, "harvest", "move_month"]:  # the last writes not refreshed
        adversary.step(what)
        for key, f in rng.sample(checks, 6):
            same(db, key, f)
    assert rollup.stale_months(db), "the last writes are read from the posts until a refresh"
    for key, f in checks:
        same(db, key, f)
    rollup.refresh(db)
    assert rollup.stale_months(db) == set()
    for key, f in checks:  # now from the rollup alone
        same(db, key, f)
    for f in views(db)[:7]:  # the overall figures against sums made here from the rows
        hand = by_hand(db, f)
        got = {t.key: [t.posts, t.reach.value] for t in analytics.totals(db, by=Dimension.PLATFORM, filters=f)}
        assert {k: v[0] for k, v in got.items()} == {k: v[0] for k, v in hand.items()}, f
        assert all(got[k][1] in (v[1], None) for k, v in hand.items()), f  # None: below the privacy threshold


def test_the_month_the_triggers_write_is_the_month_readers_group_by(db: Database) -> None:
    """Posts published at a month's last microsecond and first instant are logged under the month
    `rollup.bucket` gives them (a different text would leave a month stale for ever)."""
    rollup.refresh(db)
    with db.session() as s:
        ids = s.scalars(select(Post.id).where(Post.status == "approved").limit(3)).all()
    edges = [datetime(2027, 3, 31, 23, 59, 59, 999999, tzinfo=UTC), datetime(2027, 4, 1, tzinfo=UTC),
             datetime(2027, 12, 31, 23, 59, 59, tzinfo=UTC)]
    with db.engine.begin() as conn:
        for pid, at in zip(ids, edges, strict=True):
            conn.execute(update(Post).where(Post.id == pid).values(status="published", published_at=at))
        grouped = set(conn.scalars(select(rollup.bucket(db, Post.published_at, "month")).where(Post.id.in_(ids))))
    assert rollup.stale_months(db) == grouped == {"2027-03", "2027-04", "2027-12"}


def test_two_refreshes_at_once_while_the_harvester_writes(db: Database) -> None:
    """Refreshes serialise (no month summed twice) and a change committed during one is kept for the next."""
    with db.session() as s:
        ids = s.scalars(select(Post.id).where(Post.status == "published")).all()
    stop, errors = threading.Event(), []

    def harvest() -> None:
        rng = random.Random(5)
        try:
            while not stop.is_set():
                with db.engine.begin() as conn:
                    storage.upsert_rollup(conn, [{"post_id": pid, "captured_at": 2_000_000_000,
                                                  "reach": rng.randint(0, 999)} for pid in rng.sample(ids, 20)])
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)

    def refresh() -> None:
        try:
            for _ in range(15):
                rollup.refresh(db)
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)

    writer = threading.Thread(target=harvest)
    refreshers = [threading.Thread(target=refresh) for _ in range(2)]
    writer.start()
    for t in refreshers:
        t.start()
    for t in refreshers:
        t.join()
    stop.set()
    writer.join()
    assert errors == []
    for key in KEYS:
        same(db, key, Filters())
    rollup.refresh(db)
    assert rollup.stale_months(db) == set()
    for key in KEYS:
        same(db, key, Filters())
    with db.session() as s:  # one row per group: no month was inserted twice
        groups = s.execute(select(*(getattr(PostMonthRollup, k) for k in rollup.KEYS), func.count())
                           .group_by(*(getattr(PostMonthRollup, k) for k in rollup.KEYS))
                           .having(func.count() > 1)).all()
    assert groups == []


def test_upgrading_a_database_with_posts_builds_its_rollup(empty_db: Database) -> None:
    upgrade(empty_db, "0014")
    at = datetime(2027, 3, 9, 18, 0, tzinfo=UTC)
    with empty_db.engine.begin() as conn:
        for pid in (1, 2, 3):
            conn.execute(insert(Post).values(id=pid, channel="peer-mastodon", platform="mastodon", language="nl",
                                             source_key=f"k{pid}", rule_key="r", text="x", due_at=at, attempts=0,
                                             content_hash="h", idempotency_key=f"k{pid}",
                                             status="published" if pid < 3 else "approved",
                                             published_at=at + timedelta(days=31 * pid) if pid < 3 else None))
            conn.execute(text("INSERT INTO post_metrics_latest (post_id, captured_at, snapshots, reach) "
                              "VALUES (:p, 1, 1, :r)"), {"p": pid, "r": 100 * pid})
    upgrade(empty_db)
    assert rollup.stale_months(empty_db) == set()
    with empty_db.session() as s:
        rows = s.execute(select(PostMonthRollup.month, PostMonthRollup.posts, PostMonthRollup.reach)
                         .order_by(PostMonthRollup.month)).all()
    assert [tuple(r) for r in rows] == [("2027-04", 1, 100), ("2027-05", 1, 200)]

