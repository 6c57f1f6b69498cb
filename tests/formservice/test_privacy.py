"""An applicant's personal data: erased means gone from every file the service writes, no log
line carries it on any path, and the database files are private.

Distinctive values are planted in join requests; the tests look for them, byte for byte, in
the database's files and in everything `formservice serve` printed.
"""

import os
import sqlite3
import stat
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path

import httpx
import pytest
from sqlalchemy import text, update

from formservice.db import join_requests, make_engine, outbox, utcnow
from tests.formservice.conftest import ADMIN_TOKEN, SITE, SmtpServer, service_env, valid_form
from tests.support import ROOT, free_port

AUTH = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
JSON = {"Origin": SITE, "Accept": "application/json"}


def planted(tag):
    """The values of one applicant, each distinctive enough to be found anywhere."""
    return {"name": f"Naam{tag} Qzxjv", "email": f"adres.{tag.lower()}@plant-qzxjv.example",
            "organisation": f"Orgqzxjv{tag}", "message": f"Bericht qzxjv {tag} " * 30,
            "q_sector": f"Sectorqzxjv{tag}", "q_billing_email": f"factuur.{tag.lower()}@plant-qzxjv.example"}


def needles(values):
    """The byte strings to look for: every planted value (the message's first words)."""
    out = [values["name"], values["email"], values["organisation"], values["message"][:20],
           values["q_sector"], values["q_billing_email"]]
    return [v.encode() for v in out]


def files_holding(paths, values):
    """{planted value: [files holding it]} over `paths` (files, or directories walked)."""
    files = []
    for p in map(Path, paths):
        files += [f for f in p.rglob("*") if f.is_file()] if p.is_dir() else [p]
    found = {}
    for f in files:
        data = f.read_bytes()
        for n in values:
            if n in data:
                found.setdefault(n.decode(), []).append(str(f))
    return found


