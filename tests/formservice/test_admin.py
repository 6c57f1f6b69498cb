"""Coordinators' exports, erasure and retention: over HTTP and with the CLI, on both databases."""

import csv
import io
import json
from datetime import timedelta

import pytest
from sqlalchemy import update

from formservice import cli, store
from formservice.db import join_requests, outbox, utcnow
from formservice.export import neutralise
from tests.formservice.conftest import ADMIN_TOKEN, NETWORKS, SITE, count, rows, valid_form

AUTH = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
POST = {"Origin": SITE, "Accept": "application/json"}


def post(client, **kw):
    r = client.post("/join/suspacc", data=valid_form(**kw), headers=POST)
    assert r.status_code == 201, r.text
    return r.json()["id"]


def read_csv(text):
    assert text.startswith("\ufeff")
    return list(csv.reader(io.StringIO(text[1:])))


@pytest.mark.parametrize("headers, status", [
    ({}, 401),
    ({"Authorization": "Bearer wrong-token-wrong-token"}, 401),
    ({"Authorization": f"Basic {ADMIN_TOKEN}"}, 401),
    ({"Authorization": f"Bearer {ADMIN_TOKEN}x"}, 401),
    ({"Authorization": f"Bearer {ADMIN_TOKEN[:-1]}"}, 401),
    (AUTH, 200),
])
def test_exports_need_the_token(client, headers, status):
    r = client.get("/admin/networks/suspacc/requests.csv", headers=headers)
    assert r.status_code == status
    if status == 401:
        assert r.headers["www-authenticate"].startswith("Bearer")
        assert "Jan" not in r.text


def test_without_a_configured_token_the_admin_api_is_off(make_client):
    c = make_client(admin_token=None)
    assert c.get("/admin/networks/suspacc/requests.json", headers=AUTH).status_code == 403
    assert c.post("/admin/erase", json={"email": "a@b.nl"}, headers=AUTH).status_code == 403


def test_a_short_admin_token_is_refused():
    from tests.formservice.conftest import make_config

    with pytest.raises(ValueError, match="at least 16"):
        make_config("sqlite://", admin_token="geheim")


@pytest.mark.parametrize("dangerous", ["=HYPERLINK(\"http://evil.example\",\"klik\")", "+31 50 123", "-2+3",
                                       "@SUM(A1)", "\t=1+1", "\r=1+1"])
def test_csv_cells_that_start_a_formula_are_neutralised(client, dangerous):
    single_line = dangerous.replace("\r", "").replace("\t", "")
    post(client, name=single_line, organisation=single_line, message=dangerous, q_sector=single_line)
    r = client.get("/admin/networks/suspacc/requests.csv", headers=AUTH)
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/csv")
    header, row = read_csv(r.text)
    record = dict(zip(header, row))
    assert record["name"] == "'" + single_line
    assert record["organisation"] == "'" + single_line
    assert record["q_sector"] == "'" + single_line
    # the message's leading tab/CR is stripped on input; what is left is neutralised too
    assert record["message"] == "'" + dangerous.lstrip("\t\r")


def test_neutralise():
    assert neutralise("=1+1") == "'=1+1"
    assert neutralise("Jan") == "Jan"
    assert neutralise("") == ""
    assert neutralise(None) == ""
    assert neutralise("a=1") == "a=1"


@pytest.mark.parametrize("dangerous", [
    "\uff1d1+1", "\uff0b31 50", "\uff0d2+3", "\uff20SUM(A1)",    # fullwidth = + - @
    "\ufe661+1", "\ufe622", "\ufe632",                          # small = + -
    "\u22121+1",                                                  # minus sign
    "\u200b=1+1", "\u200c\u200d=1", "\ufeff=1+1", "\u2060+1",      # zero-width, BOM, word joiner
    " \u00a0\u3000=1+1", "\u200e-1",                             # spaces (also no-break, ideographic), LRM
    "\t1", "\rx", " \t=1",
])
def test_neutralise_catches_every_form_of_a_formula_start(dangerous):
    assert neutralise(dangerous) == "'" + dangerous


