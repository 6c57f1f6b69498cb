"""The development server (sitebuild/devserver.py) in this process, on free ports and without
the form service: the watcher rebuilds on changes to theme/, plugins/, content/ and the
settings; the server injects the reload script and tells the page over Server-Sent Events;
output/ never contains the script. Over HTTP on 127.0.0.1, event by event; the README's
`make serve` itself, in Chromium, is tests/entrypoints/test_make_serve.py."""

import importlib
import io
import json
import queue
import sys
import threading
import time
import urllib.error
import urllib.request

import pytest

import bench.serve
from bench.serve import index_text
from sitebuild import devserver
from sitebuild.build import build_site
from sitebuild.devserver import DevServer, reload_changed_modules
from sitebuild.errors import one_line_errors
from sitebuild.freshness import BuildState
from tests.support import copy_site, free_port

TIMEOUT = 30  # seconds for any one rebuild to be seen


class Events(bench.serve.Events):
    """A client of /__livereload (the benchmark's): the events, in order, as (name, data)."""

    def __init__(self, lr):
        super().__init__(lr.host, lr.port, devserver.EVENTS_PATH, timeout=TIMEOUT + 10)
        assert self.response.status == 200
        assert self.response.getheader("Content-Type").split(";")[0] == "text/event-stream"

    def next(self, timeout=TIMEOUT):
        try:
            return super().next(timeout)[1:]
        except queue.Empty:
            pytest.fail(f"no event from the development server within {timeout} s")


def running(root, log):
    """A DevServer serving `root` in a thread (run() as `make serve` runs it), once it answers."""
    server = DevServer(root, port=free_port(), forms=False, out=log, debounce_ms=200)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 120
    while True:
        try:
            urllib.request.urlopen(server.url, timeout=2).close()
            break
        except urllib.error.HTTPError:
            break
        except OSError:
            assert thread.is_alive() and time.monotonic() < deadline, log.getvalue()
            time.sleep(0.2)
    assert server.watcher.ready.wait(30)
    server.thread = thread
    return server


@pytest.fixture(scope="module")
def live(tmp_path_factory):
    root = copy_site(tmp_path_factory.mktemp("live") / "site")
    log = io.StringIO()
    lr = running(root, log)
    lr.log = log
    yield lr
    lr.stop()
    lr.thread.join(30)


@pytest.fixture
def events(live):
    ev = Events(live)
    name, token = ev.next()
    assert (name, token) == ("hello", live.rebuilder.token)
    yield ev
    ev.close()


def get(lr, path):
    try:
        with urllib.request.urlopen(lr.url.rstrip("/") + path, timeout=10) as r:
            return r.status, r.headers, r.read()
    except urllib.error.HTTPError as e:
        return e.code, e.headers, e.read()


def edit(path, old, new):
    text = path.read_text(encoding="utf-8")
    assert text.count(old) == 1, f"{old!r} is not in {path} exactly once"
    path.write_text(text.replace(old, new), encoding="utf-8")


def test_a_template_change_rebuilds_and_tells_the_page(live, events):
    generation = live.rebuilder.generation
    edit(live.root / "theme/templates/base.html", "</body>", "<!-- lr-theme-marker --></body>")
    assert events.next()[0] == "reload"
    assert live.rebuilder.generation == generation + 1
    assert "lr-theme-marker" in (live.root / "output/index.html").read_text(encoding="utf-8")


def test_the_page_comes_first_then_the_search_index_and_sitemap(live, events):
    """A rebuild swaps the new pages in and reloads the browser first; the search index
    and the sitemap of the previous build serve until finish_build() has renewed them."""
    post = live.root / "content/blog/kracht-van-samenwerken.nl.md"
    before = (live.root / "output/sitemap.xml").read_bytes()
    edit(post, "Laat ik voorop stellen", "Zoekmarkering laat ik voorop stellen")
    assert events.next()[0] == "reload"
    page = (live.root / "output/blog/de-kracht-van-samenwerken/index.html").read_text(encoding="utf-8")
    assert "Zoekmarkering" in page
    deadline = time.monotonic() + 60
    while not BuildState.read(live.root / "output").up_to_date:
        assert (live.root / "output/pagefind/nl/pagefind.js").exists(), "no search index while it is renewed"
        assert time.monotonic() < deadline, "the search index was not renewed within 60 s"
        time.sleep(0.1)
    assert b"Zoekmarkering" in index_text(live.root / "output")
    assert not list(live.root.glob(".output-old-*")), "the previous output was not removed"
    assert (live.root / "output/sitemap.xml").read_bytes() == before  # same pages, same sitemap
    assert "search index and sitemap renewed" in live.log.getvalue()
    assert build_site(settings_file=live.root / "pelicanconf.py", output=live.root / "output",
                      cwd=live.root) == [], "a finished build is up to date"


