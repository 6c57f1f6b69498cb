"""Editing in the browser: Decap CMS at /admin/ (plugins/decap), against the real decap-server.

The editor is served from the build (npm's decap-cms bundle), with its config made from
the settings and the network schema; in Chromium an editor writes a Dutch post and its
English translation and edits a network; decap-server writes them into a copy of the
tree; the build accepts them and shows the new pages.
"""

import io
import json
import os
import re
import subprocess
import threading
import time
import urllib.error
import urllib.parse
import urllib.request

import lxml.html
import pytest
import yaml

from sitebuild.build import build_site
from sitebuild.errors import BuildFailed
from core.networks import is_email, is_http_url
from core.networks import schema as network_schema
from tests.browser import chromium
from publishing.sitewide import headers_for
from tests.support import ROOT, copy_site, free_port, require, serve_static

DECAP_SERVER = ROOT / "node_modules" / ".bin" / "decap-server"


def front_matter(path):
    text = path.read_text(encoding="utf-8")
    assert text.startswith("---\n"), f"{path} has no YAML front matter"
    return yaml.safe_load(text.split("---\n")[1])


def build(root, **extra):
    return build_site(settings_file=root / "pelicanconf.py", output=root / "output", cwd=root,
                            extra={k: json.dumps(v) for k, v in extra.items()})


@pytest.fixture(scope="module")
def config(site):
    return yaml.safe_load((site / "admin" / "config.yml").read_text(encoding="utf-8"))


# --- the build -----------------------------------------------------------------------------

def test_every_build_serves_the_editor_from_itself(site):
    admin = site / "admin"
    page = lxml.html.fromstring((admin / "index.html").read_bytes())
    [start] = page.xpath("//script/@src")  # the one script of the page starts the editor
    assert re.fullmatch(r"/admin/start\.[0-9a-f]{10}\.js", start)
    scripts = json.loads(re.search(r"(\[[^\]]*\])\.forEach", (site / start.lstrip("/")).read_text()).group(1))
    assert [re.sub(r"\.[0-9a-f]{10}\.js$", ".js", src) for src in scripts] == ["/admin/decap-cms.js", "/admin/admin.js"]
    for src in scripts:
        assert (site / src.lstrip("/")).is_file()
    bundle = (site / scripts[0].lstrip("/")).read_bytes()
    shipped = (ROOT / "node_modules/decap-cms/dist/decap-cms.js").read_bytes()
    assert bundle == shipped and len(bundle) > 1_000_000
    # The chunks it loads on demand are there; no source maps.
    assert len(list(admin.glob("*.decap-cms.js"))) > 50 and not list(admin.glob("*.map"))
    assert page.xpath("//meta[@name='robots']/@content") == ["noindex"]
    # No public page loads or links the editor: its weight stays off the site's pages.
    for p in site.rglob("*.html"):
        if admin not in p.parents:
            html = p.read_text(encoding="utf-8")
            assert "decap-cms" not in html and "/admin/" not in html, p
    assert "/admin/" not in (site / "sitemap.xml").read_text(encoding="utf-8")


def test_config_follows_the_settings(config):
    from pelican.settings import read_settings

    settings = read_settings(str(ROOT / "pelicanconf.py"))
    langs = list(settings["LANGUAGES"])
    assert config["i18n"] == {"structure": "multiple_files", "locales": langs, "default_locale": langs[0]}
    assert config["local_backend"]["url"] == settings["DECAP_LOCAL_BACKEND"]
    blog, pages, networks = (next(c for c in config["collections"] if c["name"] == n)
                             for n in ("blog", "pages", "networks"))
    assert blog["folder"] == "content/" + settings["ARTICLE_PATHS"][0] and blog["format"] == "frontmatter"
    assert pages["folder"] == "content/" + settings["PAGE_PATHS"][0]
    assert networks["folder"] == "content/" + settings["NETWORKS_PATH"] and networks["extension"] == "yaml"
    fields = {f["name"]: f for f in blog["fields"]}
    assert {"title", "slug", "translation_key", "lang", "date", "tags", "networks", "summary", "body"} <= set(fields)
    assert fields["translation_key"]["i18n"] == "duplicate" and fields["lang"]["widget"] == "site-language"
    assert fields["networks"]["widget"] == "relation" and fields["networks"]["collection"] == "networks"
    # The share picture: uploads into content/images/, written as the build links them.
    assert config["media_folder"] == "content/images" and config["public_folder"] == "{static}/images"
    for collection in (blog, pages):
        share = {f["name"]: f for f in collection["fields"]}
        assert share["image"]["widget"] == "image" and share["image"]["required"] is False
        assert share["image_alt"]["widget"] == "site-image-alt" and share["image_alt"]["i18n"] is True


