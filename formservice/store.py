"""Everything the service writes or reads in the database, as SQLAlchemy Core statements."""

import hashlib
import hmac
import math
import time
import uuid
from dataclasses import dataclass, field
from datetime import timedelta

from sqlalchemy import bindparam, delete, func, insert, or_, select, text, update

from formservice import mails
from formservice.db import LOCK_WAIT_MS, health, join_requests, outbox, rate_limits, scrub, secrets, utcnow

USER_AGENT_MAX = 200
DIGEST_MAX_CHARS = 32 * 1024  # a digest stops growing here (a flood must not rewrite a huge row each time)


def client_hash_key(engine):
    with engine.connect() as conn:
        key = conn.execute(select(secrets.c.value).where(secrets.c.name == "client_hash_key")).scalar_one()
    return key.encode()


def message_id_tag(engine):
    """A short tag of this database for Message-IDs (derived from its secret key)."""
    return hmac.new(client_hash_key(engine), b"message-id", hashlib.sha256).hexdigest()[:12]


def client_hash(key, client_ip):
    """A keyed hash of the client address: lets abuse be recognised, without storing the IP."""
    return hmac.new(key, (client_ip or "").encode(), hashlib.sha256).hexdigest()[:32]


def clean_user_agent(ua):
    ua = "".join(c for c in (ua or "") if c.isprintable())
    return ua[:USER_AGENT_MAX]


#: Mail providers that deliver an address with or without dots in its local part to one
#: mailbox, and the domain each is known by (Gmail also takes googlemail.com as gmail.com).
DOTLESS_DOMAINS = {"gmail.com": "gmail.com", "googlemail.com": "gmail.com"}


def recipient_key(email):
    """The mailbox an address reaches, for counting and erasing: lower-case, without a +tag
    (jan+1@x.nl and JAN+2@x.nl are both jan@x.nl's inbox), and at the providers of
    DOTLESS_DOMAINS without dots and under one domain (B.ob.Smith@googlemail.com is
    bobsmith@gmail.com). The stored address stays as the applicant typed it."""
    local, _, domain = email.lower().rpartition("@")
    local = local.split("+", 1)[0] or local
    if domain in DOTLESS_DOMAINS:
        domain, local = DOTLESS_DOMAINS[domain], local.replace(".", "") or local
    return f"{local}@{domain}"


@dataclass(frozen=True)
class Limits:
    """What the writer enforces in the database, the same for every instance on it.

    rate_per_minute / rate_burst: join requests per client (0: no limit).
    window_hours: one confirmation per mailbox and network per window; a repeated request for
    the same mailbox and network inside it is stored beside the first, which it never changes,
    marked as its repeat (`repeat_of`), and reaches the coordinator in the digest, not alone.
    confirmations_per_window: confirmations per address over all networks per window.
    """
    rate_per_minute: float = 0.0
    rate_burst: int = 5
    window_hours: float = 24.0  # 0: no per-recipient limits
    confirmations_per_window: int = 3
    notifications_per_hour: int = 10  # per network; past it one digest an hour (0: no digest)


class RateLimited(Exception):
    """Too many requests from this client (shared count): wait `wait` seconds."""

    def __init__(self, wait):
        super().__init__(wait)
        self.wait = wait


@dataclass(frozen=True)
class NewRequest:
    """A join request ready to insert: its row and the rows of its two outbox mails."""
    id: str
    row: dict
    mails: list
    client_key: str = ""
    digest: dict | None = None  # the head of the coordinator's digest, should this request go into one
    outcome: dict = field(default_factory=dict, compare=False)  # what insert_requests did: "repeat_of", mails


