"""The outbox worker against a real SMTP server (aiosmtpd), on SQLite and PostgreSQL."""

import threading
import time
from datetime import timedelta
from email.message import EmailMessage
from email.policy import default as default_policy

import pytest
from sqlalchemy import update

from formservice import registry, store
from formservice.db import outbox, utcnow
from formservice.mails import build_message, message_id
from formservice.validation import Submission
from formservice.worker import SmtpTarget, Worker, WorkerSettings, backoff
from tests.formservice.conftest import NETWORKS, SmtpServer, rows, service_env
from tests.support import free_port

NETWORK_MAP = registry.load(NETWORKS)
MAIL_FROM = "KNN Advies <aanmelden@knnadvies.example>"


def submit(db, n=1, lang="nl", network="suspacc", **kw):
    ids = []
    for i in range(n):
        values = dict(name=f"Aanvrager {i}", email=f"aanvrager{i}@voorbeeld.nl", organisation="Org",
                      message="Hallo", answers={"size": "small", "rules": True})
        values.update(kw)
        ids.append(store.save_request(db, network=NETWORK_MAP[network], submission=Submission(**values), lang=lang,
                                      client_hash="0" * 32, user_agent="test", coordinator_lang="nl"))
    return ids


def worker(db, smtp_url, **kw):
    settings = dict(mail_from=MAIL_FROM, smtp_url=smtp_url, retry_base=0.2, retry_max=1.0, poll_seconds=0.1)
    settings.update(kw)
    return Worker(db, WorkerSettings(**settings))


def outbox_ids(db):
    return [r["id"] for r in rows(db, outbox)]


def assert_each_sent_once(db, smtp):
    ids = outbox_ids(db)
    got = smtp.handler.by_message_id()
    expected = {message_id(i, MAIL_FROM, store.message_id_tag(db)) for i in ids}
    assert set(got) == expected, f"missing {expected - set(got)}, unexpected {set(got) - expected}"
    duplicates = {k: len(v) for k, v in got.items() if len(v) > 1}
    assert not duplicates, f"sent more than once: {duplicates}"
    assert all(r["sent_at"] is not None for r in rows(db, outbox))


def test_both_mails_are_delivered_with_safe_headers(db, smtp):
    [request_id] = submit(db, lang="en", name="<b>Eve</b>\u202f& co", message="Regel 1\nRegel 2",
                          answers={"size": "large", "rules": True, "newsletter": False, "sector": "<i>IT</i>"})
    assert worker(db, smtp.url).run_once() == 2
    msgs = {m["To"]: m for m in smtp.messages}
    note = msgs["coordinator@suspacc.example"]
    conf = msgs["aanvrager0@voorbeeld.nl"]
    # the notification: in the coordinator's language, every answer, HTML escaped
    assert note["Subject"] == "Nieuwe aanmelding voor SUSPACC – duurzame verpakkingen"
    assert note["Reply-To"] == "aanvrager0@voorbeeld.nl"
    assert note["From"] == MAIL_FROM
    text = note.get_body(("plain",)).get_content()
    assert "<b>Eve</b>" in text and "Omvang van uw organisatie: Groot" in text and "Sector: <i>IT</i>" in text
    assert "Ik wil de nieuwsbrief: Nee" in text and request_id in text and "Taal van de aanmelder: Engels" in text
    page = note.get_body(("html",)).get_content()
    assert "&lt;b&gt;Eve&lt;/b&gt;" in page and "&lt;i&gt;IT&lt;/i&gt;" in page
    assert "<b>Eve" not in page and "<i>IT" not in page
    assert "Regel 1<br>Regel 2" in page
    # the confirmation: in the applicant's language; repeats nothing the applicant typed
    assert conf["Subject"] == "We have received your request to join SUSPACC – sustainable packaging"
    assert conf["Reply-To"] == "coordinator@suspacc.example"
    body = conf.get_body(("plain",)).get_content()
    assert "Anne Coördinator" in body and "Eve" not in body and "Hallo" not in body
    assert conf["Content-Language"] == "en" and conf["Auto-Submitted"] == "auto-generated"
    # no user input in any header but the validated address
    for m in (note, conf):
        headers = "\n".join(f"{k}: {v}" for k, v in m.items())
        assert "Eve" not in headers and "IT" not in headers
        assert m["Message-ID"].startswith("<formservice-outbox-") and m["Message-ID"].endswith("@knnadvies.example>")
    assert_each_sent_once(db, smtp)