@pytest.mark.parametrize("harmless", ["Jan", "a=1", "\u00e9=1", "(050) 123", "#1", "x\u200b=1", "\u200b", "  "])
def test_neutralise_leaves_ordinary_text_alone(harmless):
    assert neutralise(harmless) == harmless


def test_csv_export_neutralises_a_fullwidth_formula_after_a_zero_width_space(client):
    post(client, name="\u200b\uff1dHYPERLINK(1)", organisation="\ufeff\uff0b1")
    header, row = read_csv(client.get("/admin/networks/suspacc/requests.csv", headers=AUTH).text)
    record = dict(zip(header, row))
    assert record["name"].startswith("'") and record["organisation"].startswith("'")


def test_csv_and_json_exports_hold_every_answer(client):
    a = post(client, name="Één", q_sector="Zorg", q_newsletter="on", message="r1\r\nr2")
    b = post(client, email="tweede@voorbeeld.nl", lang="en")
    r = client.get("/admin/networks/suspacc/requests.csv", headers=AUTH)
    header, *data = read_csv(r.text)
    assert header[:9] == ["id", "created_at", "lang", "name", "email", "organisation", "message", "consent_at",
                          "repeat_of"]
    assert "q_sector" in header and "q_newsletter" in header and "q_size" in header
    first = dict(zip(header, data[0]))
    assert first["id"] == a and first["name"] == "Één" and first["message"] == "r1\nr2"
    assert first["q_sector"] == "Zorg" and first["q_newsletter"] == "yes" and first["q_size"] == "small"
    assert dict(zip(header, data[1]))["lang"] == "en"
    j = client.get("/admin/networks/suspacc/requests.json", headers=AUTH)
    assert j.status_code == 200
    body = j.json()
    assert body["count"] == 2 and [x["id"] for x in body["requests"]] == [a, b]
    assert body["requests"][0]["answers"]["newsletter"] is True
    # other networks' requests are not in this export
    assert client.get("/admin/networks/bernn/requests.json", headers=AUTH).json()["count"] == 0


def test_unknown_network_and_format(client):
    assert client.get("/admin/networks/onbekend/requests.csv", headers=AUTH).status_code == 404
    assert client.get("/admin/networks/suspacc/requests.xml", headers=AUTH).status_code == 404


def test_erase_removes_the_applicants_requests_and_mails(client, db):
    post(client, email="Wis.Mij@Voorbeeld.NL")
    post(client, email="wis.mij@voorbeeld.nl", lang="en")
    keep = post(client, email="blijf@voorbeeld.nl")
    assert count(db, join_requests) == 3 and count(db, outbox) == 6
    r = client.post("/admin/erase", json={"email": "WIS.MIJ@voorbeeld.nl"}, headers=AUTH)
    assert r.status_code == 200
    assert r.json() == {"deleted_requests": 2, "deleted_mails": 4, "removed_digest_lines": 0, "coordinators_told": 1}
    assert [x["id"] for x in rows(db, join_requests)] == [keep]
    left = rows(db, outbox)
    assert {m["request_id"] for m in left if m["kind"] != "erased"} == {keep}
    # the coordinator is told which request numbers to delete from their own mailbox; no one is named
    [notice] = [m for m in left if m["kind"] == "erased"]
    assert notice["to_addr"] == "coordinator@suspacc.example" and "wis.mij" not in notice["body"].lower()
    assert "Jansen" not in notice["body"]
    assert notice["request_id"] is None and notice["body"].count("-") >= 8  # two request numbers
    assert client.post("/admin/erase", json={"email": "geen adres"}, headers=AUTH).status_code == 400
    assert client.post("/admin/erase", json=["blijf@voorbeeld.nl"], headers=AUTH).status_code == 400
    assert client.post("/admin/erase", content=b"email=blijf@voorbeeld.nl", headers=AUTH).status_code == 400
    assert client.post("/admin/erase", json={"email": "blijf@voorbeeld.nl"}).status_code == 401
    # the query-string form is gone: an address does not belong in a URL (access logs keep URLs)
    assert client.delete("/admin/requests", params={"email": "blijf@voorbeeld.nl"}, headers=AUTH).status_code == 404
    assert client.post("/admin/erase?email=blijf@voorbeeld.nl", headers=AUTH).status_code == 400
    assert count(db, join_requests) == 1


