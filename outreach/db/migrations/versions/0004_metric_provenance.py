"""metric provenance: each engagement snapshot records the API version and the set of metric
definitions (outreach/harvest/definitions.csv, "instagram@2025-04-21") its numbers were taken under

Revision ID: 0004
Revises: 0002
Create Date: 2026-12-02 13:10:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0004'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('engagement_snapshots') as batch:
        batch.add_column(sa.Column('api_version', sa.String(length=32), nullable=True))
        batch.add_column(sa.Column('definition', sa.String(length=40), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('engagement_snapshots') as batch:
        batch.drop_column('definition')
        batch.drop_column('api_version')
