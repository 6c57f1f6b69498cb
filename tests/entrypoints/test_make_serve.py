"""`make serve`, exactly as the README says, in a clean copy of the tree: it sets up, builds,
serves the site at :8000 with the form service at :8080 and a mail sink at :8025; the site
works in Chromium (styles, scripts, every page of the sitemap, the join form with and
without JavaScript); a saved change reloads the open page; a broken file is shown in the
terminal and the page while the last good site stays served; Ctrl-C or SIGTERM stops every
process it started and frees the ports.

The tests run in file order on one worker (`--dist loadfile`) and share the running `make serve`.
"""

import os
import re
import socket
import signal
import subprocess
import time
from urllib.parse import urlsplit
from xml.etree import ElementTree

import pytest

from tests.browser import chromium
from tests.entrypoints.conftest import (Started, clean_env, cmdline, http_get, ports_taken,
                                        require_ports_free,
                                        wait_http, wait_until)

pytestmark = [pytest.mark.browser]

SITE, FORMS, SMTP = 8000, 8080, 8025
BASE = f"http://127.0.0.1:{SITE}"
POST = "content/blog/kracht-van-samenwerken.nl.md"
POST_URL = "/blog/de-kracht-van-samenwerken/"
NETWORK_URL = {"nl": "/netwerken/suspacc/", "en": "/en/networks/suspacc/"}
SETUP_SECONDS = 600  # a fresh .venv from the pip cache, then the first build


@pytest.fixture(scope="module")
def serve(clean_tree, tmp_path_factory):
    require_ports_free(SITE, FORMS, SMTP)
    clean_tree.reset()
    job = Started(["make", "serve"], clean_tree.path, tmp_path_factory.mktemp("serve") / "make-serve.log")
    job.tree = clean_tree.path
    try:
        wait_http(f"{BASE}/", job, SETUP_SECONDS)
        wait_http(f"http://127.0.0.1:{FORMS}/healthz", job, 60)
        yield job
    finally:
        job.stop()


@pytest.fixture(scope="module")
def browser():
    with chromium() as b:
        yield b


def edit(path, old, new):
    text = path.read_text(encoding="utf-8")
    assert text.count(old) == 1, f"{old!r} is not in {path} exactly once"
    path.write_text(text.replace(old, new), encoding="utf-8")


def sitemap_paths(serve):
    status, _, body = http_get(f"{BASE}/sitemap.xml")
    assert status == 200
    locs = [e.text for e in ElementTree.fromstring(body).iter("{http://www.sitemaps.org/schemas/sitemap/0.9}loc")]
    return [urlsplit(loc).path for loc in locs]


def watch(page):
    """Every failed request, error answer and console error of `page`, as they happen. A
    request the browser itself aborted (the favicon or the event stream when the next page
    is opened) counts only if the file, fetched again, does not answer 200 with content."""
    problems = []

    def failed(request):
        if "ERR_ABORTED" in (request.failure or ""):
            if request.url.endswith("/__livereload"):
                return
            status, _, body = http_get(request.url)
            if status == 200 and body:
                return
        problems.append(f"failed: {request.url} {request.failure}")

    page.on("requestfailed", failed)
    page.on("response", lambda r: problems.append(f"{r.status}: {r.url}") if r.status >= 400 else None)
    page.on("console", lambda m: problems.append(f"console {m.type}: {m.text}") if m.type == "error" else None)
    page.on("pageerror", lambda e: problems.append(f"page error: {e}"))
    return problems


def test_every_page_of_the_sitemap_loads_styled_without_a_failed_request(serve, browser):
    paths = sitemap_paths(serve)
    assert len(paths) > 20 and "/" in paths and "/en/" in paths
    context = browser.new_context()
    page = context.new_page()
    problems = watch(page)
    for path in paths:
        response = page.goto(BASE + path, wait_until="load")
        assert response.status == 200, path
        # The theme's stylesheet is applied (light scheme: the page background of main.css)...
        style = page.evaluate("() => { const s = getComputedStyle(document.body); "
                              "return [s.backgroundColor, s.margin, document.styleSheets.length]; }")
        assert style[:2] == ["rgb(253, 252, 248)", "0px"] and style[2] >= 1, (path, style)
        # ...and the development server's reload script runs on it.
        assert page.evaluate("() => !!document.querySelector('script[src=\"/__livereload.js\"]')"), path
    assert problems == [], "\n".join(problems)
    context.close()