def test_a_plugin_change_rebuilds_with_the_changed_plugin(live, events):
    """plugins/ is watched (pelican --autoreload would not), and the build loads the plugin anew."""
    plugin = live.root / "plugins/languages/languages.py"
    with open(plugin, "a", encoding="utf-8") as f:
        f.write("\n\nfrom pelican import signals as _lr_signals\n\n\n"
                "def _lr_marker(path, context=None):\n"
                "    if str(path).endswith('.html'):\n"
                "        with open(path, 'a', encoding='utf-8') as f:\n"
                "            f.write('<!-- lr-plugin-marker -->')\n\n\n"
                "_lr_signals.content_written.connect(_lr_marker)\n")
    assert events.next()[0] == "reload"
    assert "lr-plugin-marker" in (live.root / "output/index.html").read_text(encoding="utf-8")


def test_a_settings_change_rebuilds(live, events):
    """The settings files are watched through the project directory, which is not watched
    recursively (output/, cache/ and .venv/ are not sources). Settings that do not load are
    one line, and leave the output alone."""
    settings = live.root / "pelicanconf.py"
    good = settings.read_text(encoding="utf-8")
    before = (live.root / "output/index.html").read_bytes()
    settings.write_text(good + "\nSITENAME = = 1\n", encoding="utf-8")
    name, data = events.next()
    assert name == "failed"
    errors = json.loads(data)
    assert len(errors) == 1 and errors[0].startswith("pelicanconf.py: SyntaxError"), errors
    assert (live.root / "output/index.html").read_bytes() == before
    assert not list(live.root.glob(".output-*")), "a build directory was left behind"

    settings.write_text(good.replace('SITENAME = "KNN Advies"', 'SITENAME = "KNN Advies LR"'), encoding="utf-8")
    assert events.next()[0] == "reload"
    assert "KNN Advies LR" in (live.root / "output/index.html").read_text(encoding="utf-8")


def test_a_failed_rebuild_keeps_serving_the_previous_output(live, events):
    template = live.root / "theme/templates/base.html"
    good = template.read_text(encoding="utf-8")
    before = (live.root / "output/index.html").read_bytes()
    generation = live.rebuilder.generation
    broken = good.replace("</body>", "{{ lr_no_such_variable }}</body>")
    template.write_text(broken, encoding="utf-8")
    line = broken[:broken.index("lr_no_such_variable")].count("\n") + 1
    name, data = events.next()
    assert name == "failed"
    expected = f"theme/templates/base.html:{line}:1: template: UndefinedError: 'lr_no_such_variable' is undefined"
    assert json.loads(data) == [expected]
    assert f"  {expected}\n" in live.log.getvalue()  # printed in the terminal too, one line
    assert live.rebuilder.generation == generation
    assert (live.root / "output/index.html").read_bytes() == before
    status, _, body = get(live, "/")
    assert status == 200 and devserver.SCRIPT_TAG in body

    template.write_text(good, encoding="utf-8")
    assert events.next()[0] == "reload"
    assert live.rebuilder.generation == generation + 1


def test_the_server_injects_the_script_and_output_has_none(live):
    status, headers, body = get(live, "/")
    assert status == 200
    assert devserver.SCRIPT_TAG + b"</body>" in body
    assert body.count(devserver.SCRIPT_TAG) == 1
    # The production CSP (from output/_headers) is sent, and allows the script and its events.
    csp = headers.get("Content-Security-Policy", "")
    assert "script-src 'self'" in csp and "connect-src 'self'" in csp
    assert headers.get("Strict-Transport-Security") is None

    status, headers, js = get(live, devserver.SCRIPT_PATH)
    assert status == 200 and headers["Content-Type"].startswith("text/javascript")
    assert b'new EventSource("/__livereload")' in js
    status, headers, css = get(live, devserver.STYLE_PATH)
    assert status == 200 and headers["Content-Type"].startswith("text/css") and b"#__livereload-errors" in css

    status, _, body = get(live, "/en/blog/the-power-of-collaboration/")
    assert status == 200 and devserver.SCRIPT_TAG in body
    status, _, body = get(live, "/en/no-such-page/")
    assert status == 404 and b'lang="en"' in body and devserver.SCRIPT_TAG in body
    status, headers, body = get(live, "/theme/images/logo.svg")
    assert status == 200 and devserver.SCRIPT_TAG not in body

    pages = list((live.root / "output").rglob("*.html"))
    assert len(pages) > 10
    assert not [p for p in pages if b"__livereload" in p.read_bytes()]