def test_published_build_has_no_local_backend(tmp_path):
    from pelican.settings import read_settings

    from decap.config import decap_config

    settings = read_settings(str(ROOT / "publishconf.py"))
    config = decap_config(settings, cwd=ROOT)
    assert "local_backend" not in config and config["backend"]["name"] == "github"
    assert config["backend"]["base_url"].startswith("https://")


def _field(fields, path):
    for name in path.split("."):
        field = next(f for f in fields if f["name"] == name)
        fields = field.get("fields", [])
    return field


def test_network_fields_refuse_what_the_build_refuses(config):
    languages = config["i18n"]["locales"]
    schema = network_schema(languages)
    fields = next(c for c in config["collections"] if c["name"] == "networks")["fields"]
    required = {f["name"] for f in fields if f.get("required", True)}
    assert required == set(schema["required"])
    assert [f["name"] for f in fields] == list(schema["properties"])
    assert _field(fields, "kind")["options"] == schema["properties"]["kind"]["enum"]
    assert [f["name"] for f in _field(fields, "name")["fields"]] == languages
    question = _field(fields, "join.questions")
    assert {f["name"]: f for f in question["fields"]}["type"]["widget"] == "select"

    def accepts(field, value):
        return re.search(field["pattern"][0], value) is not None  # the same regex in JavaScript

    email = _field(fields, "contact.email")
    for value in ("netwerken@knnadvies.nl", "a.b+c@x-y.example.org", "x@y", "a@@b.nl", "a b@c.nl", "@c.nl",
                  "a@c..nl", "a@-c.nl"):
        assert accepts(email, value) == is_email(value), value
    url = _field(fields, "website")
    for value in ("https://www.suspacc.nl", "http://x.nl:8080/a?b#c", "htp:/x", "https://localhost",
                  "https://-x.nl", "ftp://x.nl", "https://x.nl/a b", "https://a.b.c.example.org/"):
        assert accepts(url, value) == is_http_url(value), value
    qid = {f["name"]: f for f in question["fields"]}["id"]
    for value in ("sector", "q_2", "email", "consent", "Sector", "2x", "x-y"):
        ok = re.fullmatch(r"[a-z][a-z0-9_]*", value) and value not in ("name", "email", "organisation", "message",
                                                                        "consent", "lang", "_gotcha", "_next")
        assert accepts(qid, value) == bool(ok), value


def test_admin_alone_gets_the_editors_policy(site):
    public = dict(headers_for(site / "_headers", "/blog/"))
    admin = dict(headers_for(site / "_headers", "/admin/"))
    assert "'unsafe-inline'" not in public["Content-Security-Policy"]
    assert "'unsafe-eval'" not in public["Content-Security-Policy"]
    assert public["Cross-Origin-Opener-Policy"] == "same-origin"
    assert "style-src 'self' 'unsafe-inline'" in admin["Content-Security-Policy"]
    assert admin["Cross-Origin-Opener-Policy"] == "same-origin-allow-popups"
    assert admin["X-Frame-Options"] == "DENY"  # the sitewide rest still applies
    meta = lxml.html.fromstring((site / "admin/index.html").read_bytes()).xpath(
        "//meta[@http-equiv='Content-Security-Policy']/@content")[0]
    assert meta == admin["Content-Security-Policy"].replace("; frame-ancestors 'none'", "")


