"""Migrations, settings, the networks registry, the HTML of the error page, and the
commands as `make serve` runs them: `formservice serve` beside `formservice smtp-sink`."""

import json
import os
import shutil
import signal
import smtplib
import subprocess
import sys
import time
from email.message import EmailMessage
from pathlib import Path

import httpx
import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect, text

from formservice import migrate
from formservice.config import Config, origin_of
from formservice.db import make_engine, metadata
from formservice.registry import Registry
from tests.formservice.conftest import NETWORKS, SITE, service_env, valid_form
from tests.support import ROOT, free_port, require

VNU = ROOT / "node_modules" / "vnu-jar" / "build" / "dist" / "vnu.jar"


# --- database --------------------------------------------------------------------------------------

def test_the_migrations_create_exactly_the_tables_of_the_code(db):
    with db.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn, opts={"compare_type": True}), metadata)
        assert diff == []
        assert migrate.current_revision(db) == migrate.head_revision()
        assert conn.execute(text("SELECT count(*) FROM secrets WHERE name = 'client_hash_key'")).scalar_one() == 1


def test_migrations_go_down_and_up_again(tmp_path):
    engine = make_engine(f"sqlite:///{tmp_path}/x.sqlite3")
    migrate.upgrade(engine)
    migrate.downgrade(engine, "base")
    assert set(inspect(engine).get_table_names()) <= {"alembic_version"}
    migrate.upgrade(engine)
    assert {"join_requests", "outbox", "secrets"} <= set(inspect(engine).get_table_names())


def test_sqlite_runs_in_wal_mode_with_full_sync(tmp_path):
    engine = make_engine(f"sqlite:///{tmp_path}/sub/dir/x.sqlite3")  # the directory is created
    with engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert conn.exec_driver_sql("PRAGMA synchronous").scalar() == 2  # FULL
        assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1


def test_the_default_database_is_var_formservice_sqlite3_in_the_working_directory():
    assert Config().database_url == "sqlite:///var/formservice.sqlite3"


# --- settings --------------------------------------------------------------------------------------

def test_settings_come_from_the_environment_and_flags_win():
    env = {"FORMSERVICE_DATABASE_URL": "sqlite:///env.db", "FORMSERVICE_RETENTION_DAYS": "30",
           "FORMSERVICE_ALLOWED_ORIGINS": "https://www.knnadvies.nl, https://knnadvies.nl:443",
           "FORMSERVICE_SITE_URL": "https://www.knnadvies.nl/", "FORMSERVICE_TRUST_PROXY": "true",
           "FORMSERVICE_SMTP_URL": "smtp://127.0.0.1:8025"}
    c = Config.load(env, database_url="sqlite:///flag.db")
    assert c.database_url == "sqlite:///flag.db"
    assert c.retention_days == 30 and [str(n) for n in c.trust_proxy] == ["127.0.0.1/32", "::1/128"] and c.smtp_url == "smtp://127.0.0.1:8025"
    assert c.allowed_origins == ("https://www.knnadvies.nl", "https://knnadvies.nl")
    assert c.site_url == "https://www.knnadvies.nl"
    defaults = Config.load({})
    assert defaults.allowed_origins == ("http://127.0.0.1:8000", "http://localhost:8000")
    assert defaults.retention_days == 365 and defaults.networks_dir == ROOT / "content" / "networks"  # the site's, from pelicanconf.py


@pytest.mark.parametrize("url, origin", [
    ("http://127.0.0.1:8000/netwerken/x/", "http://127.0.0.1:8000"), ("HTTPS://WWW.Example.NL:443/", "https://www.example.nl"),
    ("https://example.nl:8443", "https://example.nl:8443"), ("http://[::1]:8000/", "http://[::1]:8000"),
    ("ftp://example.nl", None), ("null", None), ("//example.nl", None), ("http://a@example.nl", None),
    ("http://example.nl:99999", None), ("http://exa mple.nl", None), ("", None), (None, None),
])
def test_origin_of(url, origin):
    assert origin_of(url) == origin


# --- networks --------------------------------------------------------------------------------------

def test_the_registry_reloads_changed_files_and_keeps_the_last_valid_set(tmp_path):
    d = tmp_path / "networks"
    shutil.copytree(NETWORKS, d)
    reg = Registry(d, check_every=0)
    assert reg.get("gesloten").join.open is False
    path = d / "gesloten.yaml"
    path.write_text(path.read_text().replace("open: false", "open: true"))
    os.utime(path, ns=(time.time_ns(), time.time_ns() + 10**9))
    assert reg.get("gesloten").join.open is True
    path.write_text("slug: [broken")
    os.utime(path, ns=(time.time_ns(), time.time_ns() + 2 * 10**9))
    assert reg.get("gesloten").join.open is True  # invalid now: the previous set stays


