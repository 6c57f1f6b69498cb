"""The join form under abuse (issue 14): per-recipient mail limits and the per-client rate limit,
both counted in the shared database, so they hold the same for one instance or several; the
answers reveal nothing about which addresses are known."""

import threading
import uuid
from collections import Counter

import pytest
from sqlalchemy import func, select

from formservice import store
from formservice.db import join_requests, outbox, utcnow
from tests.formservice.conftest import ADMIN_TOKEN, SITE, count, rows, valid_form

JSON = {"Origin": SITE, "Accept": "application/json"}
VICTIM = "slachtoffer@voorbeeld.nl"


def confirmations(db, key):
    with db.connect() as conn:
        return conn.execute(select(func.count()).select_from(outbox).where(
            outbox.c.kind == "confirmation", outbox.c.to_key == key)).scalar_one()


def notifications_about(db, key):
    with db.connect() as conn:
        return conn.execute(select(func.count()).select_from(outbox).join(
            join_requests, outbox.c.request_id == join_requests.c.id).where(
            outbox.c.kind == "notification", join_requests.c.email_key == key)).scalar_one()


def test_recipient_key_folds_case_and_tags():
    assert store.recipient_key("Jan+Nieuwsbrief@Voorbeeld.NL") == "jan@voorbeeld.nl"
    assert store.recipient_key("jan@voorbeeld.nl") == "jan@voorbeeld.nl"
    assert store.recipient_key("+x@voorbeeld.nl") == "+x@voorbeeld.nl"


def test_the_victim_scenario_queues_one_confirmation_and_one_notification(make_client, db):
    """180 valid join requests for SUSPACC naming one victim (in several spellings), from 30
    client addresses, 6 each, through a trusted proxy."""
    c = make_client(rate_per_minute=5, rate_burst=5, trust_proxy=True, recipient_window_hours=24,
                    client=("127.0.0.1", 50000))
    spellings = [VICTIM, VICTIM.upper(), "slachtoffer+1@voorbeeld.nl", "Slachtoffer+spam@VOORBEELD.nl"]
    codes = []
    for n in range(30):
        for i in range(6):
            r = c.post("/join/suspacc", json=valid_form(email=spellings[(n + i) % 4], message=f"bericht {n}-{i}"),
                       headers={**JSON, "X-Forwarded-For": f"198.51.100.{n + 1}"})
            codes.append(r.status_code)
    assert codes.count(201) == 150 and codes.count(429) == 30  # the per-client limit still answers as before
    key = "slachtoffer@voorbeeld.nl"
    assert confirmations(db, key) == 1, "one confirmation per address and network per day"
    assert notifications_about(db, key) == 1, "one notification per address and network per day"
    stored = rows(db, join_requests, join_requests.c.email_key == key)
    # every acknowledged request is kept; the first is as its sender wrote it, the rest are its repeats
    assert len(stored) == 150
    [first] = [r for r in stored if r["repeat_of"] is None]
    assert first["message"] == "bericht 0-0" and {r["repeat_of"] for r in stored if r is not first} == {first["id"]}
    [note] = [m for m in rows(db, outbox) if m["kind"] == "notification"]
    assert "bericht 0-0" in note["body"] and note["request_id"] == first["id"]
    # the coordinator hears of the repeats in one digest, a line each, not in 149 mails
    [digest] = [m for m in rows(db, outbox) if m["kind"] == "digest"]
    assert digest["body"].count(first["id"]) == 149  # "(een herhaling van aanmelding <first>, ...)" a line


def test_at_most_n_confirmations_per_address_per_day_over_all_networks(make_client, db):
    c = make_client(recipient_window_hours=24, confirmations_per_day=1)
    assert c.post("/join/suspacc", json=valid_form(email=VICTIM), headers=JSON).status_code == 201
    assert c.post("/join/bernn", json=valid_form(email=VICTIM, q_size=None, q_rules=None),
                  headers=JSON).status_code == 201
    assert confirmations(db, VICTIM) == 1
    assert count(db, join_requests) == 2 and notifications_about(db, VICTIM) == 2  # each coordinator hears of it
    # another address is not affected
    assert c.post("/join/bernn", json=valid_form(email="ander@voorbeeld.nl", q_size=None, q_rules=None),
                  headers=JSON).status_code == 201
    assert confirmations(db, "ander@voorbeeld.nl") == 1


def _shape(r):
    body = r.json()
    return r.status_code, sorted(r.headers.keys()), sorted(body), body["status"], uuid.UUID(body["id"]).version


@pytest.mark.parametrize("mode", ["json", "form"])
def test_the_answer_is_the_same_for_a_known_and_an_unknown_address(make_client, db, mode):
    c = make_client(recipient_window_hours=24)
    send = (lambda e: c.post("/join/suspacc", json=valid_form(email=e), headers=JSON)) if mode == "json" else \
        (lambda e: c.post("/join/suspacc", data=valid_form(email=e), headers={"Origin": SITE}, follow_redirects=False))
    first = send(VICTIM)
    known = send(VICTIM)       # a repeat: stored beside the first, which it does not change
    unknown = send("nieuw@voorbeeld.nl")
    if mode == "json":
        assert _shape(known) == _shape(unknown) == _shape(first)
        assert len({first.json()["id"], known.json()["id"], unknown.json()["id"]}) == 3
        # the id answered for the repeat is its own stored id; the first is still there
        stored = {r["id"]: r for r in rows(db, join_requests, join_requests.c.email_key == VICTIM)}
        assert set(stored) == {first.json()["id"], known.json()["id"]}
        assert stored[known.json()["id"]]["repeat_of"] == first.json()["id"]
    else:
        assert (known.status_code, known.headers["location"], sorted(known.headers.keys())) == \
            (unknown.status_code, unknown.headers["location"], sorted(unknown.headers.keys()))


