"""Production serving, as the README deploys it: `make publish` in a clean copy of the tree,
its output served by real nginx with deploy/nginx-site.conf, join requests through real nginx
with deploy/nginx-formservice.conf to a running `formservice serve --trust-proxy`, and the
systemd unit checked by systemd-analyze. nginx runs as a plain process on 127.0.0.1 with a
throwaway certificate (tests/nginx.py); Chromium reaches www.knnadvies.nl and
forms.knnadvies.nl at those loopback ports through its host resolver rules.
"""

import sqlite3
import subprocess
from pathlib import Path

import httpx
import pytest

from tests.browser import CHROMIUM_ARGS, chromium
from tests.entrypoints.conftest import Started, clean_env, wait_until
from tests.formservice.conftest import SmtpServer
from tests.nginx import Nginx, localize, self_signed
from publishing.sitewide import headers_for
from tests.support import IN_CI, ROOT, free_port, require_executable


SITE_HOST, FORMS_HOST = "www.knnadvies.nl", "forms.knnadvies.nl"
DEPLOY = sorted((ROOT / "deploy").glob("*.conf"))


def declared_headers(output):
    """The headers output/_headers gives every path (what Netlify or Cloudflare Pages would send)."""
    return dict(headers_for(output / "_headers", "/*"))


@pytest.fixture(scope="module")
def published(clean_tree):
    clean_tree.reset()
    p = clean_tree.run("make", "publish", timeout=900)
    assert p.returncode == 0, p.stdout[-3000:] + p.stderr[-3000:]
    output = clean_tree.path / "output"
    assert (output / "index.html").is_file() and (output / "_headers").is_file()
    return clean_tree


@pytest.fixture(scope="module")
def production(published, tmp_path_factory):
    """nginx (site and form service blocks) in front of `formservice serve --trust-proxy`."""
    tmp = tmp_path_factory.mktemp("production")
    cert = self_signed(tmp / "tls", names=(SITE_HOST, FORMS_HOST))
    ports = {name: free_port() for name in ("site", "site_http", "forms", "forms_http", "service")}
    smtp = SmtpServer().start()
    database = tmp / "formservice.sqlite3"
    env = clean_env(FORMSERVICE_DATABASE_URL=f"sqlite:///{database}", FORMSERVICE_SMTP_URL=smtp.url,
                    FORMSERVICE_SITE_URL=f"https://{SITE_HOST}", FORMSERVICE_ALLOWED_ORIGINS=f"https://{SITE_HOST}",
                    FORMSERVICE_NETWORKS_DIR=str(published.path / "content" / "networks"),
                    FORMSERVICE_MAIL_FROM="KNN Advies <aanmelden@knnadvies.example>", PYTHONUNBUFFERED="1")
    service = Started([str(published.path / ".venv/bin/formservice"), "serve", "--host", "127.0.0.1",
                       "--port", str(ports["service"]), "--trust-proxy"], published.path, tmp / "service.log", env)
    blocks = [localize(ROOT / "deploy/nginx-site.conf", ports["site"], ports["site_http"], cert,
                       root=published.path / "output"),
              localize(ROOT / "deploy/nginx-formservice.conf", ports["forms"], ports["forms_http"], cert,
                       upstream_port=ports["service"])]
    nginx = Nginx(tmp / "nginx", blocks)
    try:
        wait_until(lambda: service_healthy(ports["service"]) or service.proc.poll() is not None, 60,
                   "the form service")
        assert service.proc.poll() is None, service.output()
        nginx.start(wait_for_port=ports["site"])
        yield {"ports": ports, "output": published.path / "output", "database": database, "smtp": smtp,
               "service": service, "nginx": nginx}
    finally:
        nginx.stop()
        service.stop()
        smtp.stop()


def service_healthy(port):
    try:
        return httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=2).status_code == 200
    except httpx.HTTPError:
        return False


def site(production, path, **kw):
    return httpx.get(f"https://127.0.0.1:{production['ports']['site']}{path}", verify=False,
                     headers={"Host": SITE_HOST, **kw.pop("headers", {})}, **kw)


@pytest.mark.parametrize("conf", DEPLOY, ids=lambda p: p.name)
def test_nginx_accepts_every_shipped_block(conf, tmp_path):
    cert = self_signed(tmp_path / "tls")
    text = conf.read_text(encoding="utf-8")
    block = localize(conf, free_port(), free_port(), cert,
                     root=tmp_path if "root /srv/knn-site/output;" in text else None,
                     upstream_port=free_port() if "server 127.0.0.1:8080" in text else None)
    ok, output = Nginx(tmp_path / "nginx", [block]).test_config()
    assert ok, output


