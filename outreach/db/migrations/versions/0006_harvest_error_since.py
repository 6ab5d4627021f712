"""harvest_channels.last_error_since: when a channel's harvest started failing (for `status`)

Revision ID: 0006
Revises: 0004
Create Date: 2026-12-02 12:45:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0006'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('harvest_channels') as batch:
        batch.add_column(sa.Column('last_error_since', sa.BigInteger(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('harvest_channels') as batch:
        batch.drop_column('last_error_since')
