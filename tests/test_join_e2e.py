"""End to end: headless Chromium fills in the real built join form on a network page and
submits it to the running form service, in Dutch and in English, with and without
JavaScript. The request lands in the database and both mails reach an SMTP server."""

import os
import sqlite3

import pytest

from sitebuild.build import build_site
from tests.browser import chromium, fill_join_form
from tests.conftest import FIXTURE_POSTS
from tests.formservice.conftest import ServiceProcess, SmtpServer
from tests.support import copy_site, free_port, serve_static

NETWORK = {"nl": "/netwerken/biocooperatie-noord-nederland/", "en": "/en/networks/biocooperatie-noord-nederland/"}
THANKS = {"nl": "/bedankt/", "en": "/en/thank-you/"}


@pytest.fixture(scope="module")
def stack(tmp_path_factory):
    """The site built against a form service on a free port, served; the service; an SMTP server."""
    tmp = tmp_path_factory.mktemp("e2e")
    service_port = free_port()
    root = copy_site(tmp / "site", extra_posts=FIXTURE_POSTS)
    build_site(settings_file=root / "pelicanconf.py", output=root / "output", cwd=root,
                     extra={"FORM_ENDPOINT": f'"http://127.0.0.1:{service_port}/join/{{slug}}"'})
    database = tmp / "formservice.sqlite3"
    smtp = SmtpServer().start()
    try:
        with serve_static(root / "output") as site_url:
            env = dict(os.environ,
                       FORMSERVICE_DATABASE_URL=f"sqlite:///{database}",
                       FORMSERVICE_NETWORKS_DIR=str(root / "content" / "networks"),
                       FORMSERVICE_SITE_URL=site_url,
                       FORMSERVICE_ALLOWED_ORIGINS=site_url,
                       FORMSERVICE_SMTP_URL=smtp.url,
                       FORMSERVICE_POLL_SECONDS="0.2",
                       FORMSERVICE_RATE_PER_MINUTE="0",
                       FORMSERVICE_MAIL_FROM="KNN Advies <aanmelden@knnadvies.example>",
                       PYTHONUNBUFFERED="1")
            service = ServiceProcess(["serve", "--host", "127.0.0.1", "--port", str(service_port)],
                                     env, tmp / "service.log").start()
            try:
                service.wait_healthy(f"http://127.0.0.1:{service_port}")
                yield {"site": site_url, "db": database, "smtp": smtp, "service": service}
            finally:
                service.kill()
    finally:
        smtp.stop()


@pytest.fixture(scope="module")
def browser():
    with chromium() as b:
        yield b


def stored(db, email):
    with sqlite3.connect(db) as con:
        return con.execute("SELECT network, lang, name, organisation, answers FROM join_requests WHERE email = ?",
                           (email,)).fetchall()


def fill(page, email, name="Anne de Vries"):
    fill_join_form(page, email, name, "Voorbeeld BV", "Wij willen graag meedoen.", "Chemie")


@pytest.mark.browser
@pytest.mark.parametrize("javascript", [False, True], ids=["no-js", "js"])
@pytest.mark.parametrize("lang", ["nl", "en"])
def test_join_request_arrives(browser, stack, lang, javascript):
    email = f"anne.{lang}.{'js' if javascript else 'nojs'}@voorbeeld.example"
    context = browser.new_context(java_script_enabled=javascript)
    page = context.new_page()
    page.goto(stack["site"] + NETWORK[lang])
    fill(page, email)
    if javascript:
        page.click("form.join-form button[type=submit]")
        page.wait_for_selector(".join-done", timeout=15000)
        assert page.url == stack["site"] + NETWORK[lang], "the JS path must not leave the page"
        status = page.text_content(".join-status")
        assert ("ontvangen" in status) if lang == "nl" else ("received" in status)
        assert page.get_attribute(".join-status", "role") == "status"
    else:
        with page.expect_navigation(timeout=15000):
            page.click("form.join-form button[type=submit]")
        assert page.url == stack["site"] + THANKS[lang]
    rows = stored(stack["db"], email)
    assert len(rows) == 1
    network, stored_lang, name, organisation, answers = rows[0]
    assert (network, stored_lang, name, organisation) == ("biocooperatie-noord-nederland", lang, "Anne de Vries",
                                                          "Voorbeeld BV")
    mails = stack["smtp"].mails_for(email)
    to = sorted(str(m["To"]) for m in mails)
    assert any(email in t for t in to), to  # the applicant's confirmation
    assert any(email not in t for t in to), to  # the coordinator's notification
    context.close()


@pytest.mark.browser
@pytest.mark.parametrize("lang, expected", [("nl", "hoogstens 200 tekens"), ("en", "200 characters")])
def test_problems_show_next_to_their_field_and_input_is_kept(browser, stack, lang, expected):
    email = f"lang.{lang}@voorbeeld.example"
    context = browser.new_context()
    page = context.new_page()
    page.goto(stack["site"] + NETWORK[lang])
    fill(page, email, name="A" * 300)
    page.click("form.join-form button[type=submit]")
    page.wait_for_selector(".field-error", timeout=15000)
    assert page.get_attribute("#join-name", "aria-invalid") == "true"
    described = page.get_attribute("#join-name", "aria-describedby")
    error_text = page.text_content(f"#{described.split()[-1]}")
    assert expected in error_text.lower(), error_text
    assert page.input_value("#join-email") == email  # what the visitor typed is kept
    assert page.evaluate("document.activeElement.id") == "join-name"
    assert "is-error" in page.get_attribute(".join-status", "class")
    assert stored(stack["db"], email) == []
    context.close()