def test_nginx_t_finds_a_planted_mistake(tmp_path):
    """The check above can fail: a misspelt directive in a copy of the site block."""
    cert = self_signed(tmp_path / "tls")
    block = localize(ROOT / "deploy/nginx-site.conf", free_port(), free_port(), cert, root=tmp_path)
    ok, output = Nginx(tmp_path / "nginx", [block.replace("gzip_vary on;", "gzip_vary onn;")]).test_config()
    assert not ok and "gzip_vary" in output


def test_html_has_the_declared_headers_and_is_revalidated(production):
    r = site(production, "/", headers={"Accept-Encoding": "gzip"})
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/html")
    assert r.headers["content-encoding"] == "gzip"
    assert r.content == (production["output"] / "index.html").read_bytes()  # httpx decompressed it
    for name, value in declared_headers(production["output"]).items():
        assert r.headers.get(name) == value, name
    assert r.headers["cache-control"] == "no-cache"
    assert r.headers["server"] == "nginx", "server_tokens off: no version"
    assert "Referrer-Policy" in declared_headers(production["output"])
    assert r.headers["referrer-policy"] != "no-referrer"  # the join form needs a real Origin


def test_fingerprinted_assets_are_immutable_and_keep_the_headers(production):
    css = next((production["output"] / "theme" / "css").glob("main.*.css"))
    r = site(production, "/theme/css/" + css.name, headers={"Accept-Encoding": "gzip"})
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/css")
    assert r.headers["cache-control"] == "public, max-age=31536000, immutable"
    assert r.headers["content-encoding"] == "gzip" and r.content == css.read_bytes()
    for name, value in declared_headers(production["output"]).items():
        assert r.headers.get(name) == value, name
    logo = site(production, "/theme/images/logo.svg")  # not fingerprinted: revalidated
    assert logo.status_code == 200 and logo.headers["content-type"] == "image/svg+xml"
    assert logo.headers["cache-control"] == "no-cache"


def test_the_images_plugins_pictures_are_immutable_with_their_types(production):
    """The names the images plugin gives its files (photo.<hash>.<width>.<format>, og) are cached
    for a year and answered with their image types; a picture under a plain name is revalidated.
    (This site's content has no raster picture yet: the files are placed in the served tree.)"""
    from plugins.images.plugin import Published
    from plugins.images.process import Processed, Variant

    variants = [Variant(800, 600, f, f"800.{f}", 1) for f in ("avif", "webp", "jpeg", "png")]
    made = Published("images/nginx-test/photo.jpg", Processed(
        "0123456789abcdef", 4032, 3024, tuple(variants), "jpeg", Variant(1200, 630, "jpeg", "og.jpg", 1), "", False), "")
    kinds = {"avif": "image/avif", "webp": "image/webp", "jpeg": "image/jpeg", "png": "image/png"}
    folder = production["output"] / "images" / "nginx-test"
    folder.mkdir(parents=True, exist_ok=True)
    for v in made.files():
        path = made.save_as(v)
        (production["output"] / path).write_bytes(b"picture bytes " + path.encode())
        r = site(production, "/" + path)
        assert r.status_code == 200 and r.headers["content-type"] == kinds[v.format], path
        assert r.headers["cache-control"] == "public, max-age=31536000, immutable", path
        assert r.content == (production["output"] / path).read_bytes()
    (folder / "photo.jpg").write_bytes(b"an original under its own name")
    assert site(production, "/images/nginx-test/photo.jpg").headers["cache-control"] == "no-cache"


def test_addresses_redirects_and_the_404_pages(production):
    r = site(production, "/blog")
    assert r.status_code == 301 and r.headers["location"] == "/blog/"
    assert site(production, "/blog/").status_code == 200
    for path, lang in (("/bestaat-niet/", "nl"), ("/en/does-not-exist/", "en")):
        r = site(production, path)
        assert r.status_code == 404 and f'<html lang="{lang}"' in r.text, path
        assert r.headers["content-security-policy"] == declared_headers(production["output"])[
            "Content-Security-Policy"]
    for private in ("/.build-stamp", "/_headers"):
        assert site(production, private).status_code == 404, private
    plain = httpx.get(f"http://127.0.0.1:{production['ports']['site_http']}/over-ons/", headers={"Host": SITE_HOST})
    assert plain.status_code == 301 and plain.headers["location"] == f"https://{SITE_HOST}/over-ons/"


def join(production, email, forwarded_for=None, lang="nl", source="127.0.0.1"):
    headers = {"Host": FORMS_HOST, "Origin": f"https://{SITE_HOST}", "Accept": "application/json",
               "Accept-Language": lang}
    if forwarded_for:
        headers["X-Forwarded-For"] = forwarded_for
    form = {"name": "Anne de Vries", "email": email, "organisation": "Voorbeeld BV", "message": "Graag!",
            "consent": "on", "lang": lang}
    # `source`: the client's own address; the limit is per client (the Chromium test joins from 127.0.0.1)
    with httpx.Client(transport=httpx.HTTPTransport(local_address=source, verify=False), timeout=10) as client:
        return client.post(f"https://127.0.0.1:{production['ports']['forms']}/join/suspacc", data=form,
                           headers=headers)


