"""Strict validation of one join request, with every message in the visitor's language.

`validate(pairs, network, lang)` takes the submitted (name, value) pairs in the order
sent (from a urlencoded form or a JSON object) and returns (Submission, {}) or
(None, {field: message}). Values are NFC-normalised and trimmed; control characters
are refused (newline and tab are allowed in multi-line fields, whose CR LF line ends,
as browsers send them, become LF).
"""

import unicodedata
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from email.headerregistry import Address
from urllib.parse import urlsplit

from core.networks import QUESTION_FIELD_PREFIX

from formservice.i18n import N_, gettext

MAX_LENGTH = {"name": 200, "organisation": 200, "message": 5000}
ANSWER_MAX = 1000
EMAIL_MAX = 254
QUESTION_PREFIX = QUESTION_FIELD_PREFIX  # "q_": a question's answer is posted as q_<id> (Question.field_name)
QUESTION_TYPES = ("text", "textarea", "email", "url", "number", "select", "checkbox")
# Fields the service reads besides the q_<id> answers. Anything else is ignored, not stored.
STANDARD_FIELDS = ("name", "email", "organisation", "message", "consent", "lang", "_gotcha", "_next")
FALSE_WORDS = {"", "0", "false", "no", "off", "nee", "n"}
_LOCAL_CHARS = set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789!#$%&'*+/=?^_`{|}~.-")
_DOMAIN_CHARS = set("abcdefghijklmnopqrstuvwxyz0123456789-")
# Bidirectional embedding/override/isolate controls: used to disguise text ("Trojan Source").
_BIDI_CONTROLS = set("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")

LABELS = {
    "name": N_("Name"),
    "email": N_("E-mail address"),
    "organisation": N_("Organisation"),
    "message": N_("Message"),
    "consent": N_("Consent"),
    "lang": N_("Language"),
    "_next": N_("Return address"),
    "_gotcha": N_("Form"),
    "network": N_("Network"),
    "request": N_("Form"),
    "origin": N_("Website"),
    "rate_limit": N_("Number of requests"),
    "service": N_("Service"),
}

MSG_REQUIRED = N_("This field is required.")
MSG_TOO_LONG = N_("Use at most %(max)d characters (this has %(length)d).")
MSG_NOT_TEXT = N_("Send this field as text.")
MSG_LINE_BREAK = N_("Line breaks are not allowed here.")
MSG_CONTROL = N_("This contains control characters or invisible formatting characters that are not allowed.")
MSG_EMAIL = N_("This is not a valid e-mail address.")
MSG_CONSENT = N_("Tick the box to give your consent.")
MSG_CHECKBOX = N_("Tick this box to continue.")
MSG_SELECT = N_("Choose one of the options offered.")
MSG_NUMBER = N_("Enter a number.")
MSG_URL = N_("Enter a web address starting with http:// or https://.")
MSG_DUPLICATE = N_("This field was sent more than once.")


class FieldError(Exception):
    def __init__(self, message, **params):
        super().__init__(message)
        self.message = message
        self.params = params


@dataclass
class Submission:
    name: str
    email: str
    organisation: str = ""
    message: str = ""
    answers: dict = field(default_factory=dict)


def text_value(value, *, multiline=False, max_length=None):
    """A clean text value, or FieldError. None stays None (field absent)."""
    if value is None:
        return None
    if not isinstance(value, str):
        raise FieldError(MSG_NOT_TEXT)
    if any(0xD800 <= ord(c) <= 0xDFFF for c in value):  # lone surrogates (from JSON "\ud800")
        raise FieldError(MSG_CONTROL)
    value = unicodedata.normalize("NFC", value)
    if multiline:
        value = value.replace("\r\n", "\n").replace("\r", "\n").replace("\u2028", "\n").replace("\u2029", "\n")
    elif any(c in "\r\n\u2028\u2029\x85\x0b\x0c" for c in value):
        raise FieldError(MSG_LINE_BREAK)
    allowed = "\n\t" if multiline else ""
    for c in value:
        if c in allowed:
            continue
        if unicodedata.category(c) == "Cc" or c in _BIDI_CONTROLS or _is_noncharacter(c):
            raise FieldError(MSG_CONTROL)
    value = value.strip()
    if max_length is not None and len(value) > max_length:
        raise FieldError(MSG_TOO_LONG, max=max_length, length=len(value))
    return value


def _is_noncharacter(c):
    o = ord(c)
    return 0xFDD0 <= o <= 0xFDEF or (o & 0xFFFE) == 0xFFFE


