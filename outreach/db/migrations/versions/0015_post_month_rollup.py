"""Monthly rollup of published posts (post_month_rollup), the change log its triggers keep
(post_rollup_changes), an index on posts (status, published_at) for the months read from the posts and
one on post_metrics_latest (reach) for the top posts.

The triggers append the publication month (UTC, "2027-03"; "" without a time) of every published post a
write touches: a post inserted, deleted or changed in status, time, meeting, campaign, platform, channel or
language; its latest metrics or youth estimate changed; its meeting's organisation, community or city
changed. Written on the database so that every writer (worker, CLI, raw SQL) is covered. All months with
published posts are named as changed here; `outreach.db.migrate.upgrade` then builds them
(`outreach.rollup.refresh`). The month text matches `outreach.rollup.bucket` (tests/test_rollup.py).

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-02 19:30:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0015'
down_revision = '0014'
branch_labels = None
depends_on = None

POST_COLUMNS = ('status', 'published_at', 'meeting_id', 'campaign_id', 'platform', 'channel', 'language')
VALUE_COLUMNS = {'post_metrics_latest': ('post_id', 'reach', 'views', 'likes', 'comments', 'shares', 'saves',
                                         'watch_time_s', 'youth_reach'),
                 'post_youth_estimates': ('post_id', 'estimated')}
MEETING_COLUMNS = ('organisation_id', 'community', 'city')
MEASURES = ('posts', 'reach', 'reach_n', 'views', 'views_n', 'engagement', 'youth_measured', 'youth_measured_n',
            'youth_estimated', 'youth_estimated_n', 'watch_time_s', 'watch_time_n', 'engagement_reached', 'aged_n',
            'aged_youth', 'aged_reach')
NULLABLE_SUMS = ('reach', 'views', 'engagement', 'youth_measured', 'youth_estimated', 'watch_time_s',
                 'engagement_reached', 'aged_youth', 'aged_reach')


def _changed(columns: tuple[str, ...], differs: str) -> str:
    return ' OR '.join(f'OLD.{c} {differs} NEW.{c}' for c in columns)


def _sqlite() -> list[str]:
    month = "coalesce(strftime('%Y-%m', {}), '')"
    log = 'INSERT INTO post_rollup_changes (month) '
    of_post = log + f"SELECT {month.format('published_at')} FROM posts WHERE id = {{}} AND status = 'published';"
    statements = [
        f"CREATE TRIGGER post_rollup_posts_insert AFTER INSERT ON posts WHEN NEW.status = 'published' "
        f"BEGIN {log}VALUES ({month.format('NEW.published_at')}); END",
        f"CREATE TRIGGER post_rollup_posts_delete AFTER DELETE ON posts WHEN OLD.status = 'published' "
        f"BEGIN {log}VALUES ({month.format('OLD.published_at')}); END",
        f"CREATE TRIGGER post_rollup_posts_update AFTER UPDATE OF {', '.join(POST_COLUMNS)} ON posts "
        f"WHEN (OLD.status = 'published' OR NEW.status = 'published') AND ({_changed(POST_COLUMNS, 'IS NOT')}) "
        f"BEGIN {log}SELECT {month.format('OLD.published_at')} WHERE OLD.status = 'published'; "
        f"{log}SELECT {month.format('NEW.published_at')} WHERE NEW.status = 'published'; END",
    ]
    for table, columns in VALUE_COLUMNS.items():
        statements += [
            f"CREATE TRIGGER post_rollup_{table}_insert AFTER INSERT ON {table} BEGIN "
            f"{of_post.format('NEW.post_id')} END",
            f"CREATE TRIGGER post_rollup_{table}_delete AFTER DELETE ON {table} BEGIN "
            f"{of_post.format('OLD.post_id')} END",
            f"CREATE TRIGGER post_rollup_{table}_update AFTER UPDATE ON {table} WHEN {_changed(columns, 'IS NOT')} "
            f"BEGIN {of_post.format('OLD.post_id')} {of_post.format('NEW.post_id')} END",
        ]
    of_meeting = log + (f"SELECT DISTINCT {month.format('published_at')} FROM posts WHERE meeting_id = {{}} "
                        "AND status = 'published';")
    statements += [
        f"CREATE TRIGGER post_rollup_meetings_update AFTER UPDATE OF {', '.join(MEETING_COLUMNS)} ON meetings "
        f"WHEN {_changed(MEETING_COLUMNS, 'IS NOT')} BEGIN {of_meeting.format('OLD.id')} END",
        f"CREATE TRIGGER post_rollup_meetings_delete AFTER DELETE ON meetings BEGIN {of_meeting.format('OLD.id')} END",
    ]
    return statements


def _postgresql() -> list[str]:
    log = 'INSERT INTO post_rollup_changes (month) '
    of_post = log + "SELECT post_rollup_month(published_at) FROM posts WHERE id = {} AND status = 'published';"
    of_meeting = log + ("SELECT DISTINCT post_rollup_month(published_at) FROM posts WHERE meeting_id = OLD.id "
                        "AND status = 'published';")
    statements = [
        "CREATE FUNCTION post_rollup_month(t timestamp) RETURNS text LANGUAGE sql IMMUTABLE AS "
        "$$ SELECT coalesce(to_char(t, 'YYYY-MM'), '') $$",
        "CREATE FUNCTION post_rollup_posts() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
        "IF TG_OP <> 'INSERT' THEN IF OLD.status = 'published' THEN "
        f"{log}VALUES (post_rollup_month(OLD.published_at)); END IF; END IF; "
        "IF TG_OP <> 'DELETE' THEN IF NEW.status = 'published' THEN "
        f"{log}VALUES (post_rollup_month(NEW.published_at)); END IF; END IF; "
        "RETURN NULL; END $$",
        "CREATE FUNCTION post_rollup_post_values() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
        f"IF TG_OP <> 'INSERT' THEN {of_post.format('OLD.post_id')} END IF; "
        f"IF TG_OP <> 'DELETE' THEN {of_post.format('NEW.post_id')} END IF; "
        "RETURN NULL; END $$",
        f"CREATE FUNCTION post_rollup_meetings() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN {of_meeting} "
        "RETURN NULL; END $$",
        "CREATE TRIGGER post_rollup_posts_write AFTER INSERT OR DELETE ON posts FOR EACH ROW "
        "EXECUTE FUNCTION post_rollup_posts()",
        f"CREATE TRIGGER post_rollup_posts_update AFTER UPDATE OF {', '.join(POST_COLUMNS)} ON posts FOR EACH ROW "
        f"WHEN ((OLD.status = 'published' OR NEW.status = 'published') AND "
        f"({_changed(POST_COLUMNS, 'IS DISTINCT FROM')})) EXECUTE FUNCTION post_rollup_posts()",
    ]
    for table, columns in VALUE_COLUMNS.items():
        statements += [
            f"CREATE TRIGGER post_rollup_{table}_write AFTER INSERT OR DELETE ON {table} FOR EACH ROW "
            "EXECUTE FUNCTION post_rollup_post_values()",
            f"CREATE TRIGGER post_rollup_{table}_update AFTER UPDATE ON {table} FOR EACH ROW "
            f"WHEN ({_changed(columns, 'IS DISTINCT FROM')}) EXECUTE FUNCTION post_rollup_post_values()",
        ]
    statements += [
        f"CREATE TRIGGER post_rollup_meetings_update AFTER UPDATE OF {', '.join(MEETING_COLUMNS)} ON meetings "
        f"FOR EACH ROW WHEN ({_changed(MEETING_COLUMNS, 'IS DISTINCT FROM')}) EXECUTE FUNCTION post_rollup_meetings()",
        "CREATE TRIGGER post_rollup_meetings_delete AFTER DELETE ON meetings FOR EACH ROW "
        "EXECUTE FUNCTION post_rollup_meetings()",
    ]
    return statements


def upgrade() -> None:
    op.create_table(
        'post_month_rollup',
        sa.Column('id', sa.Integer(), primary_key=True),
        sa.Column('month', sa.String(7), nullable=False),
        sa.Column('campaign_id', sa.Integer(), nullable=True),
        sa.Column('organisation_id', sa.Integer(), nullable=True),
        sa.Column('community', sa.String(120), nullable=True),
        sa.Column('city', sa.String(120), nullable=True),
        sa.Column('platform', sa.String(40), nullable=False),
        sa.Column('channel', sa.String(120), nullable=False),
        sa.Column('language', sa.String(16), nullable=False),
        *(sa.Column(name, sa.BigInteger(), nullable=name in NULLABLE_SUMS) for name in MEASURES),
        sa.Column('first_published', sa.DateTime(), nullable=True),
        sa.Column('last_published', sa.DateTime(), nullable=True),
    )
    op.create_index('ix_post_month_rollup_month', 'post_month_rollup', ['month'])
    op.create_table(
        'post_rollup_changes',
        sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), primary_key=True),
        sa.Column('month', sa.String(7), nullable=False),
    )
    op.create_index('ix_posts_published', 'posts', ['status', 'published_at'])
    op.create_index('ix_post_metrics_latest_reach', 'post_metrics_latest', ['reach'])
    sqlite = op.get_bind().dialect.name == 'sqlite'
    for statement in _sqlite() if sqlite else _postgresql():
        op.execute(statement)
    month = "coalesce(strftime('%Y-%m', published_at), '')" if sqlite else 'post_rollup_month(published_at)'
    op.execute(f"INSERT INTO post_rollup_changes (month) SELECT DISTINCT {month} FROM posts "
               "WHERE status = 'published'")


def downgrade() -> None:
    sqlite = op.get_bind().dialect.name == 'sqlite'
    triggers = [('posts', 'posts_insert'), ('posts', 'posts_delete'), ('posts', 'posts_update'),
                ('meetings', 'meetings_update'), ('meetings', 'meetings_delete')] if sqlite else \
        [('posts', 'posts_write'), ('posts', 'posts_update'), ('meetings', 'meetings_update'),
         ('meetings', 'meetings_delete')]
    for table in VALUE_COLUMNS:
        triggers += [(table, f'{table}_{what}') for what in (('insert', 'delete', 'update') if sqlite
                                                             else ('write', 'update'))]
    for table, name in triggers:
        op.execute(f'DROP TRIGGER post_rollup_{name}' if sqlite else f'DROP TRIGGER post_rollup_{name} ON {table}')
    if not sqlite:
        for function in ('post_rollup_posts()', 'post_rollup_post_values()', 'post_rollup_meetings()',
                         'post_rollup_month(timestamp)'):
            op.execute(f'DROP FUNCTION {function}')
    op.drop_index('ix_post_metrics_latest_reach', table_name='post_metrics_latest')
    op.drop_index('ix_posts_published', table_name='posts')
    op.drop_table('post_rollup_changes')
    op.drop_index('ix_post_month_rollup_month', table_name='post_month_rollup')
    op.drop_table('post_month_rollup')