@pytest.mark.parametrize("setting, value, message", [
    ("DECAP_LOCAL_BACKEND", "http://0.0.0.0:8081/api/v1", "decap: DECAP_LOCAL_BACKEND must be None or decap-server's URL on loopback"),
    ("DECAP_BUNDLE", "node_modules/nothing", "decap: DECAP_BUNDLE: "),
    ("DECAP_BACKEND", {"name": "github", "repo": "no slash"}, "decap: DECAP_BACKEND['repo'] must be 'owner/name'"),
    ("DECAP_LOKAL_BACKEND", "x", "decap: unknown setting DECAP_LOKAL_BACKEND (did you mean 'DECAP_LOCAL_BACKEND'?)"),
])
def test_a_wrong_setting_stops_the_build_with_one_line(tmp_path, setting, value, message):
    root = copy_site(tmp_path / "site")
    with pytest.raises(BuildFailed) as failed:
        build(root, **{setting: value})
    assert message in failed.value.errors
    assert "Traceback" not in failed.value.errors
    assert not (root / "output").exists()


# --- in the browser, against decap-server --------------------------------------------------

@pytest.fixture(scope="module")
def editing(tmp_path_factory):
    """A copy of the tree served by the development server (`make serve`'s DevServer), which
    starts decap-server beside it (on loopback, at the settings' DECAP_LOCAL_BACKEND) and
    rebuilds when the editor saves."""
    from sitebuild.devserver import DevServer

    require(DECAP_SERVER.exists(), f"{DECAP_SERVER} (make build runs npm ci)")
    root = copy_site(tmp_path_factory.mktemp("decap") / "site")
    port = free_port()
    backend = f"http://127.0.0.1:{port}/api/v1"
    with open(root / "pelicanconf.py", "a", encoding="utf-8") as f:  # a free port, not 8081
        f.write(f"\nDECAP_LOCAL_BACKEND = {backend!r}\n")
    log = io.StringIO()
    server = DevServer(root, port=free_port(), forms=False, editor=True, out=log, debounce_ms=200)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    try:
        deadline = time.monotonic() + 120
        while True:
            try:
                urllib.request.urlopen(server.url, timeout=2).close()
                break
            except OSError:
                assert thread.is_alive() and time.monotonic() < deadline, log.getvalue()
                time.sleep(0.2)
        assert server.watcher.ready.wait(30)
        _wait_for(lambda: subprocess.run(["ss", "-Hltn", f"sport = :{port}"], capture_output=True,
                                         text=True).stdout.strip(), f"decap-server did not listen: {log.getvalue()}")
        yield root, server.url.rstrip("/"), backend, port
    finally:
        server.stop()
        thread.join(30)


def test_decap_server_listens_on_loopback_only(editing):
    root, url, backend, port = editing
    listening = subprocess.run(["ss", "-Hltn", f"sport = :{port}"], capture_output=True, text=True).stdout
    addresses = {line.split()[3].rsplit(":", 1)[0] for line in listening.splitlines()}
    assert addresses == {"127.0.0.1"}, listening


def _id_of_input_with_value(page, value):
    return page.evaluate("v => Array.from(document.querySelectorAll('input, textarea')).find(e => e.value === v).id",
                         value)


def _publish(page):
    page.get_by_role("button", name="Publiceer").click()
    try:
        page.get_by_text("Publiceer nu", exact=True).click(timeout=10000)
    except Exception:
        page.screenshot(path="/tmp/decap-play/shots/fail.png", full_page=True)
        raise


def _editor_page(browser):
    """A page for the editor that records CSP violations (RECORD_VIOLATIONS) and script errors."""
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    context.add_init_script(RECORD_VIOLATIONS)
    page = context.new_page()
    errors = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    return context, page, errors


def _new_dutch_post(page, admin, title, slug, key, date, summary, text):
    """A new post in the editor at `admin`, its Dutch side filled in (the English one left empty)."""
    page.goto(admin + "#/collections/blog/new")
    page.wait_for_selector("[data-site-language=en]")
    page.locator("input[id^=title-field-]").nth(0).fill(title)
    page.locator("input[id^=slug-field-]").nth(0).fill(slug)
    page.locator("input[id^=translation_key-field-]").nth(0).fill(key)
    page.locator("input[id^=date-field-]").nth(0).fill(date)
    page.locator("textarea[id^=summary-field-]").nth(0).fill(summary)
    page.locator("[contenteditable=true]").nth(0).click()
    page.keyboard.type(text)