def test_dutch_confirmation(db, smtp):
    submit(db, lang="nl")
    worker(db, smtp.url).run_once()
    conf = [m for m in smtp.messages if m["To"] == "aanvrager0@voorbeeld.nl"][0]
    assert conf["Subject"] == "Wij hebben uw aanmelding voor SUSPACC – duurzame verpakkingen ontvangen"
    assert "Dank u wel voor uw aanmelding" in conf.get_body(("plain",)).get_content()


def test_a_header_with_cr_lf_cannot_be_built():
    msg = EmailMessage(policy=default_policy)
    with pytest.raises(ValueError):
        msg["Subject"] = "Hallo\r\nBcc: victim@example.org"
    row = {"id": 1, "to_addr": "a@b.nl", "reply_to": "x@y.nl\r\nBcc: victim@example.org", "subject": "s",
           "body": "b", "html_body": None, "lang": "nl", "created_at": utcnow()}
    with pytest.raises(ValueError):
        build_message(row, MAIL_FROM)


def _time_passes(db):
    """Make every pending mail due now (instead of sleeping through the back-off)."""
    with db.begin() as conn:
        conn.execute(update(outbox).where(outbox.c.sent_at.is_(None))
                     .values(next_attempt_at=utcnow() - timedelta(seconds=1)))


def test_smtp_down_then_up_delivers_every_mail_exactly_once(db):
    submit(db, n=5)
    port = free_port()
    w = worker(db, f"smtp://127.0.0.1:{port}", retry_base=30, retry_max=3600)  # nothing listens there yet
    assert w.run_once() == 0
    pending = rows(db, outbox)
    assert len(pending) == 10
    assert all(r["attempts"] == 1 and r["sent_at"] is None and r["last_error"] for r in pending)
    assert all(r["next_attempt_at"] > utcnow() + timedelta(seconds=20) for r in pending)  # backing off 30 s
    assert w.run_once() == 0  # not due yet: no attempt
    assert all(r["attempts"] == 1 for r in rows(db, outbox))
    _time_passes(db)
    assert w.run_once() == 0  # second attempt, still down
    assert all(r["attempts"] == 2 and r["next_attempt_at"] > utcnow() + timedelta(seconds=50)
               for r in rows(db, outbox))  # now 60 s
    smtp = SmtpServer(port).start()
    try:
        assert w.run_once() == 0  # up, but nothing is due yet
        _time_passes(db)
        assert w.run_once() == 10
        _time_passes(db)
        assert worker(db, smtp.url).run_once() == 0  # a restarted worker sends nothing again
        assert_each_sent_once(db, smtp)
        assert all(r["attempts"] == 2 for r in rows(db, outbox))
    finally:
        smtp.stop()


def test_backoff_is_exponential_and_capped():
    assert [backoff(a, 30, 3600) for a in range(1, 9)] == [30, 60, 120, 240, 480, 960, 1920, 3600]


