"""Real builds (build_site) of a site copy with the fixture networks and posts.

The copy keeps the site's own networks too: its posts are about them. Expected values
come from the YAML files (read with plain yaml.safe_load) and the settings, never from
the plugin's own output.
"""

import hashlib
import html
import json
import shutil
from urllib.parse import urlsplit

import pytest
import yaml
from lxml import html as lhtml

from sitebuild.build import build_site
from sitebuild.errors import BuildFailed
from pelican.settings import read_settings
from tests.networks.conftest import FIXTURES
from tests.support import copy_site

LANG_PREFIX = {"nl": "netwerken", "en": "en/networks"}
THANK_YOU = {"nl": "/bedankt/", "en": "/en/thank-you/"}
PRIVACY = {"nl": "/privacy/", "en": "/en/privacy/"}


def build(root, **kwargs):
    return build_site(settings_file=root / "pelicanconf.py", output=root / "output", cwd=root,
                            capture=True, **kwargs)


def snapshot(directory):
    return {p.relative_to(directory).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(directory.rglob("*")) if p.is_file()}


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    root = copy_site(tmp_path_factory.mktemp("networks-site") / "site")
    for f in (FIXTURES / "networks").glob("*.yaml"):
        shutil.copy2(f, root / "content" / "networks" / f.name)
    shutil.copytree(FIXTURES / "images" / "networks", root / "content" / "images" / "networks")
    for post in (FIXTURES / "blog").glob("*.md"):
        shutil.copy2(post, root / "content" / "blog" / post.name)
    build(root)
    return root


@pytest.fixture(scope="module")
def networks(site):
    """slug -> the YAML data of every network in the copy."""
    docs = [yaml.safe_load(p.read_text(encoding="utf-8")) for p in (site / "content" / "networks").glob("*.yaml")]
    return {d["slug"]: d for d in docs}


@pytest.fixture(scope="module")
def settings(site):
    return read_settings(str(site / "pelicanconf.py"))


@pytest.fixture
def copy(site, tmp_path):
    """A copy of the built site (output and cache included), to break and rebuild."""
    root = tmp_path / "site"
    shutil.copytree(site, root, symlinks=True)
    return root


def page(site, lang, slug):
    return site / "output" / LANG_PREFIX[lang] / slug / "index.html"


def parse(path):
    return lhtml.fromstring(path.read_bytes())


def resolve(site, href, base="/"):
    """The output file an internal link points to (None for an external link)."""
    parts = urlsplit(href)
    if parts.scheme or parts.netloc:
        return None
    path = parts.path if parts.path.startswith("/") else base.rsplit("/", 1)[0] + "/" + parts.path
    target = site / "output" / path.lstrip("/")
    return target / "index.html" if path.endswith("/") else target


def test_every_network_has_a_page_in_every_language(site, networks, settings):
    assert {"alpha", "beta", "gamma"} <= set(networks)
    for slug, data in networks.items():
        for lang in settings["LANGUAGES"]:
            doc = parse(page(site, lang, slug))
            assert doc.get("lang") == lang
            assert doc.findtext(".//h1").strip() == data["name"][lang]
    for lang, overview in (("nl", "netwerken/index.html"), ("en", "en/networks/index.html")):
        doc = parse(site / "output" / overview)
        links = {a.get("href") for a in doc.iterfind(".//main//a")}
        for slug in networks:
            assert f"/{LANG_PREFIX[lang]}/{slug}/" in links


def test_no_coordinator_address_or_name_in_any_output_file(site, networks):
    secrets = [d["contact"]["email"] for d in networks.values()]
    secrets += [networks[s]["contact"]["name"] for s in ("alpha", "beta", "gamma")]
    files = [p for p in (site / "output").rglob("*") if p.is_file()]
    assert len(files) > 40
    for path in files:
        text = path.read_bytes().decode("utf-8", errors="replace")
        unescaped = html.unescape(text)
        for secret in secrets:
            assert secret not in text and secret not in unescaped, f"{secret} in {path}"


