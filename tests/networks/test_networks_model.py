"""The loader and validator (core.networks): exact positions, all problems at once, the API."""

import json
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from jsonschema import Draft202012Validator

from buildcheck import Problem
from core.networks import (
    SCHEMA_PATH, Localized, Network, NetworkErrors, is_email, is_http_url, load_networks,
)
from tests.networks.conftest import FIXTURES, LANGS, MALFORMED, content_tree, expectations
from tests.support import ROOT

MALFORMED_FILES = sorted(MALFORMED.glob("*.yaml"))


def test_the_corpus_is_big_enough():
    assert len(MALFORMED_FILES) >= 25


@pytest.mark.parametrize("path", MALFORMED_FILES, ids=[p.stem for p in MALFORMED_FILES])
def test_malformed_file_is_reported_at_its_exact_position(path, in_tmp):
    """Each file is loaded next to the valid fixture networks (its partners for duplicate
    and related checks); exactly the expected problems are reported, nothing else."""
    content_tree(in_tmp, path)
    with pytest.raises(NetworkErrors) as e:
        load_networks(Path("content/networks"), LANGS)
    lines = [str(p) for p in e.value.problems]
    expected = expectations(path)
    for exp in expected:
        prefix = f"content/networks/{path.name}:{exp['line']}:{exp['col']}: {exp['field']}: "
        assert any(line.startswith(prefix + exp["message"]) for line in lines), \
            f"expected {prefix}{exp['message']}..., got:\n" + "\n".join(lines)
    assert len(lines) == len(expected), "unexpected extra problems:\n" + "\n".join(lines)


def test_all_problems_of_all_files_are_reported_together(in_tmp):
    content_tree(in_tmp, *MALFORMED_FILES)
    with pytest.raises(NetworkErrors) as e:
        load_networks(Path("content/networks"), LANGS)
    problems = e.value.problems
    assert all(isinstance(p, Problem) for p in problems)
    lines = [str(p) for p in problems]
    for path in MALFORMED_FILES:
        for exp in expectations(path):
            prefix = f"content/networks/{path.name}:{exp['line']}:{exp['col']}: {exp['field']}: {exp['message']}"
            assert any(line.startswith(prefix) for line in lines), prefix
    assert len(lines) == sum(len(expectations(p)) for p in MALFORMED_FILES)
    assert str(e.value).splitlines() == sorted(lines)  # one line per problem, in file order
    assert not any(line.startswith(("content/networks/alpha.yaml", "content/networks/beta.yaml",
                                    "content/networks/gamma.yaml")) for line in lines)


def test_several_problems_in_one_file_are_all_reported(in_tmp):
    content = content_tree(in_tmp)
    (content / "networks" / "broken.yaml").write_text(
        "slug: Broken Slug\n"                                  # 1
        "name: {nl: Kapot}\n"                                  # 2
        "kind: coop\n"                                         # 3
        "region: {nl: Noord, en: North}\n"                     # 4
        "summary: {nl: Kort., en: Short.}\n"                   # 5
        "description: {nl: Lang., en: Long.}\n"                # 6
        "contact: {name: C, email: nope}\n"                    # 7
        "join: {open: true}\n"                                 # 8
        "related: [delta]\n", encoding="utf-8")                # 9
    with pytest.raises(NetworkErrors) as e:
        load_networks(Path("content/networks"), LANGS)
    got = [(p.line, p.col, p.field) for p in e.value.problems]
    assert got == [(1, 7, "slug"), (2, 1, "name.en"), (3, 7, "kind"), (7, 27, "contact.email"),
                   (9, 11, "related[0]")]


def test_the_fixture_networks_load_with_the_documented_api():
    networks = load_networks(FIXTURES / "networks", LANGS)
    assert [n.slug for n in networks] == ["alpha", "beta", "gamma"]  # file-name order
    alpha = networks[0]
    assert isinstance(alpha, Network)
    assert alpha.name["nl"] == "Alpha Coöperatie" and alpha.name["en"] == "Alpha Cooperative"
    assert alpha.text("name", "en") == "Alpha Cooperative"
    assert alpha.text("themes", "nl") == ["Groene chemie", "Vezels & garens"]
    assert alpha.text("short_name", "nl") == "Alpha"
    assert networks[1].text("short_name", "nl") is None
    assert alpha.kind == "cooperative" and alpha.founded == 2016
    assert alpha.region == {"nl": "Groningen", "en": "Groningen province"}
    assert [m.name for m in alpha.members] == ["Alpha Chemie BV", "Rijksuniversiteit Voorbeeld", "Losse Leden"]
    assert alpha.members[0].url == "https://alpha-chemie.example.org/" and alpha.members[2].kind is None
    assert alpha.website == "https://alpha.example.org" and alpha.logo == "images/networks/alpha.svg"
    assert alpha.contact.name == "Coordinator Zebediah Quill"
    assert alpha.contact.email == "zebediah.quill@coordinator-alpha.example"
    assert alpha.join.open is True and networks[1].join.open is False
    q = {q.id: q for q in alpha.join.questions}
    assert list(q) == ["sector", "employees", "company_site", "invoice_email", "motivation", "newsletter", "role"]
    assert q["sector"].type == "select" and q["sector"].required is True
    assert q["sector"].label["en"] == "Sector"
    assert [(o.value, o.label["nl"]) for o in q["sector"].options] == [("chemistry", "Chemie"), ("machines", "Machinebouw")]
    assert q["employees"].required is False and q["employees"].options == ()
    assert q["sector"].field_name == "q_sector"
    assert alpha.related == ("beta", "gamma")
    assert alpha.source_path == FIXTURES / "networks" / "alpha.yaml"
    assert networks[2].name["nl"] == 'Gamma & <Platform> "Noord"'