def test_the_service_refuses_to_start_on_invalid_networks(tmp_path):
    from core.networks import NetworkErrors

    (tmp_path / "x.yaml").write_text("slug: x\n")
    with pytest.raises(NetworkErrors):
        Registry(tmp_path)


# --- the error page is valid HTML -------------------------------------------------------------------

def test_the_error_pages_are_valid_html(client, tmp_path):
    java = shutil.which("java")
    require(java, "a Java runtime (apt-get install default-jre-headless)")
    require(VNU.exists(), f"{VNU} (make test runs npm ci)")
    pages = {
        "fields-nl": client.post("/join/suspacc", data={"name": "<b>x</b>", "q_size": "x"},
                                 headers={"Accept": "text/html"}),
        "fields-en": client.post("/join/suspacc", data={"lang": "en"}, headers={"Accept": "text/html"}),
        "unknown-en": client.post("/join/onbekend", data={"lang": "en"}, headers={"Accept": "text/html"}),
        "closed-nl": client.post("/join/gesloten", data=valid_form(), headers={"Accept": "text/html"}),
        "media-nl": client.post("/join/suspacc", content=b"x", headers={"Content-Type": "text/plain"}),
    }
    for name, r in pages.items():
        assert r.status_code >= 400 and r.headers["content-type"].startswith("text/html"), name
        (tmp_path / f"{name}.html").write_text(r.text, encoding="utf-8")
    p = subprocess.run([java, "-Xss4m", "-jar", str(VNU), "--format", "json", "--exit-zero-always",
                        *sorted(map(str, tmp_path.glob("*.html")))], capture_output=True, text=True, timeout=300)
    messages = json.loads(p.stderr or p.stdout)["messages"]
    problems = [m for m in messages if m.get("type") in ("error", "non-document-error") or m.get("subType") == "fatal"]
    assert not problems, problems
    assert len(list(tmp_path.glob("*.html"))) == 5


# --- the commands, as `make serve` runs them ------------------------------------------------------

def test_serve_beside_smtp_sink_delivers_both_mails(db, database_url, spawn):
    smtp_port, http_port = free_port(), free_port()
    sink = spawn(["smtp-sink", "--port", str(smtp_port)], dict(os.environ, PYTHONUNBUFFERED="1"))
    url = f"http://127.0.0.1:{http_port}"
    spawn(["serve", "--host", "127.0.0.1", "--port", str(http_port)],
          service_env(database_url, FORMSERVICE_SMTP_URL=f"smtp://127.0.0.1:{smtp_port}")).wait_healthy(url)
    r = httpx.post(f"{url}/join/suspacc", data=valid_form(lang="en", name="Sink Tester"),
                   headers={"Origin": SITE}, follow_redirects=False, timeout=10)
    assert r.status_code == 303 and r.headers["location"] == f"{SITE}/en/thank-you/"
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline and sink.output().count("Message-ID:") < 2:
        time.sleep(0.1)
    out = sink.output()
    assert "Subject: Nieuwe aanmelding voor SUSPACC" in out
    assert "Subject: We have received your request to join SUSPACC" in out
    assert "Naam: Sink Tester" in out  # the plain-text body is printed readably


def test_smtp_sink_prints_what_it_receives(spawn):
    port = free_port()
    sink = spawn(["smtp-sink", "--port", str(port)], dict(os.environ, PYTHONUNBUFFERED="1"))
    deadline = time.monotonic() + 15
    while "listening" not in sink.output() and time.monotonic() < deadline:
        time.sleep(0.05)
    msg = EmailMessage()
    msg["From"], msg["To"], msg["Subject"] = "a@b.nl", "c@d.nl", "Grüße"
    msg.set_content("Één regel tekst\n")
    with smtplib.SMTP("127.0.0.1", port, timeout=10) as s:
        s.send_message(msg)
    deadline = time.monotonic() + 10
    while "Één regel tekst" not in sink.output() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert "Subject: Grüße" in sink.output() and "Één regel tekst" in sink.output()
    sink.kill(signal.SIGTERM)
    assert sink.proc.returncode == 0