def _wait_for(predicate, what, timeout=20):
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, what
        time.sleep(0.2)


RECORD_VIOLATIONS = ("window.__csp = []; document.addEventListener('securitypolicyviolation', "
                     "e => window.__csp.push(e.violatedDirective + ' ' + e.blockedURI));")


@pytest.mark.browser
def test_write_translate_and_edit_a_network_in_the_browser(editing):
    root, url, backend, port = editing
    blog, networks = root / "content" / "blog", root / "content" / "networks"
    with chromium() as browser:
        context, page, errors = _editor_page(browser)
        response = page.goto(url + "/admin/")
        assert "'unsafe-inline'" in response.headers["content-security-policy"]
        page.get_by_role("button", name="Inloggen").click()  # decap-server: no password

        # A Dutch post and its English translation, side by side.
        page.goto(url + "/admin/#/collections/blog/new")
        page.wait_for_selector("[data-site-language=en]")
        nl, en = "input[id^={}-field-]", "input[id^={}-field-]"
        title_nl, title_en = page.locator(nl.format("title")).nth(0), page.locator(en.format("title")).nth(1)
        title_nl.fill("Proef: schrijven in de browser")
        page.locator(nl.format("slug")).nth(0).fill("schrijven-in-de-browser")
        page.locator(nl.format("translation_key")).nth(0).fill("schrijven-in-de-browser")
        page.locator(nl.format("date")).nth(0).fill("2025-05-03")
        page.locator(nl.format("author")).nth(0).fill("Jelmer")
        page.locator(nl.format("tags")).nth(0).fill("samenwerking, netwerken")
        page.locator("textarea[id^=summary-field-]").nth(0).fill(
            "Een bericht dat in de browser is geschreven: zonder terminal en zonder teksteditor, met een "
            "samenvatting die langer is dan één regel van tachtig tekens.")
        page.locator("[contenteditable=true]").nth(0).click()
        page.keyboard.type("Dit bericht is in de browser geschreven.")
        networks_input = page.locator("input[id^=networks-field-]").nth(0)
        networks_input.click()
        networks_input.type("SUSPACC")
        page.get_by_text("SUSPACC", exact=True).last.click()
        title_en.fill("Trial: writing in the browser")
        page.locator(en.format("slug")).nth(1).fill("writing-in-the-browser")
        page.locator(en.format("tags")).nth(1).fill("collaboration, networks")
        page.locator("textarea[id^=summary-field-]").nth(1).fill("A post written in the browser.")
        page.locator("[contenteditable=true]").nth(1).click()
        page.keyboard.type("This post was written in the browser.")
        _publish(page)
        nl_file, en_file = blog / "schrijven-in-de-browser.nl.md", blog / "schrijven-in-de-browser.en.md"
        _wait_for(lambda: nl_file.exists() and en_file.exists(), "decap-server wrote no post files")

        # A post in Dutch only: no file for the language nobody wrote in.
        _new_dutch_post(page, url + "/admin/?dutch-only", "Alleen in het Nederlands", "alleen-in-het-nederlands",
                        "alleen-nederlands", "2025-05-04", "Een bericht zonder vertaling.", "Alleen Nederlands.")
        _publish(page)
        dutch_only = blog / "alleen-nederlands.nl.md"
        _wait_for(dutch_only.exists, "decap-server wrote no Dutch-only post")

        # A network: another region text. (A fresh page: Decap keeps a just-created entry's
        # form state when another entry is opened in the same page.)
        page.goto(url + "/admin/?network#/collections/networks/entries/suspacc")
        page.wait_for_function("() => Array.from(document.querySelectorAll('input'))"
                               ".some(e => e.value === 'Zuidoost-Drenthe, rond Emmen')")
        page.wait_for_timeout(1000)  # the entry is shown before it has settled: a value typed earlier is lost
        region = _id_of_input_with_value(page, "Zuidoost-Drenthe, rond Emmen")
        page.fill(f"#{region}", "Zuidoost-Drenthe, in en rond Emmen")
        page.get_by_text("Niet-opgeslagen wijzigingen").wait_for()
        _publish(page)
        network_file = networks / "suspacc.yaml"
        _wait_for(lambda: "in en rond Emmen" in network_file.read_text(encoding="utf-8"),
                  "decap-server did not save the network")
        violations = page.evaluate("window.__csp")
        context.close()
    assert violations == [] and errors == [], (violations, errors)

    nl_meta, en_meta = front_matter(nl_file), front_matter(en_file)
    assert nl_meta["lang"] == "nl" and en_meta["lang"] == "en"
    assert nl_meta["translation_key"] == en_meta["translation_key"] == "schrijven-in-de-browser"
    assert nl_meta["tags"] == ["samenwerking", "netwerken"] and en_meta["networks"] == ["suspacc"]
    assert str(nl_meta["date"]) == str(en_meta["date"]) == "2025-05-03" and en_meta["author"] == "Jelmer"
    assert front_matter(dutch_only)["lang"] == "nl" and not (blog / "alleen-nederlands.en.md").exists()

    # The files pass the editors' check, and the development server, which rebuilt when
    # decap-server saved them, shows the new pages, linked.
    from tools import editor

    out = io.StringIO()
    assert editor.run_check(site=editor.Site(root / "pelicanconf.py"), out=out, err=out) == 0, out.getvalue()

    def page(path):
        try:
            with urllib.request.urlopen(url + path, timeout=10) as r:
                return r.read().decode("utf-8").replace("\xa0", " ").replace("&nbsp;", " ")
        except urllib.error.HTTPError:
            return None

    _wait_for(lambda: page("/en/blog/writing-in-the-browser/") and "in en rond Emmen" in (
        page("/netwerken/suspacc/") or ""), "the development server did not show the new pages", timeout=90)
    dutch, english = page("/blog/schrijven-in-de-browser/"), page("/en/blog/writing-in-the-browser/")
    assert "<title>Proef: schrijven in de browser" in dutch and "Dit bericht is in de browser geschreven." in dutch
    assert 'hreflang="en" href="/en/blog/writing-in-the-browser/"' in dutch
    assert "This post was written in the browser." in english
    assert page("/blog/alleen-in-het-nederlands/") and page("/en/blog/alleen-in-het-nederlands/") is None
    network_page = page("/netwerken/suspacc/")
    assert "Zuidoost-Drenthe, in en rond Emmen" in network_page
    assert "/blog/schrijven-in-de-browser/" in network_page  # the post names the network


