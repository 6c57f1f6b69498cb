"""Alembic environment: run by formservice.migrate with a connection in config.attributes."""

from alembic import context

from formservice.db import metadata

attributes = context.config.attributes
connection = attributes["connection"]


def applied(ctx, step, heads, run_args):
    """Note each revision done, so that a failure can name the one that failed."""
    attributes.setdefault("applied", []).append(step.up_revision_id)


context.configure(connection=connection, target_metadata=metadata, compare_type=True, on_version_apply=applied)
with context.begin_transaction():
    context.run_migrations()
