"""Assertions on the built site: the post, its page chrome, URLs, dates."""

import re

import lxml.html
import pytest

from tests.conftest import read
from tests.support import ROOT

# A copy of ../shared/source/de-kracht-van-samenwerken.txt, the text the post was converted from.
SOURCE = ROOT / "tests" / "fixtures" / "source" / "de-kracht-van-samenwerken.txt"
POST = "blog/de-kracht-van-samenwerken/index.html"


def text_of(el):
    return re.sub(r"\s+", " ", el.text_content().replace("\u00a0", " ")).strip()


def source_paragraphs():
    lines = SOURCE.read_text(encoding="utf-8").splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("Door onze"))
    end = lines.index("Jelmer")
    return [re.sub(r"\s+", " ", line).strip() for line in lines[start:end + 1] if line.strip()]


@pytest.fixture(scope="module")
def post(site):
    return lxml.html.fromstring(read(site / POST))


def test_source_is_available():
    assert SOURCE.exists(), f"the source post is expected at {SOURCE}"


def test_every_paragraph_of_the_source_is_on_the_post_page(post):
    paragraphs = [text_of(p) for p in post.cssselect("article.post .prose p")]
    for expected in source_paragraphs():
        assert expected in paragraphs, f"paragraph missing from the post page: {expected[:70]}…"


def test_accents_and_quotes_survive(post):
    body = text_of(post.cssselect("article.post .prose")[0])
    for fragment in ("mét de juiste doelgroep", "Wél met afstemming", "“wat haal ik eruit voor mijn bedrijf?”",
                     "soez’n, wordt ‘t broez’n", "Biocoöperatie Noord-Nederland"):
        assert fragment in body


def test_page_chrome_of_the_source_is_not_content(post):
    body = text_of(post.cssselect("article.post .prose")[0])
    for chrome in ("Tweet", "Pippi Langkous", "Hoe om te gaan met transitie"):
        assert chrome not in body


def test_post_has_one_h1_and_a_machine_readable_date(post):
    assert len(post.cssselect("h1")) == 1
    assert text_of(post.cssselect("h1")[0]) == "De kracht van samenwerken"
    times = post.cssselect("article.post time[datetime]")
    assert times, "no <time datetime> on the post page"
    assert times[0].get("datetime").startswith("2019-03-04")
    assert text_of(times[0]) == "4 maart 2019"  # Dutch, by Babel, without an OS locale


def test_post_names_its_author_and_tags(post):
    assert "Jelmer" in [text_of(a) for a in post.cssselect("a[rel=author]")]
    tags = [a.get("href") for a in post.cssselect("a[rel=tag]")]
    assert "/blog/tag/samenwerking/" in tags


def test_share_links_are_plain_links(site, post):
    share = post.cssselect("section.share a")
    hrefs = [a.get("href") for a in share]
    assert any(h.startswith("https://x.com/") for h in hrefs)
    assert any(h.startswith("https://www.linkedin.com/") for h in hrefs)
    assert any(h.startswith("https://www.facebook.com/") for h in hrefs)
    assert any(h.startswith("mailto:") for h in hrefs)
    for h in hrefs:
        assert "knnadvies.nl%2Fblog%2Fde-kracht-van-samenwerken" in h.replace("/", "%2F")
    assert not post.cssselect("script[src]"), "a page loads a script"


def test_previous_and_next_link_to_the_neighbours(site, post):
    prev = post.cssselect("nav.post-nav a[rel=prev]")
    nxt = post.cssselect("nav.post-nav a[rel=next]")
    assert [a.get("href") for a in prev] == ["/blog/ouder-testbericht/"]
    assert [a.get("href") for a in nxt] == ["/blog/nieuwer-testbericht/"]
    for link in prev + nxt:
        target = site / link.get("href").strip("/") / "index.html"
        assert target.exists()
        assert text_of(link) == text_of(lxml.html.fromstring(read(target)).cssselect("h1")[0])


def test_call_to_action(post):
    cta = post.cssselect("aside.cta a")
    assert cta and cta[0].get("href") == "/contact/"


def test_pretty_urls(site):
    for path in ("index.html", POST, "over-ons/index.html", "contact/index.html", "privacy/index.html",
                 "blog/index.html", "blog/tag/samenwerking/index.html", "blog/auteur/jelmer/index.html", "404.html"):
        assert (site / path).is_file(), path
    # No file name outside the directory-style scheme (apart from 404 pages).
    stray = [p for p in site.rglob("*.html") if p.name not in ("index.html", "404.html")]
    assert stray == []


def test_slugs_are_ascii_and_readable(site):
    for p in site.rglob("*"):
        rel = p.relative_to(site).as_posix()
        assert re.fullmatch(r"[a-z0-9./_-]+", rel), f"unexpected characters in {rel}"


def test_blog_index_paginates(site):
    # The real site has too few posts to paginate; the paginator itself is Pelican's.
    index = lxml.html.fromstring(read(site / "blog/index.html"))
    titles = [text_of(a) for a in index.cssselect("article.card h2 a")]
    assert titles[:3] == ["Nieuws van SUSPACC en BERNN", "De kracht van samenwerken", "Een ouder testbericht"]


def test_typogrify_without_caps(site):
    html = read(site / "blog/nieuwer-testbericht/index.html")
    assert 'class="caps"' not in html
    title = lxml.html.fromstring(html).findtext(".//title")
    assert title.replace("\u00a0", " ") == "Nieuws van SUSPACC en BERNN · KNN Advies"
    assert "\u00a0" in title or "&nbsp;" in html  # typogrify's widont did run


def test_no_request_to_another_host(html_pages):
    for page in html_pages:
        doc = lxml.html.fromstring(read(page))
        for el in doc.xpath("//script[@src] | //link[@href] | //img[@src] | //iframe | //source | //video | //audio"):
            url = el.get("src") or el.get("href") or ""
            rel = el.get("rel") or ""
            if el.tag == "link" and rel in ("alternate", "canonical"):
                continue
            assert not re.match(r"^(https?:)?//", url), f"{page}: loads {url}"


def test_no_inline_script_or_style(html_pages):
    for page in html_pages:
        doc = lxml.html.fromstring(read(page))
        for s in doc.xpath("//script[not(@src)]"):
            assert s.get("type") == "application/ld+json", f"{page}: inline script"
        assert not doc.xpath("//style"), f"{page}: inline <style>"
        assert not doc.xpath("//*[@style]"), f"{page}: style attribute"
        assert not doc.xpath("//*[@*[starts-with(name(), 'on')]]"), f"{page}: inline event handler"


def test_feed_is_atom(site):
    from xml.etree import ElementTree as ET

    feed = ET.parse(site / "feeds/atom.xml").getroot()
    assert feed.tag == "{http://www.w3.org/2005/Atom}feed"
    titles = [e.findtext("{http://www.w3.org/2005/Atom}title") for e in feed.iter("{http://www.w3.org/2005/Atom}entry")]
    assert "De kracht van samenwerken" in [t.replace("\u00a0", " ") for t in titles]