def test_the_rate_limit_is_shared_by_every_instance_on_the_database(make_client, db):
    """Three app instances on one database: a client gets the burst once, not three times."""
    instances = [make_client(rate_per_minute=5, rate_burst=4, client=("203.0.113.9", 1000)) for _ in range(3)]
    codes = [instances[i % 3].post("/join/suspacc", json=valid_form(email=f"r{i}@voorbeeld.nl"),
                                   headers=JSON).status_code for i in range(9)]
    assert codes == [201] * 4 + [429] * 5
    assert count(db, join_requests) == 4


def test_taking_a_token_is_atomic_under_concurrency(db):
    limits = store.Limits(rate_per_minute=0.001, rate_burst=5)
    results = []
    start = threading.Barrier(16)

    def take():
        start.wait()
        with db.begin() as conn:
            results.append(store.take_token(conn, "client-x", limits)[0])

    threads = [threading.Thread(target=take) for _ in range(16)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert results.count(True) == 5 and results.count(False) == 11


def test_old_buckets_are_pruned(db):
    limits = store.Limits(rate_per_minute=5, rate_burst=5)
    with db.begin() as conn:
        store.take_token(conn, "old", limits, now=1000.0)
        store.take_token(conn, "new", limits)
    assert store.prune_rate_limits(db, older_than_seconds=3600) == 1


def test_past_the_hourly_threshold_the_coordinator_gets_one_digest(make_client, db, database_url):
    c = make_client(recipient_window_hours=24, notifications_per_hour=3)
    ids = [c.post("/join/suspacc", json=valid_form(email=f"a{i}@voorbeeld.nl", name=f"Aanvrager {i}"),
                  headers=JSON).json()["id"] for i in range(7)]
    kinds = Counter(m["kind"] for m in rows(db, outbox))
    assert kinds == {"confirmation": 7, "notification": 3, "digest": 1}, kinds
    [digest] = [m for m in rows(db, outbox) if m["kind"] == "digest"]
    assert digest["to_addr"] == "coordinator@suspacc.example" and digest["request_id"] is None
    assert digest["subject"] == "Nieuwe aanmeldingen voor SUSPACC – duurzame verpakkingen (overzicht)"
    lines = digest["body"].split("\n\n", 1)[1].splitlines()
    assert [line.split()[-1] for line in lines] == ids[3:]  # one line per request past the threshold
    assert "Aanvrager 5 <a5@voorbeeld.nl> (Jansen BV)" in lines[2]
    assert digest["next_attempt_at"] > utcnow()  # it collects for an hour before it is sent
    # another network has its own count
    assert c.post("/join/bernn", json=valid_form(q_size=None, q_rules=None), headers=JSON).status_code == 201
    assert Counter(m["kind"] for m in rows(db, outbox))["notification"] == 4
    # an erase takes the applicant's line out of the digest
    assert c.post("/admin/erase", json={"email": "a5@voorbeeld.nl"},
                  headers={"Authorization": f"Bearer {ADMIN_TOKEN}"}).status_code == 200
    [digest] = [m for m in rows(db, outbox) if m["kind"] == "digest"]
    assert "a5@voorbeeld.nl" not in digest["body"] and "a6@voorbeeld.nl" in digest["body"]



def test_one_commit_past_the_threshold_adds_its_requests_to_the_digest_in_one_statement(db):
    """The group-commit writer stores many requests per transaction: those past the hourly
    threshold go into the network's digest with one statement per network, not one per request
    (a flood would otherwise rewrite the digest row for every request), and in their order."""
    from sqlalchemy import event

    from tests.formservice.test_groupcommit import new

    limits = store.Limits(rate_per_minute=0, window_hours=24, notifications_per_hour=2)
    first = [new(i) for i in range(3)]
    with db.begin() as conn:
        store.insert_requests(conn, first, limits)  # two notifications; the third starts the digest
    batch = [new(i) for i in range(3, 13)]
    statements = []
    event.listen(db, "before_cursor_execute", lambda conn, cursor, statement, *rest: statements.append(statement))
    with db.begin() as conn:
        store.insert_requests(conn, batch, limits)
    [digest] = [m for m in rows(db, outbox) if m["kind"] == "digest"]
    lines = digest["body"].split("\n\n", 1)[1].splitlines()
    assert [line.split()[-1] for line in lines] == [r.id for r in first[2:] + batch]
    digest_updates = [s for s in statements if s.lstrip().upper().startswith("UPDATE OUTBOX")]
    assert len(digest_updates) == 1, digest_updates
