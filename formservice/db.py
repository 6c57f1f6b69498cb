"""Tables (SQLAlchemy Core), the engine, and the SQLite durability settings.

The schema is created and changed only by the Alembic migrations in
formservice/migrations; tests check that the migrations produce exactly these tables.
"""

from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import (JSON, BigInteger, Column, DateTime, ForeignKey, Index, Integer, MetaData,
                        String, Table, Text, Uuid, create_engine, event)
from sqlalchemy.engine import Engine, make_url

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
    Index("ix_join_requests_network_created", "network", "created_at"),
    Index("ix_join_requests_email", "email"),
    Index("ix_join_requests_created", "created_at"),
)

# Integer on SQLite (so it is the rowid alias and autoincrements), BIGINT elsewhere.
_ID = BigInteger().with_variant(Integer(), "sqlite")

outbox = Table(
    "outbox", metadata,
    Column("id", _ID, primary_key=True, autoincrement=True),
    Column("request_id", Uuid(as_uuid=False), ForeignKey("join_requests.id", ondelete="CASCADE"),
           nullable=True),
    Column("kind", String(32), nullable=False),  # "notification" (coordinator) | "confirmation"
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
    Index("ix_outbox_pending", "sent_at", "next_attempt_at"),
    Index("ix_outbox_request", "request_id"),
    Index("ix_outbox_to_addr", "to_addr"),
)

# One row per named secret, created by the first migration (e.g. the key of the client hash).
secrets = Table(
    "secrets", metadata,
    Column("name", String(50), primary_key=True),
    Column("value", String(200), nullable=False),
)


def utcnow():
    """Naive UTC: the one form of time stored in every column (SQLite keeps no zone)."""
    return datetime.now(UTC).replace(tzinfo=None)


def _sqlite_pragmas(dbapi_connection, _record):
    cur = dbapi_connection.cursor()
    try:
        cur.execute("PRAGMA journal_mode=WAL")
        cur.execute("PRAGMA synchronous=FULL")
        cur.execute("PRAGMA foreign_keys=ON")
        cur.execute("PRAGMA busy_timeout=10000")
    finally:
        cur.close()


def make_engine(url: str) -> Engine:
    """An engine for a SQLite or PostgreSQL URL. SQLite: WAL, synchronous=FULL, FKs on."""
    u = make_url(url)
    if u.get_backend_name() == "sqlite":
        if u.database and u.database != ":memory:":
            Path(u.database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(u, connect_args={"timeout": 10})
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    if u.get_backend_name() == "postgresql" and u.get_driver_name() in ("psycopg2", "psycopg2cffi", ""):
        # Only psycopg 3 is installed: plain postgresql:// means postgresql+psycopg://.
        u = u.set(drivername="postgresql+psycopg")
    return create_engine(u, pool_pre_ping=True, pool_size=5, max_overflow=5)


def is_postgres(engine: Engine) -> bool:
    return engine.dialect.name == "postgresql"
