"""Applicants: one inbox is one inbox, and an applicant's request is theirs alone. Against the
running service (a real uvicorn process, as `formservice serve` starts it), on SQLite and
PostgreSQL: limits count the mailbox an address reaches and an IPv6 client's /64; a second
request never changes the first; erasing takes exactly one mailbox; nothing a client sends
can forge a log line; a request's head is bounded; `formservice erase` never takes the
address on its command line."""

import re
import socket
import subprocess
import sys
from collections import OrderedDict
from urllib.parse import quote

import httpx
import pytest
from sqlalchemy import func, select

from formservice import store
from formservice.app import RateLimiter
from formservice.db import join_requests, outbox
from tests.formservice.conftest import ADMIN_TOKEN, SITE, free_port, rows, service_env, valid_form
from tests.support import ROOT

AUTH = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
JSON = {"Origin": SITE, "Accept": "application/json"}
# One Gmail inbox in twenty spellings that Gmail delivers to the same person.
BOB = ["bobsmith@gmail.com", "b.obsmith@gmail.com", "Bob.Smith@gmail.com", "bob.smith@googlemail.com",
       "BOBSMITH@GMAIL.COM", "bobsmith+join@gmail.com", "bo.b.smi.th@gmail.com", "b.o.b.s.m.i.t.h@gmail.com",
       "bobsmith@googlemail.com", "Bob.Smith+x@googlemail.com", "bobs.mith@gmail.com", "bobsmit.h@gmail.com",
       "bob.smith+a@gmail.com", "BoB.SmItH@GMail.com", "bobsm.ith@googlemail.com", "b.obsmith+z@googlemail.com",
       "bobsmith+1+2@gmail.com", "bob.smith@gmail.com", "bo.bsmith@gmail.com",
       "bobsmi.th+q@gmail.com"]


@pytest.fixture
def service(database_url, db, spawn, tmp_path):
    """`formservice serve` with the shipped limits (5 a minute per client, one confirmation per
    mailbox and network a day, 3 a day per mailbox), trusting X-Forwarded-For from loopback,
    its log (access log on) in a file."""
    port = free_port()
    env = service_env(database_url, FORMSERVICE_RATE_PER_MINUTE="5", FORMSERVICE_RATE_BURST="5",
                      FORMSERVICE_RECIPIENT_WINDOW_HOURS="24", FORMSERVICE_TRUST_PROXY="true")
    proc = spawn(["serve", "--port", str(port), "--no-worker", "--access-log"], env)
    proc.wait_healthy(f"http://127.0.0.1:{port}")
    proc.base = f"http://127.0.0.1:{port}"
    proc.port = port
    return proc


def test_the_mailbox_of_an_address():
    assert {store.recipient_key(a) for a in BOB} == {"bobsmith@gmail.com"}
    assert len(set(BOB)) == 20
    assert store.recipient_key("Jan.de.Vries+x@Voorbeeld.NL") == "jan.de.vries@voorbeeld.nl"  # dots count elsewhere
    assert store.recipient_key("p5@example.net") != store.recipient_key("5@example.net")


def test_one_gmail_inbox_in_twenty_spellings_gets_one_confirmation(service, db):
    """60 requests from 30 client addresses naming one inbox: one confirmation for the network,
    and the addresses are stored as typed."""
    codes = []
    with httpx.Client(base_url=service.base, timeout=10) as c:
        for n in range(60):
            r = c.post("/join/suspacc", json=valid_form(email=BOB[n % 20], message=f"bericht {n}"),
                       headers={**JSON, "X-Forwarded-For": f"198.51.100.{n % 30 + 1}"})
            codes.append(r.status_code)
    assert codes.count(201) == 60
    with db.connect() as conn:
        confirmations = conn.execute(select(func.count()).select_from(outbox).where(
            outbox.c.kind == "confirmation")).scalar_one()
        typed = {e for (e,) in conn.execute(select(join_requests.c.email))}
    assert confirmations == 1
    # stored as typed (only the domain in lower case, as every address is checked and stored)
    assert typed == {f"{local}@{domain.lower()}" for local, domain in (a.rsplit("@", 1) for a in BOB)}


