"""Run the Alembic migrations programmatically (no alembic.ini needed)."""

import logging
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import func, select

from formservice.db import is_postgres

log = logging.getLogger(__name__)
MIGRATIONS = Path(__file__).resolve().parent / "migrations"
# Any constant: serialises concurrent `migrate` runs of several instances on one PostgreSQL.
_PG_LOCK_KEY = 0x4B4E4E466F726D  # "KNNForm"


def alembic_config(connection=None):
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.attributes["connection"] = connection
    return cfg


def head_revision():
    return ScriptDirectory.from_config(alembic_config()).get_current_head()


def current_revision(engine):
    with engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


def upgrade(engine, revision="head"):
    """Bring the database to `revision`. Safe to run from several instances at once."""
    with engine.connect() as conn:
        if is_postgres(engine):
            conn.execute(select(func.pg_advisory_lock(_PG_LOCK_KEY)))
            conn.commit()
        try:
            command.upgrade(alembic_config(conn), revision)
            conn.commit()
        finally:
            if is_postgres(engine):
                conn.execute(select(func.pg_advisory_unlock(_PG_LOCK_KEY)))
                conn.commit()
    log.info("database at revision %s", current_revision(engine))


def downgrade(engine, revision="base"):
    with engine.connect() as conn:
        command.downgrade(alembic_config(conn), revision)
        conn.commit()
