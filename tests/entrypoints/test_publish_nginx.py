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

from publishing.sitewide import headers_for

from tests.browser import CHROMIUM_ARGS, chromium
from tests.entrypoints.conftest import Started, clean_env, wait_until
from tests.formservice.conftest import SmtpServer
from tests.nginx import Nginx, localize, self_signed
from tests.github import CLIENT_ID, CLIENT_SECRET, TOKEN, FakeGitHub, FakeGitHubAPI
from tests.support import IN_CI, ROOT, free_port, require_executable


SITE_HOST, FORMS_HOST = "www.knnadvies.nl", "forms.knnadvies.nl"
API_HOST, OTHER_HOST = "api.github.com", "elders.example"
# A page on another origin that opens the sign-in pop-up, as a clickjacker or phisher would,
# and records every message it gets.
OTHER_SITE = """<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>other</title></head><body>
<button id="login">Sign in</button><script>
window.got = [];
window.addEventListener("message", function (e) { window.got.push(String(e.data)); });
document.getElementById("login").addEventListener("click", function () {
  window.open("https://forms.knnadvies.nl/auth?provider=github&site_id=www.knnadvies.nl&scope=repo", "auth");
});
</script></body></html>"""
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
    """nginx (site and form service blocks) in front of `formservice serve --trust-proxy`, with
    GitHub sign-in configured against stand-ins for GitHub's OAuth endpoints and its API."""
    tmp = tmp_path_factory.mktemp("production")
    cert = self_signed(tmp / "tls", names=(SITE_HOST, FORMS_HOST, API_HOST, OTHER_HOST))
    github = FakeGitHub()
    github.callback = f"https://{FORMS_HOST}/callback"
    api = FakeGitHubAPI(cert, "knnadvies/website", pages={"/other-site": OTHER_SITE})
    ports = {name: free_port() for name in ("site", "site_http", "forms", "forms_http", "service")}
    smtp = SmtpServer().start()
    database = tmp / "formservice.sqlite3"
    env = clean_env(FORMSERVICE_DATABASE_URL=f"sqlite:///{database}", FORMSERVICE_SMTP_URL=smtp.url,
                    FORMSERVICE_SITE_URL=f"https://{SITE_HOST}", FORMSERVICE_ALLOWED_ORIGINS=f"https://{SITE_HOST}",
                    FORMSERVICE_NETWORKS_DIR=str(published.path / "content" / "networks"),
                    FORMSERVICE_MAIL_FROM="KNN Advies <aanmelden@knnadvies.example>", PYTHONUNBUFFERED="1",
                    FORMSERVICE_GITHUB_CLIENT_ID=CLIENT_ID, FORMSERVICE_GITHUB_CLIENT_SECRET=CLIENT_SECRET,
                    FORMSERVICE_GITHUB_URL=github.url)
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
               "service": service, "nginx": nginx, "github": github, "api": api}
    finally:
        nginx.stop()
        service.stop()
        smtp.stop()
        github.close()
        api.close()


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
    assert admin.status_code == 200 and b"/admin/start." in admin.content
    declared = dict(headers_for(output / "_headers", "/admin/"))
    for name in ("Content-Security-Policy", "Cross-Origin-Opener-Policy"):
        assert admin.headers[name] == declared[name], name
    assert "'unsafe-eval'" in admin.headers["Content-Security-Policy"]
    home = site(production, "/")
    assert home.headers["Content-Security-Policy"] == declared_headers(output)["Content-Security-Policy"]


def chromium_for(production):
    """Chromium that reaches the site, the form service and the stand-ins by their names."""
    ports = production["ports"]
    api = production["api"].port
    rules = (f"--host-resolver-rules=MAP {SITE_HOST} 127.0.0.1:{ports['site']}, "
             f"MAP {FORMS_HOST} 127.0.0.1:{ports['forms']}, MAP {API_HOST} 127.0.0.1:{api}, "
             f"MAP {OTHER_HOST} 127.0.0.1:{api}, MAP * ~NOTFOUND, EXCLUDE 127.0.0.1")
    return chromium(args=[a for a in CHROMIUM_ARGS if not a.startswith("--host-resolver-rules")] + [rules])


