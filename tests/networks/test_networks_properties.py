"""Property-based tests: every valid network document loads, and renders in every language.

Rendering is a real, in-process Pelican run per language over a tiny content tree (the
generated networks plus the privacy and thank-you pages the join form links to).
"""

import json
import re
import shutil
import tempfile
from pathlib import Path

import pytest
import yaml
from hypothesis import HealthCheck, assume, given, settings, strategies as st
from jinja2 import FileSystemBytecodeCache
from lxml import html as lhtml

from core.networks import NetworkErrors, load_networks, normalized_name
from tests.support import ROOT

LANGS = ["nl", "en"]
RESERVED = {"name", "email", "organisation", "message", "consent", "lang", "_gotcha", "_next"}
PAGES = [f"{key}.{lang}.md" for lang in LANGS for key in ("home", "privacy", "thank-you", "contact")]

# --- strategies ---------------------------------------------------------------------------

text = st.text(st.characters(categories=("L", "M", "N", "P", "S", "Zs")), min_size=1, max_size=30) \
    .filter(lambda s: re.search(r"\S", s))
label = st.from_regex(r"[a-z0-9]([a-z0-9-]{0,8}[a-z0-9])?", fullmatch=True)
slug = st.from_regex(r"[a-z0-9]{1,8}(-[a-z0-9]{1,8}){0,2}", fullmatch=True)
url = st.builds(lambda host, path: f"https://{host}.example.org/{path}", label,
                st.from_regex(r"[a-z0-9_.-]{0,10}", fullmatch=True))
email = st.builds(lambda local, host: f"{local}@{host}.example.net",
                  st.from_regex(r"[a-z0-9]{1,10}(\.[a-z0-9]{1,5})?", fullmatch=True), label)


def localized(strategy=text):
    return st.fixed_dictionaries({lang: strategy for lang in LANGS})


option = st.fixed_dictionaries({"value": text, "label": localized()})


@st.composite
def question(draw, qid):
    kind = draw(st.sampled_from(["text", "textarea", "email", "url", "number", "select", "checkbox"]))
    q = {"id": qid, "type": kind, "label": draw(localized())}
    if draw(st.booleans()):
        q["required"] = draw(st.booleans())
    if kind == "select":
        q["options"] = draw(st.lists(option, min_size=1, max_size=4, unique_by=lambda o: o["value"]))
    return q


@st.composite
def network(draw, own_slug, other_slugs):
    doc = {
        "slug": own_slug,
        "name": draw(localized()),
        "kind": draw(st.sampled_from(["cooperative", "cluster", "platform", "association", "network"])),
        "region": draw(localized()),
        "summary": draw(localized()),
        "description": draw(localized()),
        "contact": {"name": draw(text), "email": draw(email)},
        "join": {"open": draw(st.booleans())},
    }
    optional = {
        "short_name": localized(),
        "founded": st.integers(1800, 2100),
        "themes": st.lists(localized(), max_size=3),
        "members": st.lists(st.fixed_dictionaries(
            {"name": text},
            optional={"url": url, "kind": st.sampled_from(["company", "university", "other"])}), max_size=3),
        "website": url,
        "related": st.lists(st.sampled_from(other_slugs), unique=True, max_size=2) if other_slugs else st.just([]),
    }
    for key, strategy in optional.items():
        if draw(st.booleans()):
            doc[key] = draw(strategy)
    ids = draw(st.lists(st.from_regex(r"[a-z][a-z0-9_]{0,8}", fullmatch=True).filter(lambda i: i not in RESERVED),
                        unique=True, max_size=3))
    if ids:
        doc["join"]["questions"] = [draw(question(qid)) for qid in ids]
    return doc


@st.composite
def network_sets(draw, max_size=3):
    slugs = draw(st.lists(slug, min_size=1, max_size=max_size, unique=True))
    docs = [draw(network(s, [o for o in slugs if o != s])) for s in slugs]
    # Two files may not describe the same network (the loader's duplicate-name rule).
    names = [normalized_name(t) for d in docs for t in set(d["name"].values())]
    names = [n for n in names if n]
    assume(len(names) == len(set(names)))
    return docs


def write(directory, docs):
    directory.mkdir(parents=True, exist_ok=True)
    for i, doc in enumerate(docs):  # file names fix the order: the loader keeps file-name order
        (directory / f"{i:02d}.yaml").write_text(
            yaml.safe_dump(doc, allow_unicode=True, sort_keys=False), encoding="utf-8")


# --- the loader ---------------------------------------------------------------------------

