"""Fixtures of the form service's tests: real databases (SQLite and a PostgreSQL server
started here), a real SMTP server (aiosmtpd), the service in-process (TestClient), in a
thread (uvicorn, real HTTP) and as a subprocess (`formservice serve`).

Every test that takes `db` runs twice: on SQLite and on PostgreSQL (marked `postgres`).
"""

import asyncio
import contextlib
import email
import glob
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from email.policy import default as default_policy
from pathlib import Path

import httpx
import pytest
from aiosmtpd.controller import Controller
from sqlalchemy import delete, text

from formservice import migrate
from formservice.config import Config
from formservice.db import join_requests, make_engine, outbox, rate_limits
from tests.support import ROOT, free_port, require

FIXTURES = Path(__file__).resolve().parent / "fixtures"
NETWORKS = FIXTURES / "networks"
ADMIN_TOKEN = "test-admin-token-0123456789abcdef"
SITE = "http://127.0.0.1:8000"



def pytest_configure(config):
    # Starlette 1.x suggests httpx2 for its TestClient; httpx is what requirements.txt pins.
    config.addinivalue_line("filterwarnings", "ignore:Using `httpx` with `starlette.testclient`")


# --- PostgreSQL ------------------------------------------------------------------------------

def _pg_bin():
    dirs = sorted(glob.glob("/usr/lib/postgresql/*/bin"))
    for d in reversed(dirs):
        if os.access(os.path.join(d, "initdb"), os.X_OK):
            return d
    found = shutil.which("initdb") or shutil.which("pg_ctl")
    return os.path.dirname(found) if found else None


class PostgresServer:
    """A throw-away PostgreSQL cluster on 127.0.0.1 (run as user postgres when we are root)."""

    def __init__(self, bindir):
        self.bindir = bindir
        self.port = free_port()
        self.dir = tempfile.mkdtemp(prefix="fs-pg-")  # short: the socket path must fit
        self.data = os.path.join(self.dir, "data")
        self.log = os.path.join(self.dir, "server.log")
        self.as_root = os.geteuid() == 0
        if self.as_root:
            shutil.chown(self.dir, "postgres", "postgres")

    def _run(self, *args, **kw):
        cmd = [os.path.join(self.bindir, args[0]), *args[1:]]
        if self.as_root:
            cmd = ["runuser", "-u", "postgres", "--", *cmd]
        return subprocess.run(cmd, capture_output=True, text=True, timeout=120, **kw)

    def start(self):
        p = self._run("initdb", "-D", self.data, "-U", "postgres", "--auth=trust", "-E", "UTF8",
                      "--locale=C.UTF-8", "--no-sync")
        if p.returncode:
            raise RuntimeError(f"initdb failed:\n{p.stdout}\n{p.stderr}")
        opts = f"-p {self.port} -k {self.dir} -c listen_addresses=127.0.0.1 -c max_connections=200"
        p = self._run("pg_ctl", "-D", self.data, "-l", self.log, "-w", "-t", "60", "-o", opts, "start")
        if p.returncode:
            raise RuntimeError(f"pg_ctl start failed:\n{p.stdout}\n{p.stderr}\n{Path(self.log).read_text()}")
        return self

    def stop(self):
        self._run("pg_ctl", "-D", self.data, "-m", "immediate", "-w", "stop")
        shutil.rmtree(self.dir, ignore_errors=True)

    def url(self, database):
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/{database}"


@pytest.fixture(scope="session")
def postgres_server():
    bindir = _pg_bin()
    require(bindir, "PostgreSQL server binaries (apt-get install postgresql)")
    server = PostgresServer(bindir).start()
    yield server
    server.stop()


# --- databases -------------------------------------------------------------------------------

