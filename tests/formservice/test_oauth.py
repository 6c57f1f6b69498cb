"""The editor's GitHub login (formservice/oauth.py): `formservice serve` as a subprocess, a
local HTTP server standing in for GitHub's authorize and token endpoints, and in Chromium
Decap's postMessage handshake from a page on the site's origin (and from another one)."""

import base64
import hashlib
import http.server
import json
import threading
from pathlib import Path
from urllib.parse import parse_qs, urlencode, urlsplit

import httpx
import lxml.html
import pytest

from tests.browser import chromium
from tests.formservice.conftest import service_env
from tests.support import free_port, serve_static

CLIENT_ID, CLIENT_SECRET, TOKEN = "test-client-id", "test-client-secret-0123456789", "gho_test_token_abc"


class FakeGitHub:
    """GitHub's two OAuth endpoints on 127.0.0.1: authorize sends the browser straight back
    to the callback with a code; the token endpoint gives a token for that code (with the
    right client id and secret) and records what it was sent."""

    def __init__(self):
        self.callback = None
        self.token_requests = []
        fake = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self):
                parts = urlsplit(self.path)
                query = parse_qs(parts.query)
                assert parts.path == "/login/oauth/authorize", self.path
                code = "good-code" if query.get("client_id") == [CLIENT_ID] else "no-client"
                self.send_response(302)
                self.send_header("Location", f"{fake.callback}?{urlencode({'code': code, 'state': query['state'][0]})}")
                self.end_headers()

            def do_POST(self):
                body = parse_qs(self.rfile.read(int(self.headers["Content-Length"])).decode())
                fake.token_requests.append(body)
                ok = body == {"client_id": [CLIENT_ID], "client_secret": [CLIENT_SECRET], "code": ["good-code"]}
                payload = {"access_token": TOKEN, "token_type": "bearer", "scope": "repo"} if ok else \
                    {"error": "bad_verification_code"}
                data = json.dumps(payload).encode()
                self.send_response(200)  # GitHub answers 200 with an "error" member too
                self.send_header("Content-Type", "application/json; charset=utf-8")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args):
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", free_port()), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()


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
    assert query["client_id"] == [CLIENT_ID] and query["scope"] == ["repo"] and len(query["state"][0]) >= 40
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
    assert r.status_code == 400 and "GitHub refused the login (bad_verification_code)" in r.text
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
