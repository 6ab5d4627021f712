"""posts.updated_at indexed: the dashboard's data version (the latest change to any post) in one index step

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-02 15:45:00
"""

from __future__ import annotations

from alembic import op

revision = '0012'
down_revision = '0011'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index('ix_posts_updated', 'posts', ['updated_at'])


def downgrade() -> None:
    op.drop_index('ix_posts_updated', table_name='posts')
