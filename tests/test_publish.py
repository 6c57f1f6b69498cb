"""The production build (publishconf.py): absolute URLs on the production host, feeds,
sitemap, metadata for sharing and search engines, fingerprinted assets, no drafts."""

import json
import re
from urllib.parse import urlsplit
from xml.etree import ElementTree as ET

import lxml.html
import pytest

from sitebuild.build import build_site
from tests.conftest import FIXTURE_POSTS, read
from tests.support import copy_site

HOST = "https://www.knnadvies.nl"


@pytest.fixture(scope="module")
def published(tmp_path_factory):
    root = copy_site(tmp_path_factory.mktemp("published"), extra_posts=FIXTURE_POSTS)
    build_site(settings_file=root / "publishconf.py", output=root / "output", cwd=root)
    return root / "output"


@pytest.fixture(scope="module")
def pages(published):
    return {p: lxml.html.fromstring(read(p)) for p in sorted(published.rglob("*.html"))}


def test_every_page_has_a_canonical_url_on_the_production_host(published, pages):
    for page, doc in pages.items():
        canonical = doc.xpath("//head/link[@rel='canonical']/@href")
        assert len(canonical) == 1, page
        rel = page.relative_to(published).as_posix()
        expected = HOST + "/" + (rel[: -len("index.html")] if rel.endswith("index.html") else rel)
        assert canonical[0] == expected


def test_no_page_references_loopback_or_a_relative_asset(published, pages):
    for page, doc in pages.items():
        html = read(page)
        assert "127.0.0.1" not in html and "localhost" not in html, page
        for el in doc.xpath("//*[@href or @src or @action]"):
            url = el.get("href") or el.get("src") or el.get("action")
            if url.startswith(("#", "mailto:")) or el.tag == "script" and el.get("type") == "application/ld+json":
                continue
            parts = urlsplit(url)
            assert parts.scheme == "https", f"{page}: {url} is not absolute"


def test_sharing_and_search_engine_metadata(pages, published):
    doc = pages[published / "blog/de-kracht-van-samenwerken/index.html"]
    meta = {m.get("property") or m.get("name"): m.get("content") for m in doc.xpath("//head/meta")}
    assert meta["og:type"] == "article"
    assert meta["og:url"] == HOST + "/blog/de-kracht-van-samenwerken/"
    assert meta["og:title"].startswith("De kracht van")
    assert meta["og:locale"] == "nl_NL"
    assert meta["twitter:card"] == "summary_large_image"  # its share card (no picture of its own)
    assert re.fullmatch(re.escape(HOST) + r"/cards/de-kracht-van-samenwerken\.[0-9a-f]{10}\.og\.jpg", meta["og:image"])
    posting = json.loads(doc.xpath("//script[@type='application/ld+json']")[0].text)
    assert posting["@type"] == "BlogPosting"
    assert posting["headline"] == "De kracht van samenwerken"
    assert posting["datePublished"].startswith("2019-03-04")
    assert posting["author"] == [{"@type": "Person", "name": "Jelmer"}]
    assert posting["url"] == HOST + "/blog/de-kracht-van-samenwerken/"
    en = pages[published / "en/blog/the-power-of-collaboration/index.html"]
    assert en.xpath("//meta[@property='og:locale']/@content") == ["en_US"]


def test_assets_are_fingerprinted(published, pages):
    css = [p.name for p in (published / "theme/css").iterdir()]
    assert any(re.fullmatch(r"main\.[0-9a-f]{10}\.css", n) for n in css)
    assert "main.css" not in css
    for page, doc in pages.items():
        for href in doc.xpath("//link[@rel='stylesheet']/@href | //script/@src"):
            path = urlsplit(href).path
            assert re.search(r"\.[0-9a-f]{10}\.(css|js)$", path), f"{page}: {href}"
            assert (published / path.lstrip("/")).is_file(), f"{page}: {href}"


def test_sitemap_robots_and_feeds_use_the_production_host(published):
    root = ET.parse(published / "sitemap.xml").getroot()
    locs = [e.text for e in root.iter("{http://www.sitemaps.org/schemas/sitemap/0.9}loc")]
    assert locs and all(loc.startswith(HOST + "/") for loc in locs)
    assert f"Sitemap: {HOST}/sitemap.xml" in read(published / "robots.txt")
    for feed in ("feeds/atom.xml", "en/feeds/atom.xml"):
        atom = ET.parse(published / feed).getroot()
        links = [e.get("href") for e in atom.iter("{http://www.w3.org/2005/Atom}link")]
        assert links and all(link.startswith(HOST + "/") for link in links)


ATOM = "{http://www.w3.org/2005/Atom}"
XML_LANG = "{http://www.w3.org/XML/1998/namespace}lang"


def test_each_language_has_a_feed_of_its_own(published):
    """What the W3C feed validator checks (and warns of, at its strictest), checked here: each
    feed its own id (its own address), its rel=self and its alternate link to its own language's
    home page, xml:lang, the site's name once as title, absolute unique entry ids, an updated
    date, entries in its language only."""
    feeds = {"nl": ("feeds/atom.xml", f"{HOST}/"), "en": ("en/feeds/atom.xml", f"{HOST}/en/")}
    ids = set()
    for lang, (path, home) in feeds.items():
        atom = ET.parse(published / path).getroot()
        assert atom.tag == f"{ATOM}feed" and atom.get(XML_LANG) == lang
        assert atom.findtext(f"{ATOM}title") == "KNN Advies"
        links = {e.get("rel"): e.get("href") for e in atom.findall(f"{ATOM}link")}
        assert links == {"alternate": home, "self": f"{HOST}/{path}"}
        feed_id = atom.findtext(f"{ATOM}id")
        assert feed_id == f"{HOST}/{path}" and feed_id not in ids
        ids.add(feed_id)
        assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d[+-]\d\d:\d\d|.*Z", atom.findtext(f"{ATOM}updated"))
        entries = atom.findall(f"{ATOM}entry")
        assert entries
        for entry in entries:
            entry_id = entry.findtext(f"{ATOM}id")
            assert entry_id and entry_id not in ids and not entry_id.startswith("/")
            ids.add(entry_id)
            link = entry.find(f"{ATOM}link").get("href")
            assert link.startswith(home if lang != "nl" else f"{HOST}/blog/"), link


def test_drafts_and_future_posts_are_not_published(published):
    html = "".join(read(p) for p in published.rglob("*.html"))
    assert not list(published.rglob("een-concept")) and "Een concept" not in html
    assert not list(published.rglob("bericht-uit-de-toekomst")) and "Bericht uit de toekomst" not in html
    feed = read(published / "feeds/atom.xml")
    assert "Een concept" not in feed and "toekomst" not in feed


def test_dev_build_shows_drafts_with_a_banner(site):
    for slug in ("een-concept", "bericht-uit-de-toekomst"):
        page = site / "blog/drafts" / slug / "index.html"
        doc = lxml.html.fromstring(read(page))
        assert doc.xpath("//*[contains(@class, 'draft-banner')]"), slug
        assert doc.xpath("//meta[@name='robots']/@content") == ["noindex"]
    listing = read(site / "blog/index.html")
    assert "Een concept" not in listing


def test_headers_file_has_a_strict_policy(published):
    headers = read(published / "_headers")
    csp = re.search(r"Content-Security-Policy: (.+)", headers).group(1)
    assert "default-src 'none'" in csp and "frame-ancestors 'none'" in csp
    assert "unsafe-inline" not in csp
    assert "form-action 'self' https://forms.knnadvies.nl" in csp
