"""Tables (SQLAlchemy Core), the engine, and the SQLite durability and privacy settings.

The schema is created and changed only by the Alembic migrations in
formservice/migrations; tests check that the migrations produce exactly these tables.

Privacy: statements' parameters (applicants' data) are never logged (hide_parameters);
SQLite overwrites deleted content (secure_delete) and `scrub()` moves the write-ahead log
into the database and truncates it after an erase or purge; on PostgreSQL `scrub()`
rewrites the tables touched (VACUUM FULL), so no old row version is left in their files.
"""

import logging
import os
import time
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import (JSON, BigInteger, Column, DateTime, Float, ForeignKey, Index, Integer, MetaData,
                        String, Table, Text, Uuid, create_engine, event, text)
from sqlalchemy.engine import Engine, make_url

log = logging.getLogger(__name__)

metadata = MetaData()

join_requests = Table(
    "join_requests", metadata,
    Column("id", Uuid(as_uuid=False), primary_key=True),
    Column("network", String(100), nullable=False),
    Column("lang", String(8), nullable=False),
    Column("name", String(200), nullable=False),
    Column("email", String(254), nullable=False),
    Column("organisation", String(200), nullable=False, server_default=""),
    Column("message", Text, nullable=False, server_default=""),
    Column("answers", JSON, nullable=False),
    Column("consent_at", DateTime, nullable=False),
    Column("created_at", DateTime, nullable=False),
    Column("client_hash", String(64), nullable=False),
    Column("user_agent", String(200), nullable=False, server_default=""),
    # The mailbox the address reaches (store.recipient_key): what the per-recipient limits count.
    Column("email_key", String(254), nullable=True),
    # A repeat (the same mailbox and network within the window): the first request, which it never changes.
    Column("repeat_of", Uuid(as_uuid=False), nullable=True),
    Index("ix_join_requests_network_created", "network", "created_at"),
    Index("ix_join_requests_email", "email"),
    Index("ix_join_requests_created", "created_at"),
    Index("ix_join_requests_email_key", "email_key", "created_at"),
)

# Integer on SQLite (so it is the rowid alias and autoincrements), BIGINT elsewhere.
_ID = BigInteger().with_variant(Integer(), "sqlite")

outbox = Table(
    "outbox", metadata,
    Column("id", _ID, primary_key=True, autoincrement=True),
    Column("request_id", Uuid(as_uuid=False), ForeignKey("join_requests.id", ondelete="CASCADE"),
           nullable=True),
    Column("kind", String(32), nullable=False),  # "notification", "digest" (coordinator) | "confirmation"
    Column("to_addr", String(254), nullable=False),
    Column("reply_to", String(254), nullable=True),
    Column("subject", String(300), nullable=False),
    Column("body", Text, nullable=False),
    Column("html_body", Text, nullable=True),
    Column("lang", String(8), nullable=False),
    Column("attempts", Integer, nullable=False, server_default="0"),  # failed attempts so far
    Column("next_attempt_at", DateTime, nullable=False),
    Column("claimed_by", String(100), nullable=True),
    Column("claimed_until", DateTime, nullable=True),
    Column("sent_at", DateTime, nullable=True),
    Column("failed_at", DateTime, nullable=True),  # permanently refused (SMTP 5xx): not retried
    Column("last_error", Text, nullable=True),
    Column("created_at", DateTime, nullable=False),
    Column("to_key", String(254), nullable=True),  # confirmations: the recipient's key (counted)
    Column("network", String(100), nullable=True),  # the network the mail is about (counted, digests)
    Index("ix_outbox_pending", "sent_at", "next_attempt_at"),
    Index("ix_outbox_request", "request_id"),
    Index("ix_outbox_to_addr", "to_addr"),
    Index("ix_outbox_to_key", "to_key", "created_at"),
    Index("ix_outbox_network_kind", "network", "kind", "created_at"),
)