def test_an_ipv6_64_is_one_client(service, db):
    """Twenty addresses of one /64 share one bucket: the burst of 5, then 429; another /64 is
    another client."""
    codes = []
    with httpx.Client(base_url=service.base, timeout=10) as c:
        for n in range(20):
            r = c.post("/join/suspacc", json=valid_form(email=f"v6-{n}@voorbeeld.nl"),
                       headers={**JSON, "X-Forwarded-For": f"2001:db8:1:2::{n + 1:x}"})
            codes.append(r.status_code)
        other = c.post("/join/suspacc", json=valid_form(email="v6-other@voorbeeld.nl"),
                       headers={**JSON, "X-Forwarded-For": "2001:db8:1:3::1"})
    assert codes == [201] * 5 + [429] * 15
    assert other.status_code == 201


def test_a_second_request_for_the_same_mailbox_never_changes_the_first(service, db):
    with httpx.Client(base_url=service.base, timeout=10) as c:
        first = c.post("/join/bernn", json=valid_form(email="carla.echt@example.net", name="Carla Echt",
                                                      organisation="Echt BV", q_size=None, q_rules=None),
                       headers={**JSON, "X-Forwarded-For": "203.0.113.1"})
        second = c.post("/join/bernn", json=valid_form(email="Carla.Echt+x@example.net", name="Iemand Anders",
                                                       organisation="Kwaad BV", q_size=None, q_rules=None),
                        headers={**JSON, "X-Forwarded-For": "203.0.113.2"})
    assert first.status_code == second.status_code == 201  # the same answer: nothing to learn about Carla
    stored = {r["id"]: r for r in rows(db, join_requests)}
    assert stored[first.json()["id"]]["name"] == "Carla Echt"
    assert stored[first.json()["id"]]["organisation"] == "Echt BV" and stored[first.json()["id"]]["repeat_of"] is None
    assert stored[second.json()["id"]]["repeat_of"] == first.json()["id"]
    mails = rows(db, outbox)
    [note] = [m for m in mails if m["kind"] == "notification"]
    assert note["request_id"] == first.json()["id"] and "Carla Echt" in note["body"] and "Kwaad" not in note["body"]
    assert [m["to_addr"] for m in mails if m["kind"] == "confirmation"] == ["carla.echt@example.net"]
    [digest] = [m for m in mails if m["kind"] == "digest"]  # the coordinator sees the repeat, marked
    assert second.json()["id"] in digest["body"] and first.json()["id"] in digest["body"]


def test_erase_takes_exactly_one_mailbox(service, db):
    """Look-alike addresses: erasing 5@example.net leaves p5@example.net's request, mails and
    digest line; the reply counts what went; the coordinator is told the request numbers."""
    ids = {}
    with httpx.Client(base_url=service.base, timeout=10) as c:
        for n, email in enumerate(["5@example.net", "p5@example.net", "5@example.net", "P5@Example.net"]):
            r = c.post("/join/suspacc", json=valid_form(email=email, name=f"Persoon {n}"),
                       headers={**JSON, "X-Forwarded-For": f"203.0.113.{10 + n}"})
            assert r.status_code == 201
            ids.setdefault(store.recipient_key(email), []).append(r.json()["id"])
        erased = c.post("/admin/erase", json={"email": "5@Example.NET"}, headers=AUTH)
    assert erased.status_code == 200
    # 5@'s first request (2 mails) and its repeat (a digest line); the digest keeps p5's repeat line
    assert erased.json() == {"deleted_requests": 2, "deleted_mails": 2, "removed_digest_lines": 1,
                             "coordinators_told": 1}
    left = {r["id"]: r for r in rows(db, join_requests)}
    assert set(left) == set(ids["p5@example.net"])
    mails = rows(db, outbox)
    assert {m["request_id"] for m in mails if m["kind"] in ("notification", "confirmation")} == \
        {ids["p5@example.net"][0]}
    [digest] = [m for m in mails if m["kind"] == "digest"]
    assert ids["p5@example.net"][1] in digest["body"] and not any(i in digest["body"] for i in ids["5@example.net"])
    [notice] = [m for m in mails if m["kind"] == "erased"]
    assert all(i in notice["body"] for i in ids["5@example.net"]) and "5@example.net" not in notice["body"]


FORGED = "2026-01-01 00:00:00,000 ERROR formservice.app: forged"
LINE_START = re.compile(r"^(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3} [A-Z]+ \S+: |Traceback |  |\S+\.\S+ \(message not logged\))")