def wait_for(predicate, timeout=20, what="condition"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


# --- erase and purge reach the disk -------------------------------------------------------------

def _pg_files(engine, server):
    """The data directory of this database (its tables and indexes), not PostgreSQL's own WAL."""
    with engine.connect() as conn:
        oid = conn.execute(text("SELECT oid FROM pg_database WHERE datname = current_database()")).scalar_one()
        conn.execute(text("CHECKPOINT"))  # what is in shared buffers goes to the files
    return [Path(server.data) / "base" / str(oid)]


def _checkpoint(engine):
    if engine.dialect.name == "postgresql":
        with engine.connect() as conn:
            conn.execute(text("CHECKPOINT"))


@pytest.fixture
def private_db(request, tmp_path):
    """(url, files to search): a fresh SQLite file, or a fresh database on the test PostgreSQL."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path}/db/formservice.sqlite3"
        yield url, lambda engine: [tmp_path / "db"]
        return
    server = request.getfixturevalue("postgres_server")
    name = f"privacy_{os.getpid()}_{int(time.monotonic() * 1000)}"
    admin = make_engine(server.url("postgres")).execution_options(isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f"CREATE DATABASE {name}"))
    yield server.url(name), lambda engine: _pg_files(engine, server)
    with admin.connect() as conn:
        conn.execute(text(f"DROP DATABASE {name} WITH (FORCE)"))
    admin.dispose()


@pytest.mark.parametrize("private_db", ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)],
                         indirect=True)
def test_an_erased_applicant_is_in_no_file_the_service_writes(private_db, spawn, tmp_path):
    url, where = private_db
    smtp = SmtpServer().start()
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    service = spawn(["serve", "--port", str(port)], service_env(url, FORMSERVICE_SMTP_URL=smtp.url)).wait_healthy(base)
    victim, other = planted("Wis"), planted("Blijf")
    try:
        with httpx.Client(base_url=base, timeout=10, headers=JSON) as c:
            for _ in range(3):  # several requests, several mails: many copies to find
                assert c.post("/join/suspacc", json=valid_form(**victim)).status_code == 201
            assert c.post("/join/suspacc", json=valid_form(**other)).status_code == 201
            wait_for(lambda: len(smtp.messages) == 8, what="the 8 mails")  # all sent: rows updated too
            engine = make_engine(url)
            before = files_holding(where(engine), needles(victim))
            # the test can fail: before the erase, every planted value is on disk
            assert set(before) == {n.decode() for n in needles(victim)}, before
            r = c.post("/admin/erase", json={"email": victim["email"].upper()}, headers=AUTH)
            assert r.status_code == 200 and r.json() == {"deleted_requests": 3, "deleted_mails": 6,
                                                         "removed_digest_lines": 0, "coordinators_told": 1}
        after = files_holding(where(engine), needles(victim) + needles(other))
        assert not {k: v for k, v in after.items() if "Wis" in k or "wis" in k}, after
        assert set(after) == {n.decode() for n in needles(other)}, "the other applicant must still be there"
        if url.startswith("sqlite"):
            for f in (tmp_path / "db").iterdir():  # database, -wal, -shm: private
                assert stat.S_IMODE(f.stat().st_mode) == 0o600, f
        engine.dispose()
    finally:
        smtp.stop()
        service.kill()
    assert "qzxjv" not in service.output().lower()


@pytest.mark.parametrize("private_db", ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)],
                         indirect=True)
def test_a_purged_request_is_in_no_file_either(private_db, tmp_path):
    url, where = private_db
    env = service_env(url)
    run = lambda *a: subprocess.run([sys.executable, "-m", "formservice", *a], env=env, cwd=ROOT,  # noqa: E731
                                    capture_output=True, text=True, timeout=60)
    assert run("migrate").returncode == 0
    from starlette.testclient import TestClient

    from formservice.app import create_app
    from tests.formservice.conftest import make_config

    engine = make_engine(url)
    old, new = planted("Oud"), planted("Nieuw")
    with TestClient(create_app(make_config(url), engine=engine)) as c:
        assert c.post("/join/suspacc", json=valid_form(**old), headers=JSON).status_code == 201
        aged = utcnow() - timedelta(days=400)
        with engine.begin() as conn:
            conn.execute(update(join_requests).values(created_at=aged, consent_at=aged))
            conn.execute(update(outbox).values(created_at=aged))
        assert c.post("/join/suspacc", json=valid_form(**new), headers=JSON).status_code == 201
    assert set(files_holding(where(engine), needles(old))), "the old request should be on disk before the purge"
    p = run("purge", "--retention-days", "365")
    assert p.returncode == 0 and "deleted 1 request(s) and 2 mail(s)" in p.stdout, p.stdout + p.stderr
    after = files_holding(where(engine), needles(old) + needles(new))
    assert set(after) == {n.decode() for n in needles(new)}, after
    engine.dispose()


def test_the_service_creates_its_database_files_private(tmp_path, spawn):
    url = f"sqlite:///{tmp_path}/var/f.sqlite3"
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    old_umask = os.umask(0o022)  # a permissive umask in the environment: the service sets its own
    try:
        spawn(["serve", "--port", str(port), "--no-worker"], service_env(url)).wait_healthy(base)
    finally:
        os.umask(old_umask)
    assert httpx.post(f"{base}/join/suspacc", json=valid_form(), headers=JSON).status_code == 201
    files = sorted((tmp_path / "var").iterdir())
    assert [f.name for f in files] == ["f.sqlite3", "f.sqlite3-shm", "f.sqlite3-wal"]
    assert {f.name: oct(stat.S_IMODE(f.stat().st_mode)) for f in files} == {f.name: "0o600" for f in files}
    export = tmp_path / "export.csv"
    p = subprocess.run([sys.executable, "-m", "formservice", "export", "--network", "suspacc", "-o", str(export)],
                       env=service_env(url), cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert p.returncode == 0, p.stderr
    assert stat.S_IMODE(export.stat().st_mode) == 0o600


# --- no applicant data in any log ---------------------------------------------------------------

def test_no_log_line_carries_an_applicants_data_on_any_path(tmp_path, spawn):
    """`formservice serve --log-level debug --access-log` through every failure path: SMTP
    refusing the recipient, SMTP down, the database locked, invalid input, erasure."""
    db_file = tmp_path / "f.sqlite3"
    url = f"sqlite:///{db_file}"
    smtp = SmtpServer().start()
    refused = planted("Geweigerd")
    smtp.handler.refuse_rcpt[refused["email"]] = f"550 5.1.1 <{refused['email']}>: Recipient address rejected"
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    env = service_env(url, FORMSERVICE_SMTP_URL=smtp.url)
    service = spawn(["serve", "--port", str(port), "--log-level", "debug", "--access-log"], env).wait_healthy(base)
    everything = []
    c = httpx.Client(base_url=base, timeout=20, headers=JSON)
    try:
        # 1. SMTP refuses the applicant's address for good (the coordinator's mail goes out)
        everything.append(refused)
        assert c.post("/join/suspacc", json=valid_form(**refused)).status_code == 201
        wait_for(lambda: "refused for good" in service.output(), what="the refusal")
        # 2. invalid input, in both encodings, and a honeypot hit
        bad = planted("Ongeldig")
        everything.append(bad)
        r = c.post("/join/suspacc", json=valid_form(**dict(bad, email=bad["name"] + "@", q_size="huge")))
        assert r.status_code == 422
        r = c.post("/join/suspacc", data=valid_form(**dict(bad, q_website="javascript:" + bad["name"])),
                   headers={"Accept": "text/html"})
        assert r.status_code == 422
        assert c.post("/join/suspacc", json=valid_form(**bad, _gotcha="bot")).status_code == 201
        assert c.post("/join/onbekend", json=valid_form(**bad)).status_code == 404
        assert c.post("/join/suspacc", content=str(bad).encode("latin-1", "replace"),
                      headers={"Content-Type": "text/plain"}).status_code == 415
        # 3. the SMTP server is down: the mails wait
        smtp.stop()
        down = planted("Onbereikbaar")
        everything.append(down)
        assert c.post("/join/suspacc", json=valid_form(**down)).status_code == 201
        wait_for(lambda: "unreachable" in service.output(), what="the SMTP outage")
        # 4. the database is locked (an admin's sqlite3 shell, a backup)
        locked = planted("Vergrendeld")
        everything.append(locked)
        shell = sqlite3.connect(db_file, timeout=1, isolation_level=None)
        shell.execute("BEGIN EXCLUSIVE")
        try:
            r = c.post("/join/suspacc", json=valid_form(**locked))
            assert r.status_code == 503 and r.headers["retry-after"]
            assert c.get("/healthz").status_code == 503
            r = c.post("/join/suspacc", json=valid_form(**locked))
            assert r.status_code == 503
        finally:
            shell.execute("ROLLBACK")
            shell.close()
        wait_for(lambda: c.get("/healthz").status_code == 200, what="healthy again")
        wait_for(lambda: "writer working again" in service.output(), what="the writer's recovery")
        # 5. erasure (the address in the body, never in the URL)
        assert c.post("/admin/erase", json={"email": refused["email"]}, headers=AUTH).status_code == 200
        assert c.post("/admin/erase", json={"email": bad["name"]}, headers=AUTH).status_code == 400
        assert c.get("/admin/networks/suspacc/requests.csv",
                     headers={"Authorization": "Bearer " + bad["name"] + "-wrong-token"}).status_code == 401
    finally:
        c.close()
        smtp.stop()
        service.kill()
    out = service.output()
    # every path was really taken
    for expected in ("refused for good", "unreachable", "database not writable", "database writable again",
                     "group-commit writer stalled", "group-commit writer working again",
                     "POST /join/suspacc", "POST /admin/erase", "admin sign-in failed"):
        assert expected in out, f"{expected!r} not in the output:\n{out[-3000:]}"
    leaks = {v for values in everything for v in [*needles(values), b"qzxjv"] if v.decode().lower() in out.lower()}
    assert not leaks, f"applicant data in the log: {leaks}\n{out[-3000:]}"
    assert "Traceback" not in out


def test_logged_exceptions_show_their_class_never_their_message():
    import logging

    from formservice.cli import PrivateFormatter

    address, name = "secret.applicant@example.org", "Naam Geheim"
    try:
        try:
            raise ValueError(address)
        except ValueError as inner:
            raise RuntimeError(name) from inner
    except RuntimeError:
        record = logging.LogRecord("x", logging.ERROR, __file__, 1, "failed", None, sys.exc_info())
    text_ = PrivateFormatter().format(record)
    assert "RuntimeError" in text_ and "ValueError" in text_ and "test_privacy.py" in text_
    assert "secret.applicant" not in text_ and "Geheim" not in text_
