"""The outbox worker: sends queued mails, with retries and exponential back-off.

A row is claimed atomically before it is sent (one conditional UPDATE ... RETURNING that
only one worker can win; on PostgreSQL the candidates are picked FOR UPDATE SKIP LOCKED),
and marked sent right after the SMTP server accepted it. So several workers, in one
process or in several instances on one PostgreSQL, never send a row twice; a row whose
worker died is claimed again once its claim has expired. Only a crash between the SMTP
server's "250 OK" and the commit of `sent_at` can cause a second delivery; the
Message-ID is derived from the row id, so such a duplicate is recognisable.

Log lines name a mail by its outbox row id and kind, and an SMTP problem by its reply
code or error class: never an address (SMTP refusals quote the recipient).
"""

import logging
import os
import smtplib
import socket
import ssl
import threading
import time
import uuid
from dataclasses import dataclass
from datetime import timedelta
from urllib.parse import unquote, urlsplit

from sqlalchemy import and_, or_, select, update
from sqlalchemy.exc import InternalError, OperationalError

from formservice import store
from formservice.config import Config
from formservice.db import outbox, utcnow
from formservice.mails import build_message

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class SmtpTarget:
    host: str
    port: int
    mode: str  # "plain" | "starttls" | "ssl"
    username: str | None = None
    password: str | None = None

    @classmethod
    def parse(cls, url):
        """smtp://[user:pass@]host[:port] (plain), smtp+starttls://..., smtps://..."""
        parts = urlsplit(url)
        modes = {"smtp": ("plain", 25), "smtp+starttls": ("starttls", 587), "smtps": ("ssl", 465)}
        if parts.scheme not in modes or not parts.hostname:
            raise ValueError(f"SMTP URL {url!r}: use smtp://host:port, smtp+starttls://host:port or smtps://host:port")
        mode, default_port = modes[parts.scheme]
        return cls(parts.hostname, parts.port or default_port, mode,
                   unquote(parts.username) if parts.username else None,
                   unquote(parts.password) if parts.password else None)

    def connect(self, timeout):
        if self.mode == "ssl":
            smtp = smtplib.SMTP_SSL(self.host, self.port, timeout=timeout, context=ssl.create_default_context())
        else:
            smtp = smtplib.SMTP(self.host, self.port, timeout=timeout)
            if self.mode == "starttls":
                smtp.starttls(context=ssl.create_default_context())
        if self.username:
            smtp.login(self.username, self.password or "")
        return smtp


class PermanentFailure(Exception):
    """The server refused the mail for good (5xx): retrying will not help."""


def describe(error):
    """An SMTP or network error in words that quote nothing of the mail: codes and classes."""
    if isinstance(error, PermanentFailure) and error.__cause__ is not None:
        return describe(error.__cause__)
    if isinstance(error, smtplib.SMTPRecipientsRefused):
        return "recipient refused: " + ", ".join(str(code) for code, _ in error.recipients.values())
    if isinstance(error, smtplib.SMTPResponseException):
        return f"{type(error).__name__} {error.smtp_code}"
    if isinstance(error, OSError) and error.strerror:
        return f"{type(error).__name__}: {error.strerror}"
    return type(error).__name__


@dataclass
class WorkerSettings:
    mail_from: str
    smtp_url: str | None
    # The defaults are the service's settings' defaults (formservice.config.Config).
    retry_base: float = Config.retry_base_seconds  # before the 2nd attempt; doubles each time
    retry_max: float = Config.retry_max_seconds    # cap of the back-off: an outage only delays
    claim_seconds: float = Config.claim_seconds
    poll_seconds: float = Config.poll_seconds
    batch: int = 20
    smtp_timeout: float = Config.smtp_timeout
    retention_days: int = Config.retention_days
    purge_every: float = Config.purge_every_seconds

    @classmethod
    def from_config(cls, config):
        return cls(mail_from=config.mail_from, smtp_url=config.smtp_url, retry_base=config.retry_base_seconds,
                   retry_max=config.retry_max_seconds, claim_seconds=config.claim_seconds,
                   poll_seconds=config.poll_seconds, smtp_timeout=config.smtp_timeout,
                   retention_days=config.retention_days, purge_every=config.purge_every_seconds)


def backoff(attempts, base, cap):
    return min(cap, base * (2 ** max(0, attempts - 1)))