def _choose_picture(page, button, upload=None, existing=None):
    """Decap's media library, opened by `button`: upload a file (it is then selected) or pick
    one already there, then use it."""
    button.click()
    library = page.locator("input[type=file]")
    library.wait_for(state="attached")
    if upload:
        library.set_input_files(str(upload))
    else:
        page.get_by_text(existing, exact=True).first.click()
    choose = page.get_by_role("button", name="Gebruik selectie")
    choose.wait_for()
    page.wait_for_function("() => Array.from(document.querySelectorAll('button'))"
                           ".some(b => b.textContent.trim() === 'Gebruik selectie' && !b.disabled)", timeout=20000)
    choose.click()


@pytest.mark.browser
def test_a_picture_uploaded_in_the_editor_is_shown_and_published_light(editing, tmp_path):
    """An editor uploads a phone photo as a post's share picture and puts it in the text: Decap
    shows it in its preview, decap-server writes it into content/images/, the check accepts
    the post and the rebuilt page serves it as a <picture>, with the share picture made."""
    from PIL import Image

    from bench.images import phone_photo

    root, url, backend, port = editing
    images, blog = root / "content" / "images", root / "content" / "blog"
    photo = tmp_path / "Bijeenkomst Emmen.jpg"  # as a phone names it; Decap makes it a web name
    im, exif = phone_photo(1600, 1200, seed=5)
    im.save(photo, "JPEG", quality=85, exif=exif)
    uploaded = images / "bijeenkomst-emmen.jpg"
    assert not uploaded.exists()

    with chromium() as browser:
        context, page, errors = _editor_page(browser)
        page.goto(url + "/admin/?picture")
        page.get_by_role("button", name="Inloggen").click()
        _new_dutch_post(page, url + "/admin/?picture", "Een foto uit de browser", "een-foto-uit-de-browser",
                        "foto-uit-de-browser", "2025-05-05", "Een bericht met een foto, geüpload in de browser.",
                        "Zo zag de bijeenkomst eruit.")

        # The share picture, uploaded through the image field's media library: shown at once.
        _choose_picture(page, page.get_by_role("button", name="Kies een afbeelding").first, upload=photo)
        loaded = "() => Array.from(document.querySelectorAll('img')).filter(i => i.naturalWidth > 0).length"
        page.wait_for_function(loaded + " >= 1")

        # Without its description the editor refuses to publish (the build would refuse the post).
        page.get_by_role("button", name="Publiceer").click()
        page.get_by_text("Publiceer nu", exact=True).click()
        page.get_by_text("Beschrijf de deelafbeelding: wat is erop te zien?").first.wait_for()
        del errors[:]  # Decap's own Promise.reject() when a field is refused, unhandled
        page.locator("input[id^=image_alt-field-]").nth(0).fill("Deelnemers aan de bijeenkomst in Emmen")

        # The same picture in the text, through the Markdown editor's image component.
        page.locator("[contenteditable=true]").nth(0).click()
        page.keyboard.press("End")
        page.keyboard.press("Enter")
        page.get_by_role("button", name="Voeg component toe").first.click()
        page.get_by_role("menuitem", name="Afbeelding").first.click()  # the component, in Dutch
        # Only pictures of the site: no "insert from URL" (the site refuses pictures from elsewhere)
        assert page.get_by_role("button", name="Voeg toe via URL").count() == 0
        _choose_picture(page, page.get_by_role("button", name="Kies een afbeelding", exact=True).first,
                        existing="bijeenkomst-emmen.jpg")
        page.locator("input[id^=alt-field-]").first.fill("De zaal in Emmen")

        # Decap's preview shows both, before anything is saved.
        page.get_by_role("button", name="Wissel voorvertoning").click()
        page.frame_locator("#preview-pane").get_by_alt_text("De zaal in Emmen").wait_for()
        frame = page.frame_locator("#preview-pane").locator("body")

        def preview_images():
            return frame.evaluate("body => Array.from(body.querySelectorAll('img')).map(i => [i.alt, i.naturalWidth])")

        try:
            _wait_for(lambda: [i for i in preview_images() if i[1] > 0] == [["", 1200], ["De zaal in Emmen", 1200]],
                      "the preview does not show the pictures")
        except AssertionError:
            raise AssertionError(preview_images()) from None

        _publish(page)
        post = blog / "foto-uit-de-browser.nl.md"
        _wait_for(lambda: post.exists() and uploaded.exists(), "decap-server wrote no post or picture")
        violations = page.evaluate("window.__csp")
        context.close()
    assert violations == [] and errors == [], (violations, errors)

    # The upload is the file as it was (the build makes it light), in content/images/.
    assert uploaded.read_bytes() == photo.read_bytes()
    meta = front_matter(post)
    assert meta["image"] == "{static}/images/bijeenkomst-emmen.jpg"
    assert meta["image_alt"] == "Deelnemers aan de bijeenkomst in Emmen"
    assert "![De zaal in Emmen]({static}/images/bijeenkomst-emmen.jpg)" in post.read_text(encoding="utf-8")
    assert not (blog / "foto-uit-de-browser.en.md").exists()

    from tools import editor

    out = io.StringIO()
    assert editor.run_check(site=editor.Site(root / "pelicanconf.py"), out=out, err=out) == 0, out.getvalue()

    def get(path):
        try:
            with urllib.request.urlopen(url + path, timeout=10) as r:
                return r.read()
        except urllib.error.HTTPError:
            return None

    _wait_for(lambda: get("/blog/een-foto-uit-de-browser/"), "the development server did not show the post",
              timeout=90)
    doc = lxml.html.fromstring(get("/blog/een-foto-uit-de-browser/"))
    picture = doc.xpath("//main//picture")
    assert picture, "the picture in the text is no <picture>"
    # (.// : libxml2's HTML parser nests the <source> elements, which it does not know as empty.)
    assert picture[0].xpath(".//source/@type") == ["image/avif", "image/webp"]
    assert picture[0].xpath(".//img/@alt") == ["De zaal in Emmen"]
    assert picture[0].xpath(".//img/@height") == ["1600"]  # upright, as the phone held it
    og = doc.xpath("//meta[@property='og:image']/@content")[0]
    assert re.search(r"/images/bijeenkomst-emmen\.\w{10}\.og\.jpg$", og), og
    assert doc.xpath("//meta[@property='og:image:alt']/@content") == ["Deelnemers aan de bijeenkomst in Emmen"]
    with Image.open(io.BytesIO(get(urllib.parse.urlsplit(og).path))) as shared:
        assert shared.size == (1200, 630) and not shared.getexif()


