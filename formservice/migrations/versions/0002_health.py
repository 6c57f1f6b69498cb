"""health: the one row the health check writes to prove the database takes writes

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-03
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade():
    health = op.create_table(
        "health",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("checked_at", sa.DateTime, nullable=True),
    )
    op.bulk_insert(health, [{"id": 1, "checked_at": None}])


def downgrade():
    op.drop_table("health")