@pytest.fixture(scope="session", params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def database_url(request, tmp_path_factory):
    """A migrated database, one per backend for the whole session.

    pytest may set a parametrized session fixture up again when the files a worker runs
    alternate between its parameters: each set-up gets a database of its own."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path_factory.mktemp('sqlite')}/formservice.sqlite3"
    else:
        server = request.getfixturevalue("postgres_server")
        name = f"formservice_test_{uuid.uuid4().hex[:12]}"
        admin = make_engine(server.url("postgres")).execution_options(isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(text(f"CREATE DATABASE {name}"))
        admin.dispose()
        url = server.url(name)
    engine = make_engine(url)
    migrate.upgrade(engine)
    engine.dispose()
    return url


@pytest.fixture
def db(database_url):
    """An engine on an empty (migrated) database."""
    engine = make_engine(database_url)
    clear(engine)
    yield engine
    engine.dispose()


def clear(engine):
    with engine.begin() as conn:
        conn.execute(delete(outbox))
        conn.execute(delete(join_requests))
        conn.execute(delete(rate_limits))


def count(engine, table):
    with engine.connect() as conn:
        return conn.execute(text(f"SELECT count(*) FROM {table.name}")).scalar_one()


def rows(engine, table, *where):
    from sqlalchemy import select

    with engine.connect() as conn:
        return [dict(r._mapping) for r in conn.execute(select(table).where(*where).order_by(table.c.id))]


# --- SMTP ------------------------------------------------------------------------------------

class Collector:
    """An aiosmtpd handler keeping every message; optionally slow or refusing."""

    def __init__(self):
        self.messages = []
        self.lock = threading.Lock()
        self.delay = 0.0
        self.refuse_rcpt = {}  # address -> "550 ..." reply

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address in self.refuse_rcpt:
            return self.refuse_rcpt[address]
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        if self.delay:
            await asyncio.sleep(self.delay)
        msg = email.message_from_bytes(envelope.original_content or envelope.content, policy=default_policy)
        with self.lock:
            self.messages.append((envelope, msg))
        return "250 Message accepted for delivery"

    def by_message_id(self):
        out = {}
        with self.lock:
            for _, msg in self.messages:
                out.setdefault(msg["Message-ID"], []).append(msg)
        return out


class SmtpServer:
    def __init__(self, port=None):
        self.port = port or free_port()
        self.handler = Collector()
        self.controller = None

    @property
    def url(self):
        return f"smtp://127.0.0.1:{self.port}"

    def start(self):
        self.controller = Controller(self.handler, hostname="127.0.0.1", port=self.port)
        self.controller.start()
        return self

    def stop(self):
        if self.controller is not None:
            self.controller.stop()
            self.controller = None

    @property
    def messages(self):
        with self.handler.lock:
            return [m for _, m in self.handler.messages]

    def mails_for(self, email, count=2, timeout=20):
        """The mails to or about `email` (To or Reply-To), once there are `count` of them."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            mails = [m for m in self.messages if email in (m["To"] or "") or email in (m["Reply-To"] or "")]
            if len(mails) >= count:
                return mails
            time.sleep(0.1)
        raise AssertionError(f"{len(mails)} mail(s) for {email} after {timeout}s")


@pytest.fixture
def smtp():
    server = SmtpServer().start()
    yield server
    server.stop()


# --- the service ------------------------------------------------------------------------------

def make_config(database_url, **kw):
    values = dict(database_url=database_url, networks_dir=NETWORKS, admin_token=ADMIN_TOKEN, site_url=SITE,
                  mail_from="KNN Advies <aanmelden@knnadvies.example>", rate_per_minute=0,
                  recipient_window_hours=0,  # the per-recipient limits are tested in test_limits.py
                  retry_base_seconds=0.2, retry_max_seconds=1.0, poll_seconds=0.2)
    values.update(kw)
    return Config(**values)


@pytest.fixture
def make_client(database_url, db):
    """make_client(**config) -> a Starlette TestClient of the app (no worker)."""
    from starlette.testclient import TestClient

    from formservice.app import create_app

    clients = []

    def make(client=("testclient", 50000), **kw):
        config = make_config(database_url, **kw)
        client = TestClient(create_app(config, engine=db), base_url="http://127.0.0.1:8080", client=client)
        client.__enter__()
        clients.append(client)
        return client

    yield make
    for c in clients:
        c.__exit__(None, None, None)


@pytest.fixture
def client(make_client):
    return make_client()


class ThreadedServer:
    """The app served by uvicorn over real HTTP, in a thread of the test process."""

    def __init__(self, app):
        import uvicorn

        self.port = free_port()
        self.server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=self.port, log_level="warning",
                                                    proxy_headers=False, access_log=False, lifespan="on"))
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    def start(self):
        self.thread.start()
        self.client = httpx.Client(base_url=self.url, timeout=30)  # one: creating a client costs ~0.1 s
        deadline = time.monotonic() + 20
        while not self.server.started:
            if time.monotonic() > deadline or not self.thread.is_alive():
                raise RuntimeError("uvicorn did not start")
            time.sleep(0.02)
        return self

    def stop(self):
        self.client.close()
        self.server.should_exit = True
        self.thread.join(10)

    @property
    def url(self):
        return f"http://127.0.0.1:{self.port}"


