"""mailboxes and repeats: join_requests.repeat_of; recipient keys recomputed by mailbox

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-07
"""

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def _recompute_keys():
    """email_key and the confirmations' to_key as store.recipient_key now gives them (Gmail's
    dots and googlemail.com fold into one mailbox)."""
    from formservice.store import recipient_key

    conn = op.get_bind()
    requests = sa.table("join_requests", sa.column("id"), sa.column("email"), sa.column("email_key"))
    outbox = sa.table("outbox", sa.column("id"), sa.column("to_addr"), sa.column("to_key"), sa.column("kind"))
    for row_id, email in conn.execute(sa.select(requests.c.id, requests.c.email)).all():
        conn.execute(sa.update(requests).where(requests.c.id == row_id).values(email_key=recipient_key(email)))
    for row_id, to in conn.execute(sa.select(outbox.c.id, outbox.c.to_addr).where(outbox.c.kind == "confirmation")).all():
        conn.execute(sa.update(outbox).where(outbox.c.id == row_id).values(to_key=recipient_key(to)))


def upgrade():
    with op.batch_alter_table("join_requests") as t:
        t.add_column(sa.Column("repeat_of", sa.Uuid(as_uuid=False), nullable=True))
    _recompute_keys()


def downgrade():
    with op.batch_alter_table("join_requests") as t:
        t.drop_column("repeat_of")