@pytest.mark.parametrize("lang", ["nl", "en"])
def test_join_form_matches_the_yaml(site, networks, settings, lang):
    data = networks["alpha"]
    doc = parse(page(site, lang, "alpha"))
    [form] = doc.iterfind(".//form")
    assert form.get("action") == settings["FORM_ENDPOINT"].format(slug="alpha")
    assert form.get("method") == "post"
    hidden = {i.get("name"): i.get("value") for i in form.iterfind(".//input[@type='hidden']")}
    assert hidden["lang"] == lang
    assert hidden["_next"] == settings["SITEURL"] + THANK_YOU[lang]
    assert resolve(site, THANK_YOU[lang]).is_file()
    [gotcha] = form.xpath(".//input[@name='_gotcha']")
    assert gotcha.get("tabindex") == "-1" and gotcha.get("autocomplete") == "off"
    assert gotcha.xpath("ancestor::*[@aria-hidden='true']")

    controls = [c for c in form.xpath(".//input | .//select | .//textarea") if c.get("type") != "hidden"]
    for control in controls:
        labels = doc.xpath(f"//label[@for='{control.get('id')}']")
        assert control.get("id") and len(labels) == 1, control.get("name")
    names = [c.get("name") for c in controls]
    questions = data["join"]["questions"]
    # Answers are posted as q_<id>: the form service's contract (formservice/validation.py).
    assert names == ["_gotcha", "name", "email", "organisation", *["q_" + q["id"] for q in questions],
                     "message", "consent"]
    for q in questions:
        [control] = [c for c in controls if c.get("name") == "q_" + q["id"]]
        expected_tag = {"select": "select", "textarea": "textarea"}.get(q["type"], "input")
        assert control.tag == expected_tag
        if expected_tag == "input":
            assert control.get("type") == q["type"]
        assert (control.get("required") is not None) == q.get("required", False)
        [label] = doc.xpath(f"//label[@for='{control.get('id')}']")
        assert q["label"][lang] in label.text_content()
        if q["type"] == "select":
            values = [o.get("value") for o in control.iterfind("option")]
            assert values == [""] + [o["value"] for o in q["options"]]
            texts = [o.text for o in control.iterfind("option")][1:]
            assert texts == [o["label"][lang] for o in q["options"]]
    consent = form.xpath(".//input[@name='consent']")[0]
    assert consent.get("type") == "checkbox" and consent.get("required") is not None
    [privacy] = doc.xpath(f"//label[@for='{consent.get('id')}']//a")
    assert privacy.get("href") == PRIVACY[lang] and resolve(site, privacy.get("href")).is_file()
    for required in ("name", "email"):
        assert form.xpath(f".//input[@name='{required}']")[0].get("required") is not None


def test_a_closed_network_has_no_form(site):
    for lang in ("nl", "en"):
        doc = parse(page(site, lang, "beta"))
        assert not doc.xpath("//form")
        assert doc.xpath("//section[contains(@class, 'join')]")


def test_network_pages_have_no_inline_script_or_style(site, networks):
    for slug in networks:
        for lang in ("nl", "en"):
            doc = parse(page(site, lang, slug))
            assert not doc.xpath("//*[@style]") and not doc.xpath("//style")
            assert not doc.xpath("//*[@*[starts-with(name(), 'on')]]")
            for script in doc.iterfind(".//script"):
                assert script.get("src") or script.get("type") == "application/ld+json"


def test_json_ld_is_an_organization_and_safe_in_html(site, networks):
    for slug, data in networks.items():
        for lang in ("nl", "en"):
            raw = page(site, lang, slug).read_text(encoding="utf-8")
            doc = parse(page(site, lang, slug))
            scripts = doc.xpath("//script[@type='application/ld+json']")
            orgs = [json.loads(s.text) for s in scripts if json.loads(s.text).get("@type") == "Organization"]
            assert len(orgs) == 1
            org = orgs[0]
            assert org["@context"] == "https://schema.org"
            assert org["name"] == data["name"][lang]
            assert "email" not in json.dumps(org) and data["contact"]["email"] not in json.dumps(org)
            if data.get("founded"):
                assert org["foundingDate"] == str(data["founded"])
            for s in scripts:
                assert "</" not in s.text
            assert raw.count("<script") == raw.count("</script>")
    gamma = parse(page(site, "en", "gamma"))
    assert gamma.findtext(".//h1") == 'Gamma & <Platform> "North"'
    assert [li.text for li in gamma.xpath("//ul[@class='themes']/li")] == ["R&D </script><script>alert(1)</script>"]