@pytest.fixture(scope="session")
def http_service(database_url):
    """One real HTTP server per backend for the hostile-input corpus. It trusts
    X-Forwarded-For, so each test gets its own rate-limit bucket by sending its own address."""
    from formservice.app import create_app

    engine = make_engine(database_url)
    config = make_config(database_url, rate_per_minute=5, rate_burst=5, trust_proxy=True)
    server = ThreadedServer(create_app(config, engine=engine)).start()
    server.engine = engine
    yield server
    server.stop()
    engine.dispose()


def service_env(database_url, **extra):
    env = dict(os.environ)
    env.update({
        "FORMSERVICE_DATABASE_URL": database_url,
        "FORMSERVICE_NETWORKS_DIR": str(NETWORKS),
        "FORMSERVICE_ADMIN_TOKEN": ADMIN_TOKEN,
        "FORMSERVICE_SITE_URL": SITE,
        "FORMSERVICE_MAIL_FROM": "KNN Advies <aanmelden@knnadvies.example>",
        "FORMSERVICE_RATE_PER_MINUTE": "0",
        "FORMSERVICE_RECIPIENT_WINDOW_HOURS": "0",
        "FORMSERVICE_RETRY_BASE_SECONDS": "0.2",
        "FORMSERVICE_RETRY_MAX_SECONDS": "1",
        "FORMSERVICE_POLL_SECONDS": "0.2",
        "PYTHONUNBUFFERED": "1",
    })
    env.pop("FORMSERVICE_SMTP_URL", None)
    env.update({k: str(v) for k, v in extra.items()})
    return env


class ServiceProcess:
    """`formservice <args>` as a real subprocess (output in a log file)."""

    def __init__(self, args, env, log_path, preexec_fn=None, cwd=ROOT):
        self.args = args
        self.cwd = cwd  # the site's folder: the service reads its pelicanconf.py there
        self.env = env
        self.log_path = log_path
        self.preexec_fn = preexec_fn
        self.proc = None

    def start(self):
        self.log = open(self.log_path, "ab")
        self.proc = subprocess.Popen([sys.executable, "-m", "formservice", *self.args], env=self.env, cwd=self.cwd,
                                     stdout=self.log, stderr=subprocess.STDOUT, preexec_fn=self.preexec_fn)
        return self

    def wait_healthy(self, url, timeout=90):  # a busy 2-core machine can take that long to start Python
        deadline = time.monotonic() + timeout
        with httpx.Client(timeout=2) as client:
            while time.monotonic() < deadline:
                if self.proc.poll() is not None:
                    raise RuntimeError(f"formservice exited {self.proc.returncode}:\n{self.output()}")
                with contextlib.suppress(httpx.HTTPError):
                    if client.get(f"{url}/healthz").status_code == 200:
                        return self
                time.sleep(0.05)
        raise RuntimeError(f"formservice did not become healthy:\n{self.output()}")

    def kill(self, sig=signal.SIGKILL):
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(sig)
            try:
                self.proc.wait(20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)
        if getattr(self, "log", None):
            self.log.close()

    def output(self):
        if not self.log.closed:
            self.log.flush()
        return Path(self.log_path).read_text(errors="replace")


@pytest.fixture
def spawn(tmp_path):
    """spawn(args, env) -> a started ServiceProcess, killed at the end of the test."""
    procs = []

    def start(args, env, preexec_fn=None):
        p = ServiceProcess(args, env, tmp_path / f"formservice-{len(procs)}.log", preexec_fn).start()
        procs.append(p)
        return p

    yield start
    for p in procs:
        p.kill()


def valid_form(**kw):
    """A complete, valid submission to the fixture network `suspacc`."""
    data = {"name": "Jan Jansen", "email": "jan@voorbeeld.nl", "organisation": "Jansen BV",
            "message": "Wij willen graag meedoen.", "consent": "on", "q_size": "small", "q_rules": "on"}
    data.update(kw)
    return {k: v for k, v in data.items() if v is not None}
