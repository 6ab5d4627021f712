"""`Prepared` statements read and write exactly what SQLAlchemy's own execution does, on SQLite and on
PostgreSQL: same SQL text in the columns (SQLite keeps datetimes as text, so the format decides the
order), same Python values back (aware UTC datetimes, decoded JSON, booleans)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from sqlalchemy import bindparam, select, text, update

from outreach.db import Database
from outreach.db.models import Post, UTCDateTime
from outreach.db.prepared import Prepared
from outreach.publishing.statements import Statements, ids
from tests.publishing.conftest import add_post

AMSTERDAM_SUMMER = timezone(timedelta(hours=2))
MOMENTS = [datetime(2027, 3, 28, 1, 0, 0, tzinfo=UTC),  # no microseconds: SQLite text must still say .000000
           datetime(2027, 3, 28, 3, 0, 0, 123456, tzinfo=AMSTERDAM_SUMMER),  # not UTC: stored as UTC
           datetime(2027, 12, 31, 23, 59, 59, 999999, tzinfo=UTC)]


@pytest.fixture(params=["sqlite", "postgresql"])
def db(request):  # type: ignore[no-untyped-def]
    return request.getfixturevalue("sqlite_db" if request.param == "sqlite" else "pg_db")


def _stored(db: Database, post_id: int) -> tuple[object, ...]:
    """The columns as the database holds them (text on SQLite), not as SQLAlchemy reads them."""
    with db.engine.connect() as conn:
        return tuple(conn.exec_driver_sql(
            f"SELECT lease_until, updated_at, lease_owner, needs_reconcile FROM posts WHERE id = {post_id}").one())


def test_a_prepared_update_stores_what_sqlalchemy_stores(db: Database) -> None:
    statement = update(Post).where(Post.id == bindparam("b_post")).values(
        lease_until=bindparam("until", type_=UTCDateTime), updated_at=bindparam("now", type_=UTCDateTime),
        lease_owner=bindparam("owner"), needs_reconcile=bindparam("again", type_=Post.needs_reconcile.type))
    prepared = Prepared(statement, db.engine.dialect)
    for moment in MOMENTS:
        ours, theirs = (add_post(db, text="Bijeenkomst", due_at=moment) for _ in range(2))
        values = {"until": moment, "now": moment + timedelta(seconds=1), "owner": "worker-1", "again": True}
        with db.write_connection() as conn:
            assert prepared.run(conn, {"b_post": ours, **values}) == 1
            conn.execute(statement, {"b_post": theirs, **values})
        assert _stored(db, ours) == _stored(db, theirs)


def test_prepared_rows_read_what_sqlalchemy_reads(db: Database) -> None:
    for moment in MOMENTS:
        add_post(db, text="Iedereen welkom", due_at=moment)
    statements = Statements(db)
    later = MOMENTS[-1] + timedelta(days=1)
    with db.write_connection() as conn:
        ours = statements.due.rows(conn, {"now": later, "n": 10})
        with db.engine.connect() as other:
            theirs = other.execute(select(*[getattr(Post, c) for c in ours[0]._fields])
                                   .where(Post.id.in_([r.id for r in ours])).order_by(Post.id)).all()
    assert [tuple(r) for r in sorted(ours)] == [tuple(r) for r in theirs]
    first = ours[0]
    assert first.handle == {} and first.media == [] and first.needs_reconcile is False
    assert [r.id for r in ours] == sorted(r.id for r in ours)  # due order: earliest first


def test_a_claim_through_prepared_statements_reads_back_through_the_orm(db: Database) -> None:
    posts = [add_post(db, text=f"Kom ook {i}", due_at=MOMENTS[0]) for i in range(3)]
    statements = Statements(db)
    now = MOMENTS[1]
    assert len(ids(posts)) == 4  # written as a list of four (the last repeated): one statement serves 3 and 4
    with db.write_connection() as conn:
        took = statements.take(3).run(conn, {**ids(posts), "owner": "w", "token": "t",
                                             "until": now + timedelta(minutes=5), "now": now})
        statements.new_attempts(3).run(conn, {**ids(posts), "worker": "w", "now": now})
    assert took == 3
    with db.session() as s:
        for post_id in posts:
            post = s.get(Post, post_id)
            assert post is not None
            assert (post.status, post.attempts, post.lease_until) == ("publishing", 1, now + timedelta(minutes=5))
            assert post.lease_until.tzinfo is UTC
    with db.engine.connect() as conn:
        rows = conn.execute(text("SELECT post_id, number, outcome FROM publish_attempts ORDER BY post_id")).all()
    assert rows == [(post_id, 1, "started") for post_id in posts]


def test_what_prepared_cannot_do_it_says(sqlite_db: Database) -> None:
    dialect = sqlite_db.engine.dialect
    with pytest.raises(ValueError, match="give updated_at explicitly"):  # an `onupdate=` default
        Prepared(update(Post).where(Post.id == bindparam("b_post")).values(text=bindparam("t")), dialect)
    prepared = Prepared(update(Post).where(Post.id == bindparam("b_post")).values(
        text=bindparam("t"), updated_at=bindparam("now", type_=UTCDateTime)), dialect)
    with pytest.raises(ValueError, match="no value for bind parameter 'now'"):
        prepared.parameters({"b_post": 1, "t": "x"})
    with sqlite_db.engine.connect() as conn, pytest.raises(TypeError, match="SELECT"):
        prepared.rows(conn)
