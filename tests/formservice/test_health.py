"""A health check that tells the truth, and a service that answers quickly when it cannot store:
/healthz is 503 (within 2 s) while a write cannot be made or the group-commit writer is stuck,
join requests then get 503 with Retry-After, and both recover by themselves. Also: a failed
migration is one line and exit 1; the worker logs one line when the database turns unusable
and one when it is back; failed admin sign-ins are throttled."""

import contextlib
import logging
import sqlite3
import subprocess
import sys
import threading
import time

import httpx
import pytest
from sqlalchemy import text

from formservice import migrate, store
from formservice.db import make_engine
from tests.formservice.conftest import (ADMIN_TOKEN, SITE, SmtpServer, make_config, service_env, valid_form)
from tests.formservice.test_privacy import private_db, wait_for  # noqa: F401 - fixture
from tests.support import ROOT, free_port

JSON = {"Origin": SITE, "Accept": "application/json"}
BOTH = pytest.mark.parametrize("private_db", ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)],
                               indirect=True)


def timed(call):
    start = time.monotonic()
    r = call()
    return r, time.monotonic() - start


class Lock:
    """Someone else holding the database's write lock: an sqlite3 shell in an exclusive
    transaction, or a PostgreSQL session that locked the service's tables."""

    def __init__(self, url):
        self.url = url

    def __enter__(self):
        if self.url.startswith("sqlite"):
            self.conn = sqlite3.connect(self.url.removeprefix("sqlite:///"), timeout=1, isolation_level=None)
            self.conn.execute("BEGIN EXCLUSIVE")
        else:
            self.engine = make_engine(self.url)
            self.conn = self.engine.connect()
            self.conn.execute(text("LOCK TABLE join_requests, outbox, health IN ACCESS EXCLUSIVE MODE"))
        return self

    def __exit__(self, *exc):
        if self.url.startswith("sqlite"):
            self.conn.execute("ROLLBACK")
            self.conn.close()
        else:
            self.conn.rollback()
            self.conn.close()
            self.engine.dispose()


@BOTH
def test_a_locked_database_turns_healthz_and_joins_to_a_quick_503(private_db, spawn):
    url, _ = private_db
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    service = spawn(["serve", "--port", str(port), "--no-worker"], service_env(url)).wait_healthy(base)
    with httpx.Client(base_url=base, timeout=30, headers=JSON) as c:
        assert c.post("/join/suspacc", json=valid_form()).status_code == 201
        with Lock(url):
            r, took = timed(lambda: c.get("/healthz"))
            assert r.status_code == 503 and took < 2, (r.status_code, took)
            assert r.json()["database"] == "not writable"
            # the service knows: a join request is refused at once, with Retry-After
            r, took = timed(lambda: c.post("/join/suspacc", json=valid_form(email="tijdens@voorbeeld.nl")))
            assert r.status_code == 503 and int(r.headers["retry-after"]) > 0 and took < 2, (r.status_code, took)
            assert "service" in r.json()["errors"]
        # as soon as the lock is gone: healthy, and join requests are stored again
        wait_for(lambda: c.get("/healthz").status_code == 200, timeout=5, what="healthz 200")
        assert c.post("/join/suspacc", json=valid_form(email="na@voorbeeld.nl")).status_code == 201
    out = service.output()
    assert out.count("database not writable") == 1 and out.count("database writable again") == 1, out