def new_request(*, network, submission, lang, client_hash, user_agent, coordinator_lang) -> NewRequest:
    """The rows of a validated request (a fresh id; nothing is written yet)."""
    request_id = str(uuid.uuid4())
    now = utcnow()
    row = dict(id=request_id, network=network.slug, lang=lang, name=submission.name, email=submission.email,
               organisation=submission.organisation, message=submission.message, answers=submission.answers,
               consent_at=now, created_at=now, client_hash=client_hash, user_agent=clean_user_agent(user_agent),
               email_key=recipient_key(submission.email), repeat_of=None)
    mail_rows = [
        mails.notification(network, submission, request_id, lang, now, coordinator_lang),
        mails.confirmation(network, submission, lang),
    ]
    rows = [dict(m, request_id=request_id, attempts=0, next_attempt_at=now, created_at=now, network=network.slug,
                 to_key=row["email_key"] if m["kind"] == mails.CONFIRMATION else None) for m in mail_rows]
    return NewRequest(request_id, row, rows, client_hash, mails.digest(network, coordinator_lang))


def take_token(conn, key, limits: Limits, now=None):
    """Take one request from client `key`'s bucket, atomically (one upsert): (allowed, wait)."""
    now = time.time() if now is None else now
    rate = limits.rate_per_minute / 60.0
    least = "LEAST" if conn.dialect.name == "postgresql" else "min"
    refilled = f"{least}(:burst, rate_limits.tokens + (CASE WHEN :now > rate_limits.stamp " \
               f"THEN :now - rate_limits.stamp ELSE 0 END) * :rate)"
    row = conn.execute(text(
        "INSERT INTO rate_limits (key, tokens, stamp, allowed) VALUES (:key, :burst - 1, :now, 1) "
        "ON CONFLICT (key) DO UPDATE SET "
        f"tokens = CASE WHEN {refilled} >= 1 THEN {refilled} - 1 ELSE {refilled} END, "
        f"allowed = CASE WHEN {refilled} >= 1 THEN 1 ELSE 0 END, stamp = :now "
        "RETURNING tokens, allowed"), {"key": key, "burst": float(limits.rate_burst), "now": now, "rate": rate}).one()
    tokens, allowed = row
    if allowed:
        return True, 0
    return False, max(1, math.ceil((1 - tokens) / rate))


def insert_requests(conn, requests, limits: Limits | None = None):
    """Insert requests with their mails, in the caller's transaction, under `limits`.

    Returns, per request, its id or the RateLimited exception to answer it with. With limits:
    each request takes a token of its client's shared bucket; a request for a mailbox and
    network that already has one inside the window is stored as its repeat, without mails of
    its own (a line in the coordinator's digest); a new one gets its confirmation only while
    the mailbox has had fewer than `confirmations_per_window`.
    Without limits: two statements for any number of requests.
    """
    results = [r.id for r in requests]
    if limits is None:
        conn.execute(insert(join_requests), [r.row for r in requests])
        conn.execute(insert(outbox), [m for r in requests for m in r.mails])
        return results
    if limits.rate_per_minute > 0:
        for i, r in enumerate(requests):
            allowed, wait = take_token(conn, r.client_key, limits)
            if not allowed:
                results[i] = RateLimited(wait)
    live = [r for i, r in enumerate(requests) if not isinstance(results[i], RateLimited)]
    if not live:
        return results
    if limits.window_hours <= 0:  # no per-recipient limits
        conn.execute(insert(join_requests), [r.row for r in live])
        conn.execute(insert(outbox), [m for r in live for m in r.mails])
        return results
    keys = sorted({r.row["email_key"] for r in live})
    if conn.dialect.name == "postgresql":  # instances deciding about one address take turns
        for k in keys:
            conn.execute(select(func.pg_advisory_xact_lock(func.hashtext(k))))
    cutoff = utcnow() - timedelta(hours=limits.window_hours)
    first = {}  # (mailbox, network) -> the first request of the window: repeats name it
    for i, k, n in conn.execute(
            select(join_requests.c.id, join_requests.c.email_key, join_requests.c.network)
            .where(join_requests.c.email_key.in_(keys), join_requests.c.created_at >= cutoff,
                   join_requests.c.repeat_of.is_(None)).order_by(join_requests.c.created_at)):
        first.setdefault((k, n), i)
    sent = dict(conn.execute(
        select(outbox.c.to_key, func.count()).where(outbox.c.to_key.in_(keys), outbox.c.created_at >= cutoff)
        .group_by(outbox.c.to_key)).all())
    notified = {}  # network -> notifications of the past hour
    if limits.notifications_per_hour > 0:
        notified = _recent_notifications(conn, {r.row["network"] for r in live})
    digested = {}  # network -> the requests of this batch that go into its digest
    fresh, fresh_mails = [], []

    def flush():
        if fresh:
            conn.execute(insert(join_requests), fresh)
        if fresh_mails:
            conn.execute(insert(outbox), fresh_mails)
        fresh.clear()
        fresh_mails.clear()

    for r in live:
        key = (r.row["email_key"], r.row["network"])
        if key in first:  # a repeat: stored beside the first, which stays as it is; no mail of its own
            r.row["repeat_of"] = first[key]
            r.outcome.update(repeat_of=first[key], mails=[])
            fresh.append(r.row)
            if r.digest is not None:
                digested.setdefault(r.row["network"], []).append(r)
            continue
        first[key] = r.id
        keep = []
        for m in r.mails:
            if m["kind"] == mails.CONFIRMATION:
                if sent.get(m["to_key"], 0) >= limits.confirmations_per_window:
                    continue
                sent[m["to_key"]] = sent.get(m["to_key"], 0) + 1
            if m["kind"] == mails.NOTIFICATION and limits.notifications_per_hour > 0 and r.digest is not None:
                slug = r.row["network"]
                if notified.get(slug, 0) >= limits.notifications_per_hour:
                    digested.setdefault(slug, []).append(r)
                    continue
                notified[slug] = notified.get(slug, 0) + 1
            keep.append(m)
        r.outcome.update(repeat_of=None, mails=[m["kind"] for m in keep])
        fresh.append(r.row)
        fresh_mails += keep
    flush()
    if digested:
        _add_to_digests(conn, digested)
    return results


