"""The HTTP API, in-process (Starlette TestClient), on SQLite and PostgreSQL."""

import re

import pytest

from formservice.db import join_requests, outbox
from formservice.i18n import gettext
from tests.formservice.conftest import SITE, count, rows, valid_form

BROWSER = {"Origin": SITE, "Accept": "text/html,application/xhtml+xml,*/*;q=0.8"}
JSON = {"Origin": SITE, "Accept": "application/json"}


def test_a_browser_post_is_stored_and_redirected_to_the_thank_you_page(client, db):
    r = client.post("/join/suspacc", data=valid_form(message="Regel 1\r\nRegel 2"), headers=BROWSER,
                    follow_redirects=False)
    assert r.status_code == 303
    assert r.headers["location"] == f"{SITE}/bedankt/"
    [req] = rows(db, join_requests)
    assert req["network"] == "suspacc" and req["lang"] == "nl"
    assert req["name"] == "Jan Jansen" and req["email"] == "jan@voorbeeld.nl"
    assert req["message"] == "Regel 1\nRegel 2"  # CR LF from the browser's textarea becomes LF
    assert req["answers"] == {"size": "small", "rules": True, "newsletter": False}
    assert req["consent_at"] is not None and len(req["client_hash"]) == 32
    assert "127.0.0.1" not in req["client_hash"] and "testclient" not in req["client_hash"]
    mails = rows(db, outbox)
    assert sorted(m["kind"] for m in mails) == ["confirmation", "notification"]
    assert all(m["request_id"] == req["id"] and m["sent_at"] is None for m in mails)
    by_kind = {m["kind"]: m for m in mails}
    assert by_kind["notification"]["to_addr"] == "coordinator@suspacc.example"
    assert by_kind["notification"]["reply_to"] == "jan@voorbeeld.nl"
    assert by_kind["confirmation"]["to_addr"] == "jan@voorbeeld.nl"


