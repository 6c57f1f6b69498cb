"""shared limits: rate_limits table, recipient keys on join_requests and outbox, outbox.network

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-03
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "rate_limits",
        sa.Column("key", sa.String(64), primary_key=True),
        sa.Column("tokens", sa.Float, nullable=False),
        sa.Column("stamp", sa.Float, nullable=False),
        sa.Column("allowed", sa.Integer, nullable=False, server_default="1"),
    )
    op.create_index("ix_rate_limits_stamp", "rate_limits", ["stamp"])
    with op.batch_alter_table("join_requests") as t:
        t.add_column(sa.Column("email_key", sa.String(254), nullable=True))
    op.execute("UPDATE join_requests SET email_key = lower(email)")
    op.create_index("ix_join_requests_email_key", "join_requests", ["email_key", "created_at"])
    with op.batch_alter_table("outbox") as t:
        t.add_column(sa.Column("to_key", sa.String(254), nullable=True))
        t.add_column(sa.Column("network", sa.String(100), nullable=True))
    op.execute("UPDATE outbox SET to_key = lower(to_addr) WHERE kind = 'confirmation'")
    op.execute("UPDATE outbox SET network = (SELECT network FROM join_requests WHERE join_requests.id = outbox.request_id)")
    op.create_index("ix_outbox_to_key", "outbox", ["to_key", "created_at"])
    op.create_index("ix_outbox_network_kind", "outbox", ["network", "kind", "created_at"])


def downgrade():
    op.drop_index("ix_outbox_network_kind", "outbox")
    op.drop_index("ix_outbox_to_key", "outbox")
    with op.batch_alter_table("outbox") as t:
        t.drop_column("network")
        t.drop_column("to_key")
    op.drop_index("ix_join_requests_email_key", "join_requests")
    with op.batch_alter_table("join_requests") as t:
        t.drop_column("email_key")
    op.drop_index("ix_rate_limits_stamp", "rate_limits")
    op.drop_table("rate_limits")