@pytest.mark.browser
def test_an_editor_signs_in_to_admin_through_the_shipped_nginx_blocks(production):
    """The whole production sign-in: /admin/ on the site, Decap's pop-up to the form service's
    /auth through nginx, GitHub (stand-in) and back to /callback, the token handed to the editor
    window, which then reads the repository from GitHub's API (stand-in) and shows its
    collections. The state cookie is __Host-, Secure and HttpOnly; no log keeps the code or
    the state; a page on another origin that opens the same pop-up gets nothing."""
    api, github = production["api"], production["github"]
    auth_responses = []
    with chromium_for(production) as browser:
        context = browser.new_context(ignore_https_errors=True)
        # (set-cookie is not in .headers: Playwright leaves cookies out there; read while the pop-up lives)
        context.on("response", lambda r: auth_responses.append(r.all_headers())
                   if r.url.startswith(f"https://{FORMS_HOST}/auth") else None)
        page = context.new_page()
        page.goto(f"https://{SITE_HOST}/admin/")
        with page.expect_popup() as popup_info:
            page.get_by_role("button", name="GitHub", exact=False).click()
        popup_info.value.wait_for_load_state()
        page.get_by_role("link", name="Blog").first.wait_for(timeout=30000)  # the collections
        assert page.get_by_role("link", name="Netwerken").first.is_visible()
        [auth] = auth_responses
        cookie, location = auth["set-cookie"], auth["location"]
        context.close()
        # Another origin opens the same pop-up: the sign-in completes in it, and nothing reaches the page.
        context = browser.new_context(ignore_https_errors=True)
        other = context.new_page()
        other.goto(f"https://{OTHER_HOST}/other-site")
        with other.expect_popup() as popup_info:
            other.click("#login")
        popup = popup_info.value
        popup.wait_for_load_state()
        assert popup.url.startswith(f"https://{FORMS_HOST}/callback?")
        other.wait_for_timeout(1000)
        assert other.evaluate("window.got") == []
        context.close()
    assert cookie.startswith("__Host-decap_oauth_state=") and "Secure" in cookie and "HttpOnly" in cookie
    assert "Path=/;" in cookie and "Domain" not in cookie
    assert ("GET", "/user", f"token {TOKEN}") in api.requests  # the editor window holds the token
    assert github.token_requests and all(r["client_secret"] == [CLIENT_SECRET] for r in github.token_requests)
    state = location.split("state=", 1)[1].split("&", 1)[0]
    logs = production["nginx"].dir / "logs"
    for log in [*logs.glob("*.log"), production["service"].log_path]:
        text = log.read_text(encoding="utf-8", errors="replace")
        assert "good-code" not in text and state not in text and TOKEN not in text, log.name
    assert "/callback" in (logs / "access.log").read_text(encoding="utf-8")  # the log is kept, without its query


def test_sign_in_routes_through_nginx_are_limited_and_refuse_other_methods(production):
    ports = production["ports"]
    with httpx.Client(transport=httpx.HTTPTransport(local_address="127.0.0.5", verify=False), timeout=10) as c:
        url = f"https://127.0.0.1:{ports['forms']}"
        assert c.post(f"{url}/auth", headers={"Host": FORMS_HOST}).status_code == 403
        codes = [c.get(f"{url}/callback?code=x&state=y", headers={"Host": FORMS_HOST}).status_code
                 for _ in range(12)]
    assert 400 in codes and codes[-1] == 429, codes
    errors = (production["nginx"].dir / "logs" / "error.log").read_text(encoding="utf-8", errors="replace")
    assert "state=y" not in errors and "code=x" not in errors
