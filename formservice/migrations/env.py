"""Alembic environment: run by formservice.migrate with a connection in config.attributes."""

from alembic import context

from formservice.db import metadata

connection = context.config.attributes["connection"]
context.configure(connection=connection, target_metadata=metadata, compare_type=True)
with context.begin_transaction():
    context.run_migrations()
