"""The editor's GitHub login (formservice/oauth.py): `formservice serve` as a subprocess, a
local HTTP server standing in for GitHub's authorize and token endpoints, and in Chromium
Decap's postMessage handshake from a page on the site's origin (and from another one)."""

import base64
import hashlib
import json
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import httpx
import lxml.html
import pytest

from tests.browser import chromium
from tests.formservice.conftest import service_env
from tests.github import CLIENT_ID, CLIENT_SECRET, TOKEN, FakeGitHub
from tests.support import free_port, serve_static

OPENER = """<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>editor</title></head>
<body><button id="login">Login with GitHub</button><script src="opener.js"></script></body></html>"""
# Decap's side of the handshake (decap-cms-lib-auth, NetlifyAuthenticator): the pop-up says
# "authorizing:github"; the editor answers it; the pop-up sends the result.
OPENER_JS = """
window.result = null;
document.getElementById("login").addEventListener("click", function () {
  var base = new URLSearchParams(location.search).get("base");
  var popup = window.open(base + "/auth?provider=github&site_id=x&scope=repo", "auth", "width=600,height=600");
  window.addEventListener("message", function (e) {
    if (e.origin !== base) { return; }
    if (e.data === "authorizing:github") { popup.postMessage(e.data, e.origin); return; }
    window.result = e.data;
  });
});
"""


@pytest.fixture
def github():
    fake = FakeGitHub()
    yield fake
    fake.close()


@pytest.fixture
def sites(tmp_path):
    """The site's origin (where the editor runs) and an unrelated origin, both static."""
    for name in ("site", "other"):
        (tmp_path / name).mkdir()
        (tmp_path / name / "index.html").write_text(OPENER, encoding="utf-8")
        (tmp_path / name / "opener.js").write_text(OPENER_JS, encoding="utf-8")
    with serve_static(tmp_path / "site") as site, serve_static(tmp_path / "other") as other:
        yield site, other


@pytest.fixture
def service(github, sites, spawn, tmp_path):
    site, _ = sites
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    github.callback = f"{url}/callback"
    env = service_env(f"sqlite:///{tmp_path}/fs.sqlite3", FORMSERVICE_SITE_URL=site,
                      FORMSERVICE_GITHUB_CLIENT_ID=CLIENT_ID, FORMSERVICE_GITHUB_CLIENT_SECRET=CLIENT_SECRET,
                      FORMSERVICE_GITHUB_URL=github.url)
    process = spawn(["serve", "--host", "127.0.0.1", "--port", str(port), "--no-worker"], env).wait_healthy(url)
    process.url = url
    return process


def handshake_data(page_html):
    doc = lxml.html.fromstring(page_html)
    return json.loads(doc.get_element_by_id("decap-auth").text)


def test_auth_sends_to_github_with_a_state_cookie(service, github):
    r = httpx.get(f"{service.url}/auth?provider=github&site_id=x&scope=repo", follow_redirects=False)
    assert r.status_code == 302
    target = urlsplit(r.headers["location"])
    query = parse_qs(target.query)
    assert f"{target.scheme}://{target.netloc}{target.path}" == f"{github.url}/login/oauth/authorize"
    # public_repo by default: repo would open every private repository of the editor
    assert query["client_id"] == [CLIENT_ID] and query["scope"] == ["public_repo"] and len(query["state"][0]) >= 40
    assert CLIENT_SECRET not in r.headers["location"]
    cookie = r.headers["set-cookie"]
    assert f"decap_oauth_state={query['state'][0]}" in cookie
    assert "HttpOnly" in cookie and "SameSite=lax" in cookie and "Path=/callback" in cookie


def test_callback_exchanges_the_code_and_hands_the_token_to_the_site_only(service, github, sites):
    site, _ = sites
    with httpx.Client(base_url=service.url) as client:
        r = client.get("/auth?provider=github", follow_redirects=True)  # to the stand-in and back
    assert r.status_code == 200, r.text
    data = handshake_data(r.text)
    assert data == {"status": "success", "content": {"token": TOKEN, "provider": "github"}, "origin": site}
    assert github.token_requests == [{"client_id": [CLIENT_ID], "client_secret": [CLIENT_SECRET],
                                      "code": ["good-code"]}]
    # The page's one script is allowed by its hash, nothing else; nothing is cached or referred.
    script = lxml.html.fromstring(r.text).xpath("//script[not(@type)]")[0].text
    digest = base64.b64encode(hashlib.sha256(script.encode()).digest()).decode()
    assert f"script-src 'sha256-{digest}'" in r.headers["content-security-policy"]
    assert r.headers["cache-control"] == "no-store" and r.headers["referrer-policy"] == "no-referrer"
    assert TOKEN not in service.output() and "good-code" not in service.output()


def test_callback_refuses_a_login_this_browser_did_not_start(service, github):
    r = httpx.get(f"{service.url}/callback?code=good-code&state=forged")
    assert r.status_code == 400
    assert handshake_data(r.text)["status"] == "error" and TOKEN not in r.text
    assert github.token_requests == []  # the code was not even exchanged
    with httpx.Client(base_url=service.url) as client:
        state = parse_qs(urlsplit(client.get("/auth", follow_redirects=False).headers["location"]).query)["state"][0]
        r = client.get(f"/callback?code=stolen&state={state}")
    # in the editors' language, the site's default (Dutch)
    assert r.status_code == 400 and "GitHub weigerde het inloggen (bad_verification_code)" in r.text
    assert lxml.html.fromstring(r.text).get("lang") == "nl"
    assert TOKEN not in r.text


