"""In Chromium: the strict Content-Security-Policy (from _headers and <meta>) produces no
violation on any page type, and Pagefind search finds words in each language."""

import functools

import pytest

from tests.browser import chromium
from publishing.sitewide import headers_for
from tests.support import serve_static

PAGE_TYPES = ["/", "/blog/de-kracht-van-samenwerken/", "/blog/", "/over-ons/", "/contact/", "/404.html",
              "/zoeken/?q=samenwerken", "/en/", "/en/blog/the-power-of-collaboration/", "/en/search/?q=collaboration",
              "/netwerken/", "/netwerken/suspacc/", "/en/networks/bernn/"]


@pytest.fixture(scope="module")
def static_host(site):
    """Serves the output the way a static host does, with the headers from _headers."""
    with serve_static(site, functools.partial(headers_for, site / "_headers")) as url:
        yield url


@pytest.fixture(scope="module")
def browser():
    with chromium() as b:
        yield b


RECORD_VIOLATIONS = """
window.__csp = [];
document.addEventListener('securitypolicyviolation',
  e => window.__csp.push(e.violatedDirective + ' ' + e.blockedURI));
"""


def open_page(browser, url):
    context = browser.new_context()
    context.add_init_script(RECORD_VIOLATIONS)
    page = context.new_page()
    console = []
    page.on("console", lambda m: console.append(m.text) if m.type in ("error", "warning") else None)
    response = page.goto(url)
    return context, page, response, console


@pytest.mark.browser
@pytest.mark.parametrize("path", PAGE_TYPES)
def test_no_csp_violation(browser, static_host, site, path):
    if path.startswith(("/netwerken/", "/en/networks/")) and not (site / "netwerken").exists():
        pytest.fail("network pages are missing from the build")
    context, page, response, console = open_page(browser, static_host + path)
    assert response.status == 200
    assert "default-src 'none'" in response.headers["content-security-policy"]
    if "?q=" in path:
        page.wait_for_selector("#search-results li", timeout=15000)
    page.wait_for_load_state("networkidle")
    violations = page.evaluate("window.__csp")
    assert violations == [], violations
    assert not [c for c in console if "Content Security Policy" in c], console
    context.close()


@pytest.mark.browser
def test_csp_violations_are_detected(browser, static_host):
    context, page, response, console = open_page(browser, static_host + "/")
    page.evaluate("""() => { const s = document.createElement('script');
        s.src = 'data:text/javascript,1'; document.body.append(s); }""")
    page.wait_for_timeout(300)
    assert page.evaluate("window.__csp"), "an injected script was not reported"
    context.close()


@pytest.mark.browser
@pytest.mark.parametrize("path, query, expected", [
    ("/zoeken/", "soez’n", "/blog/de-kracht-van-samenwerken/"),
    ("/zoeken/", "biopolymeren", "/blog/de-kracht-van-samenwerken/"),
    ("/en/search/", "brilliant", "/en/blog/the-power-of-collaboration/"),
    # network pages are indexed too (their description, not their join form)
    ("/zoeken/", "pilotfaciliteit", "/netwerken/suspacc/"),
    ("/en/search/", "polyester", "/en/networks/suspacc/"),
])
def test_search_finds_a_word_in_its_language(browser, static_host, path, query, expected):
    context, page, response, console = open_page(browser, static_host + path)
    page.fill("#search-q", query)
    page.click(".search-form button")
    page.wait_for_selector("#search-results li a", timeout=15000)
    hrefs = page.eval_on_selector_all("#search-results li a", "els => els.map(a => a.getAttribute('href'))")
    assert expected in hrefs
    other = "/en/" if not path.startswith("/en/") else "/blog/de-kracht"
    assert not [h for h in hrefs if h.startswith(other)], "a result from the other language"
    assert query.split("’")[0] in page.url or "q=" in page.url
    status = page.text_content("#search-status")
    assert query in status
    context.close()


@pytest.mark.browser
def test_search_without_javascript_says_why(browser, static_host):
    context = browser.new_context(java_script_enabled=False)
    page = context.new_page()
    page.goto(static_host + "/zoeken/")
    # The <noscript> text and its link to all posts are shown only when scripts are off.
    assert page.is_visible("main a[href='/blog/archief/']")
    context.close()
    context = browser.new_context()
    page = context.new_page()
    page.goto(static_host + "/zoeken/")
    assert not page.is_visible("main a[href='/blog/archief/']")
    context.close()


def test_each_language_has_its_own_search_index_of_its_own_pages(site):
    """One Pagefind index per language, built side by side: each holds exactly the pages
    of its language that carry data-pagefind-body, and the search page loads its own."""
    import json

    import lxml.html

    from sitebuild.build import read_site_settings
    from tests.support import ROOT

    langs = read_site_settings(ROOT / "pelicanconf.py")["LANGUAGES"]
    expected = {code: 0 for code in langs}
    for page in site.rglob("*.html"):
        doc = lxml.html.fromstring(page.read_bytes())
        if doc.xpath("//*[@data-pagefind-body]"):
            expected[doc.get("lang")] += 1
    for code in langs:
        entry = json.loads((site / "pagefind" / code / "pagefind-entry.json").read_text(encoding="utf-8"))
        assert list(entry["languages"]) == [code]
        assert sum(x["page_count"] for x in entry["languages"].values()) == expected[code] > 3
    search = lxml.html.fromstring((site / "en/search/index.html").read_bytes())
    assert search.xpath("//script[@data-pagefind]/@data-pagefind") == ["/pagefind/en/pagefind.js"]