def test_the_command_line_help_and_a_bad_setting():
    out = subprocess.run([sys.executable, "-m", "formservice", "--help"], capture_output=True, text=True, cwd=ROOT)
    for command in ("serve", "migrate", "worker", "purge", "erase", "export", "smtp-sink"):
        assert command in out.stdout
    bad = subprocess.run([sys.executable, "-m", "formservice", "migrate", "--site-url", "nope"],
                         capture_output=True, text=True, cwd=ROOT)
    assert bad.returncode == 2 and "FORMSERVICE_SITE_URL" in bad.stderr


def test_migrate_command(tmp_path):
    url = f"sqlite:///{tmp_path}/m.sqlite3"
    p = subprocess.run([sys.executable, "-m", "formservice", "migrate", "--database-url", url],
                       capture_output=True, text=True, cwd=ROOT)
    assert p.returncode == 0, p.stderr
    assert migrate.current_revision(make_engine(url)) == migrate.head_revision()


# --- deployment files ---------------------------------------------------------------------------

def test_the_systemd_unit_is_valid(tmp_path):
    analyze = shutil.which("systemd-analyze")
    require(analyze, "systemd-analyze (the systemd package)")
    unit = (ROOT / "deploy" / "formservice.service").read_text()
    assert "formservice serve" in unit and "--trust-proxy" in unit
    settings = dict(line.split("=", 1) for line in unit.splitlines() if "=" in line and not line.startswith("#"))
    assert settings["UMask"] == "0077" and settings["StateDirectory"] == "formservice"
    assert int(settings["LimitNOFILE"]) >= 8192
    exe = Path(sys.executable).parent / "formservice"
    good = tmp_path / "formservice.service"
    good.write_text(unit.replace("/srv/knn-site/.venv/bin/formservice", str(exe)))
    bad = tmp_path / "broken.service"
    bad.write_text(good.read_text().replace("Restart=always", "Restart=allways"))
    results = {}
    for path in (good, bad):
        p = subprocess.run([analyze, "verify", str(path)], capture_output=True, text=True, timeout=60)
        results[path.name] = p.stderr.strip()
    assert results["broken.service"], "systemd-analyze found nothing wrong in a broken unit"
    assert results["formservice.service"] == ""


def test_the_nginx_example_forwards_what_the_service_expects():
    conf = (ROOT / "deploy" / "nginx-formservice.conf").read_text()
    assert "proxy_set_header X-Forwarded-For $remote_addr;" in conf  # overwritten, never client-supplied
    assert "location /join/" in conf and "proxy_pass http://formservice;" in conf
    assert "client_max_body_size 64k;" in conf
    for directive in ("client_header_timeout 10s;", "client_body_timeout 10s;", "limit_conn formservice_conn 20;",
                      "limit_req_status 429;", "limit_conn_status 429;"):
        assert directive in conf


def test_serve_migrates_a_fresh_database_itself(tmp_path, spawn):
    url = f"sqlite:///{tmp_path}/fresh/formservice.sqlite3"
    port = free_port()
    spawn(["serve", "--port", str(port), "--no-worker"], service_env(url)).wait_healthy(f"http://127.0.0.1:{port}")
    assert migrate.current_revision(make_engine(url)) == migrate.head_revision()


def test_worker_once_sends_what_is_due(client, db, database_url, smtp):
    r = client.post("/join/bernn", data=valid_form(q_size=None, q_rules=None), headers={"Accept": "application/json"})
    assert r.status_code == 201
    p = subprocess.run([sys.executable, "-m", "formservice", "worker", "--once"], cwd=ROOT, capture_output=True,
                       text=True, timeout=60, env=service_env(database_url, FORMSERVICE_SMTP_URL=smtp.url))
    assert p.returncode == 0, p.stderr
    assert "sent 2 mail(s)" in p.stdout
    assert sorted(m["To"] for m in smtp.messages) == ["bert@bernn.example", "jan@voorbeeld.nl"]


def test_the_sites_own_networks_load_and_use_only_known_question_types():
    from formservice.validation import QUESTION_TYPES

    networks = Registry(ROOT / "content" / "networks").all()
    for network in networks.values():
        for q in network.join.questions:
            assert q.type in QUESTION_TYPES, (network.slug, q.id, q.type)
            assert q.field_name == f"q_{q.id}"


def test_the_form_service_needs_nothing_from_plugins_or_pelican():
    """The service is deployed without the site's build: importing it (and the network model
    it reads the YAML files with) loads no Pelican plugin and no Pelican."""
    code = ("import sys, formservice.app, formservice.cli, formservice.registry, core.networks; "
            "print(sorted({m.split('.')[0] for m in sys.modules}))")
    loaded = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    for package in ("pelican", "buildcheck", "languages", "publishing", "network_pages"):
        assert f"'{package}'" not in loaded, package
    assert "'core'" in loaded