def test_without_client_id_and_secret_the_routes_say_so(spawn, tmp_path):
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    spawn(["serve", "--host", "127.0.0.1", "--port", str(port), "--no-worker"],
          service_env(f"sqlite:///{tmp_path}/fs.sqlite3")).wait_healthy(url)
    for path in ("/auth", "/callback?code=x&state=y"):
        r = httpx.get(url + path, follow_redirects=False)
        assert r.status_code == 503 and "FORMSERVICE_GITHUB_CLIENT_ID" in r.text


@pytest.mark.browser
def test_the_editor_window_receives_the_token_and_another_site_does_not(service, sites):
    site, other = sites
    with chromium() as browser:
        results = {}
        for name, origin in (("site", site), ("other", other)):
            context = browser.new_context()
            page = context.new_page()
            page.goto(f"{origin}/?base={service.url}")
            with page.expect_popup() as popup_info:
                page.click("#login")
            popup = popup_info.value
            popup.wait_for_load_state()
            assert popup.url.startswith(f"{service.url}/callback?")
            page.wait_for_timeout(500) if name == "other" else page.wait_for_function("window.result !== null")
            results[name] = page.evaluate("window.result")
            context.close()
    prefix = "authorization:github:success:"
    assert results["site"].startswith(prefix)
    assert json.loads(results["site"][len(prefix):]) == {"token": TOKEN, "provider": "github"}
    assert results["other"] is None


def test_behind_a_trusted_proxy_over_tls_the_state_cookie_is_host_prefixed_and_secure(github, sites, spawn, tmp_path):
    """X-Forwarded-Proto: https from a trusted proxy (here, loopback with --trust-proxy) makes
    the cookie __Host-, Secure, HttpOnly, Path=/; from a client that is no trusted proxy the
    header changes nothing."""
    site, _ = sites
    urls = {}
    for trusted in (True, False):
        port = free_port()
        urls[trusted] = f"http://127.0.0.1:{port}"
        env = service_env(f"sqlite:///{tmp_path}/fs-{trusted}.sqlite3", FORMSERVICE_SITE_URL=site,
                          FORMSERVICE_GITHUB_CLIENT_ID=CLIENT_ID, FORMSERVICE_GITHUB_CLIENT_SECRET=CLIENT_SECRET,
                          FORMSERVICE_GITHUB_URL=github.url, FORMSERVICE_GITHUB_SCOPE="repo")
        spawn(["serve", "--port", str(port), "--no-worker"] + (["--trust-proxy"] if trusted else []),
              env).wait_healthy(urls[trusted])
    proxied = {"X-Forwarded-Proto": "https", "X-Forwarded-For": "203.0.113.7"}
    r = httpx.get(f"{urls[True]}/auth", headers=proxied, follow_redirects=False)
    cookie = r.headers["set-cookie"]
    assert cookie.startswith("__Host-decap_oauth_state=")
    assert "Secure" in cookie and "HttpOnly" in cookie and "Path=/;" in cookie and "Domain" not in cookie
    assert parse_qs(urlsplit(r.headers["location"]).query)["scope"] == ["repo"]  # the setting, for a private repository
    state = parse_qs(urlsplit(r.headers["location"]).query)["state"][0]
    done = httpx.get(f"{urls[True]}/callback?code=good-code&state={state}", headers=proxied,
                     cookies={"__Host-decap_oauth_state": state})
    assert done.status_code == 200 and handshake_data(done.text)["status"] == "success"
    untrusted = httpx.get(f"{urls[False]}/auth", headers=proxied, follow_redirects=False)
    assert untrusted.headers["set-cookie"].startswith("decap_oauth_state=") and "Secure" not in untrusted.headers["set-cookie"]


@pytest.mark.parametrize("query", ["state=%C3%A9t%C3%A9&code=x", "state=" + "a" * 43 + "%00&code=x",
                                   "state=" + "é" * 43 + "&code=x", "code=%0a&state=" + "a" * 43, "state=&code="])
def test_a_malformed_callback_gets_a_400_page_not_a_traceback(service, github, query):
    cookies = {"decap_oauth_state": "a" * 43}
    r = httpx.get(f"{service.url}/callback?{query}", cookies=cookies)
    assert r.status_code == 400 and r.headers["content-type"].startswith("text/html")
    assert handshake_data(r.text)["status"] == "error"
    assert github.token_requests == []
    assert "Traceback" not in service.output()


def test_sign_ins_per_client_are_limited(service, github):
    """Past ten a minute from one client, /auth and /callback answer 429: the service cannot
    be made to post its client secret to GitHub in a loop."""
    codes = [httpx.get(f"{service.url}/callback?code=x&state=" + "a" * 43, cookies={"decap_oauth_state": "a" * 43}
                       ).status_code for _ in range(14)]
    assert codes[:10] == [400] * 10 and set(codes[10:]) == {429}
    assert httpx.get(f"{service.url}/auth", follow_redirects=False).status_code == 429