@pytest.mark.browser
def test_the_editor_refuses_to_run_inside_another_pages_frame(site):
    """Served as GitHub Pages serves it (no headers, so no frame-ancestors): framed by a page
    of another origin, /admin/ says it opens only in a window of its own and loads nothing
    of Decap, so there is nothing to trick an editor into clicking; in its own window it starts."""
    (site.parent / "other").mkdir(exist_ok=True)
    with serve_static(site) as url, serve_static(site.parent / "other") as other_url:  # two origins
        (site.parent / "other" / "index.html").write_text(
            f'<!DOCTYPE html><title>x</title><iframe src="{url}/admin/" width="800" height="600"></iframe>',
            encoding="utf-8")
        with chromium() as browser:
            context = browser.new_context()
            loaded = []
            context.on("request", lambda r: loaded.append(r.url) if "decap-cms" in r.url else None)
            page = context.new_page()
            page.goto(other_url + "/")
            frame = page.frame_locator("iframe")
            frame.locator("body").wait_for()
            assert "alleen in een eigen venster" in frame.locator("body").inner_text(timeout=10000)
            assert loaded == []
            own = context.new_page()
            own.goto(url + "/admin/")
            own.get_by_role("button", name="Inloggen").wait_for(timeout=30000)
            assert loaded, "in its own window the editor loads"
            context.close()