def _recent_notifications(conn, slugs):
    """Notifications queued in the past hour about each network of `slugs` (one statement for
    the whole commit; the counts stay small: past the threshold a network's requests go into
    its digest)."""
    return dict(conn.execute(select(outbox.c.network, func.count()).where(
        outbox.c.network.in_(sorted(slugs)), outbox.c.kind == mails.NOTIFICATION,
        outbox.c.created_at >= utcnow() - timedelta(hours=1)).group_by(outbox.c.network)).all())


_APPEND_TO_DIGEST = (update(outbox).where(outbox.c.id == bindparam("digest_id"),
                                          func.length(outbox.c.body) < DIGEST_MAX_CHARS)
                     .values(body=outbox.c.body + bindparam("lines")))


def _add_to_digests(conn, digested):
    """Add a line for each request of `digested` ({network: [requests of this commit]}) to its
    network's digest that is still collecting (due in an hour from its start, so no worker has
    claimed it yet), or start one. Three statements for the whole commit, whatever the number
    of requests and networks: under a flood, every request of a commit goes this way."""
    now = utcnow()
    open_digests = dict(conn.execute(select(outbox.c.network, func.min(outbox.c.id)).where(
        outbox.c.network.in_(sorted(digested)), outbox.c.kind == mails.DIGEST, outbox.c.sent_at.is_(None),
        outbox.c.claimed_until.is_(None), outbox.c.next_attempt_at > now + timedelta(seconds=5))
        .group_by(outbox.c.network)).all())
    appends, starts = [], []
    for network, batch in digested.items():
        lines = "".join(mails.digest_line(r.row, r.digest["lang"]) for r in batch)
        if network in open_digests:
            appends.append({"digest_id": open_digests[network], "lines": lines})
        else:
            head = batch[0].digest
            starts.append(dict(head, body=head["body"] + lines, network=network, request_id=None, attempts=0,
                               created_at=now, next_attempt_at=now + timedelta(hours=1)))
    if appends:
        conn.execute(_APPEND_TO_DIGEST, appends)
    if starts:
        conn.execute(insert(outbox), starts)


