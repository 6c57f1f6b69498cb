"""Group commit (formservice.groupcommit) on SQLite and PostgreSQL: many requests per
transaction, each acknowledged only once committed, and a bad request fails alone."""

import logging
from dataclasses import replace

import pytest
from sqlalchemy import event, select
from sqlalchemy.exc import IntegrityError, OperationalError

from formservice import registry, store
from formservice.db import join_requests, make_engine, outbox
from formservice.groupcommit import GroupCommit
from formservice.validation import Submission
from tests.formservice.conftest import NETWORKS, count

NETWORK = registry.load(NETWORKS)["suspacc"]


def new(i):
    return store.new_request(
        network=NETWORK, lang="nl", client_hash="0" * 32, user_agent="test", coordinator_lang="nl",
        submission=Submission(name=f"Aanvrager {i}", email=f"a{i}@voorbeeld.nl", answers={"size": "small"}))


def commits_of(engine):
    counted = []
    event.listen(engine, "commit", lambda conn: counted.append(1))
    return counted


def test_the_requests_queued_meanwhile_are_stored_in_one_transaction(db):
    writer = GroupCommit(db)
    requests = [new(i) for i in range(50)]
    futures = [writer.submit(r) for r in requests]  # queued before the writer starts: one batch
    commits = commits_of(db)
    writer.start()
    try:
        assert [f.result(timeout=30) for f in futures] == [r.id for r in requests]
    finally:
        writer.stop()
    assert len(commits) == 1
    with db.connect() as conn:
        stored = set(conn.execute(select(join_requests.c.id)).scalars())
        mails = conn.execute(select(outbox.c.request_id)).scalars().all()
    assert stored == {r.id for r in requests}
    assert sorted(mails) == sorted(r.id for r in requests for _ in range(2))


def test_a_failing_insert_fails_only_its_own_request(db):
    first = new(0)
    with db.begin() as conn:
        store.insert_requests(conn, [first])
    writer = GroupCommit(db)
    good = [new(1), new(2)]
    clash = new(3)  # given the primary key of the stored request
    duplicate = replace(clash, id=first.id, row=dict(clash.row, id=first.id),
                        mails=[dict(m, request_id=first.id) for m in clash.mails])
    futures = [writer.submit(good[0]), writer.submit(duplicate), writer.submit(good[1])]
    sizes = []  # the batches committed: one of three, then each alone after it failed
    commit = writer._commit
    writer._commit = lambda batch: (sizes.append(len(batch)), commit(batch))[1]
    writer.start()
    try:
        assert futures[0].result(timeout=30) == good[0].id
        assert futures[2].result(timeout=30) == good[1].id
        with pytest.raises(IntegrityError):
            futures[1].result(timeout=30)
    finally:
        writer.stop()
    assert sizes == [3, 1, 1, 1]
    with db.connect() as conn:
        rows = dict(conn.execute(select(join_requests.c.id, join_requests.c.email)).all())
    assert rows == {first.id: "a0@voorbeeld.nl", good[0].id: "a1@voorbeeld.nl", good[1].id: "a2@voorbeeld.nl"}
    assert count(db, outbox) == 6


def test_an_unavailable_database_fails_the_batch_at_once(caplog):
    engine = make_engine("postgresql+psycopg://nobody@127.0.0.1:1/nothing")
    writer = GroupCommit(engine)
    futures = [writer.submit(new(i)) for i in range(3)]
    with caplog.at_level(logging.WARNING, logger="formservice.groupcommit"):
        writer.start()
        try:
            for f in futures:
                with pytest.raises(OperationalError):
                    f.result(timeout=60)
        finally:
            writer.stop()
            engine.dispose()
    assert "storing each alone" not in caplog.text  # one failed attempt, not one per request


def test_stop_stores_what_is_queued_then_refuses(db):
    writer = GroupCommit(db)
    writer.start()
    futures = [writer.submit(new(i)) for i in range(20)]
    writer.stop()
    assert all(f.done() and f.exception() is None for f in futures)
    assert count(db, join_requests) == 20
    with pytest.raises(RuntimeError, match="stopped"):
        writer.submit(new(99))
