"""Multilingual site: lang attributes, reciprocal hreflang, the switcher, catalogues,
feeds and the sitemap."""

import re
import subprocess
import sys
from pathlib import Path
from urllib.parse import urljoin, urlsplit
from xml.etree import ElementTree as ET

import lxml.html
import pytest
from babel.messages.pofile import read_po

from sitebuild.build import build_site
from tests.conftest import FIXTURE_POSTS, read
from tests.support import copy_site
from tests.support import ROOT

LANGS = {"nl": "", "en": "en"}
CATALOGUES = ROOT / "theme" / "translations"
ATOM = "{http://www.w3.org/2005/Atom}"
SM = "{http://www.sitemaps.org/schemas/sitemap/0.9}"
XHTML = "{http://www.w3.org/1999/xhtml}"


def language_of(site, page):
    first = page.relative_to(site).parts[0]
    return first if first in LANGS and LANGS[first] else "nl"


def url_of(site, page):
    rel = page.relative_to(site).as_posix()
    return "/" + (rel[: -len("index.html")] if rel.endswith("index.html") else rel)


def file_of(site, url):
    path = urlsplit(url).path
    return site / (path.lstrip("/") + ("index.html" if path.endswith("/") else ""))


@pytest.fixture(scope="module")
def docs(site, html_pages):
    # The site's pages; not the editor at /admin/ (plugins/decap), which is no page of a language.
    return {p: lxml.html.fromstring(read(p)) for p in html_pages if p.relative_to(site).parts[0] != "admin"}


def alternates(doc):
    return {link.get("hreflang"): link.get("href") for link in doc.xpath("//head/link[@rel='alternate'][@hreflang]")}


def test_both_language_trees_exist(site):
    assert (site / "index.html").exists() and (site / "en" / "index.html").exists()
    assert (site / "blog/de-kracht-van-samenwerken/index.html").exists()
    assert (site / "en/blog/the-power-of-collaboration/index.html").exists()


def test_every_page_has_the_lang_of_its_tree(site, docs):
    for page, doc in docs.items():
        assert doc.get("lang") == language_of(site, page), page


def test_hreflang_links_are_reciprocal_and_resolve(site, docs):
    checked = 0
    for page, doc in docs.items():
        alts = alternates(doc)
        if not alts:
            continue
        me = url_of(site, page)
        lang = language_of(site, page)
        assert alts.get(lang) == me, f"{page}: does not name itself for {lang}"
        assert "x-default" in alts, page
        for code, href in alts.items():
            target = file_of(site, href)
            assert target.is_file(), f"{page}: hreflang {code} -> {href} does not exist"
            if code == "x-default":
                continue
            other = docs[target]
            assert other.get("lang") == code, f"{href} is not in {code}"
            assert alternates(other).get(lang) == me, f"{href} does not name {me} back"
            checked += 1
    assert checked >= 20


def test_every_listing_page_with_a_counterpart_names_it(site, docs):
    """Author, category, tag, archive and numbered index pages carry hreflang alternates (and
    so the sitemap does): checked to resolve and name each other back by the test above."""
    wanted = ["/blog/auteur/jelmer/", "/en/blog/author/jelmer/", "/blog/tag/samenwerking/",
              "/en/blog/tag/collaboration/", "/blog/categorie/samenwerken/", "/en/blog/category/collaboration/",
              "/blog/archief/"]
    sitemap = ET.parse(site / "sitemap.xml").getroot()
    listed = {urlsplit(u.findtext(f"{SM}loc")).path: {l.get("hreflang") for l in u.iter(f"{XHTML}link")}
              for u in sitemap.iter(f"{SM}url")}
    for path in wanted:
        page = file_of(site, path)
        assert page.is_file(), path
        assert len(alternates(docs[page])) >= 3, f"{path} names no counterpart"
        assert {"nl", "en", "x-default"} <= listed[path], path
    # the counterpart of a translated tag is its translation, not the same word
    assert alternates(docs[file_of(site, "/blog/tag/samenwerking/")])["en"].endswith("/en/blog/tag/collaboration/")


def test_switcher_leads_to_the_counterpart(site, docs):
    for page, doc in docs.items():
        alts = alternates(doc)
        lang = language_of(site, page)
        links = doc.xpath("//nav[contains(@class, 'lang-switch')]//a")
        assert len(links) == len(LANGS) - 1, page
        for a in links:
            code = a.get("hreflang")
            assert code != lang
            if code in alts:
                assert a.get("href") == alts[code], page
            else:  # no translation: the other language's home page, and it says so
                assert a.get("href") == ("/" + LANGS[code] + "/").replace("//", "/"), page
                assert a.xpath(".//*[contains(@class, 'visually-hidden')]"), page
            assert file_of(site, a.get("href")).is_file()