def save_request(engine, **fields):
    """Store one request and its two outbox mails in ONE transaction; return the id.

    When this returns, the transaction is committed: the caller may acknowledge it.
    (The service itself stores through formservice.groupcommit, many requests per commit.)
    """
    new = new_request(**fields)
    with engine.begin() as conn:
        insert_requests(conn, [new])
    return new.id


def prune_rate_limits(engine, older_than_seconds=3600):
    """Forget the buckets of clients not seen for a while (they are full again anyway)."""
    with engine.begin() as conn:
        return conn.execute(delete(rate_limits).where(rate_limits.c.stamp < time.time() - older_than_seconds)).rowcount


def requests_of(engine, slug):
    with engine.connect() as conn:
        return [dict(r._mapping) for r in conn.execute(
            select(join_requests).where(join_requests.c.network == slug)
            .order_by(join_requests.c.created_at, join_requests.c.id))]


@dataclass(frozen=True)
class Erased:
    """What erase() removed: requests, mails (to, from or about them; digests left empty),
    lines taken out of digests that stay, and the notices queued to coordinators."""
    requests: int = 0
    mails: int = 0
    digest_lines: int = 0
    notices: int = 0


def erase(engine, email, networks=None, coordinator_lang=None):
    """Delete every request whose address reaches the mailbox of `email` (recipient_key: exactly
    that mailbox, never an address that merely contains it), every mail to or about them (found
    by request id; sent mails too, their bodies hold the data) and their lines in the
    coordinators' digests. With `networks` ({slug: Network}), each coordinator who was told of
    such a request gets a notice naming the request numbers to delete (no personal data).
    Then the database's files are scrubbed (db.scrub): nothing of the rows stays on disk.
    (A mail being sent at this very moment may still go out once.)"""
    key = recipient_key(email)
    with engine.begin() as conn:
        found = conn.execute(select(join_requests.c.id, join_requests.c.network)
                             .where(join_requests.c.email_key == key)).all()
        ids = sorted({i for i, _ in found})
        by_network = {}
        for i, n in found:
            by_network.setdefault(n, []).append(i)
        mails_deleted = conn.execute(delete(outbox).where(or_(
            outbox.c.request_id.in_(ids), outbox.c.to_key == key))).rowcount
        emptied, lines = _erase_from_digests(conn, sorted(by_network), ids)
        requests_deleted = conn.execute(delete(join_requests).where(join_requests.c.id.in_(ids))).rowcount
        notices = []
        for slug, erased_ids in sorted(by_network.items()):
            network = (networks or {}).get(slug)
            if network is not None and coordinator_lang:
                now = utcnow()
                notices.append(dict(mails.erased(network, erased_ids, coordinator_lang), request_id=None,
                                    attempts=0, next_attempt_at=now, created_at=now, network=slug))
        if notices:
            conn.execute(insert(outbox), notices)
    scrub(engine, [join_requests, outbox])
    return Erased(requests_deleted, mails_deleted + emptied, lines, len(notices))


def _erase_from_digests(conn, networks, ids):
    """Take the lines of requests `ids` out of the digests about `networks` (a line ends with its
    request's number); a digest left without lines goes. (digests deleted, lines removed)."""
    if not ids or not networks:
        return 0, 0
    deleted = removed = 0
    wanted = set(ids)
    for row_id, body in conn.execute(select(outbox.c.id, outbox.c.body).where(
            outbox.c.kind == mails.DIGEST, outbox.c.network.in_(networks))).all():
        head, _, lines = body.partition("\n\n")
        all_lines = lines.splitlines(keepends=True)
        kept = [line for line in all_lines if line.rstrip("\n").rsplit("  ", 1)[-1] not in wanted]
        if len(kept) == len(all_lines):
            continue
        removed += len(all_lines) - len(kept)
        if kept:
            conn.execute(update(outbox).where(outbox.c.id == row_id).values(body=head + "\n\n" + "".join(kept)))
        else:
            deleted += conn.execute(delete(outbox).where(outbox.c.id == row_id)).rowcount
    return deleted, removed


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