class Worker:
    def __init__(self, engine, settings: WorkerSettings, name=None):
        self.engine = engine
        self.settings = settings
        self.name = name or f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
        self.smtp = SmtpTarget.parse(settings.smtp_url) if settings.smtp_url else None
        self.wakeup = threading.Event()
        self.stopping = threading.Event()
        self._last_purge = None
        self._tag = None  # store.message_id_tag, read once

    # -- claiming -------------------------------------------------------------------------
    def claim(self, now=None):
        """Claim up to `batch` due rows in one atomic UPDATE; return the ids this worker won.

        UPDATE outbox SET claimed_by = me, claimed_until = now + lease
        WHERE id IN (SELECT id ... due ... LIMIT n [FOR UPDATE SKIP LOCKED]) AND <still due>
        RETURNING id. A row another worker claimed meanwhile no longer matches the WHERE, so
        it is not returned here; on PostgreSQL, rows locked by another worker are skipped.
        """
        now = now or utcnow()
        until = now + timedelta(seconds=self.settings.claim_seconds)
        free = or_(outbox.c.claimed_until.is_(None), outbox.c.claimed_until < now)
        due = and_(outbox.c.sent_at.is_(None), outbox.c.failed_at.is_(None), outbox.c.next_attempt_at <= now, free)
        candidates = (select(outbox.c.id).where(due).order_by(outbox.c.next_attempt_at, outbox.c.id)
                      .limit(self.settings.batch).with_for_update(skip_locked=True))
        with self.engine.begin() as conn:
            won = conn.execute(update(outbox).where(outbox.c.id.in_(candidates.scalar_subquery()), due)
                               .values(claimed_by=self.name, claimed_until=until)
                               .returning(outbox.c.id)).scalars().all()
        return sorted(won)

    def _load(self, row_id):
        with self.engine.connect() as conn:
            row = conn.execute(select(outbox).where(outbox.c.id == row_id, outbox.c.claimed_by == self.name,
                                                    outbox.c.sent_at.is_(None))).first()
        return dict(row._mapping) if row else None

    def _mark_sent(self, row_id):
        with self.engine.begin() as conn:
            conn.execute(update(outbox).where(outbox.c.id == row_id, outbox.c.claimed_by == self.name)
                         .values(sent_at=utcnow(), claimed_until=None, last_error=None))

    def _mark_failed(self, row, error, permanent):
        attempts = row["attempts"] + 1
        now = utcnow()
        values = {"attempts": attempts, "claimed_until": None, "last_error": describe(error)[:2000]}
        if permanent:
            values["failed_at"] = now
        else:
            values["next_attempt_at"] = now + timedelta(
                seconds=backoff(attempts, self.settings.retry_base, self.settings.retry_max))
        with self.engine.begin() as conn:
            conn.execute(update(outbox).where(outbox.c.id == row["id"], outbox.c.claimed_by == self.name)
                         .values(**values))

    # -- sending --------------------------------------------------------------------------
    def _deliver(self, smtp, msg):
        try:
            refused = smtp.send_message(msg)
        except smtplib.SMTPRecipientsRefused as e:
            codes = [code for code, _ in e.recipients.values()]
            if codes and all(500 <= c < 600 for c in codes):
                raise PermanentFailure(describe(e)) from e
            raise
        except (smtplib.SMTPDataError, smtplib.SMTPSenderRefused) as e:
            if 500 <= e.smtp_code < 600:
                raise PermanentFailure(describe(e)) from e
            raise
        if refused:  # only partly accepted: we only ever send to one recipient
            raise smtplib.SMTPException("refused: " + ", ".join(str(code) for code, _ in refused.values()))

    def run_once(self):
        """Send every due mail once. Returns the number sent."""
        if self.smtp is None:
            return 0
        ids = self.claim()
        if not ids:
            return 0
        sent = 0
        smtp = None
        try:
            for i, row_id in enumerate(ids):
                row = self._load(row_id)
                if row is None:  # erased, or no longer ours
                    continue
                try:
                    if smtp is None:
                        try:
                            smtp = self.smtp.connect(self.settings.smtp_timeout)
                        except (OSError, smtplib.SMTPException) as e:
                            # Server unreachable: every claimed row waits its back-off.
                            log.warning("SMTP server %s:%d unreachable: %s", self.smtp.host, self.smtp.port,
                                        describe(e))
                            for other in [row_id] + ids[i + 1:]:
                                other_row = self._load(other)
                                if other_row is not None:
                                    self._mark_failed(other_row, e, permanent=False)
                            break
                    if self._tag is None:
                        self._tag = store.message_id_tag(self.engine)
                    self._deliver(smtp, build_message(row, self.settings.mail_from, self._tag))
                except PermanentFailure as e:
                    log.error("outbox %s (%s) refused for good: %s", row_id, row["kind"], describe(e))
                    self._mark_failed(row, e, permanent=True)
                    continue
                except (OSError, smtplib.SMTPException) as e:
                    log.warning("outbox %s (%s): attempt %d failed: %s", row_id, row["kind"], row["attempts"] + 1,
                                describe(e))
                    self._mark_failed(row, e, permanent=False)
                    if smtp is not None:
                        try:
                            smtp.close()
                        finally:
                            smtp = None
                    continue
                self._mark_sent(row_id)
                sent += 1
                log.info("outbox %s (%s) sent", row_id, row["kind"])
        finally:
            if smtp is not None:
                try:
                    smtp.quit()
                except (OSError, smtplib.SMTPException):
                    smtp.close()
        return sent

    def maybe_purge(self):
        if self._last_purge is not None and time.monotonic() - self._last_purge < self.settings.purge_every:
            return
        self._last_purge = time.monotonic()
        requests, mails = store.purge(self.engine, self.settings.retention_days)
        store.prune_rate_limits(self.engine)
        if requests or mails:
            log.info("purge: deleted %d requests and %d mails older than %d days",
                     requests, mails, self.settings.retention_days)

    def run_forever(self):
        if self.smtp is None:
            log.warning("no SMTP URL configured: mails stay queued in the outbox")
        log.info("outbox worker %s started", self.name)
        down = None  # the class of the database error while the database is unusable
        while not self.stopping.is_set():
            busy = 0
            self.wakeup.clear()
            try:
                self.maybe_purge()
                busy = self.run_once()
            except (OperationalError, InternalError) as e:  # locked, read-only, full, down: one line, then one when back
                name = type(e.orig or e).__name__
                if down is None:
                    log.error("outbox worker: database unusable (%s); retrying every %g s",
                              name, self.settings.poll_seconds)
                down = name
            except Exception as e:  # noqa: BLE001 - unexpected: the stack, never the message
                log.error("outbox worker: unexpected %s; retrying", type(e).__name__, exc_info=True)
            else:
                if down is not None:
                    log.info("outbox worker: database usable again")
                    down = None
            if busy < 1:  # nothing was due (or all failed): wait for a wake-up or the poll
                self.wakeup.wait(self.settings.poll_seconds)
        log.info("outbox worker %s stopped", self.name)

    def stop(self):
        self.stopping.set()
        self.wakeup.set()
