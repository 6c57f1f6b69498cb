"""A corpus of hostile inputs, over real HTTP (uvicorn), on SQLite and PostgreSQL.

Each gets the right 4xx with a clear message in the visitor's language, is not stored,
and leaves the service healthy.
"""

import html
import itertools
import json

import httpx
import pytest

from formservice.db import join_requests, outbox
from formservice.i18n import gettext
from tests.formservice.conftest import SITE, count, valid_form

FORM = "application/x-www-form-urlencoded"
JSONT = "application/json"
_ip = itertools.count(1)


def urlencode(data):
    return httpx.QueryParams(data).__str__().encode()


def body_json(data):
    return json.dumps(data).encode()


class Case:
    def __init__(self, id, body, status, field, msgid, *, path="/join/suspacc", ctype=FORM, lang="nl",
                 headers=None, params=None, stream=False):
        self.id, self.body, self.status, self.field, self.msgid = id, body, status, field, msgid
        self.path, self.ctype, self.lang, self.headers, self.params = path, ctype, lang, headers or {}, params or {}
        self.stream = stream

    @property
    def is_json(self):
        return self.ctype == JSONT

    def __repr__(self):
        return self.id


def form(lang="nl", **kw):
    return urlencode(valid_form(lang=lang, **kw))


def jform(lang="nl", **kw):
    return body_json(valid_form(lang=lang, **kw))


REQUIRED = "This field is required."
TOO_LONG = "Use at most %(max)d characters (this has %(length)d)."
LINE = "Line breaks are not allowed here."
CONTROL = "This contains control characters or invisible formatting characters that are not allowed."
EMAIL = "This is not a valid e-mail address."
NOT_TEXT = "Send this field as text."
ENCODING = "The form could not be read: it is not valid UTF-8 text."
BAD_JSON = "The form could not be read: it is not valid JSON."
NOT_OBJECT = "The form could not be read: send one JSON object."
MEDIA = "The form was sent in a format this service does not accept."
TOO_LARGE = "The form is too large: it may be at most %(kib)d KiB."