def _age(db, days):
    old = utcnow() - timedelta(days=days)
    with db.begin() as conn:
        conn.execute(update(join_requests).values(created_at=old, consent_at=old))
        conn.execute(update(outbox).values(created_at=old))


def test_purge_deletes_what_is_past_the_retention_period(client, db):
    post(client)
    _age(db, 400)
    fresh = post(client, email="nieuw@voorbeeld.nl")
    assert store.purge(db, 365) == (1, 2)
    assert [x["id"] for x in rows(db, join_requests)] == [fresh]
    assert count(db, outbox) == 2
    assert store.purge(db, 365) == (0, 0)


def test_the_worker_purges_periodically(client, db):
    from formservice.worker import Worker, WorkerSettings

    post(client)
    _age(db, 40)
    w = Worker(db, WorkerSettings(mail_from="a@b.nl", smtp_url=None, retention_days=30))
    w.maybe_purge()
    assert count(db, join_requests) == 0


# --- the same through the command line (in-process: cli.main) -----------------------------------

def run_cli(capsys, database_url, *args):
    code = cli.main([*args, "--database-url", database_url, "--networks-dir", str(NETWORKS)])
    out = capsys.readouterr()
    return code, out.out, out.err


def test_cli_export_erase_purge(client, db, database_url, capsys, tmp_path, monkeypatch):
    post(client, name="=cmd|' /C calc'!A0", email="cli@voorbeeld.nl")
    code, out, _ = run_cli(capsys, database_url, "export", "--network", "suspacc", "--format", "csv")
    assert code == 0
    header, row = read_csv(out)
    assert dict(zip(header, row))["name"] == "'=cmd|' /C calc'!A0"
    code, out, _ = run_cli(capsys, database_url, "export", "--network", "suspacc", "--format", "json",
                           "-o", str(tmp_path / "x.json"))
    assert code == 0 and json.loads((tmp_path / "x.json").read_text())["count"] == 1
    assert run_cli(capsys, database_url, "export", "--network", "onbekend")[0] == 1
    monkeypatch.setattr("sys.stdin", io.StringIO("CLI@voorbeeld.nl\n"))
    code, out, _ = run_cli(capsys, database_url, "erase")
    assert code == 0 and "deleted 1 request(s) and 2 mail(s)" in out and "told 1 coordinator(s)" in out
    assert "cli@voorbeeld.nl" not in out.lower()
    assert count(db, join_requests) == 0
    monkeypatch.setattr("sys.stdin", io.StringIO("geen-adres\n"))
    assert run_cli(capsys, database_url, "erase")[0] == 2
    with pytest.raises(SystemExit) as refused:  # never on the command line (process list, shell history)
        run_cli(capsys, database_url, "erase", "--email", "CLI@voorbeeld.nl")
    assert refused.value.code == 2
    post(client)
    _age(db, 10)
    code, out, _ = run_cli(capsys, database_url, "purge", "--retention-days", "30")
    assert code == 0 and "deleted 0 request(s)" in out
    code, out, _ = run_cli(capsys, database_url, "purge", "--retention-days", "5")
    assert "deleted 1 request(s) and 3 mail(s)" in out  # its two, and the erase notice of before
    assert count(db, join_requests) == 0