def stored(database, email):
    with sqlite3.connect(database) as con:
        return con.execute("SELECT network FROM join_requests WHERE email = ?", (email,)).fetchall()


def test_a_join_request_through_nginx_is_stored_and_x_forwarded_for_cannot_lift_the_limit(production):
    first = join(production, "nginx.1@voorbeeld.example")
    assert first.status_code == 201, first.text
    assert stored(production["database"], "nginx.1@voorbeeld.example") == [("suspacc",)]
    answers = [join(production, f"nginx.{i}@voorbeeld.example", forwarded_for=f"198.51.100.{i}", source="127.0.0.3")
               for i in range(2, 12)]
    limited = [r for r in answers if r.status_code == 429]
    assert limited, [r.status_code for r in answers]
    assert all(r.status_code in (201, 429) for r in answers), [r.status_code for r in answers]
    assert int(limited[0].headers["retry-after"]) > 0
    assert "Te veel aanvragen" in limited[0].text, limited[0].text  # says why, in Dutch
    assert limited[0].headers["server"] == "nginx"


def test_the_published_site_in_chromium_through_nginx(production):
    """The production build as visitors get it: styles, no CSP violation, a join without JavaScript."""
    ports = production["ports"]
    rules = (f"--host-resolver-rules=MAP {SITE_HOST} 127.0.0.1:{ports['site']}, "
             f"MAP {FORMS_HOST} 127.0.0.1:{ports['forms']}, MAP * ~NOTFOUND, EXCLUDE 127.0.0.1")
    args = [a for a in CHROMIUM_ARGS if not a.startswith("--host-resolver-rules")] + [rules]
    with chromium(args=args) as browser:
        context = browser.new_context(ignore_https_errors=True, java_script_enabled=False)
        page = context.new_page()
        problems = []
        page.on("requestfailed", lambda r: problems.append(f"failed: {r.url} {r.failure}"))
        page.on("console", lambda m: problems.append(f"console: {m.text}") if m.type == "error" else None)
        page.goto(f"https://{SITE_HOST}/netwerken/biocooperatie-noord-nederland/")
        assert page.evaluate("getComputedStyle(document.body).backgroundColor") == "rgb(253, 252, 248)"
        page.fill("#join-name", "Anne de Vries")
        page.fill("#join-email", "chromium.nginx@voorbeeld.example")
        page.fill("#join-organisation", "Voorbeeld BV")
        page.check("#join-consent")
        with page.expect_navigation():
            page.click("form.join-form button[type=submit]")
        assert page.url == f"https://{SITE_HOST}/bedankt/"
        assert problems == [], problems
        context.close()
    assert stored(production["database"], "chromium.nginx@voorbeeld.example")


def test_the_systemd_unit_verifies(published, tmp_path):
    analyze = "/usr/bin/systemd-analyze"
    if not Path(analyze).exists():
        require_executable(analyze, "systemd-analyze (apt-get install systemd)") if IN_CI else pytest.skip(
            "systemd-analyze is not on this machine")
    unit = (ROOT / "deploy/formservice.service").read_text(encoding="utf-8")
    env_file = tmp_path / "formservice.env"
    env_file.write_text("FORMSERVICE_SITE_URL=https://www.knnadvies.nl\n", encoding="utf-8")
    local = unit.replace("/srv/knn-site", str(published.path)).replace("/etc/formservice.env", str(env_file))
    assert local != unit
    good = tmp_path / "formservice.service"
    good.write_text(local, encoding="utf-8")
    p = subprocess.run([analyze, "verify", str(good)], capture_output=True, text=True)
    assert p.returncode == 0 and str(good) not in p.stderr, p.stderr
    bad = tmp_path / "planted.service"
    bad.write_text(local.replace(f"{published.path}/.venv/bin/formservice", "/nonexistent/formservice"),
                   encoding="utf-8")
    p = subprocess.run([analyze, "verify", str(bad)], capture_output=True, text=True)
    assert p.returncode != 0 and "/nonexistent/formservice" in p.stderr



def test_the_editor_at_admin_gets_its_own_policy_through_nginx(production):
    """/admin/ (Decap CMS) has the headers of the `/admin/*` block of _headers; nothing else does."""

    output = production["output"]
    admin = site(production, "/admin/")
    assert admin.status_code == 200 and b"decap-cms." in admin.content
    declared = dict(headers_for(output / "_headers", "/admin/"))
    for name in ("Content-Security-Policy", "Cross-Origin-Opener-Policy"):
        assert admin.headers[name] == declared[name], name
    assert "'unsafe-eval'" in admin.headers["Content-Security-Policy"]
    home = site(production, "/")
    assert home.headers["Content-Security-Policy"] == declared_headers(output)["Content-Security-Policy"]