def test_make_serve_sets_up_what_the_site_needs_and_not_the_test_tools(serve):
    """The fresh .venv `make serve` made has no test or benchmark tool (requirements-dev.txt is for
    `make test` and `make bench`); `invoke test` in it says what to run instead of failing on an import."""
    venv = serve.tree / ".venv" / "bin"
    found = subprocess.run([str(venv / "python"), "-c", "import importlib.util as u; "
                            "print(*[m for m in ('pytest', 'playwright', 'hypothesis', 'pelican', 'uvicorn') if u.find_spec(m)])"],
                           capture_output=True, text=True, timeout=60, env=clean_env())
    assert found.stdout.split() == ["pelican", "uvicorn"], found.stdout + found.stderr
    ran = subprocess.run([str(venv / "invoke"), "test"], cwd=serve.tree, capture_output=True, text=True, timeout=60,
                         env=clean_env())
    assert ran.returncode != 0 and "`make test`" in ran.stderr and "Traceback" not in ran.stderr, ran.stderr


@pytest.mark.parametrize("path, kind", [
    ("/theme/images/favicon.svg", "image/svg+xml"),
    ("/sitemap.xml", "application/xml"),
    ("/networks.json", "application/json"),
    ("/robots.txt", "text/plain"),
])
def test_files_come_with_their_content_and_type(serve, path, kind):
    status, headers, body = http_get(BASE + path)
    assert status == 200 and headers["Content-Type"].split(";")[0] == kind
    assert body == (serve.tree / "output" / path.lstrip("/")).read_bytes()


def test_every_kind_of_file_in_output_is_served_with_its_type(serve):
    """One file of each kind output/ holds: CSS, JS, SVG, XML, JSON, Pagefind's index and wasm."""
    output = serve.tree / "output"
    expected = {".css": "text/css", ".js": "text/javascript", ".svg": "image/svg+xml", ".xml": "application/xml",
                ".json": "application/json", ".pagefind": "application/octet-stream",
                ".pf_meta": "application/octet-stream", ".pf_fragment": "application/octet-stream",
                ".pf_index": "application/octet-stream", ".png": "image/png", ".ico": "image/x-icon",
                ".webmanifest": "application/manifest+json", ".wasm": "application/wasm"}
    seen = {}
    for f in sorted(output.rglob("*")):
        if f.is_file() and f.suffix in expected and f.suffix not in seen and not f.name.startswith("."):
            seen[f.suffix] = f
    assert {".css", ".js", ".svg", ".xml", ".json", ".pagefind", ".pf_meta", ".pf_fragment"} <= set(seen)
    for suffix, f in seen.items():
        status, headers, body = http_get(f"{BASE}/{f.relative_to(output).as_posix()}")
        assert (status, headers["Content-Type"].split(";")[0]) == (200, expected[suffix]), f
        assert body == f.read_bytes(), f


def test_addresses_as_a_static_host_answers_them(serve):
    status, headers, body = http_get(f"{BASE}{POST_URL}")
    assert status == 200 and b"<h1" in body
    assert body.replace(b'<script src="/__livereload.js"></script>', b"") == (
        serve.tree / "output" / POST_URL.strip("/") / "index.html").read_bytes()
    status, headers, _ = http_get(f"{BASE}{POST_URL.rstrip('/')}")
    assert status in (301, 307, 308) and headers["Location"].endswith(POST_URL)
    for missing, lang in (("/bestaat-niet/", "nl"), ("/en/does-not-exist/", "en")):
        status, headers, body = http_get(BASE + missing)
        assert status == 404 and headers["Content-Type"].startswith("text/html")
        assert f'<html lang="{lang}"'.encode() in body, missing  # the site's own 404 page, in its language
    # The headers that output/_headers declares, on every answer.
    declared = (serve.tree / "output" / "_headers").read_text(encoding="utf-8")
    csp = re.search(r"Content-Security-Policy: (.*)", declared).group(1)
    assert http_get(f"{BASE}/")[1]["Content-Security-Policy"] == csp
    assert http_get(f"{BASE}/bestaat-niet/")[1]["Content-Security-Policy"] == csp
    # output/ itself never holds the development server's script.
    assert not any(b"__livereload" in p.read_bytes() for p in (serve.tree / "output").rglob("*.html"))


def mails_in(serve, address, timeout=30):
    """The mails the sink printed in make serve's terminal that mention `address`."""
    deadline = time.monotonic() + timeout
    while True:
        blocks = serve.output().split("=" * 72)
        found = [b for b in blocks if address in b and "envelope to:" in b]
        if len(found) >= 2 or time.monotonic() > deadline:
            return found
        time.sleep(0.3)


