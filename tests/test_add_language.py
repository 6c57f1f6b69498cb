"""Adding a language is configuration plus a catalogue (and content), never code.

Builds a copy of the site with German added as docs/languages.md says: one LANGUAGES entry
in the settings, a catalogue made with Babel from messages.pot, German texts in the network
files, a German home page and thank-you page. No file under plugins/, theme/templates/ or
formservice/ changes. Then the whole walk across the seams: the form service started in
that copy (its own pelicanconf.py) takes a German join request from the German network page
in Chromium, with and without JavaScript, answers mistakes in German, sends the applicant to
the German thank-you page and mails both sides; /admin/ has a German pane; the editors'
tools work for German.
"""

import hashlib
import os
import shutil
import sqlite3
import subprocess
import sys

import httpx
import lxml.html
import pytest
import yaml
from babel.messages.pofile import read_po, write_po

from sitebuild.build import build_site
from sitebuild.errors import BuildFailed
from tests.browser import chromium, fill_join_form
from tests.conftest import read
from tests.formservice.conftest import ServiceProcess, SmtpServer
from tests.support import ROOT, copy_site, free_port, serve_static

GERMAN = {
    "Skip to content": "Zum Inhalt springen",
    "Main navigation": "Hauptnavigation",
    "Home": "Startseite",
    "Latest posts": "Neueste Beiträge",
    "All posts": "Alle Beiträge",
    "Language": "Sprache",
    "Networks": "Netzwerke",
    # the form service's texts, from the same catalogue
    "Use at most %(max)d characters (this has %(length)d).":
        "Verwenden Sie höchstens %(max)d Zeichen (hier sind es %(length)d).",
    "Your request could not be sent": "Ihre Anfrage konnte nicht gesendet werden",
    "We have received your request to join %(network)s": "Wir haben Ihre Anfrage für %(network)s erhalten",
    "Hello,": "Guten Tag,",
}
SETTINGS = '''
LANGUAGES["de"] = {
    "name": "Deutsch",
    "prefix": "de",
    "words": {"blog": "blog", "tag": "schlagwort", "author": "autor", "category": "kategorie",
              "page": "seite", "networks": "netzwerke", "archive": "archiv"},
}
'''
HOME = """title: Zusammenarbeit, die funktioniert
slug: home
translation_key: home
lang: de
url: de/
save_as: de/index.html
template: home
summary: KNN Advies in Groningen gründet und begleitet Kooperationsnetzwerke.

KNN Advies ist ein Beratungsbüro in Groningen.
"""
THANKS = """title: Danke für Ihre Anfrage
slug: danke
translation_key: thank-you
lang: de
status: hidden
summary: Ihre Anfrage wurde gesendet.

Danke! Wir haben Ihre Anfrage erhalten.
"""
NETWORK = "biocooperatie-noord-nederland"
CODE = (ROOT / "plugins", ROOT / "theme" / "templates", ROOT / "formservice")


def add_german_texts(node):
    """Every {nl, en} text in a network file gets a German version (here: marked English)."""
    if isinstance(node, dict):
        if set(node) >= {"nl", "en"} and all(isinstance(v, str) for v in node.values()):
            node["de"] = f"[de] {node['en']}"
        for value in node.values():
            add_german_texts(value)
    elif isinstance(node, list):
        for value in node:
            add_german_texts(value)


def tree_digest(*dirs):
    h = hashlib.sha256()
    for d in dirs:
        for p in sorted(d.rglob("*")):
            if p.is_file() and "__pycache__" not in p.parts:
                h.update(p.relative_to(d).as_posix().encode() + p.read_bytes())
    return h.hexdigest()


def add_german(root):
    """German, added to a copy of the site exactly as docs/languages.md says."""
    with open(root / "pelicanconf.py", "a", encoding="utf-8") as f:
        f.write(SETTINGS)
    with open(root / "theme/translations/messages.pot", "rb") as f:
        catalog = read_po(f, locale="de")
    for message in catalog:
        if message.id in GERMAN:
            message.string = GERMAN[message.id]
    po = root / "theme/translations/de/LC_MESSAGES/messages.po"
    po.parent.mkdir(parents=True)
    with open(po, "wb") as f:
        write_po(f, catalog)
    for network in (root / "content/networks").glob("*.yaml"):
        data = yaml.safe_load(network.read_text(encoding="utf-8"))
        add_german_texts(data)
        network.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    (root / "content/pages/home.de.md").write_text(HOME, encoding="utf-8")
    (root / "content/pages/thank-you.de.md").write_text(THANKS, encoding="utf-8")