def test_related_networks_and_posts_link_to_real_pages(site, networks):
    for lang in ("nl", "en"):
        doc = parse(page(site, lang, "alpha"))
        related = doc.xpath("//ul[@class='related']//a")
        assert [a.text for a in related] == [networks[s]["name"][lang] for s in networks["alpha"]["related"]]
        assert [a.get("href") for a in related] == [f"/{LANG_PREFIX[lang]}/{s}/" for s in networks["alpha"]["related"]]
        for a in related:
            assert resolve(site, a.get("href")).is_file()
        posts = doc.xpath("//section[@aria-labelledby='posts-heading']//a[contains(@href, '/blog/')]")
        post_paths = {"nl": "/blog/nieuws-uit-de-fixture-netwerken/", "en": "/en/blog/news-from-the-fixture-networks/"}
        assert post_paths[lang] in [a.get("href") for a in posts]
        for a in posts:
            assert resolve(site, a.get("href")).is_file()
        # {network}beta inside alpha's Markdown description
        prose = doc.xpath("//div[@class='prose']//a")
        assert [a.get("href") for a in prose] == [f"/{LANG_PREFIX[lang]}/beta/"]
        assert doc.xpath("//div[@class='prose']//h2")
        # beta's page lists no posts: none declares it
        assert not parse(page(site, lang, "beta")).xpath("//section[@aria-labelledby='posts-heading']")


def test_network_links_in_posts_resolve(site):
    for lang, path in (("nl", "blog/nieuws-uit-de-fixture-netwerken/index.html"),
                       ("en", "en/blog/news-from-the-fixture-networks/index.html")):
        doc = parse(site / "output" / path)
        hrefs = [a.get("href") for a in doc.xpath("//article//div[@class='prose']//a")]
        assert hrefs == [f"/{LANG_PREFIX[lang]}/alpha/", f"/{LANG_PREFIX[lang]}/gamma/#join"]
        for href in hrefs:
            assert resolve(site, href).is_file()
        assert "{network}" not in (site / "output" / path).read_text(encoding="utf-8")
    # the real posts link the site's own networks
    doc = parse(site / "output" / "blog" / "de-kracht-van-samenwerken" / "index.html")
    assert "/netwerken/suspacc/" in [a.get("href") for a in doc.xpath("//a")]


def test_alternates_and_navigation(site):
    doc = parse(page(site, "nl", "alpha"))
    alts = {link.get("hreflang"): link.get("href") for link in doc.xpath("//link[@rel='alternate'][@hreflang]")}
    assert alts["nl"] == "/netwerken/alpha/" and alts["en"] == "/en/networks/alpha/"
    current = doc.xpath("//nav[contains(@class, 'site-nav')]//a[@aria-current='page']")
    assert [a.get("href") for a in current] == ["/netwerken/"]
    switch = doc.xpath("//nav[contains(@class, 'lang-switch')]//a[@hreflang='en']")
    assert switch[0].get("href") == "/en/networks/alpha/"


def test_descriptions_use_typogrify_without_caps(site):
    raw = page(site, "nl", "alpha").read_text(encoding="utf-8")
    assert "MKB" in raw and 'class="caps"' not in raw


def test_networks_json_lists_every_network_without_contacts(site, networks):
    assert not (site / "output" / "en" / "networks.json").exists()
    doc = json.loads((site / "output" / "networks.json").read_text(encoding="utf-8"))
    assert doc["languages"] == ["nl", "en"]
    by_slug = {n["slug"]: n for n in doc["networks"]}
    assert set(by_slug) == set(networks)
    for slug, data in networks.items():
        item = by_slug[slug]
        assert item["name"] == data["name"] and item["summary"] == {k: v.strip() for k, v in data["summary"].items()}
        assert "contact" not in item
        assert item["urls"] == {"nl": f"/netwerken/{slug}/", "en": f"/en/networks/{slug}/"}
        assert item["join"]["open"] == data["join"]["open"]
    assert [q["id"] for q in by_slug["alpha"]["join"]["questions"]] == \
        [q["id"] for q in networks["alpha"]["join"]["questions"]]


def test_home_page_lists_the_networks(site, networks):
    for path, lang in (("index.html", "nl"), ("en/index.html", "en")):
        doc = parse(site / "output" / path)
        hrefs = {a.get("href") for a in doc.xpath("//section[@aria-labelledby='networks-heading']//a")}
        assert {f"/{LANG_PREFIX[lang]}/{slug}/" for slug in networks} <= hrefs


