"""axe-core in headless Chromium: no serious or critical violation on any page type.

Also saves a screenshot of each page type at 390 px and 1280 px into test-artifacts/.
"""

import pytest

from tests.browser import chromium
from tests.support import ROOT, require

AXE = ROOT / "node_modules" / "axe-core" / "axe.min.js"
ARTIFACTS = ROOT / "test-artifacts"

PAGE_TYPES = {
    "home": "/",
    "post": "/blog/de-kracht-van-samenwerken/",
    "blog-index": "/blog/",
    "tag": "/blog/tag/samenwerking/",
    "tags": "/blog/tag/",
    "author": "/blog/auteur/jelmer/",
    "archive": "/blog/archief/",
    "page": "/over-ons/",
    "contact": "/contact/",
    "privacy": "/privacy/",
    "not-found": "/404.html",
    "networks": "/netwerken/",
    "network": "/netwerken/biocooperatie-noord-nederland/",
    "thank-you": "/bedankt/",
    "search": "/zoeken/",
    "draft": "/blog/drafts/een-concept/",
    "en-home": "/en/",
    "en-network": "/en/networks/bernn/",
    "en-post": "/en/blog/the-power-of-collaboration/",
}


@pytest.fixture(scope="module")
def browser():
    require(AXE.exists(), f"{AXE} (make test runs npm ci)")
    with chromium() as b:
        yield b


@pytest.fixture(scope="module")
def tab(browser):
    """tab(width, scheme): one browser tab per viewport width and colour scheme, kept for the
    module (a visitor going from page to page, not a new browser profile per page), with axe
    loaded into every page it opens."""
    tabs = {}

    def get(width, scheme):
        if (width, scheme) not in tabs:
            # bypass_csp: the pages' CSP (rightly) refuses the injected axe script.
            context = browser.new_context(viewport={"width": width, "height": 900}, color_scheme=scheme,
                                          bypass_csp=True)
            context.add_init_script(path=str(AXE))
            tabs[width, scheme] = context.new_page()
        return tabs[width, scheme]

    yield get
    for page in tabs.values():
        page.context.close()


def axe_violations(page):
    if not page.evaluate("typeof axe !== 'undefined'"):
        page.add_script_tag(path=str(AXE))
    result = page.evaluate("""async () => {
        const r = await axe.run(document, {resultTypes: ['violations']});
        return r.violations.map(v => ({id: v.id, impact: v.impact, help: v.help,
                                      nodes: v.nodes.map(n => n.target.join(' ')).slice(0, 5)}));
    }""")
    return [v for v in result if v["impact"] in ("serious", "critical")]


@pytest.mark.browser
@pytest.mark.parametrize("scheme", ["light", "dark"])
@pytest.mark.parametrize("name", list(PAGE_TYPES))
def test_no_serious_accessibility_violation(tab, site_url, name, scheme):
    ARTIFACTS.mkdir(exist_ok=True)
    for width in (390, 1280):
        page = tab(width, scheme)
        response = page.goto(site_url + PAGE_TYPES[name])
        assert response.status == 200
        assert page.evaluate("matchMedia('(prefers-color-scheme: dark)').matches") == (scheme == "dark")
        page.screenshot(path=str(ARTIFACTS / f"{name}-{width}-{scheme}.png"), full_page=True)
        violations = axe_violations(page)
        assert not violations, f"{name} at {width}px ({scheme}): {violations}"
        if width == 390:
            overflow = page.evaluate("document.documentElement.scrollWidth > window.innerWidth")
            assert not overflow, f"{name} scrolls sideways at {width}px"


@pytest.mark.browser
def test_axe_does_report_a_violation(tab, site_url):
    # Guards against an axe run that silently checks nothing, in the tabs the tests above use.
    page = tab(390, "light")
    page.goto(site_url + "/")
    assert page.evaluate("typeof axe.run === 'function'"), "axe was not loaded into the page"
    page.evaluate("document.querySelector('main').insertAdjacentHTML('beforeend', '<img src=x.png>')")
    page.evaluate("document.querySelector('main').insertAdjacentHTML('beforeend', '<p><a href=/x></a></p>')")
    ids = {v["id"] for v in axe_violations(page)}
    assert "image-alt" in ids or "link-name" in ids
