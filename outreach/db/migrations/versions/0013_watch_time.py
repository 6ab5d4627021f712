"""watch_time_s on engagement_snapshots and post_metrics_latest: total seconds a post's video was watched

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-02 16:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0013'
down_revision = '0012'
branch_labels = None
depends_on = None

TABLES = ('engagement_snapshots', 'post_metrics_latest')


def upgrade() -> None:  # plain ALTER TABLE … ADD COLUMN: the five-year snapshot table is not rebuilt
    for table in TABLES:
        op.add_column(table, sa.Column('watch_time_s', sa.BigInteger(), nullable=True))


def downgrade() -> None:  # plain ALTER TABLE … DROP COLUMN (SQLite 3.35+)
    for table in TABLES:
        op.drop_column(table, 'watch_time_s')