@pytest.fixture(scope="module")
def german_root(tmp_path_factory):
    """The copy with German added, built against a form service port (the service starts later)."""
    code_before = tree_digest(*CODE)
    root = copy_site(tmp_path_factory.mktemp("german"))
    add_german(root)
    port = free_port()
    build_site(settings_file=root / "pelicanconf.py", output=root / "output", cwd=root,
               extra={"FORM_ENDPOINT": f'"http://127.0.0.1:{port}/join/{{slug}}"'})
    assert tree_digest(*CODE) == code_before
    return root, port


@pytest.fixture(scope="module")
def german_site(german_root):
    return german_root[0] / "output"


def test_german_tree_exists_with_german_interface_text(german_site):
    home = lxml.html.fromstring(read(german_site / "de/index.html"))
    assert home.get("lang") == "de"
    text = home.text_content()
    for word in ("Zum Inhalt springen", "Neueste Beiträge", "Alle Beiträge"):
        assert word in text
    assert home.xpath("//nav[@aria-label='Hauptnavigation']")
    assert (german_site / "de/blog/index.html").exists()
    assert (german_site / "de/netzwerke/suspacc/index.html").exists()


def test_german_dates_and_untranslated_posts(german_site):
    listing = lxml.html.fromstring(read(german_site / "de/blog/index.html"))
    link = listing.xpath("//article//h2/a[@href='/blog/de-kracht-van-samenwerken/']")
    assert link and link[0].get("hreflang") == "nl"
    assert "4. März 2019" in listing.text_content()


def test_other_languages_point_to_german(german_site):
    nl_home = lxml.html.fromstring(read(german_site / "index.html"))
    alts = dict((a.get("hreflang"), a.get("href")) for a in nl_home.xpath("//link[@hreflang]"))
    assert alts["de"] == "/de/"
    network = lxml.html.fromstring(read(german_site / "netwerken/suspacc/index.html"))
    assert "/de/netzwerke/suspacc/" in network.xpath("//link[@hreflang='de']/@href")


def test_a_language_without_a_home_page_is_a_clear_error(tmp_path):
    root = copy_site(tmp_path / "site")
    with open(root / "pelicanconf.py", "a", encoding="utf-8") as f:
        f.write(SETTINGS)
    po = root / "theme/translations/de/LC_MESSAGES/messages.po"
    po.parent.mkdir(parents=True)
    po.write_bytes((root / "theme/translations/en/LC_MESSAGES/messages.po").read_bytes())
    with pytest.raises(BuildFailed) as e:
        build_site(settings_file=root / "pelicanconf.py", output=root / "output", cwd=root)
    assert "de" in e.value.errors


# --- the form service on the German site -----------------------------------------------------

@pytest.fixture(scope="module")
def stack(german_root, tmp_path_factory):
    """The German site served; the form service started in the copy's folder, as an operator
    starts it there (no networks folder or language named: it reads the copy's pelicanconf.py);
    an SMTP server for its mails."""
    root, port = german_root
    tmp = tmp_path_factory.mktemp("german-service")
    smtp = SmtpServer().start()
    try:
        with serve_static(root / "output") as site_url:
            env = {k: v for k, v in os.environ.items() if not k.startswith("FORMSERVICE_")}
            env.update(FORMSERVICE_DATABASE_URL=f"sqlite:///{tmp}/formservice.sqlite3", FORMSERVICE_SITE_URL=site_url,
                       FORMSERVICE_SMTP_URL=smtp.url, FORMSERVICE_POLL_SECONDS="0.2", FORMSERVICE_RATE_PER_MINUTE="0",
                       FORMSERVICE_MAIL_FROM="KNN Advies <aanmelden@knnadvies.example>", PYTHONUNBUFFERED="1")
            service = ServiceProcess(["serve", "--port", str(port)], env, tmp / "service.log", cwd=root).start()
            try:
                service.wait_healthy(f"http://127.0.0.1:{port}")
                yield {"site": site_url, "service": f"http://127.0.0.1:{port}", "db": tmp / "formservice.sqlite3",
                       "smtp": smtp}
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
        return con.execute("SELECT network, lang FROM join_requests WHERE email = ?", (email,)).fetchall()


def fill(page, email, name="Anna Schmidt"):
    fill_join_form(page, email, name, "Beispiel GmbH", "Wir möchten gern mitmachen.", "Chemie")


def body_text(mail):
    part = mail.get_body(("plain",)) if mail.is_multipart() else mail
    return part.get_content()


