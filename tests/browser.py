"""Headless Debian Chromium driven by Playwright (never `playwright install`)."""

import contextlib

from tests.support import CHROMIUM, require_executable

CHROMIUM_ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
    # Chromium still looks up Google hosts at start; resolve nothing but loopback.
    "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1, EXCLUDE localhost",
]


@contextlib.contextmanager
def chromium(args=CHROMIUM_ARGS):
    """Headless Chromium; `args` replace the default flags (e.g. other host resolver rules)."""
    require_executable(CHROMIUM, "Debian's chromium (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=list(args))
        try:
            yield browser
        finally:
            browser.close()


def fill_join_form(page, email, name, organisation, message, answer):
    """The site's join form on `page`, filled in as a visitor does: every text question answered
    with `answer`, the consent box ticked."""
    page.fill("#join-name", name)
    page.fill("#join-email", email)
    page.fill("#join-organisation", organisation)
    page.fill("#join-message", message)
    for field in page.query_selector_all("form.join-form [name^='q_']:not([type=checkbox])"):
        field.fill(answer)
    page.check("#join-consent")