def test_networks_are_immutable_and_keep_the_contact_out_of_repr():
    alpha = load_networks(FIXTURES / "networks", LANGS)[0]
    with pytest.raises(AttributeError):
        alpha.slug = "other"
    with pytest.raises(TypeError):
        alpha.name["nl"] = "x"
    assert "coordinator-alpha" not in repr(alpha) and "Zebediah" not in repr(alpha)
    assert hash(alpha) == hash(load_networks(FIXTURES / "networks", LANGS)[0])


def test_adding_a_language_only_needs_its_keys(tmp_path):
    content = content_tree(tmp_path)
    with pytest.raises(NetworkErrors) as e:
        load_networks(content / "networks", LANGS + ["de"])
    missing = [p for p in e.value.problems if p.message.startswith("missing the 'de' translation")]
    assert missing and len(missing) == len(e.value.problems)
    assert {p.field.split(".")[0] for p in missing} >= {"name", "region", "summary", "description"}

    def add_de(node):
        if isinstance(node, dict):
            if set(node) == {"nl", "en"}:
                node["de"] = "(de) " + node["en"]
            for value in node.values():
                add_de(value)
        elif isinstance(node, list):
            for value in node:
                add_de(value)

    for path in (content / "networks").glob("*.yaml"):
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
        add_de(data)
        path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    networks = load_networks(content / "networks", LANGS + ["de"])
    assert networks[0].name["de"] == "(de) Alpha Cooperative"
    assert networks[0].join.questions[0].options[0].label["de"] == "(de) Chemistry"


def test_a_missing_directory_is_a_problem_not_a_crash(tmp_path):
    with pytest.raises(NetworkErrors) as e:
        load_networks(tmp_path / "nowhere", LANGS)
    assert e.value.problems[0].message == "no such directory"


def test_only_yaml_files_count(tmp_path):
    content = content_tree(tmp_path)
    (content / "networks" / "README.txt").write_text("not a network", encoding="utf-8")
    (content / "networks" / ".hidden.yaml").write_text("{{{", encoding="utf-8")
    assert len(load_networks(content / "networks", LANGS)) == 3


def test_the_schema_file_is_valid_draft_2020_12_and_ships_with_the_package():
    schema = json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))
    Draft202012Validator.check_schema(schema)
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert SCHEMA_PATH.parent == ROOT / "core"
    pyproject = (ROOT / "pyproject.toml").read_text(encoding="utf-8")
    assert 'core = ["*.json"]' in pyproject


def test_the_model_imports_no_pelican():
    code = ("import sys; import core.networks; "
            "sys.exit('pelican imported' if any(m == 'pelican' or m.startswith('pelican.') for m in sys.modules) else 0)")
    p = subprocess.run([sys.executable, "-c", code], cwd="/", capture_output=True, text=True)
    assert p.returncode == 0, p.stderr or p.stdout


@pytest.mark.parametrize("url, ok", [
    ("https://www.knnadvies.nl/", True), ("http://example.org/a?b=c#d", True),
    ("https://bücher.example/", True), ("http://127.0.0.1:8080/x", True),
    ("htp:/x", False), ("ftp://example.org/", False), ("https://", False), ("https://exa mple.org", False),
    ("https://localhost/", False), ("https://-bad-.example.org", False), ("https://example.org:99999/", False),
    ("//example.org/", False), ("example.org", False), ("mailto:a@example.org", False),
])
def test_url_check(url, ok):
    assert is_http_url(url) is ok


@pytest.mark.parametrize("address, ok", [
    ("netwerken@knnadvies.nl", True), ("a.b+c@sub.example.org", True),
    ("no-at-sign.example.org", False), ("two@@example.org", False), ("a@b", False), (".a@example.org", False),
    ("a..b@example.org", False), ("a b@example.org", False), ("Name <a@example.org>", False), ("a@-x.org", False),
])
def test_email_check(address, ok):
    assert is_email(address) is ok


def test_localized_behaves_like_a_read_only_mapping():
    t = Localized({"nl": "Hallo", "en": "Hello"})
    assert t["nl"] == "Hallo" and dict(t) == {"nl": "Hallo", "en": "Hello"} and t == {"nl": "Hallo", "en": "Hello"}
    assert list(t) == ["nl", "en"] and len(t) == 2
    assert not hasattr(t, "__setitem__")