@pytest.mark.browser
@pytest.mark.parametrize("browser_language", ["nl-NL", "en-US"])
def test_dates_are_typed_and_shown_day_first_and_the_editor_speaks_dutch(editing, browser_language):
    """An editor types a date as a Dutch editor does (05122025: 5 December 2025) in a Dutch or
    an English browser: it shows as 5-12-2025 and is saved as 2025-12-05, never 1905; an
    impossible date is refused with a Dutch message. Decap's own words are Dutch too."""
    root, url, backend, port = editing
    key = f"datum-{browser_language.lower()}"
    with chromium() as browser:
        context = browser.new_context(locale=browser_language, viewport={"width": 1400, "height": 1000})
        page = context.new_page()
        page.goto(url + "/admin/")
        page.get_by_role("button", name="Inloggen").click()
        _new_dutch_post(page, url + "/admin/", f"Datum in {browser_language}", key, key, "31-02-2025",
                        "Een bericht om te zien hoe een datum wordt gelezen en bewaard, dag eerst.", "Tekst.")
        date = page.locator("input[id^=date-field-]").nth(0)
        assert date.get_attribute("type") == "text"
        page.get_by_role("button", name="Publiceer").click()
        page.get_by_text("Publiceer nu", exact=True).click()
        page.get_by_text("Schrijf de datum als dag-maand-jaar, bijvoorbeeld 3-5-2025.").first.wait_for()
        date.fill("05122025")
        date.press("Tab")
        assert date.input_value() == "5-12-2025"
        shown = page.locator("body").inner_text()
        for english in ("Fill in from another locale", "Code Block", "Alt Text"):
            assert english not in shown, english
        _publish(page)
        post = root / "content" / "blog" / f"{key}.nl.md"
        _wait_for(post.exists, f"{post} was not saved")
        context.close()
    text = post.read_text(encoding="utf-8")
    assert re.search(r"^date: ['\"]?2025-12-05['\"]?$", text, re.M), text