# The rate limit shared by every instance on this database: one token bucket per client
# (keyed by the client hash, never the address), updated atomically by one upsert.
rate_limits = Table(
    "rate_limits", metadata,
    Column("key", String(64), primary_key=True),
    Column("tokens", Float, nullable=False),
    Column("stamp", Float, nullable=False),  # time.time() of the last update
    Column("allowed", Integer, nullable=False, server_default="1"),  # the last request's verdict
    Index("ix_rate_limits_stamp", "stamp"),
)

# One row per named secret, created by the first migration (e.g. the key of the client hash).
secrets = Table(
    "secrets", metadata,
    Column("name", String(50), primary_key=True),
    Column("value", String(200), nullable=False),
)

# One row (id 1), updated by the health check: proof that the database takes writes now.
health = Table(
    "health", metadata,
    Column("id", Integer, primary_key=True, autoincrement=False),
    Column("checked_at", DateTime, nullable=True),
)


def utcnow():
    """Naive UTC: the one form of time stored in every column (SQLite keeps no zone)."""
    return datetime.now(UTC).replace(tzinfo=None)


# How long a write waits for a lock held by someone else (a backup, an admin's shell) before
# it fails: SQLite's busy timeout, PostgreSQL's lock_timeout.
LOCK_WAIT_MS = 10_000


def _sqlite_pragmas(dbapi_connection, _record):
    cur = dbapi_connection.cursor()
    try:
        cur.execute("PRAGMA journal_mode=WAL")
        cur.execute("PRAGMA synchronous=FULL")
        cur.execute("PRAGMA foreign_keys=ON")
        cur.execute(f"PRAGMA busy_timeout={LOCK_WAIT_MS}")
        cur.execute("PRAGMA secure_delete=ON")  # deleted content is overwritten with zeros
    finally:
        cur.close()


def _create_private(path: Path):
    """Create the SQLite file 0600 (whatever the umask) before SQLite does; its -wal and
    -shm files get the same mode from SQLite."""
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        os.close(os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600))
    except FileExistsError:
        pass


def make_engine(url: str) -> Engine:
    """An engine for a SQLite or PostgreSQL URL. SQLite: WAL, synchronous=FULL, FKs on, secure_delete."""
    u = make_url(url)
    if u.get_backend_name() == "sqlite":
        if u.database and u.database != ":memory:" and not u.database.startswith("file:"):
            _create_private(Path(u.database))
        engine = create_engine(u, connect_args={"timeout": LOCK_WAIT_MS / 1000}, hide_parameters=True)
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    if u.get_backend_name() == "postgresql" and u.get_driver_name() in ("psycopg2", "psycopg2cffi", ""):
        # Only psycopg 3 is installed: plain postgresql:// means postgresql+psycopg://.
        u = u.set(drivername="postgresql+psycopg")
    return create_engine(u, pool_pre_ping=True, pool_size=5, max_overflow=5, hide_parameters=True,
                         connect_args={"options": f"-c lock_timeout={LOCK_WAIT_MS}", "connect_timeout": 5})


def scrub(engine: Engine, tables, attempts: int = 50):
    """After rows were deleted: leave no copy of them in the files the database writes.

    SQLite (secure_delete already zeroed them in the database file): checkpoint the WAL into
    the database and truncate it; a reader in the way makes the checkpoint retry.
    PostgreSQL: VACUUM FULL rewrites each table and its indexes into new files (the old
    ones are truncated at commit). PostgreSQL's own WAL keeps them until it is recycled.
    """
    if engine.dialect.name == "sqlite":
        with engine.connect() as conn:
            for _ in range(attempts):
                busy, _log, _done = conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)").one()
                if not busy:
                    return True
                time.sleep(0.1)
        log.warning("the SQLite WAL could not be truncated (a reader stayed in the way); "
                    "it is truncated at the next erase or purge")
        return False
    if engine.dialect.name == "postgresql":
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            for table in tables:
                conn.execute(text(f"VACUUM FULL {table.name}"))
    return True


def is_postgres(engine: Engine) -> bool:
    return engine.dialect.name == "postgresql"