def test_nothing_a_client_sends_forges_a_log_line(service):
    """A line break (and any other control character) planted in every place a client controls
    that could reach the log: the path (a network, the admin API), the headers the service logs
    or looks at, the form's fields. Every line of the log is one of the service's own."""
    evil = "evil\n" + FORGED + "\r\u2028" + FORGED
    quoted = quote(evil, safe="")
    with httpx.Client(base_url=service.base, timeout=10) as c:
        c.post(f"/join/{quoted}", json=valid_form(), headers=JSON)
        c.post("/join/suspacc", json=valid_form(name=evil, message=evil, _gotcha=evil), headers=JSON)
        c.post("/join/suspacc", json=valid_form(email=evil), headers={**JSON, "X-Forwarded-For": "1.2.3.4"})
        c.get(f"/admin/networks/{quoted}/requests.csv", headers={"Authorization": "x"})
        c.post("/admin/erase", json={"email": evil}, headers=AUTH)
    # raw, so that no client library cleans the request line up first
    with socket.create_connection(("127.0.0.1", service.port), timeout=10) as s:
        s.sendall(b"GET /healthz?x=%0a" + FORGED.replace(" ", "%20").encode() + b"\x1b[2J HTTP/1.1\r\n"
                  b"Host: 127.0.0.1\r\nUser-Agent: x\r\nConnection: close\r\n\r\n")
        s.recv(4096)
    log = service.output()
    assert "forged" in log, "the planted text must reach the log, escaped, for this test to mean anything"
    strays = [line for line in log.splitlines() if line and not LINE_START.match(line)]
    assert not strays, strays
    assert not any(line.startswith("2026-01-01") for line in log.splitlines())


def test_a_request_head_past_16_kib_gets_431_and_the_service_goes_on(service):
    with socket.create_connection(("127.0.0.1", service.port), timeout=10) as s:
        s.sendall(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n")
        answer = b""
        try:
            for _ in range(2048):  # up to 2 MB of headers, a kilobyte at a time
                s.sendall(b"X-Filler: " + b"a" * 1000 + b"\r\n")
        except (BrokenPipeError, ConnectionResetError):
            pass
        try:
            while chunk := s.recv(4096):
                answer += chunk
        except ConnectionResetError:
            pass
    assert answer.startswith(b"HTTP/1.1 431 "), answer[:200]
    assert httpx.get(f"{service.base}/healthz", timeout=10).status_code == 200
    # an ordinary request with ordinary headers is not affected
    r = httpx.get(f"{service.base}/healthz", headers={f"X-Ok-{i}": "b" * 100 for i in range(50)}, timeout=10)
    assert r.status_code == 200


class CountingBuckets(OrderedDict):
    """The limiter's table, counting what a request makes it touch."""

    def __init__(self):
        super().__init__()
        self.deleted = 0
        self.walked = 0

    def __delitem__(self, key):
        self.deleted += 1
        super().__delitem__(key)

    def __iter__(self):
        self.walked += 1
        return super().__iter__()

    def items(self):
        self.walked += 1
        return super().items()


def test_the_rate_limit_table_evicts_in_bounded_steps():
    """200,000 clients within a minute, the table capped at 100,000: every request touches at
    most a few entries (no request rebuilds the table), and the table stays within its cap."""
    limiter = RateLimiter(per_minute=5, burst=5, max_clients=100_000)
    limiter.buckets = table = CountingBuckets()
    worst_deleted = worst_walked = 0
    for n in range(200_000):
        table.deleted = table.walked = 0
        assert limiter.take(f"client-{n}", now=n / 4000)[0]  # 50 s for all of them
        worst_deleted, worst_walked = max(worst_deleted, table.deleted), max(worst_walked, table.walked)
        assert len(table) <= 100_001
    assert worst_deleted <= 4 and worst_walked <= 4 and table.deleted == 1  # past the cap: one out, one in
    # a client that returns within the minute still finds its bucket, and is limited
    for _ in range(5):
        limiter.take("client-199999", now=50.0)
    assert limiter.take("client-199999", now=50.0) == (False, 12)


def test_formservice_erase_reads_the_address_from_standard_input(database_url, db):
    env = service_env(database_url)
    run = lambda *a, **kw: subprocess.run([sys.executable, "-m", "formservice", *a], env=env, cwd=ROOT,  # noqa: E731
                                          capture_output=True, text=True, timeout=60, **kw)
    refused = run("erase", "--email", "geheim@voorbeeld.nl")
    assert refused.returncode == 2 and "unrecognized arguments" in refused.stderr
    done = run("erase", input="geheim@voorbeeld.nl\n")
    assert done.returncode == 0, done.stderr
    assert "deleted 0 request(s)" in done.stdout and "geheim" not in done.stdout + done.stderr