# --- failing builds -----------------------------------------------------------------------

def test_a_broken_network_file_fails_the_build_and_keeps_the_output(copy):
    before = snapshot(copy / "output")
    (copy / "content" / "networks" / "kapot.yaml").write_text(
        "slug: kapot\n"
        "name: {nl: Kapot}\n"
        "kind: coop\n"
        "region: {nl: Noord, en: North}\n"
        "summary: {nl: Kort., en: Short.}\n"
        "description: {nl: Lang., en: Long.}\n"
        "contact: {name: C, email: c@example.org}\n"
        "join: {open: true}\n"
        "members:\n"
        "  - name: Lid\n"
        "    url: htp:/x\n", encoding="utf-8")
    (copy / "content" / "networks" / "ook-kapot.yaml").write_text("slug: ook-kapot\nname: [\n", encoding="utf-8")
    with pytest.raises(BuildFailed) as e:
        build(copy)
    lines = e.value.errors.splitlines()
    assert "content/networks/kapot.yaml:2:1: name.en: missing the 'en' translation " \
           "(each text needs one per site language: nl, en)" in lines
    assert "content/networks/kapot.yaml:3:7: kind: 'coop' is not one of: cooperative, cluster, platform, " \
           "association, network" in lines
    assert "content/networks/kapot.yaml:11:10: members[0].url: 'htp:/x' is not a valid URL " \
           "(http:// or https://, then a host name)" in lines
    assert any(line.startswith("content/networks/ook-kapot.yaml:3:1: yaml: ") for line in lines)
    assert snapshot(copy / "output") == before
    assert not list(copy.glob(".output-*"))


def test_unknown_network_slugs_in_posts_fail_the_build_naming_the_post(copy):
    """Inline {network} links and ``networks:`` headers; also in posts Pelican takes from
    its cache (the fixture posts are unchanged since the first build)."""
    before = snapshot(copy / "output")
    assert any((copy / "cache").rglob("*")), "the first build left no cache to test with"
    blog, networks = copy / "content" / "blog", copy / "content" / "networks"
    (blog / "kapotte-link.md").write_text(
        "title: Kapotte link\n"
        "lang: nl\n"
        "translation_key: kapotte-link\n"
        "date: 2020-05-01\n"
        "summary: Een link naar een netwerk dat niet bestaat.\n"
        "\n"
        "Eerst tekst.\n"
        "\n"
        "Zie [dit netwerk]({network}bestaat-niet).\n", encoding="utf-8")
    (blog / "kapotte-metadata.md").write_text(
        "title: Kapotte metadata\n"
        "lang: en\n"
        "translation_key: kapotte-metadata\n"
        "date: 2020-05-01\n"
        "networks: alpha, suspac\n"
        "summary: A typo in the networks header.\n"
        "\n"
        "Text.\n", encoding="utf-8")
    # gamma goes; alpha no longer names it, so the network files themselves are fine.
    (networks / "gamma.yaml").unlink()
    alpha = (networks / "alpha.yaml").read_text(encoding="utf-8")
    assert alpha.endswith("  - beta\n  - gamma\n")
    (networks / "alpha.yaml").write_text(alpha.removesuffix("  - gamma\n"), encoding="utf-8")
    with pytest.raises(BuildFailed) as e:
        build(copy)
    lines = e.value.errors.splitlines()
    for line in [
        "content/blog/kapotte-link.md:9:19: content: {network}bestaat-niet: no network has slug 'bestaat-niet'",
        "content/blog/kapotte-metadata.md:5:18: networks: no network has slug 'suspac' (did you mean 'suspacc'?)",
        "content/blog/fixture-netwerken.md:8:18: networks: no network has slug 'gamma'",
        "content/blog/fixture-networks.md:8:18: networks: no network has slug 'gamma'",
        "content/blog/fixture-netwerken.md:11:51: content: {network}gamma#join: no network has slug 'gamma'",
    ]:
        assert line in lines, "\n".join(lines)
    assert snapshot(copy / "output") == before


def test_a_bad_setting_stops_the_build_with_a_networks_message(copy):
    with pytest.raises(BuildFailed) as e:
        build(copy, extra={"NETWORKS_LATEST_POSTS": '"three"'})
    assert "networks: NETWORKS_LATEST_POSTS must be a whole number of 0 or more (got 'three')" in e.value.errors