CASES = [
    # size
    Case("oversized-form", form(message="x" * 40_000), 413, "request", TOO_LARGE, params={"kib": 32}),
    Case("oversized-json", jform(lang="en", message="x" * 40_000), 413, "request", TOO_LARGE, ctype=JSONT,
         lang="en", headers={"Accept-Language": "en"}, params={"kib": 32}),
    Case("oversized-chunked-no-length", form(message="x" * 40_000), 413, "request", TOO_LARGE, stream=True,
         params={"kib": 32}),
    Case("too-many-fields", urlencode([(f"f{i}", "x") for i in range(150)]), 400, "request",
         "The form has too many fields."),
    # encodings
    Case("raw-invalid-utf8", b"name=\xff\xfe&email=a%40b.nl&consent=on", 400, "request", ENCODING),
    Case("raw-latin1", "name=José&email=a%40b.nl&consent=on".encode("latin-1"), 400, "request", ENCODING),
    Case("percent-invalid-utf8", b"name=%FF%FE&email=a%40b.nl&consent=on", 400, "request", ENCODING),
    Case("percent-latin1", b"name=Jos%E9&email=a%40b.nl&consent=on&lang=en", 400, "request", ENCODING),
    Case("json-invalid-utf8", b'{"name": "Jos\xe9", "email": "a@b.nl"}', 400, "request", ENCODING, ctype=JSONT),
    Case("declared-latin1-charset", form(), 415, "request", MEDIA, ctype=FORM + "; charset=iso-8859-1"),
    # content types
    Case("text-plain", form(), 415, "request", MEDIA, ctype="text/plain"),
    Case("multipart", b"--x\r\nContent-Disposition: form-data; name=\"name\"\r\n\r\nJan\r\n--x--\r\n", 415,
         "request", MEDIA, ctype="multipart/form-data; boundary=x"),
    Case("no-content-type", form(), 415, "request", MEDIA, ctype=""),
    Case("xml", b"<join><name>Jan</name></join>", 415, "request", MEDIA, ctype="application/xml", lang="en",
         headers={"Accept-Language": "en-US,en;q=0.8"}),
    # header injection and markup
    Case("crlf-in-name", form(name="Jan\r\nBcc: victim@example.org"), 422, "name", LINE),
    Case("crlf-in-email", form(email="jan@voorbeeld.nl\r\nBcc: victim@example.org"), 422, "email", LINE),
    Case("lf-in-email-json", jform(lang="en", email="jan@voorbeeld.nl\nBcc: v@example.org"), 422, "email", LINE,
         ctype=JSONT, lang="en"),
    Case("lf-in-organisation", form(organisation="A\nB"), 422, "organisation", LINE),
    Case("script-as-email", form(email="<script>alert(1)</script>@x.nl"), 422, "email", EMAIL),
    Case("display-name-email", form(email="Jan <jan@voorbeeld.nl>"), 422, "email", EMAIL),
    Case("two-addresses", form(email="a@b.nl,c@d.nl"), 422, "email", EMAIL),
    Case("email-without-dot", form(lang="en", email="jan@localhost"), 422, "email", EMAIL, lang="en"),
    # control characters
    Case("nul-in-name", form(name="Jan\x00"), 422, "name", CONTROL),
    Case("escape-in-organisation", form(organisation="A\x1b[31mB"), 422, "organisation", CONTROL),
    Case("nul-in-message", form(lang="en", message="hallo\x00"), 422, "message", CONTROL, lang="en"),
    Case("bidi-override-in-name", form(name="Jan \u202egnp.exe"), 422, "name", CONTROL),
    Case("lone-surrogate-json", b'{"name": "\\ud800", "email": "a@b.nl", "consent": true}', 422, "name", CONTROL,
         ctype=JSONT),
    Case("tab-in-name", form(name="Jan\tJansen"), 422, "name", CONTROL),
    # lengths
    Case("overlong-name", form(name="n" * 201), 422, "name", TOO_LONG, params={"max": 200, "length": 201}),
    Case("overlong-organisation", form(organisation="o" * 250), 422, "organisation", TOO_LONG,
         params={"max": 200, "length": 250}),
    Case("overlong-message", form(lang="en", message="m" * 5001), 422, "message", TOO_LONG, lang="en",
         params={"max": 5000, "length": 5001}),
    Case("overlong-answer", form(q_sector="s" * 1001), 422, "q_sector", TOO_LONG,
         params={"max": 1000, "length": 1001}),
    Case("overlong-email", form(email="a" * 250 + "@b.nl"), 422, "email", TOO_LONG,
         params={"max": 254, "length": 255}),
    # consent and questions
    Case("missing-consent", form(consent=None), 422, "consent", "Tick the box to give your consent."),
    Case("consent-false-json", jform(lang="en", consent=False), 422, "consent", "Tick the box to give your consent.",
         ctype=JSONT, lang="en"),
    Case("consent-no", form(consent="no"), 422, "consent", "Tick the box to give your consent."),
    Case("missing-name", form(name=None), 422, "name", REQUIRED),
    Case("blank-name", form(name="   "), 422, "name", REQUIRED),
    Case("missing-required-question", form(q_size=None), 422, "q_size", REQUIRED),
    Case("unknown-select-option", form(q_size="huge"), 422, "q_size", "Choose one of the options offered."),
    Case("select-label-not-value", form(lang="en", q_size="Small (up to 50)"), 422, "q_size",
         "Choose one of the options offered.", lang="en"),
    Case("required-checkbox-off", form(q_rules="off"), 422, "q_rules", "Tick this box to continue."),
    Case("not-a-number", form(q_employees="veel"), 422, "q_employees", "Enter a number."),
    Case("infinity", form(q_employees="Infinity"), 422, "q_employees", "Enter a number."),
    Case("javascript-url", form(q_website="javascript:alert(1)"), 422, "q_website",
         "Enter a web address starting with http:// or https://."),
    Case("bad-email-answer", form(q_billing_email="factuur@"), 422, "q_billing_email", EMAIL),
    # JSON shapes
    Case("bad-json", b'{"name": "Jan",', 400, "request", BAD_JSON, ctype=JSONT),
    Case("nan-in-json", b'{"name": "Jan", "q_employees": NaN}', 400, "request", BAD_JSON, ctype=JSONT),
    Case("json-array", body_json([valid_form()]), 400, "request", NOT_OBJECT, ctype=JSONT),
    Case("json-string", body_json("name=Jan"), 400, "request", NOT_OBJECT, ctype=JSONT,
         headers={"Accept-Language": "en"}, lang="en"),
    Case("json-deep-nesting", b"[" * 16000 + b"]" * 16000, 400, "request", BAD_JSON, ctype=JSONT),
    Case("json-object-as-name", jform(name={"first": "Jan"}), 422, "name", NOT_TEXT, ctype=JSONT),
    Case("json-number-as-email", jform(email=42), 422, "email", NOT_TEXT, ctype=JSONT),
    Case("json-list-as-answer", jform(lang="en", q_sector=["a", "b"]), 422, "q_sector", NOT_TEXT, ctype=JSONT,
         lang="en"),
    Case("json-duplicate-keys", b'{"name": "Jan", "email": "a@b.nl", "email": "c@d.nl", "consent": true, '
         b'"q_size": "small", "q_rules": true}', 422, "email", "This field was sent more than once.", ctype=JSONT),
    Case("duplicate-form-fields", form() + b"&email=other%40example.org", 422, "email",
         "This field was sent more than once."),
    Case("empty-body", b"", 422, "name", REQUIRED),
    # networks and origins
    Case("unknown-network", form(), 404, "network", "There is no network with this name.", path="/join/onbekend"),
    Case("closed-network", form(lang="en"), 409, "network", "This network is not accepting new members at the moment.",
         path="/join/gesloten", lang="en"),
    Case("foreign-origin", form(), 403, "origin", "The form was sent from a website that may not use this service.",
         headers={"Origin": "https://evil.example"}),
    Case("foreign-origin-en", form(lang="en"), 403, "origin",
         "The form was sent from a website that may not use this service.",
         headers={"Origin": "http://127.0.0.1:8000.evil.example"}, lang="en"),
    Case("null-origin", form(), 403, "origin", "The form was sent from a website that may not use this service.",
         headers={"Origin": "null"}),
    Case("foreign-referer", form(), 403, "origin", "The form was sent from a website that may not use this service.",
         headers={"Origin": None, "Referer": "https://evil.example/form.html"}),
]