def test_inject():
    assert devserver.inject(b"<html><body>x</body></html>") == \
        b'<html><body>x<script src="/__livereload.js"></script></body></html>'
    assert devserver.inject(b"<p>no body</p>") == b'<p>no body</p><script src="/__livereload.js"></script>'


def test_stop_ends_the_event_streams(tmp_path):
    """Ctrl-C must not hang on an open browser tab."""
    root = copy_site(tmp_path / "site")
    before = set(threading.enumerate())
    lr = running(root, io.StringIO())
    ev = Events(lr)
    assert ev.next()[0] == "hello"
    started = time.monotonic()
    lr.stop()
    lr.thread.join(15)
    assert not lr.thread.is_alive() and time.monotonic() - started < 10
    assert not [t for t in set(threading.enumerate()) - before if t.name.startswith("devserver-") and t.is_alive()]


def test_a_first_build_that_fails_is_shown_and_served_once_fixed(tmp_path):
    """No output yet and a broken post: the problem is printed and served; fixing it builds."""
    root = copy_site(tmp_path / "site")
    post = root / "content/blog/kracht-van-samenwerken.nl.md"
    good = post.read_text(encoding="utf-8")
    post.write_text(good.replace("\nlang: nl\n", "\nlang: nl\nauhtor: x\n", 1), encoding="utf-8")
    log = io.StringIO()
    lr = running(root, log)
    try:
        status, _, body = get(lr, "/")
        assert status == 503 and devserver.SCRIPT_TAG in body
        assert "content/blog/kracht-van-samenwerken.nl.md:" in log.getvalue() and "auhtor" in log.getvalue()
        ev = Events(lr)
        assert ev.next()[0] == "hello"
        name, data = ev.next()
        assert name == "failed" and "auhtor" in data
        post.write_text(good, encoding="utf-8")
        assert ev.next()[0] == "reload"
        assert get(lr, "/")[0] == 200
        ev.close()
    finally:
        lr.stop()
        lr.thread.join(30)


def test_one_line_errors():
    log = ("content/blog/kapot.md:5:7: date: 'gisteren' is not a date (use YYYY-MM-DD)\n"
           "buildcheck: 1 problem(s) in the content; nothing was written\n"
           "[22:20:30] WARNING  Unable to find 'nope.md', skipping url replacement.        contents.py:341\n"
           "           CRITICAL RuntimeError: Warning or error encountered                 __init__.py:683\n"
           "                    Traceback (most recent call last):\n"
           '                      File "/site/theme/templates/article.html", line 5, in top-level template code\n'
           "                    RuntimeError: Warning or error encountered\n"
           "[22:20:31] WARNING  Unable to find 'nope.md', skipping url replacement.        contents.py:341\n")
    assert one_line_errors(log, "/site") == [
        "content/blog/kapot.md:5:7: date: 'gisteren' is not a date (use YYYY-MM-DD)",
        "buildcheck: 1 problem(s) in the content; nothing was written",
        "pelican: warning: Unable to find 'nope.md', skipping url replacement.",
    ]


@pytest.mark.parametrize("name, kind", [
    ("x.png", "image/png"), ("x.ico", "image/x-icon"), ("x.webmanifest", "application/manifest+json"),
    ("x.wasm", "application/wasm"), ("x.svg", "image/svg+xml"), ("x.json", "application/json"),
    ("x.xml", "application/xml"), ("x.js", "text/javascript"), ("x.css", "text/css"),
    ("x.pf_fragment", "application/octet-stream"), ("wasm.nl.pagefind", "application/octet-stream"),
])
def test_each_kind_of_file_is_served_with_its_type_and_content(live, name, kind):
    """Kinds the real site may not hold today (a PNG logo, a web manifest), planted in output/."""
    body = b"\x00planted " + name.encode()
    (live.root / "output" / "planted").mkdir(exist_ok=True)
    (live.root / "output" / "planted" / name).write_bytes(body)
    status, headers, got = get(live, f"/planted/{name}")
    assert (status, headers["Content-Type"].split(";")[0], got) == (200, kind, body)