@settings(max_examples=50, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(network_sets())
def test_valid_documents_always_load(docs):
    with tempfile.TemporaryDirectory() as tmp:
        write(Path(tmp) / "networks", docs)
        loaded = load_networks(Path(tmp) / "networks", LANGS)
    assert [n.slug for n in loaded] == [d["slug"] for d in docs]
    by_slug = {n.slug: n for n in loaded}
    for doc in docs:
        n = by_slug[doc["slug"]]
        assert dict(n.name) == {k: v.strip() for k, v in doc["name"].items()}
        assert n.contact.email == doc["contact"]["email"]
        assert n.join.open == doc["join"]["open"]
        assert [q.id for q in n.join.questions] == [q["id"] for q in doc["join"].get("questions", [])]
        assert list(n.related) == doc.get("related", [])


REQUIRED = ["slug", "name", "kind", "region", "summary", "description", "contact", "join"]


@settings(max_examples=40, deadline=None)
@given(network_sets(max_size=1), st.sampled_from(REQUIRED))
def test_leaving_out_a_required_field_names_that_field(docs, key):
    del docs[0][key]
    with tempfile.TemporaryDirectory() as tmp:
        write(Path(tmp) / "networks", docs)
        with pytest.raises(NetworkErrors) as e:
            load_networks(Path(tmp) / "networks", LANGS)
    assert [(p.line, p.col, p.field, p.message) for p in e.value.problems] == \
        [(1, 1, key, "required field is missing")]


@settings(max_examples=40, deadline=None)
@given(network_sets(max_size=1), st.sampled_from(["name", "region", "summary", "description"]),
       st.sampled_from(LANGS))
def test_leaving_out_a_translation_names_field_and_language(docs, key, lang):
    del docs[0][key][lang]
    with tempfile.TemporaryDirectory() as tmp:
        write(Path(tmp) / "networks", docs)
        with pytest.raises(NetworkErrors) as e:
            load_networks(Path(tmp) / "networks", LANGS)
    [problem] = e.value.problems
    assert problem.field == f"{key}.{lang}" and f"'{lang}'" in problem.message
    assert Path(problem.path).name == "00.yaml"


# --- rendering: a tiny real build ---------------------------------------------------------

@pytest.fixture(scope="module")
def jinja_cache(tmp_path_factory):
    """Compiled templates, shared by all examples (compiling them is most of a tiny build)."""
    return FileSystemBytecodeCache(str(tmp_path_factory.mktemp("jinja")))


def pelican_build(content, output, lang, bytecode_cache=None):
    from pelican import Pelican
    from pelican.settings import read_settings

    base = read_settings(str(ROOT / "pelicanconf.py"))
    s = read_settings(str(ROOT / "pelicanconf.py"), override={
        "PATH": str(content), "OUTPUT_PATH": str(output), "DEFAULT_LANG": lang,
        "CACHE_CONTENT": False, "LOAD_CONTENT_CACHE": False, "CACHE_PATH": str(output.parent / "cache"),
        "ARTICLE_PATHS": ["blog"], "PAGE_PATHS": ["pages"], "STATIC_PATHS": [], "DIRECT_TEMPLATES": [],
        "JINJA_ENVIRONMENT": {**base["JINJA_ENVIRONMENT"], "bytecode_cache": bytecode_cache}})
    Pelican(s).run()
    return s


@settings(max_examples=30, deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(docs=network_sets())
def test_valid_documents_always_render_in_every_language(jinja_cache, docs):
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        content, output = tmp / "content", tmp / "output"
        write(content / "networks", docs)
        for page in PAGES:
            (content / "pages" / page).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(ROOT / "content" / "pages" / page, content / "pages" / page)
        urls = {}
        for lang in LANGS:
            s = pelican_build(content, output, lang, jinja_cache)
            urls[lang] = s["LANGUAGE_URLS"][lang]
        files = [p for p in output.rglob("*") if p.is_file()]
        everything = "\n".join(p.read_text(encoding="utf-8", errors="replace") for p in files)
        for doc in docs:
            assert doc["contact"]["email"] not in everything
            for lang in LANGS:
                path = output / urls[lang]["NETWORK_SAVE_AS"].format(slug=doc["slug"])
                tree = lhtml.fromstring(path.read_bytes())
                name = doc["name"][lang].strip()
                assert tree.findtext(".//h1") == name
                [ld] = [json.loads(x.text) for x in tree.xpath("//script[@type='application/ld+json']")]
                assert ld["@type"] == "Organization" and ld["name"] == name
                forms = tree.xpath("//form")
                assert len(forms) == (1 if doc["join"]["open"] else 0)
                if forms:
                    controls = [c for c in forms[0].xpath(".//input | .//select | .//textarea")
                                if c.get("type") != "hidden"]
                    for c in controls:
                        assert len(tree.xpath(f"//label[@for='{c.get('id')}']")) == 1
                    for q in doc["join"].get("questions", []):
                        [c] = [c for c in controls if c.get("name") == "q_" + q["id"]]
                        [lab] = tree.xpath(f"//label[@for='{c.get('id')}']")
                        assert q["label"][lang].strip() in lab.text_content()
                        if q["type"] == "select":
                            assert [o.get("value") for o in c.iterfind("option")][1:] == \
                                [o["value"] for o in q["options"]]
                related = [a.get("href") for a in tree.xpath("//ul[@class='related']//a")]
                assert related == ["/" + urls[lang]["NETWORK_URL"].format(slug=r) for r in doc.get("related", [])]
        listed = json.loads((output / "networks.json").read_text(encoding="utf-8"))
        assert sorted(n["slug"] for n in listed["networks"]) == sorted(d["slug"] for d in docs)
