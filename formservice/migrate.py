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


class MigrationFailed(Exception):
    """A migration failed: which revision, and why (one line)."""

    def __init__(self, revision, reason):
        super().__init__(f"migration {revision} failed: {reason}")
        self.revision = revision
        self.reason = reason


def _reason(error):
    """One line about the error: the database's own message, without the statement."""
    orig = getattr(error, "orig", None) or error
    first = (str(orig).strip().splitlines() or [""])[0]
    return f"{type(orig).__name__}: {first}"[:300]


def _failed_revision(before, applied, target):
    """The revision after the last one applied: the one that failed."""
    script = ScriptDirectory.from_config(alembic_config())
    done = applied[-1] if applied else before
    path = [r.revision for r in script.iterate_revisions(target, done)]  # newest first
    return path[-1] if path else target


def upgrade(engine, revision="head"):
    """Bring the database to `revision`. Safe to run from several instances at once.
    Raises MigrationFailed naming the revision that failed (its transaction is rolled back)."""
    with engine.connect() as conn:
        if is_postgres(engine):
            conn.execute(select(func.pg_advisory_lock(_PG_LOCK_KEY)))
            conn.commit()
        cfg = alembic_config(conn)
        try:
            before = MigrationContext.configure(conn).get_current_revision()
            conn.commit()
            try:
                command.upgrade(cfg, revision)
                conn.commit()
            except Exception as e:  # noqa: BLE001 - one line, not a traceback
                conn.rollback()
                failed = _failed_revision(before, cfg.attributes.get("applied", []), revision)
                raise MigrationFailed(failed, _reason(e)) from e
        finally:
            if is_postgres(engine):
                conn.execute(select(func.pg_advisory_unlock(_PG_LOCK_KEY)))
                conn.commit()
    log.info("database at revision %s", current_revision(engine))


def downgrade(engine, revision="base"):
    with engine.connect() as conn:
        command.downgrade(alembic_config(conn), revision)
        conn.commit()
