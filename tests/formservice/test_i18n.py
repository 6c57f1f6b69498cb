"""The service's texts come from the site's catalogues: every message the service uses is in
every language's catalogue, translated, with the same placeholders."""

import pytest
from babel.messages.checkers import python_format
from babel.messages.extract import extract_from_dir

from core.site import SiteFacts
from formservice.i18n import negotiate, parse_accept_language, read_catalogue
from tests.support import ROOT

LANGUAGES = SiteFacts.load(ROOT / "pelicanconf.py").codes


def used_messages():
    return {msg for _, _, msg, _, _ in extract_from_dir(
        ROOT / "formservice", method_map=[("**.py", "python")], keywords={"N_": None, "gettext": (2,)})}


@pytest.mark.parametrize("lang", LANGUAGES)
def test_the_catalogue_is_complete(lang):
    catalog = read_catalogue(lang)
    messages = {m.id: m for m in catalog if m.id}
    missing = used_messages() - set(messages)
    assert not missing, f"{lang}: not in the site's catalogue (run the catalogue update): {sorted(missing)}"
    for msgid in used_messages():
        m = messages[msgid]
        assert m.string, f"{lang}: untranslated: {m.id!r}"
        assert not m.fuzzy, f"{lang}: fuzzy: {m.id!r}"
        python_format(catalog, m)  # raises if the placeholders differ


def test_dutch_is_really_translated():
    used = used_messages()
    nl = {m.id: m.string for m in read_catalogue("nl") if m.id in used}
    same = [k for k, v in nl.items() if k == v and k not in ("Website",)]
    assert not same, f"left in English in the Dutch catalogue: {same}"


@pytest.mark.parametrize("header, expected", [
    ("en-GB,en;q=0.9,nl;q=0.8", "en"), ("nl-NL,nl;q=0.9,en;q=0.8", "nl"), ("de-DE,de;q=0.9", "nl"),
    ("de;q=0.9,en;q=0.5", "en"), ("en;q=0.1,nl;q=0.9", "nl"), ("*", "nl"), ("", "nl"), (None, "nl"),
    ("en;q=0", "nl"), ("en;q=abc,nl", "nl"), (",,,;;;", "nl"), ("EN-us", "en"),
])
def test_accept_language(header, expected):
    assert negotiate(header) == expected


def test_parse_accept_language_order():
    assert parse_accept_language("fr;q=0.3, en-US, nl;q=0.7") == ["en-us", "nl", "fr"]