def normalise_email(raw):
    """The address with its domain in lower-case ASCII (IDNA), or None if it is not one.

    Deliberately narrower than RFC 5322: no quoted local parts, comments, IP literals or
    non-ASCII local parts; what passes is safe in a To: header and deliverable by any MTA.
    """
    if not isinstance(raw, str) or not raw or len(raw) > EMAIL_MAX:
        return None
    if any(c.isspace() or unicodedata.category(c) in ("Cc", "Cf", "Cs") for c in raw):
        return None
    local, at, domain = raw.rpartition("@")
    if not at or not local or not domain or len(local) > 64:
        return None
    if any(c not in _LOCAL_CHARS for c in local) or local[0] == "." or local[-1] == "." or ".." in local:
        return None
    try:
        ascii_domain = unicodedata.normalize("NFC", domain).encode("idna").decode("ascii").lower()
    except UnicodeError:
        return None
    labels = ascii_domain.split(".")
    if len(ascii_domain) > 253 or len(labels) < 2 or labels[-1].isdigit():
        return None
    for label in labels:
        if not 1 <= len(label) <= 63 or label[0] == "-" or label[-1] == "-":
            return None
        if any(c not in _DOMAIN_CHARS for c in label):
            return None
    addr = f"{local}@{ascii_domain}"
    if len(addr) > EMAIL_MAX:
        return None
    try:  # the stdlib must agree: this is what goes into the To: header
        parsed = Address(addr_spec=addr)
    except Exception:  # noqa: BLE001 - any parse failure means "not an address"
        return None
    if parsed.addr_spec != addr:
        return None
    return addr


def is_true(value):
    if value is True:
        return True
    if isinstance(value, str):
        return value.strip().lower() not in FALSE_WORDS
    return False


def _url(value):
    parts = urlsplit(value)
    if parts.scheme.lower() not in ("http", "https") or not parts.hostname or any(c.isspace() for c in value):
        raise FieldError(MSG_URL)
    return value


def _number(value):
    if isinstance(value, bool):
        raise FieldError(MSG_NUMBER)
    if isinstance(value, (int, float)):
        value = repr(value)
    if not isinstance(value, str):
        raise FieldError(MSG_NOT_TEXT)
    text = text_value(value, max_length=ANSWER_MAX)
    if text == "":
        return ""
    candidate = text.replace(" ", "")
    if candidate.count(",") == 1 and "." not in candidate:
        candidate = candidate.replace(",", ".")  # Dutch decimal comma
    try:
        number = Decimal(candidate)
    except InvalidOperation:
        raise FieldError(MSG_NUMBER) from None
    if not number.is_finite() or len(candidate) > 100:
        raise FieldError(MSG_NUMBER)
    return candidate


def answer(question, value):
    """The stored answer to one question (None: not answered), or FieldError."""
    kind = question.type
    if kind == "checkbox":
        checked = is_true(value) if value is not None else False
        if question.required and not checked:
            raise FieldError(MSG_CHECKBOX)
        return checked
    if kind == "number":
        text = _number(value) if value is not None else ""
    else:
        text = text_value(value, multiline=(kind == "textarea"), max_length=ANSWER_MAX) or ""
    if text == "":
        if question.required:
            raise FieldError(MSG_REQUIRED)
        return None
    if kind == "email":
        email = normalise_email(text)
        if email is None:
            raise FieldError(MSG_EMAIL)
        return email
    if kind == "url":
        return _url(text)
    if kind == "select":
        values = [str(o.value) for o in question.options]
        if text not in values:
            raise FieldError(MSG_SELECT)
        return text
    return text


def first_values(pairs):
    """{name: value} of the pairs, and the set of names sent more than once."""
    values, duplicates = {}, set()
    for name, value in pairs:
        if name in values:
            duplicates.add(name)
        else:
            values[name] = value
    return values, duplicates


def validate(pairs, network, lang):
    """(Submission, {}) or (None, {field: message in `lang`})."""
    questions = list(network.join.questions)
    known = set(STANDARD_FIELDS) | {q.field_name for q in questions}
    values, duplicates = first_values(pairs)
    problems = {}

    def fail(name, error):
        problems.setdefault(name, gettext(lang, error.message, **error.params))

    for name in sorted(duplicates & known):
        fail(name, FieldError(MSG_DUPLICATE))

    clean = {}
    for name in ("name", "organisation"):
        try:
            clean[name] = text_value(values.get(name), max_length=MAX_LENGTH[name]) or ""
        except FieldError as e:
            fail(name, e)
    try:
        clean["message"] = text_value(values.get("message"), multiline=True, max_length=MAX_LENGTH["message"]) or ""
    except FieldError as e:
        fail("message", e)
    if "name" not in problems and not clean.get("name"):
        fail("name", FieldError(MSG_REQUIRED))

    try:
        raw_email = text_value(values.get("email"), max_length=EMAIL_MAX)
        if not raw_email:
            raise FieldError(MSG_REQUIRED)
        clean["email"] = normalise_email(raw_email)
        if clean["email"] is None:
            raise FieldError(MSG_EMAIL)
    except FieldError as e:
        fail("email", e)

    consent = values.get("consent")
    if consent is not None and not isinstance(consent, (str, bool)):
        fail("consent", FieldError(MSG_NOT_TEXT))
    elif not is_true(consent):
        fail("consent", FieldError(MSG_CONSENT))

    answers = {}
    for q in questions:
        key = q.field_name
        try:
            a = answer(q, values.get(key))
        except FieldError as e:
            fail(key, e)
            continue
        if a is not None:
            answers[q.id] = a

    if problems:
        return None, problems
    return Submission(name=clean["name"], email=clean["email"], organisation=clean["organisation"],
                      message=clean["message"], answers=answers), {}


def field_label(name, network, lang):
    """The label of a field as the visitor saw it on the form."""
    if name.startswith(QUESTION_PREFIX):
        for q in network.join.questions if network else ():
            if q.field_name == name:
                return q.label.get(lang) or next(iter(q.label.values()))
    if name in LABELS:
        return gettext(lang, LABELS[name])
    return name