@pytest.mark.postgres
@pytest.mark.parametrize("private_db", ["postgresql"], indirect=True)
def test_a_read_only_database_turns_healthz_to_503_until_it_is_writable(private_db, spawn):
    url, _ = private_db
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    service = spawn(["serve", "--port", str(port), "--no-worker"], service_env(url)).wait_healthy(base)
    admin = make_engine(url.rsplit("/", 1)[0] + "/postgres").execution_options(isolation_level="AUTOCOMMIT")
    name = url.rsplit("/", 1)[1]

    def read_only(on):  # as after a fail-over to a standby: every new session is read-only
        with admin.connect() as conn:
            conn.execute(text(f"ALTER DATABASE {name} SET default_transaction_read_only = {'on' if on else 'off'}"))
            conn.execute(text("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                              "WHERE datname = :n AND pid <> pg_backend_pid()"), {"n": name})

    try:
        with httpx.Client(base_url=base, timeout=30, headers=JSON) as c:
            read_only(True)
            r, took = timed(lambda: c.get("/healthz"))
            assert r.status_code == 503 and took < 2
            r, took = timed(lambda: c.post("/join/suspacc", json=valid_form()))
            assert r.status_code == 503 and r.headers["retry-after"] and took < 2
            read_only(False)
            wait_for(lambda: c.get("/healthz").status_code == 200, timeout=5, what="healthz 200")
            assert c.post("/join/suspacc", json=valid_form()).status_code == 201
    finally:
        read_only(False)
        admin.dispose()
    assert "Traceback" not in service.output()


# --- the writer watchdog (in-process: the fault is injected into the writer thread) -------------

@pytest.fixture
def watched_client(database_url, db):
    from starlette.testclient import TestClient

    from formservice.app import create_app

    config = make_config(database_url, writer_stall_seconds=0.5, writer_restart_seconds=1.5, write_timeout=1.0)
    with TestClient(create_app(config, engine=db), base_url="http://127.0.0.1:8080") as c:
        yield c


@pytest.mark.filterwarnings("ignore::pytest.PytestUnhandledThreadExceptionWarning")  # the death, on purpose
def test_a_dead_writer_turns_healthz_to_503_and_is_restarted(watched_client, monkeypatch):
    c = watched_client
    assert c.post("/join/suspacc", json=valid_form(), headers=JSON).status_code == 201
    real = store.insert_requests

    def die_once(*args):
        monkeypatch.setattr(store, "insert_requests", real)
        raise SystemExit("the writer thread dies")  # not an Exception: nothing in the thread catches it

    monkeypatch.setattr(store, "insert_requests", die_once)
    r, took = timed(lambda: c.post("/join/suspacc", json=valid_form(), headers=JSON))
    assert r.status_code == 503 and r.headers["retry-after"] and took < 3
    service = c.app.state.service
    wait_for(lambda: service.writer.restarts == 1, timeout=5, what="the writer's restart")
    assert c.get("/healthz").status_code == 200
    assert c.post("/join/suspacc", json=valid_form(), headers=JSON).status_code == 201


def test_a_hanging_writer_gives_a_quick_503_and_is_replaced(watched_client, monkeypatch, caplog):
    c = watched_client
    real = store.insert_requests
    release = threading.Event()

    def hang_once(*args):
        monkeypatch.setattr(store, "insert_requests", real)
        release.wait(30)  # e.g. a connection to a database that stopped answering
        return real(*args)

    monkeypatch.setattr(store, "insert_requests", hang_once)
    with caplog.at_level(logging.INFO, logger="formservice.app"), contextlib.ExitStack() as cleanup:
        cleanup.callback(release.set)  # whatever happens, the stuck commit ends (it holds a lock)
        r = c.post("/join/suspacc", json=valid_form(email="eerste@voorbeeld.nl"), headers=JSON)
        assert r.status_code == 503  # not committed within write_timeout
        wait_for(lambda: c.get("/healthz").status_code == 503, timeout=3, what="healthz 503")
        assert c.get("/healthz").json()["writer"] == "stalled"
        r, took = timed(lambda: c.post("/join/suspacc", json=valid_form(), headers=JSON))
        assert r.status_code == 503 and took < 0.5  # known stuck: answered at once
        service = c.app.state.service
        wait_for(lambda: service.writer.restarts == 1, timeout=5, what="the writer's restart")
        wait_for(lambda: c.get("/healthz").status_code == 200, timeout=3, what="healthz 200")
        assert c.post("/join/suspacc", json=valid_form(email="daarna@voorbeeld.nl"), headers=JSON).status_code == 201
        release.set()  # the stuck commit completes; its thread leaves
    assert "group-commit writer stalled" in caplog.text and "restarting the group-commit writer" in caplog.text


# --- the outbox worker: one line when the database is unusable, one when it is back --------------

@pytest.mark.postgres
@pytest.mark.parametrize("private_db", ["postgresql"], indirect=True)
def test_the_worker_logs_one_line_when_the_database_is_unusable_and_one_when_it_is_back(private_db, caplog):
    from formservice.worker import Worker, WorkerSettings

    url, _ = private_db
    name = url.rsplit("/", 1)[1]
    engine = make_engine(url)
    migrate.upgrade(engine)
    smtp = SmtpServer().start()
    admin = make_engine(url.rsplit("/", 1)[0] + "/postgres").execution_options(isolation_level="AUTOCOMMIT")

    def read_only(on):
        with admin.connect() as conn:
            conn.execute(text(f"ALTER DATABASE {name} SET default_transaction_read_only = {'on' if on else 'off'}"))
            conn.execute(text("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                              "WHERE datname = :n AND pid <> pg_backend_pid()"), {"n": name})

    w = Worker(engine, WorkerSettings(mail_from="a@knnadvies.example", smtp_url=smtp.url, poll_seconds=0.1))
    thread = threading.Thread(target=w.run_forever)
    try:
        with caplog.at_level(logging.INFO, logger="formservice.worker"):
            read_only(True)
            thread.start()
            time.sleep(1.5)  # some 10 polls against a read-only database
            read_only(False)
            wait_for(lambda: "database usable again" in caplog.text, timeout=5, what="the recovery line")
    finally:
        w.stop()
        thread.join(10)
        read_only(False)
        admin.dispose()
        smtp.stop()
        engine.dispose()
    assert caplog.text.count("database unusable") == 1, caplog.text
    assert caplog.text.count("database usable again") == 1
    assert "Traceback" not in caplog.text


# --- a failed migration ------------------------------------------------------------------------

def test_a_failed_migration_prints_one_line_and_exits_1(tmp_path):
    url = f"sqlite:///{tmp_path}/f.sqlite3"
    engine = make_engine(url)
    migrate.upgrade(engine, "0001")
    with engine.begin() as conn:  # the planted mistake: a table in the way of migration 0002
        conn.execute(text("CREATE TABLE health (x INTEGER)"))
    engine.dispose()
    p = subprocess.run([sys.executable, "-m", "formservice", "migrate"], env=service_env(url), cwd=ROOT,
                       capture_output=True, text=True, timeout=60)
    assert p.returncode == 1
    assert p.stderr.strip().splitlines() == [
        "formservice: migration 0002 failed: OperationalError: table health already exists"], p.stderr
    assert migrate.current_revision(make_engine(url)) == "0001"


# --- admin sign-in ------------------------------------------------------------------------------

def test_failed_admin_sign_ins_are_limited_per_client(make_client):
    c = make_client(client=("192.0.2.1", 1000))
    other = make_client(client=("192.0.2.2", 1000))
    wrong = {"Authorization": "Bearer not-the-token-but-long-enough"}
    right = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
    logged = []
    handler = logging.Handler(logging.WARNING)
    handler.emit = lambda record: logged.append(record.getMessage())
    logger = logging.getLogger("formservice.app")
    # In this pytest process Pelican may have been imported first (its logger class drops
    # repeated messages); the form service runs without Pelican, so count as it logs there.
    filters, logger.filters = logger.filters, []
    logger.addHandler(handler)
    try:
        codes = [c.get("/admin/networks/suspacc/requests.json", headers=wrong).status_code for _ in range(11)]
    finally:
        logger.removeHandler(handler)
        logger.filters = filters
    assert codes == [401] * 10 + [429]
    r = c.post("/admin/erase", json={"email": "a@voorbeeld.nl"}, headers=right)
    assert r.status_code == 429 and int(r.headers["retry-after"]) > 0  # even the right token waits
    assert other.get("/admin/networks/suspacc/requests.json", headers=right).status_code == 200
    assert sum("admin sign-in failed" in line for line in logged) == 10, logged
    assert not any("not-the-token" in line or ADMIN_TOKEN in line for line in logged)
