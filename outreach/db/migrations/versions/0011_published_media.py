"""posts.published_media: the prepared files a published post uploaded (hash, bytes, type, name)

Revision ID: 0011
Revises: 0006
Create Date: 2026-12-02 14:10:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0011'
down_revision = '0006'
branch_labels = None
depends_on = None


def upgrade() -> None:  # plain ALTER TABLE … ADD COLUMN: no rebuild of the posts table
    op.add_column('posts', sa.Column('published_media', sa.JSON(), nullable=True))


def downgrade() -> None:  # plain ALTER TABLE … DROP COLUMN (SQLite 3.35+)
    op.drop_column('posts', 'published_media')