def test_translated_post_slugs_and_url_words(site):
    assert (site / "en/blog/tag/collaboration/index.html").exists()
    assert (site / "blog/auteur/jelmer/index.html").exists()
    assert (site / "en/blog/author/jelmer/index.html").exists()


def test_untranslated_posts_are_listed_in_english_marked_and_not_duplicated(site, docs):
    # The fixture posts exist in Dutch only.
    assert not list(site.glob("en/**/ouder-testbericht"))
    index = docs[site / "en/blog/index.html"]
    links = [a for a in index.xpath("//article//h2/a") if a.get("href") == "/blog/ouder-testbericht/"]
    assert links and links[0].get("hreflang") == "nl" and links[0].get("lang") == "nl"
    mark = links[0].getparent().xpath(".//*[contains(@class, 'in-lang')]")
    assert mark and mark[0].text_content().strip() == "in Dutch"


def test_an_untranslated_post_is_listed_as_in_its_own_language(site, docs):
    """The English run lists the Dutch-only post with the title and summary its own run shows:
    Markdown and typography applied (the run reads another language's file header only)."""
    def card(page):
        link = docs[site / page].xpath("//article[contains(@class, 'card')]//h2/a[@href='/blog/ouder-testbericht/']")
        assert link, page
        entry = link[0].xpath("ancestor::article[1]")[0]
        return [lxml.html.tostring(e, encoding="unicode").strip()
                for e in (link[0], *entry.xpath(".//div[@class='summary']"))]

    dutch = card("blog/index.html")
    english = card("en/blog/index.html")
    assert "<em>alleen</em>" in dutch[1] and "\u2013" in dutch[1] and "\u201c" in dutch[1], dutch
    assert "\u00a0" in dutch[0], dutch  # no widow: the last two words of the title held together
    assert english[0].replace(' hreflang="nl" lang="nl"', "") == dutch[0]
    assert english[1] == dutch[1]


def catalogue(lang):
    with open(CATALOGUES / lang / "LC_MESSAGES" / "messages.po", "rb") as f:
        return read_po(f, locale=lang)


@pytest.mark.parametrize("lang", list(LANGS))
def test_catalogue_is_complete(lang):
    with open(CATALOGUES / "messages.pot", "rb") as f:
        template = {m.id for m in read_po(f) if m.id}
    cat = catalogue(lang)
    ids = {m.id for m in cat if m.id}
    assert template <= ids, f"missing in {lang}: {sorted(template - ids)}"
    for m in cat:
        if not m.id:
            continue
        assert not m.fuzzy, f"{lang}: fuzzy: {m.id!r}"
        assert m.string, f"{lang}: untranslated: {m.id!r}"


def test_template_catalogue_is_up_to_date(tmp_path):
    out = tmp_path / "messages.pot"
    subprocess.run([str(Path(sys.executable).parent / "pybabel"), "-q", "extract", "-F", "babel.cfg",
                    "-o", str(out), "--no-location", "--sort-output", "."],
                   cwd=ROOT, check=True, capture_output=True)
    with open(out, "rb") as f:
        fresh = {m.id for m in read_po(f) if m.id}
    with open(CATALOGUES / "messages.pot", "rb") as f:
        stored = {m.id for m in read_po(f) if m.id}
    assert fresh == stored, f"run pybabel extract: new {fresh - stored}, gone {stored - fresh}"


def visible_text_in_lang(doc, lang):
    doc = lxml.html.fromstring(lxml.html.tostring(doc))
    for el in doc.xpath("//*[@lang]"):
        if el.get("lang") != lang and el is not doc:
            el.drop_tree()
    for el in doc.xpath("//script | //style"):
        el.drop_tree()
    texts = [doc.text_content()]
    texts += doc.xpath("//@aria-label | //@title | //@alt | //@content")
    return " ".join(texts)