@pytest.mark.browser
@pytest.mark.parametrize("javascript", [False, True], ids=["no-js", "js"])
def test_a_german_join_request_goes_through_in_german(browser, stack, javascript):
    email = f"anna.{'js' if javascript else 'nojs'}@beispiel.example"
    context = browser.new_context(java_script_enabled=javascript, locale="de-DE")
    page = context.new_page()
    page.goto(f"{stack['site']}/de/netzwerke/{NETWORK}/")
    assert page.get_attribute("html", "lang") == "de"
    fill(page, email)
    if javascript:
        page.click("form.join-form button[type=submit]")
        page.wait_for_selector(".join-done", timeout=15000)
        assert page.url == f"{stack['site']}/de/netzwerke/{NETWORK}/"
    else:
        with page.expect_navigation(timeout=15000):
            page.click("form.join-form button[type=submit]")
        assert page.url == f"{stack['site']}/de/danke/"
        assert "Danke" in page.text_content("h1")
    context.close()
    assert stored(stack["db"], email) == [(NETWORK, "de")]
    mails = stack["smtp"].mails_for(email)
    confirmation = next(m for m in mails if email in str(m["To"]))
    assert confirmation["Subject"].startswith("Wir haben Ihre Anfrage für")
    assert body_text(confirmation).startswith("Guten Tag,")
    notification = next(m for m in mails if email not in str(m["To"]))
    assert "Duits" in body_text(notification)  # the coordinator reads Dutch: the applicant's language, named


@pytest.mark.browser
def test_a_mistake_on_the_german_form_is_explained_in_german(browser, stack):
    context = browser.new_context(java_script_enabled=False, locale="de-DE")
    page = context.new_page()
    page.goto(f"{stack['site']}/de/netzwerke/{NETWORK}/")
    fill(page, "lang@beispiel.example", name="A" * 300)
    with page.expect_navigation(timeout=15000):
        page.click("form.join-form button[type=submit]")
    assert page.get_attribute("html", "lang") == "de"
    assert "Ihre Anfrage konnte nicht gesendet werden" in page.text_content("h1")
    assert "Verwenden Sie höchstens 200 Zeichen (hier sind es 300)." in page.text_content("body")
    back = page.get_attribute("a[href*='netzwerke']", "href")
    assert back.endswith(f"/de/netzwerke/{NETWORK}/")
    context.close()


def test_a_language_the_site_does_not_have_gets_the_default_language(stack):
    form = {"name": "X", "email": "x@beispiel.example", "organisation": "Y", "message": "Z", "consent": "on",
            "lang": "xx", "q_sector": "Chemie"}
    with httpx.Client() as client:
        ok = client.post(f"{stack['service']}/join/{NETWORK}", data=form, headers={"Origin": stack["site"]})
        bad = client.post(f"{stack['service']}/join/{NETWORK}", data={**form, "name": "A" * 300},
                          headers={"Origin": stack["site"]})
    assert ok.status_code == 303 and ok.headers["location"] == f"{stack['site']}/bedankt/"
    assert bad.status_code == 422
    assert lxml.html.fromstring(bad.text).get("lang") == "nl"


def test_the_browser_editor_has_a_german_pane(german_site):
    config = yaml.safe_load((german_site / "admin" / "config.yml").read_text(encoding="utf-8"))
    assert "de" in config["i18n"]["locales"]


def test_the_editors_tools_work_for_german(german_root):
    root = german_root[0]
    shutil.copy2(ROOT / "tasks.py", root / "tasks.py")

    def invoke(*args, ok=True):
        p = subprocess.run([sys.executable, "-m", "invoke", *args], cwd=root, capture_output=True, text=True,
                           timeout=300)
        assert (p.returncode == 0) == ok, p.stdout + p.stderr
        return p.stdout + p.stderr

    before = invoke("check")
    assert "check: 0 error(s)" in before and "no German translation yet" in before
    invoke("new-post", "Kooperation im Norden", "--lang", "de", "--date", "3-5-2025")
    post = root / "content/blog/kooperation-im-norden.md"
    assert "lang: de" in post.read_text(encoding="utf-8")
    invoke("translate", "kracht-van-samenwerken.nl.md", "--lang", "de", "--title", "Die Kraft der Zusammenarbeit")
    translation = (root / "content/blog/die-kraft-der-zusammenarbeit.md").read_text(encoding="utf-8")
    assert "lang: de" in translation and "translation_key: kracht-van-samenwerken" in translation
    after = invoke("check", ok=False)  # the two new German drafts still say TODO
    assert "content/blog/kooperation-im-norden.md:8:10: summary: summary still says TODO" in after
