"""posts.may_exist_since: since when a post may exist on its channel's platform (an attempt that may
have reached it, not yet settled); and posts.attempt_budget_from: the attempt number a fresh budget
(a retry by hand) counts from, so attempt numbers keep counting and the window is never lost

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-02 12:40:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column('posts', sa.Column('may_exist_since', sa.DateTime(), nullable=True))
    op.add_column('posts', sa.Column('attempt_budget_from', sa.Integer(), nullable=False, server_default='0'))


def downgrade() -> None:  # plain ALTER TABLE … DROP COLUMN (SQLite 3.35+): no table rebuild
    op.drop_column('posts', 'attempt_budget_from')
    op.drop_column('posts', 'may_exist_since')
