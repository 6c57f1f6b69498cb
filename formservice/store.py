"""Everything the service writes or reads in the database, as SQLAlchemy Core statements."""

import hashlib
import hmac
import uuid
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import delete, func, insert, or_, select, text, update

from formservice import mails
from formservice.db import LOCK_WAIT_MS, health, join_requests, outbox, scrub, secrets, utcnow

USER_AGENT_MAX = 200


def client_hash_key(engine):
    with engine.connect() as conn:
        key = conn.execute(select(secrets.c.value).where(secrets.c.name == "client_hash_key")).scalar_one()
    return key.encode()


def client_hash(key, client_ip):
    """A keyed hash of the client address: lets abuse be recognised, without storing the IP."""
    return hmac.new(key, (client_ip or "").encode(), hashlib.sha256).hexdigest()[:32]


def clean_user_agent(ua):
    ua = "".join(c for c in (ua or "") if c.isprintable())
    return ua[:USER_AGENT_MAX]


@dataclass(frozen=True)
class NewRequest:
    """A join request ready to insert: its row and the rows of its two outbox mails."""
    id: str
    row: dict
    mails: list


def new_request(*, network, submission, lang, client_hash, user_agent, coordinator_lang) -> NewRequest:
    """The rows of a validated request (a fresh id; nothing is written yet)."""
    request_id = str(uuid.uuid4())
    now = utcnow()
    row = dict(id=request_id, network=network.slug, lang=lang, name=submission.name, email=submission.email,
               organisation=submission.organisation, message=submission.message, answers=submission.answers,
               consent_at=now, created_at=now, client_hash=client_hash, user_agent=clean_user_agent(user_agent))
    mail_rows = [
        mails.notification(network, submission, request_id, lang, now, coordinator_lang),
        mails.confirmation(network, submission, lang),
    ]
    return NewRequest(request_id, row, [dict(m, request_id=request_id, attempts=0, next_attempt_at=now,
                                               created_at=now) for m in mail_rows])


def insert_requests(conn, requests):
    """Insert requests with their mails, in the caller's transaction (two statements for any number)."""
    conn.execute(insert(join_requests), [r.row for r in requests])
    conn.execute(insert(outbox), [m for r in requests for m in r.mails])


def save_request(engine, **fields):
    """Store one request and its two outbox mails in ONE transaction; return the id.

    When this returns, the transaction is committed: the caller may acknowledge it.
    (The service itself stores through formservice.groupcommit, many requests per commit.)
    """
    new = new_request(**fields)
    with engine.begin() as conn:
        insert_requests(conn, [new])
    return new.id


def requests_of(engine, slug):
    with engine.connect() as conn:
        return [dict(r._mapping) for r in conn.execute(
            select(join_requests).where(join_requests.c.network == slug)
            .order_by(join_requests.c.created_at, join_requests.c.id))]


def erase(engine, email):
    """Delete every request of this applicant and every mail about or to them.

    Returns (requests deleted, mails deleted). Sent mails go too: their bodies hold the
    applicant's data. (A mail being sent at this very moment may still go out once.)
    Then the database's files are scrubbed (db.scrub): nothing of the rows stays on disk.
    """
    email = email.lower()
    with engine.begin() as conn:
        ids = select(join_requests.c.id).where(func.lower(join_requests.c.email) == email)
        mails_deleted = conn.execute(delete(outbox).where(or_(
            outbox.c.request_id.in_(ids), func.lower(outbox.c.to_addr) == email,
            func.lower(outbox.c.reply_to) == email))).rowcount
        requests_deleted = conn.execute(
            delete(join_requests).where(func.lower(join_requests.c.email) == email)).rowcount
    scrub(engine, [join_requests, outbox])
    return requests_deleted, mails_deleted


def purge(engine, retention_days, now=None):
    """Delete requests older than the retention period, with their mails, and any other
    mail row older than it. Returns (requests deleted, mails deleted). What was deleted is
    scrubbed from the database's files (db.scrub)."""
    cutoff = (now or utcnow()) - timedelta(days=retention_days)
    with engine.begin() as conn:
        old = select(join_requests.c.id).where(join_requests.c.created_at < cutoff)
        mails_deleted = conn.execute(delete(outbox).where(
            or_(outbox.c.request_id.in_(old), outbox.c.created_at < cutoff))).rowcount
        requests_deleted = conn.execute(delete(join_requests).where(join_requests.c.created_at < cutoff)).rowcount
    if requests_deleted or mails_deleted:
        scrub(engine, [join_requests, outbox])
    return requests_deleted, mails_deleted


def outbox_counts(engine):
    with engine.connect() as conn:
        pending = conn.execute(select(func.count()).select_from(outbox).where(
            outbox.c.sent_at.is_(None), outbox.c.failed_at.is_(None))).scalar_one()
        failed = conn.execute(select(func.count()).select_from(outbox).where(
            outbox.c.failed_at.is_not(None))).scalar_one()
    return {"pending": pending, "failed": failed}


def probe_write(engine, wait_ms=1000):
    """Write (and commit) the health row, waiting at most about `wait_ms` for a lock.

    Raises the database's error when a write cannot be made now: locked, read-only, full, down.
    """
    stamp = update(health).where(health.c.id == 1).values(checked_at=utcnow())
    if engine.dialect.name == "sqlite":
        with engine.connect() as conn:
            conn.exec_driver_sql(f"PRAGMA busy_timeout={int(wait_ms)}")
            try:
                conn.execute(stamp)
                conn.commit()
            finally:
                conn.rollback()
                conn.exec_driver_sql(f"PRAGMA busy_timeout={LOCK_WAIT_MS}")
                conn.commit()
        return
    with engine.begin() as conn:
        conn.execute(text(f"SET LOCAL lock_timeout = {int(wait_ms)}"))
        conn.execute(text(f"SET LOCAL statement_timeout = {int(wait_ms) + 500}"))
        conn.execute(stamp)