def test_two_workers_in_threads_never_claim_the_same_row(db):
    submit(db, n=40)
    won = []
    lock = threading.Lock()
    start = threading.Barrier(4)

    def grab():
        w = worker(db, None, batch=7)
        start.wait()
        for _ in range(20):
            ids = w.claim()
            with lock:
                won.extend(ids)

    threads = [threading.Thread(target=grab) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(won) == sorted(outbox_ids(db))  # every row claimed once, none twice


def test_two_worker_processes_do_not_double_send(db, database_url, spawn):
    submit(db, n=30)
    with db.begin() as conn:  # not due until both workers run
        conn.execute(update(outbox).values(next_attempt_at=utcnow() + timedelta(days=1)))
    smtp = SmtpServer().start()
    smtp.handler.delay = 0.03  # slow enough that both workers get a share
    try:
        env = service_env(database_url, FORMSERVICE_SMTP_URL=smtp.url)
        procs = [spawn(["worker"], env) for _ in range(2)]
        deadline = time.monotonic() + 30
        while not all("outbox worker" in p.output() for p in procs) and time.monotonic() < deadline:
            time.sleep(0.05)
        _time_passes(db)  # all 60 mails due at once, for two polling workers
        deadline = time.monotonic() + 40
        while len(smtp.messages) < 60 and time.monotonic() < deadline:
            time.sleep(0.1)
        time.sleep(0.5)  # anything sent twice would arrive now
        for p in procs:
            p.kill(sig=15)
            assert p.proc.returncode == 0, p.output()
            assert "Traceback" not in p.output() and "unexpected error" not in p.output(), p.output()
        assert_each_sent_once(db, smtp)
        senders = {r["claimed_by"] for r in rows(db, outbox)}
        assert len(senders) == 2, f"only one worker did any work: {senders}"
    finally:
        smtp.stop()


def test_a_dead_workers_claim_expires_and_a_live_claim_is_respected(db, smtp):
    submit(db, n=1)
    ids = outbox_ids(db)
    now = utcnow()
    with db.begin() as conn:  # worker A claimed both rows and died (claim expired) / is alive
        conn.execute(update(outbox).where(outbox.c.id == ids[0]).values(
            claimed_by="dead", claimed_until=now - timedelta(seconds=1)))
        conn.execute(update(outbox).where(outbox.c.id == ids[1]).values(
            claimed_by="alive", claimed_until=now + timedelta(seconds=60)))
    assert worker(db, smtp.url).run_once() == 1
    assert [m["Message-ID"] for m in smtp.messages] == [message_id(ids[0], MAIL_FROM, store.message_id_tag(db))]


def test_a_permanent_refusal_stops_the_retries(db, smtp):
    submit(db, n=1)
    smtp.handler.refuse_rcpt["aanvrager0@voorbeeld.nl"] = "550 5.1.1 no such user"
    assert worker(db, smtp.url).run_once() == 1
    by_kind = {r["kind"]: r for r in rows(db, outbox)}
    assert by_kind["notification"]["sent_at"] is not None
    assert by_kind["confirmation"]["failed_at"] is not None and "550" in by_kind["confirmation"]["last_error"]
    assert worker(db, smtp.url).run_once() == 0
    assert store.outbox_counts(db) == {"pending": 0, "failed": 1}


def test_a_temporary_refusal_is_retried(db, smtp):
    submit(db, n=1)
    smtp.handler.refuse_rcpt["aanvrager0@voorbeeld.nl"] = "451 4.3.0 try again later"
    w = worker(db, smtp.url)
    assert w.run_once() == 1
    del smtp.handler.refuse_rcpt["aanvrager0@voorbeeld.nl"]
    assert w.run_once() == 0  # backing off
    _time_passes(db)
    assert w.run_once() == 1
    assert_each_sent_once(db, smtp)


def test_the_worker_thread_sends_soon_after_a_submission(db, smtp):
    from formservice.cli import make_worker
    from tests.formservice.conftest import make_config

    w = make_worker(make_config("sqlite://", smtp_url=smtp.url, poll_seconds=30.0), db)
    t = threading.Thread(target=w.run_forever)
    t.start()
    try:
        time.sleep(0.2)
        submit(db, n=1)
        w.wakeup.set()  # what the app does after each commit
        deadline = time.monotonic() + 5
        while len(smtp.messages) < 2 and time.monotonic() < deadline:
            time.sleep(0.02)
        assert len(smtp.messages) == 2  # long before the 30 s poll
    finally:
        w.stop()
        t.join(10)
    assert not t.is_alive()


@pytest.mark.parametrize("url, expected", [
    ("smtp://127.0.0.1:8025", SmtpTarget("127.0.0.1", 8025, "plain")),
    ("smtp+starttls://user%40x:p%3Ass@mail.example", SmtpTarget("mail.example", 587, "starttls", "user@x", "p:ss")),
    ("smtps://mail.example", SmtpTarget("mail.example", 465, "ssl")),
])
def test_smtp_urls(url, expected):
    assert SmtpTarget.parse(url) == expected


def test_a_bad_smtp_url_is_refused():
    with pytest.raises(ValueError):
        SmtpTarget.parse("http://mail.example")


def test_a_mail_sent_again_after_a_crash_before_its_commit_is_the_same_message(db, smtp, monkeypatch):
    """The SMTP server said 250, then the worker died before it recorded `sent_at`: the row is
    claimed again once the claim expires and sent again, with the same Message-ID and content."""
    submit(db, n=1)
    first = worker(db, smtp.url, claim_seconds=0.2)

    def crash(row_id):
        raise SystemExit("killed between the 250 and the commit")

    monkeypatch.setattr(first, "_mark_sent", crash)
    with pytest.raises(SystemExit):
        first.run_once()
    assert len(smtp.messages) == 1 and all(r["sent_at"] is None for r in rows(db, outbox))
    time.sleep(0.3)  # the dead worker's claim expires
    assert worker(db, smtp.url).run_once() == 2
    by_id = smtp.handler.by_message_id()
    again = [msgs for msgs in by_id.values() if len(msgs) == 2]
    assert len(again) == 1, {k: len(v) for k, v in by_id.items()}
    a, b = again[0]
    for header in ("Message-ID", "Date", "From", "To", "Reply-To", "Subject"):
        assert a[header] == b[header], header
    assert [p.get_content() for p in a.walk() if not p.is_multipart()] == \
        [p.get_content() for p in b.walk() if not p.is_multipart()]  # the same content (MIME boundaries aside)
    assert a["Message-ID"].endswith("@knnadvies.example>") and store.message_id_tag(db) in a["Message-ID"]