def test_the_index_of_the_marked_pages_is_the_index_of_every_page(site, tmp_path):
    """Pagefind is given only the pages with data-pagefind-body (sitebuild.search): its index is
    byte for byte the one it makes when it reads every page of the language itself."""
    import subprocess
    import sys

    from sitebuild.build import read_site_settings
    from sitebuild.search import indexed_pages, language_pages
    from tests.support import ROOT

    settings = read_site_settings(ROOT / "pelicanconf.py")
    for code, cfg in settings["LANGUAGES"].items():
        pages = language_pages(site, settings, code)
        assert 3 < len(indexed_pages(site, settings, code)[0]) < len(pages)
        if cfg["prefix"]:
            glob = f"{cfg['prefix']}/**/*.html"
        else:
            others = {c["prefix"] for c in settings["LANGUAGES"].values() if c["prefix"]}
            glob = "{" + ",".join(["*.html"] + [f"{d.name}/**/*.html" for d in site.iterdir()
                                                if d.is_dir() and d.name not in others | {"pagefind"}]) + "}"
        everything = tmp_path / code
        subprocess.run([sys.executable, "-m", "pagefind", "--site", str(site), "--silent", "--glob", glob,
                        "--output-path", str(everything)], check=True)
        ours = site / "pagefind" / code
        files = sorted(p.relative_to(ours) for p in ours.rglob("*") if p.is_file())
        assert files == sorted(p.relative_to(everything) for p in everything.rglob("*") if p.is_file())
        assert all((ours / f).read_bytes() == (everything / f).read_bytes() for f in files)


@pytest.mark.browser
@pytest.mark.parametrize("width", [390, 1280])
def test_search_shows_results_while_typing_without_a_mouse(browser, static_host, width):
    """Typed with the keyboard (no Enter, no click): the results come a moment after the last
    key, the address keeps the query, the live status says how many; Enter still searches."""
    context = browser.new_context(viewport={"width": width, "height": 844})
    page = context.new_page()
    page.goto(static_host + "/zoeken/")
    page.keyboard.press("Tab")  # skip link
    page.focus("#search-q")
    page.keyboard.type("biopolymeren", delay=40)
    status = page.locator("#search-status")
    # (waited for through the page's own elements: the site's CSP forbids evaluating strings)
    status.filter(has_text="Resultaten voor “biopolymeren”").wait_for(timeout=15000)
    hrefs = page.eval_on_selector_all("#search-results li a", "els => els.map(a => a.getAttribute('href'))")
    assert "/blog/de-kracht-van-samenwerken/" in hrefs
    assert page.url.endswith("?q=biopolymeren")
    assert status.get_attribute("role") == "status" and status.get_attribute("aria-live") == "polite"
    assert status.text_content() == f"Resultaten voor “biopolymeren”: {len(hrefs)}"
    # typing on replaces the results; a search that no longer matches what is typed never shows
    page.keyboard.press("Control+A")
    page.keyboard.type("pilotfaciliteit")
    page.keyboard.press("Enter")
    status.filter(has_text="Resultaten voor “pilotfaciliteit”").wait_for(timeout=15000)
    assert page.eval_on_selector_all("#search-results li a", "els => els.map(a => a.getAttribute('href'))") == \
        ["/netwerken/suspacc/"]
    assert page.url.endswith("?q=pilotfaciliteit")
    context.close()


@pytest.mark.browser
def test_the_phone_header_is_compact_and_the_desktop_header_as_before(browser, static_host):
    """At 390 px the header takes at most 120 px: the name, search and the other language on one
    row, every menu item on the next, each reachable and tappable (44 px); at 1280 px all in one
    row as before."""
    for path, other in (("/", "English"), ("/en/", "Nederlands")):
        context = browser.new_context(viewport={"width": 390, "height": 844})
        page = context.new_page()
        page.goto(static_host + path)
        assert page.evaluate("document.querySelector('.site-header').getBoundingClientRect().height") <= 120
        for link in page.locator(".site-nav a").all():
            link.scroll_into_view_if_needed()
            box = link.bounding_box()
            assert box and box["height"] >= 44 and 0 <= box["x"] and box["x"] + box["width"] <= 390, box
            assert box["y"] + box["height"] <= 120
        for selector in (".search-link", f".lang-switch a:text('{other}')"):
            box = page.locator(selector).bounding_box()
            assert box and box["y"] + box["height"] <= 120 and box["x"] + box["width"] <= 390, selector
        page.locator(f".lang-switch a:text('{other}')").click()
        assert page.url.startswith(static_host + ("/en/" if path == "/" else "/"))
        context.close()
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.goto(static_host + "/")
    tops = page.eval_on_selector_all(".brand, .site-nav a, .search-link, .lang-switch li",
                                     "els => els.map(e => Math.round(e.getBoundingClientRect().top))")
    assert max(tops) - min(tops) <= 12, tops  # one row
    assert page.evaluate("document.querySelector('.site-header').getBoundingClientRect().height") <= 80
    assert page.is_visible(".lang-switch [aria-current]")  # the current language shown beside the other
    context.close()
