"""the dispatcher's queue index: posts waiting to go out, in the order they are served

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-29 07:40:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None

READY_SQL = "status IN ('approved', 'retrying')"  # as in outreach.db.models, frozen here


def upgrade() -> None:
    op.create_index('ix_posts_ready', 'posts', [sa.text('coalesce(next_attempt_at, due_at)'), 'id'],
                    sqlite_where=sa.text(READY_SQL), postgresql_where=sa.text(READY_SQL))


def downgrade() -> None:
    op.drop_index('ix_posts_ready', table_name='posts')