def test_english_pages_contain_no_dutch_interface_text(site, docs):
    dutch = {m.string for m in catalogue("nl") if m.id and m.string != m.id}
    english = {m.string for m in catalogue("en") if m.id}
    needles = {d.split("%(")[0].strip() for d in dutch if d not in english}
    needles = {n for n in needles if len(n) > 3 and not any(n in e for e in english)}
    assert len(needles) > 20
    for page, doc in docs.items():
        if language_of(site, page) != "en":
            continue
        text = visible_text_in_lang(doc, "en")
        found = [n for n in needles if re.search(rf"(?<!\w){re.escape(n)}(?!\w)", text)]
        assert not found, f"{page}: Dutch interface text {found}"


def test_feeds_parse_and_hold_only_their_language(site, docs):
    for lang, prefix in LANGS.items():
        feed = site / prefix / "feeds/atom.xml"
        root = ET.parse(feed).getroot()
        entries = list(root.iter(f"{ATOM}entry"))
        assert entries, feed
        for e in entries:
            href = e.find(f"{ATOM}link").get("href")
            target = docs[file_of(site, href)]
            assert target.get("lang") == lang, f"{feed}: {href} is not in {lang}"


def test_sitemap_lists_every_page_once_with_its_alternates(site, docs):
    root = ET.parse(site / "sitemap.xml").getroot()
    locs = [u.findtext(f"{SM}loc") for u in root.iter(f"{SM}url")]
    assert len(locs) == len(set(locs))
    paths = {urlsplit(loc).path for loc in locs}
    expected = {url_of(site, p) for p, doc in docs.items()
                if p.name != "404.html" and not doc.xpath("//meta[@name='robots'][@content='noindex']")
                and doc.get("data-sitemap") != "exclude"}
    assert paths == expected
    # the join form's thank-you pages are crawlable (Lighthouse's SEO audit) but not listed
    for path in ("/bedankt/", "/en/thank-you/"):
        page = docs[file_of(site, path)]
        assert page.get("data-sitemap") == "exclude" and not page.xpath("//meta[@name='robots']")
        assert path not in paths
    assert not any("/drafts/" in p for p in paths)
    for u in root.iter(f"{SM}url"):
        path = urlsplit(u.findtext(f"{SM}loc")).path
        listed = {link.get("hreflang"): urlsplit(link.get("href")).path for link in u.iter(f"{XHTML}link")}
        page = docs[file_of(site, path)]
        assert listed == {k: urlsplit(urljoin(path, v)).path for k, v in alternates(page).items()}


def test_numbered_blog_pages_name_their_counterparts(tmp_path):
    """With one post a page, /blog/pagina/2/ and /en/blog/page/2/ name each other (every
    language lists every post, so the numbers agree), in the page and in the sitemap."""
    root = copy_site(tmp_path / "site", extra_posts=FIXTURE_POSTS)
    build_site(settings_file=root / "pelicanconf.py", output=root / "output", cwd=root,
               extra={"DEFAULT_PAGINATION": "1"})
    site = root / "output"
    for path, other in (("/blog/pagina/2/", "/en/blog/page/2/"), ("/en/blog/page/2/", "/blog/pagina/2/")):
        doc = lxml.html.fromstring(file_of(site, path).read_bytes())
        alts = alternates(doc)
        assert urlsplit(alts["en" if path.startswith("/blog") else "nl"]).path == other
        assert file_of(site, other).is_file()
    sitemap = ET.parse(site / "sitemap.xml").getroot()
    listed = {urlsplit(u.findtext(f"{SM}loc")).path: {l.get("hreflang") for l in u.iter(f"{XHTML}link")}
              for u in sitemap.iter(f"{SM}url")}
    assert {"nl", "en", "x-default"} <= listed["/blog/pagina/2/"]


def test_a_catalogue_is_read_again_when_it_changes(tmp_path):
    """The build compiles each catalogue once per process (every generator of a run asks for it);
    a catalogue saved since, as the development server's runs see it, is read anew."""
    from languages.languages import load_translations

    po = tmp_path / "messages.po"
    text = (ROOT / "theme/translations/nl/LC_MESSAGES/messages.po").read_text(encoding="utf-8")
    po.write_text(text, encoding="utf-8")
    first = load_translations(str(po), "nl")
    assert load_translations(str(po), "nl") is first
    assert first.gettext("(home page; this page is not translated)") != "(home page; this page is not translated)"
    po.write_text(re.sub(r'(msgid "\(home page; this page is not translated\)"\nmsgstr )".*"', r'\1"Thuis-nieuw"', text),
                  encoding="utf-8")
    assert load_translations(str(po), "nl").gettext("(home page; this page is not translated)") == "Thuis-nieuw"