def test_every_phrase_of_decaps_english_interface_has_a_dutch_one():
    """Decap's Dutch locale lacks some phrases; plugins/decap/phrases/nl.json adds them, so the
    Dutch interface shows no English (read from decap-cms-locales' sources by Node)."""
    script = """
const fs = require("fs");
const load = l => { const src = fs.readFileSync(process.argv[1] + "/" + l + "/index.js", "utf8")
  .replace(/export default \\w+;?/, "").replace(/^const (\\w+) =/m, "globalThis.__x ="); eval(src); return globalThis.__x; };
const keys = (o, p) => Object.keys(o).flatMap(k => typeof o[k] === "object" ? keys(o[k], p + k + ".") : [p + k]);
console.log(JSON.stringify({en: keys(load("en"), ""), nl: keys(load("nl"), "")}));
"""
    sources = ROOT / "node_modules" / "decap-cms-locales" / "src"
    require(sources.is_dir(), "node_modules/decap-cms-locales (npm ci)")
    found = json.loads(subprocess.run(["node", "-e", script, str(sources)], capture_output=True, text=True,
                                      check=True).stdout)

    def keys(data, prefix=""):
        return [k for key, value in data.items()
                for k in (keys(value, f"{prefix}{key}.") if isinstance(value, dict) else [f"{prefix}{key}"])]

    ours = keys(json.loads((ROOT / "plugins" / "decap" / "phrases" / "nl.json").read_text(encoding="utf-8")))
    assert set(found["en"]) - set(found["nl"]) - set(ours) == set()


def test_the_editors_guide_names_the_buttons_as_the_dutch_editor_shows_them():
    """Every button or label the Dutch guide names in *italics* in its browser section is a text
    of the Dutch interface: Decap's Dutch locale (with the collections' names filled in), the
    phrases the site adds, the site's own field labels and components."""
    script = """
const fs = require("fs");
const src = fs.readFileSync(process.argv[1], "utf8").replace(/export default \\w+;?/, "")
  .replace(/^const (\\w+) =/m, "globalThis.__x ="); eval(src);
const values = o => Object.values(o).flatMap(v => typeof v === "object" ? values(v) : [v]);
console.log(JSON.stringify(values(globalThis.__x)));
"""
    locale = ROOT / "node_modules" / "decap-cms-locales" / "src" / "nl" / "index.js"
    require(locale.is_file(), "node_modules/decap-cms-locales (npm ci)")
    texts = json.loads(subprocess.run(["node", "-e", script, str(locale)], capture_output=True, text=True,
                                      check=True).stdout)
    from decap.config import TEXT

    def values(data):
        return [v for value in data.values() for v in (values(value) if isinstance(value, dict) else [value])]

    texts += values(json.loads((ROOT / "plugins" / "decap" / "phrases" / "nl.json").read_text(encoding="utf-8")))
    texts += [str(v) for v in TEXT["nl"].values()]
    shown = set()
    for text in texts:
        for label in ("Bericht", "Pagina", "Netwerk", "Blog", "Pagina's", "Netwerken"):
            shown.add(text.replace("%{collectionLabel}", label).replace("%{label}", label))
    guide = (ROOT / "docs" / "redacteuren.md").read_text(encoding="utf-8")
    section = guide.split("## In de browser", 1)[1].split("\n## ", 1)[0]
    terms = re.findall(r"(?<![*\w])\*(?=\S)([^*\n]+?)(?<=\S)\*(?![*\w])", section)
    named = [part.strip() for term in terms if len(term) > 1 for part in term.split("→")]
    assert named, "the guide names no buttons"
    missing = [n for n in named if not any(n == s or n == s.rstrip(".…") for s in shown)]
    assert not missing, f"named in the guide, not shown by the editor: {missing}"