def test_english_goes_to_the_english_thank_you_page(client):
    r = client.post("/join/suspacc", data=valid_form(lang="en"), headers=BROWSER, follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == f"{SITE}/en/thank-you/"


def test_accept_language_chooses_the_language_when_the_form_does_not(client, db):
    r = client.post("/join/bernn", data=valid_form(q_size=None, q_rules=None), follow_redirects=False,
                    headers={**BROWSER, "Accept-Language": "en-GB,en;q=0.9,nl;q=0.5"})
    assert r.headers["location"] == f"{SITE}/en/thank-you/"
    assert rows(db, join_requests)[0]["lang"] == "en"


@pytest.mark.parametrize("next_url, expected", [
    (f"{SITE}/netwerken/suspacc/bedankt/", f"{SITE}/netwerken/suspacc/bedankt/"),
    ("http://localhost:8000/elders/", "http://localhost:8000/elders/"),
    ("https://evil.example/phish", f"{SITE}/bedankt/"),
    ("http://127.0.0.1:8000@evil.example/", f"{SITE}/bedankt/"),
    ("//evil.example/", f"{SITE}/bedankt/"),
    ("javascript:alert(1)", f"{SITE}/bedankt/"),
    ("http://127.0.0.1:8000/\r\nSet-Cookie: x=1", f"{SITE}/bedankt/"),
    ("/bedankt/", f"{SITE}/bedankt/"),
])
def test_next_is_only_honoured_for_allowed_origins(client, next_url, expected):
    r = client.post("/join/suspacc", data=valid_form(_next=next_url), headers=BROWSER, follow_redirects=False)
    assert r.status_code == 303
    assert r.headers["location"] == expected


def test_json_gets_201_with_the_id(client, db):
    r = client.post("/join/suspacc", json=valid_form(consent=True, q_rules=True, q_employees=12), headers=JSON)
    assert r.status_code == 201
    body = r.json()
    assert body["status"] == "accepted"
    [req] = rows(db, join_requests)
    assert req["id"] == body["id"]
    assert req["answers"]["employees"] == "12"


def test_accept_json_with_a_form_body_gets_json(client):
    r = client.post("/join/suspacc", data=valid_form(), headers=JSON)
    assert r.status_code == 201 and r.json()["status"] == "accepted"


def test_every_question_type_is_stored(client, db):
    r = client.post("/join/suspacc", data=valid_form(
        q_sector="  Voeding  ", q_size="large", q_motivation="Een\r\n\tlange reden", q_website="https://jansen.example/",
        q_employees="3,5", q_billing_email="Factuur@Jansen.Example", q_newsletter="on", q_rules="yes"),
        headers=JSON)
    assert r.status_code == 201, r.text
    assert rows(db, join_requests)[0]["answers"] == {
        "sector": "Voeding", "size": "large", "motivation": "Een\n\tlange reden", "website": "https://jansen.example/",
        "employees": "3.5", "billing_email": "Factuur@jansen.example", "newsletter": True, "rules": True}


def test_text_is_nfc_normalised(client, db):
    decomposed = "Jose\u0301 Mu\u0308ller"  # e + combining acute, u + combining diaeresis
    assert client.post("/join/suspacc", data=valid_form(name=decomposed), headers=JSON).status_code == 201
    assert rows(db, join_requests)[0]["name"] == "José Müller"


def test_names_with_angle_brackets_are_accepted_and_stored_verbatim(client, db):
    name = "<script>alert('x')</script> & Zn."
    assert client.post("/join/suspacc", data=valid_form(name=name), headers=JSON).status_code == 201
    assert rows(db, join_requests)[0]["name"] == name
    notification = [m for m in rows(db, outbox) if m["kind"] == "notification"][0]
    assert "<script>" not in notification["html_body"]
    assert "&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt; &amp; Zn." in notification["html_body"]
    assert name in notification["body"]  # the plain-text part is text, not HTML


def test_the_error_page_is_in_the_visitors_language_and_links_back(client, db):
    r = client.post("/join/suspacc", data={"name": "", "email": "nee", "lang": "en"},
                    headers={**BROWSER, "Referer": f"{SITE}/en/networks/suspacc/"})
    assert r.status_code == 422
    assert r.headers["content-type"].startswith("text/html")
    page = r.text
    assert '<html lang="en">' in page
    assert gettext("en", "This is not a valid e-mail address.") in page
    assert gettext("en", "Tick the box to give your consent.") in page
    assert "Size of your organisation" in page  # the question's label in English
    assert f'href="{SITE}/en/networks/suspacc/"' in page
    assert "<script" not in page and "style=" not in page and "<style" not in page
    assert "default-src 'none'" in r.headers["content-security-policy"]
    assert count(db, join_requests) == 0 and count(db, outbox) == 0


def test_the_error_page_links_to_the_network_page_when_the_referer_is_foreign(client):
    r = client.post("/join/suspacc", data={"name": "x"}, headers={"Accept": "text/html"})
    assert r.status_code == 422
    assert '<html lang="nl">' in r.text
    assert f'href="{SITE}/netwerken/suspacc/"' in r.text
    assert "Dit is geen geldig e-mailadres." not in r.text  # email was missing, not wrong
    assert "Dit veld is verplicht." in r.text


def test_json_errors_name_each_field(client):
    r = client.post("/join/suspacc", json={"name": "x" * 201, "email": "a@b", "lang": "en"})
    assert r.status_code == 422
    errors = r.json()["errors"]
    assert set(errors) == {"name", "email", "consent", "q_size", "q_rules"}
    assert errors["name"] == "Use at most 200 characters (this has 201)."
    r = client.post("/join/suspacc", json={"name": "x" * 201, "email": "a@b"})
    assert r.json()["errors"]["name"] == "Gebruik hoogstens 200 tekens (dit zijn er 201)."


def test_honeypot_looks_accepted_but_nothing_is_stored(client, db):
    r = client.post("/join/suspacc", data=valid_form(_gotcha="http://spam.example"), headers=BROWSER,
                    follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == f"{SITE}/bedankt/"
    r = client.post("/join/suspacc", json=valid_form(_gotcha="x"), headers=JSON)
    assert r.status_code == 201
    assert r.json()["status"] == "accepted" and re.fullmatch(r"[0-9a-f-]{36}", r.json()["id"])
    # even an invalid submission with the honeypot filled looks accepted (a bot learns nothing)
    r = client.post("/join/suspacc", data={"_gotcha": "1"}, headers=BROWSER, follow_redirects=False)
    assert r.status_code == 303
    assert count(db, join_requests) == 0 and count(db, outbox) == 0
    # an empty honeypot (as a person leaves it) is fine
    assert client.post("/join/suspacc", data=valid_form(_gotcha=""), headers=JSON).status_code == 201
    assert count(db, join_requests) == 1


def test_unknown_network_is_404_and_closed_network_is_409(client, db):
    r = client.post("/join/bestaat-niet", data=valid_form(), headers=BROWSER)
    assert r.status_code == 404
    assert "Er bestaat geen netwerk met deze naam." in r.text
    assert f'href="{SITE}/netwerken/"' in r.text
    r = client.post("/join/gesloten", json=valid_form(lang="en"))
    assert r.status_code == 409
    assert r.json() == {"errors": {"network": "This network is not accepting new members at the moment."}}
    assert count(db, join_requests) == 0


def test_cors_preflight_answers_allowed_origins_only(client):
    r = client.options("/join/suspacc", headers={"Origin": SITE, "Access-Control-Request-Method": "POST",
                                                   "Access-Control-Request-Headers": "content-type"})
    assert r.status_code == 200
    assert r.headers["access-control-allow-origin"] == SITE
    assert "POST" in r.headers["access-control-allow-methods"]
    r = client.options("/join/suspacc", headers={"Origin": "https://evil.example",
                                                   "Access-Control-Request-Method": "POST"})
    assert r.status_code == 400
    assert "access-control-allow-origin" not in r.headers
    r = client.post("/join/suspacc", json=valid_form(), headers={"Origin": "http://localhost:8000"})
    assert r.status_code == 201
    assert r.headers["access-control-allow-origin"] == "http://localhost:8000"


def test_allowed_origins_are_configurable(make_client):
    c = make_client(allowed_origins="https://www.knnadvies.nl", site_url="https://www.knnadvies.nl")
    assert c.post("/join/suspacc", json=valid_form(), headers={"Origin": "https://www.knnadvies.nl"}).status_code == 201
    r = c.post("/join/suspacc", json=valid_form(), headers={"Origin": SITE})
    assert r.status_code == 403 and "origin" in r.json()["errors"]


def test_healthz_checks_the_database(client, db):
    r = client.get("/healthz")
    assert r.status_code == 200
    assert r.json()["status"] == "ok" and r.json()["database"] == "ok"


def test_healthz_reports_a_dead_database():
    from starlette.testclient import TestClient

    from formservice.app import create_app
    from formservice.db import make_engine
    from tests.formservice.conftest import make_config

    url = "postgresql+psycopg://nobody@127.0.0.1:1/nothing"
    with TestClient(create_app(make_config(url), engine=make_engine(url))) as c:
        assert c.get("/healthz").status_code == 503
        r = c.post("/join/suspacc", json=valid_form())
        assert r.status_code == 503  # not stored, so not acknowledged
        assert "errors" in r.json()


def test_rate_limit_is_per_client_and_ignores_x_forwarded_for_by_default(make_client, db):
    c = make_client(rate_per_minute=5, rate_burst=5)
    codes = [c.post("/join/suspacc", json=valid_form(email=f"a{i}@b.nl"),
                    headers={"X-Forwarded-For": f"10.0.0.{i}"}).status_code for i in range(7)]
    assert codes == [201] * 5 + [429] * 2
    r = c.post("/join/suspacc", json=valid_form(lang="en"))
    assert r.status_code == 429 and int(r.headers["retry-after"]) >= 1
    assert r.json()["errors"]["rate_limit"].startswith("Too many requests")
    assert count(db, join_requests) == 5


def test_rate_limit_uses_x_forwarded_for_behind_a_trusted_proxy(make_client):
    c = make_client(rate_per_minute=5, rate_burst=2, trust_proxy=True, client=("127.0.0.1", 50000))
    hit = lambda ip: c.post("/join/suspacc", json=valid_form(), headers={"X-Forwarded-For": ip}).status_code  # noqa: E731
    assert [hit("1.2.3.4"), hit("1.2.3.4"), hit("1.2.3.4")] == [201, 201, 429]
    assert hit("5.6.7.8") == 201
    # a client cannot escape by prepending addresses: the proxy's (last) entry counts
    assert hit("9.9.9.9, 1.2.3.4") == 429
    # a chain of trusted proxies (loopback here) is skipped: the first untrusted hop counts
    assert hit("1.2.3.4, 127.0.0.1") == 429


def test_x_forwarded_for_from_an_untrusted_peer_is_ignored(make_client):
    c = make_client(rate_per_minute=5, rate_burst=2, trust_proxy="10.0.0.0/8", client=("192.0.2.7", 50000))
    hit = lambda ip: c.post("/join/suspacc", json=valid_form(), headers={"X-Forwarded-For": ip}).status_code  # noqa: E731
    # every request counts against the peer itself, whatever address it claims
    assert [hit("1.1.1.1"), hit("2.2.2.2"), hit("3.3.3.3")] == [201, 201, 429]


def test_wrong_methods_and_paths(client):
    assert client.get("/join/suspacc").status_code == 405
    assert client.post("/join/").status_code == 404
    assert client.post("/join/a/b", json=valid_form()).status_code == 404