assert len(CASES) >= 40 and len({c.id for c in CASES}) == len(CASES)


def send(service, case, html_mode, ip):
    headers = {"Origin": SITE, "X-Forwarded-For": ip, "Accept": "text/html" if html_mode else JSONT}
    if case.ctype:
        headers["Content-Type"] = case.ctype
    headers.update(case.headers)
    headers = {k: v for k, v in headers.items() if v is not None}
    content = case.body
    if case.stream:
        content = (case.body[i:i + 4096] for i in range(0, len(case.body), 4096))  # chunked: no Content-Length
    return service.client.post(case.path, content=content, headers=headers)


def check_not_stored_and_healthy(service, db):
    assert count(db, join_requests) == 0
    assert count(db, outbox) == 0
    assert service.client.get("/healthz").status_code == 200


@pytest.mark.parametrize("case", CASES, ids=repr)
def test_hostile_input_json(http_service, db, case):
    r = send(http_service, case, html_mode=False, ip=f"10.1.{next(_ip) // 250}.{next(_ip) % 250}")
    assert r.status_code == case.status, r.text
    expected = gettext(case.lang, case.msgid, **case.params)
    assert r.json()["errors"][case.field] == expected
    check_not_stored_and_healthy(http_service, db)


@pytest.mark.parametrize("case", [c for c in CASES if not c.is_json], ids=repr)
def test_hostile_input_browser(http_service, db, case):
    r = send(http_service, case, html_mode=True, ip=f"10.2.{next(_ip) // 250}.{next(_ip) % 250}")
    assert r.status_code == case.status
    assert r.headers["content-type"].startswith("text/html")
    assert f'<html lang="{case.lang}">' in r.text
    assert html.escape(gettext(case.lang, case.msgid, **case.params)) in r.text
    check_not_stored_and_healthy(http_service, db)


def test_a_burst_is_rate_limited(http_service, db):
    ip = "10.3.0.1"
    codes = [send(http_service, Case("x", form(name=None), 0, "", ""), False, ip).status_code for _ in range(8)]
    assert codes == [422] * 5 + [429] * 3
    r = send(http_service, Case("x", form(lang="en"), 0, "", ""), True, ip)
    assert r.status_code == 429 and '<html lang="en">' in r.text
    assert "Too many requests from your connection" in r.text
    check_not_stored_and_healthy(http_service, db)
    # another client is not affected
    assert send(http_service, Case("x", form(), 0, "", ""), False, "10.3.0.2").status_code == 201


def test_the_nl_and_en_messages_differ(http_service, db):
    """Guards the corpus: a message left untranslated would pass the tests above."""
    for case in CASES:
        assert gettext("nl", case.msgid, **case.params) != gettext("en", case.msgid, **case.params), case.id