def test_a_server_started_on_a_built_site_reads_its_pages_heads_ahead_of_the_first_save(tmp_path, monkeypatch):
    """The sitemap after a save parses only the heads it has not seen: when the first build
    finds output/ up to date (nothing read), the server reads them in the background."""
    import lxml.html
    from publishing import sitewide

    root = copy_site(tmp_path / "site")
    build_site(settings_file=root / "pelicanconf.py", output=root / "output", cwd=root)
    sitewide._HEADS.clear()
    rebuilder = devserver.Rebuilder(root, out=io.StringIO())
    try:
        assert rebuilder.rebuild(first=True)
        assert "output/ is up to date" in rebuilder.out.getvalue()
        deadline = time.monotonic() + 30
        while any(t.name == "devserver-read-ahead" for t in threading.enumerate()):
            assert time.monotonic() < deadline, "the heads were not read within 30 s"
            time.sleep(0.05)
    finally:
        rebuilder.close()
    parsed = []
    real = lxml.html.fromstring
    monkeypatch.setattr(lxml.html, "fromstring", lambda data, *a, **kw: parsed.append(data) or real(data, *a, **kw))
    entries = sitewide.sitemap_entries((root / "output").rglob("*.html"))
    assert len(entries) > 10 and parsed == []
    # ...and knows the sitemap there is the one of those pages: the first save does not write it again.
    sitemap = root / "output" / "sitemap.xml"
    inode = sitemap.stat().st_ino
    settings = devserver.read_site_settings(root / "pelicanconf.py")
    sitewide.write_sitemap(root / "output", sitewide.sitemap_origin(settings), entries)
    assert sitemap.stat().st_ino == inode


def test_each_languages_search_index_is_begun_ahead_and_a_save_gives_it_only_its_pages(tmp_path):
    """After a build the server has each language's Pagefind read its pages; a saved post's
    language then uses that index (given only the changed pages), and an index whose pages the
    save did not change is kept for the next one."""
    root = copy_site(tmp_path / "site")
    rebuilder = devserver.Rebuilder(root, out=io.StringIO())
    try:
        assert rebuilder.rebuild(first=True)
        rebuilder.settle()
        ahead = dict(rebuilder.ahead)
        assert sorted(ahead) == sorted(devserver.read_site_settings(root / "pelicanconf.py")["LANGUAGES"])
        assert all(index.usable() and index.digest for index in ahead.values())
        post = root / "content/blog/kracht-van-samenwerken.nl.md"
        edit(post, "Laat ik voorop stellen", "Vooruitmarkering laat ik voorop stellen")
        assert rebuilder.rebuild({post})
        assert ahead["nl"].written, "the saved post's index was not the one begun ahead"
        assert b"Vooruitmarkering" in index_text(root / "output", "nl")
        rebuilder.settle()
        assert rebuilder.ahead["en"] is ahead["en"], "an index whose pages did not change was begun again"
        assert rebuilder.ahead["nl"] is not ahead["nl"] and rebuilder.ahead["nl"].usable()
        trees = list(root.glob(".search-*"))
        assert len(trees) == 2  # the ones ahead; the used one's is gone
    finally:
        rebuilder.close()
    deadline = time.monotonic() + 30
    while list(root.glob(".search-*")):
        assert time.monotonic() < deadline, "a page tree of an index begun ahead was left behind"
        time.sleep(0.05)


def test_a_saved_module_this_process_imported_is_reloaded_and_a_saved_post_reloads_none(tmp_path, monkeypatch):
    """The server writes the sitewide files with modules it imported (publishing.sitewide): a
    saved module is loaded anew before the build; a saved post reloads nothing."""
    module = tmp_path / "saved_module_for_reload.py"
    module.write_text("VALUE = 1\n", encoding="utf-8")
    monkeypatch.syspath_prepend(str(tmp_path))
    importlib.invalidate_caches()
    imported = importlib.import_module("saved_module_for_reload")
    try:
        module.write_text("VALUE = 2  # saved\n", encoding="utf-8")
        reload_changed_modules([tmp_path / "post.md"])
        assert imported.VALUE == 1
        reload_changed_modules([tmp_path / "post.md", module])
        assert imported.VALUE == 2
    finally:
        sys.modules.pop("saved_module_for_reload", None)
