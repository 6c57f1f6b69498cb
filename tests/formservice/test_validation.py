"""The validator: examples and properties (hypothesis). No database needed."""

import unicodedata

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from formservice import registry
from formservice.validation import MAX_LENGTH, normalise_email, validate
from tests.formservice.conftest import NETWORKS, valid_form

SUSPACC = registry.load(NETWORKS)["suspacc"]
BERNN = registry.load(NETWORKS)["bernn"]
FIELDS = ["name", "email", "organisation", "message", "consent", "lang", "_gotcha", "_next",
          "q_sector", "q_size", "q_motivation", "q_website", "q_employees", "q_billing_email", "q_newsletter",
          "q_rules", "q_unknown", "other"]
SINGLE_LINE = ["name", "organisation"]
PROFILE = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def pairs(**kw):
    return list(valid_form(**kw).items())


@pytest.mark.parametrize("raw, expected", [
    ("jan@voorbeeld.nl", "jan@voorbeeld.nl"),
    ("Jan.Jansen+knn@Voorbeeld.NL", "Jan.Jansen+knn@voorbeeld.nl"),
    ("jan@bücher.example", "jan@xn--bcher-kva.example"),
    ("o'brien@example.ie", "o'brien@example.ie"),
    ("a@b.co", "a@b.co"),
    ("jan", None), ("@voorbeeld.nl", None), ("jan@", None), ("jan@voorbeeld", None), ("jan@@voorbeeld.nl", None),
    ("jan@voorbeeld..nl", None), (".jan@voorbeeld.nl", None), ("jan.@voorbeeld.nl", None),
    ("ja..n@voorbeeld.nl", None), ("jan @voorbeeld.nl", None), ('"jan"@voorbeeld.nl', None),
    ("jan@[127.0.0.1]", None), ("jan@127.0.0.1", None), ("jan@-voorbeeld.nl", None), ("jan@voorbeeld-.nl", None),
    ("jän@voorbeeld.nl", None), ("jan@voorbeeld.nl\n", None), ("jan@voor_beeld.nl", None),
    ("Jan <jan@voorbeeld.nl>", None), ("jan@voorbeeld.nl,piet@voorbeeld.nl", None),
    ("a" * 65 + "@voorbeeld.nl", None), ("jan@" + "a" * 64 + ".nl", None), ("", None),
])
def test_email_examples(raw, expected):
    assert normalise_email(raw) == expected


def test_a_valid_form_passes():
    submission, problems = validate(pairs(), SUSPACC, "nl")
    assert problems == {}
    assert submission.name == "Jan Jansen" and submission.answers == {"size": "small", "rules": True,
                                                                        "newsletter": False}


def test_lengths_are_counted_in_characters_after_nfc():
    name = "e\u0301" * 200  # 400 code points, 200 characters after NFC
    submission, problems = validate(pairs(name=name), SUSPACC, "nl")
    assert problems == {} and submission.name == "é" * 200


def test_unknown_fields_are_ignored_not_stored():
    submission, problems = validate(pairs(q_unknown="x", other="y", _subject="z"), SUSPACC, "nl")
    assert problems == {} and "unknown" not in submission.answers


def test_a_network_without_questions():
    submission, problems = validate(pairs(q_size=None, q_rules=None), BERNN, "en")
    assert problems == {} and submission.answers == {}


# --- properties ---------------------------------------------------------------------------------

values = st.one_of(st.text(max_size=300), st.none(), st.booleans(), st.integers(), st.floats(),
                   st.lists(st.text(max_size=5), max_size=2), st.sampled_from(["small", "large", "on", "yes", ""]))


@PROFILE
@given(st.lists(st.tuples(st.sampled_from(FIELDS), values), max_size=25), st.sampled_from(["nl", "en"]))
def test_validate_never_crashes_and_its_output_is_clean(fields, lang):
    submission, problems = validate(fields, SUSPACC, lang)
    assert (submission is None) == bool(problems)
    sent = {name for name, _ in fields}
    for name, message in problems.items():
        assert isinstance(message, str) and message.strip()
        assert name in sent or name in ("name", "email", "consent", "q_size", "q_rules")
    if submission is not None:
        for name in ("name", "organisation", "message"):
            value = getattr(submission, name)
            assert len(value) <= MAX_LENGTH[name]
            assert unicodedata.is_normalized("NFC", value)
            assert value == value.strip()
            assert "\r" not in value
            allowed = "\n\t" if name == "message" else ""
            assert not any(unicodedata.category(c) == "Cc" and c not in allowed for c in value)
        assert normalise_email(submission.email) == submission.email


@PROFILE
@given(st.text(max_size=250))
def test_single_line_text_is_accepted_exactly_when_it_is_clean(text):
    submission, problems = validate(pairs(name=text or "x", organisation=text), SUSPACC, "nl")
    nfc = unicodedata.normalize("NFC", text)
    bad_char = any(unicodedata.category(c) in ("Cc", "Cs") or c in "\u2028\u2029\u202a\u202b\u202c\u202d\u202e"
                   "\u2066\u2067\u2068\u2069" or (0xFDD0 <= ord(c) <= 0xFDEF) or (ord(c) & 0xFFFE) == 0xFFFE
                   for c in nfc)
    too_long = len(nfc.strip()) > 200
    assert ("organisation" in problems) == (bad_char or too_long)
    if not problems:
        assert submission.organisation == nfc.strip()


@PROFILE
@given(st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=40), st.sampled_from(["\r\n", "\n", "\r"]))
def test_line_breaks_are_refused_in_single_line_fields_and_kept_in_the_message(text, newline):
    value = f"a{newline}{text}"
    _, problems = validate(pairs(name=value), SUSPACC, "en")
    assert "name" in problems
    submission, problems = validate(pairs(message=f"regel{newline}twee"), SUSPACC, "en")
    assert submission.message == "regel\ntwee"


@PROFILE
@given(st.emails())
def test_generated_addresses_normalise_stably(address):
    result = normalise_email(address)
    if result is not None:
        assert normalise_email(result) == result  # idempotent
        assert result.split("@")[1] == result.split("@")[1].lower()
        assert not any(c.isspace() for c in result) and len(result) <= 254


@PROFILE
@given(st.text(max_size=80))
def test_anything_with_a_line_break_or_space_is_never_an_address(text):
    assert normalise_email(f"jan@voorbeeld.nl\r\n{text}") is None
    assert normalise_email(f"{text} jan@voorbeeld.nl") is None


@PROFILE
@given(st.text(max_size=30).filter(lambda s: s not in ("small", "large")))
def test_a_select_accepts_only_its_option_values(value):
    _, problems = validate(pairs(q_size=value), SUSPACC, "nl")
    assert "q_size" in problems


@PROFILE
@given(st.lists(st.tuples(st.sampled_from(FIELDS), st.text(max_size=20)), max_size=10))
def test_the_same_problems_are_found_in_every_language(fields):
    _, nl = validate(fields, SUSPACC, "nl")
    _, en = validate(fields, SUSPACC, "en")
    assert set(nl) == set(en)
    assert all(nl[k] != en[k] for k in nl)  # and both are translated


@pytest.mark.parametrize("name", FIELDS[:5] + ["q_sector", "q_size"])
def test_a_field_sent_twice_is_refused(name):
    fields = [(k, v) for k, v in pairs() if k != name] + [(name, "iets"), (name, "anders")]
    _, problems = validate(fields, SUSPACC, "nl")
    assert problems.get(name) == "Dit veld is meer dan eens verstuurd."
