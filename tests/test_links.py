"""Every internal link and #anchor in the output resolves to a file that exists."""

from urllib.parse import unquote, urljoin, urlsplit

import lxml.html

from tests.conftest import read


def target_file(site, page, href):
    base = "/" + page.relative_to(site).as_posix()
    url = urlsplit(urljoin(base, href))
    path = unquote(url.path)
    f = site / path.lstrip("/")
    if path.endswith("/"):
        f = f / "index.html"
    return f, url.fragment


def internal_links(doc):
    for el in doc.xpath("//a[@href] | //link[@href] | //img[@src] | //script[@src] | //form[@action]"):
        href = el.get("href") or el.get("src") or el.get("action")
        scheme = urlsplit(href).scheme
        if scheme or href.startswith("//"):
            continue  # external (share links, mailto:, the form service)
        yield href


def test_every_internal_link_resolves(site, html_pages):
    ids = {}
    broken = []
    checked = 0
    for page in html_pages:
        doc = lxml.html.fromstring(read(page))
        for href in internal_links(doc):
            checked += 1
            f, fragment = target_file(site, page, href)
            if not f.is_file():
                broken.append(f"{page.relative_to(site)}: {href} -> missing {f.relative_to(site)}")
                continue
            if fragment and f.suffix == ".html":
                if f not in ids:
                    ids[f] = set(lxml.html.fromstring(read(f)).xpath("//@id"))
                if fragment not in ids[f]:
                    broken.append(f"{page.relative_to(site)}: {href} -> no #{fragment}")
    assert checked > 100
    assert not broken, "\n".join(broken)


def test_the_link_checker_sees_a_broken_link(site):
    page = site / "index.html"
    f, _ = target_file(site, page, "/bestaat-niet/")
    assert not f.exists()
    f, frag = target_file(site, site / "blog" / "index.html", "../over-ons/#x")
    assert f == site / "over-ons" / "index.html" and frag == "x"