@pytest.mark.parametrize("javascript", [True, False], ids=["js", "no-js"])
def test_join_a_network_and_both_mails_arrive_in_the_sink(serve, browser, javascript):
    email = f"serve.{'js' if javascript else 'nojs'}@voorbeeld.example"
    context = browser.new_context(java_script_enabled=javascript)
    page = context.new_page()
    problems = watch(page)
    page.goto(BASE + NETWORK_URL["nl"])
    page.fill("#join-name", "Anne de Vries")
    page.fill("#join-email", email)
    page.fill("#join-organisation", "Voorbeeld BV")
    for select in page.query_selector_all("form.join-form select[required]"):
        select.select_option(index=1)
    for field in page.query_selector_all("form.join-form input[required][name^='q_']:not([type=checkbox])"):
        field.fill("Chemie")
    page.check("#join-consent")
    if javascript:
        page.click("form.join-form button[type=submit]")
        page.wait_for_selector(".join-done", timeout=15000)
        assert urlsplit(page.url).path == NETWORK_URL["nl"]
        assert "ontvangen" in page.text_content(".join-status")
    else:
        with page.expect_navigation(timeout=15000):
            page.click("form.join-form button[type=submit]")
        assert urlsplit(page.url).path == "/bedankt/"
    assert problems == [], "\n".join(problems)
    mails = mails_in(serve, email)
    recipients = [re.search(r"envelope to:\s+(.*)", m).group(1) for m in mails]
    assert email in recipients, serve.output()[-3000:]  # the applicant's confirmation
    assert any(r != email for r in recipients), recipients  # the coordinator's notification
    context.close()


def test_a_saved_post_reloads_the_open_page(serve, browser):
    context = browser.new_context()
    page = context.new_page()
    page.goto(BASE + POST_URL)
    page.wait_for_function("() => !!window.EventSource")
    time.sleep(1)  # the page's event stream is open
    edit(serve.tree / POST, "Laat ik voorop stellen", "Herlaadmarkering laat ik voorop stellen")
    page.wait_for_function("() => document.body.innerText.includes('Herlaadmarkering')", timeout=60000)
    context.close()


def test_a_broken_file_is_shown_in_terminal_and_page_and_the_last_good_site_stays(serve, browser):
    context = browser.new_context()
    page = context.new_page()
    page.goto(BASE + POST_URL)
    time.sleep(1)
    before = http_get(BASE + POST_URL)[2]
    post = serve.tree / POST
    good = post.read_text(encoding="utf-8")
    post.write_text(good.replace("\nlang: nl\n", "\nlang: nl\nauhtor: Jelmer\n", 1), encoding="utf-8")
    try:
        page.wait_for_selector("#__livereload-errors", timeout=60000)
        shown = page.text_content("#__livereload-errors")
        line = re.search(rf"{re.escape(POST)}:\d+:\d+: auhtor: [^\n]+", shown)
        assert line, shown
        assert line.group(0) in serve.output()  # the same line in the terminal
        assert "Traceback" not in serve.output()
        assert http_get(BASE + POST_URL)[2] == before  # the last good page is still served
    finally:
        post.write_text(good, encoding="utf-8")
    page.wait_for_function("() => !document.getElementById('__livereload-errors')", timeout=60000)
    context.close()


def processes_of(serve):
    return {pid: cmdline(pid) for pid in serve.members()}


def test_ctrl_c_stops_every_process_and_frees_the_ports(serve):
    running = processes_of(serve)
    assert any("formservice serve" in c for c in running.values()), running
    assert any("smtp-sink" in c for c in running.values()), running
    serve.interrupt()
    wait_until(lambda: serve.proc.poll() is not None and not serve.members(), 30, "every process to end")
    assert not ports_taken(SITE, FORMS, SMTP), ports_taken(SITE, FORMS, SMTP)


def test_sigterm_to_the_server_stops_every_process_and_frees_the_ports(clean_tree, tmp_path):
    """As a supervisor stops it: SIGTERM to the development server's process alone."""
    job = Started(["make", "serve"], clean_tree.path, tmp_path / "make-serve.log")
    try:
        wait_http(f"{BASE}/", job, 180)
        wait_http(f"http://127.0.0.1:{FORMS}/healthz", job, 60)
        server = [pid for pid in job.members() if "invoke serve" in cmdline(pid)]
        assert len(server) == 1, {pid: cmdline(pid) for pid in job.members()}
        os.kill(server[0], signal.SIGTERM)
        wait_until(lambda: job.proc.poll() is not None and not job.members(), 30, "every process to end")
        assert not ports_taken(SITE, FORMS, SMTP), ports_taken(SITE, FORMS, SMTP)
        assert "Traceback" not in job.output(), job.output()[-3000:]
    finally:
        job.stop()


def test_a_second_make_serve_says_the_port_is_taken(clean_tree, tmp_path):
    holder = socket.socket()
    holder.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # the last test's connections may linger
    holder.bind(("127.0.0.1", SITE))
    holder.listen()
    try:
        p = clean_tree.run("make", "serve", timeout=120)
    finally:
        holder.close()
    assert p.returncode != 0
    assert "port in use" in p.stderr and "8000" in p.stderr, p.stderr
    assert not ports_taken(FORMS, SMTP), ports_taken(FORMS, SMTP)

