"""``invoke livereload``: build, serve output/, rebuild on every change, refresh the browser.

    lr = LiveReload(root, build_site=tasks.build_site, build_failed=tasks.BuildFailed, port=8000,
                    finish_build=tasks.finish_build)
    lr.start()   # first build, then the server and the watcher run in threads
    ...
    lr.stop()

What is watched: content/, theme/, plugins/ and the settings files (pelicanconf.py,
publishconf.py). ``pelican --autoreload`` does not watch a plugins/ folder at the top of
the project, hence this watcher (watchfiles). Each rebuild is the ordinary build
(tasks.build_site): Pelican runs in fresh processes, so changed plugins are loaded anew,
and a failed build leaves the previous output in place, so the server keeps serving it
while the one-line errors are printed. With ``finish_build``, the new pages are swapped in
and the browsers reloaded first; the sitemap and the search index follow.

The browser is refreshed without any inline script (the site's Content-Security-Policy
allows none): the development server adds ``<script src="/__livereload.js"></script>``
before ``</body>`` of each HTML page it serves (never to the files in output/), and that
script listens to ``/__livereload`` (Server-Sent Events) and reloads the page after each
successful rebuild. A failed rebuild is also sent, and shown in the browser's console.
"""

from __future__ import annotations

import http.server
import json
import os
import queue
import re
import sys
import threading
import time
import uuid
from pathlib import Path
from urllib.parse import unquote, urlsplit

import watchfiles

SCRIPT_PATH = "/__livereload.js"
EVENTS_PATH = "/__livereload"
SCRIPT_TAG = f'<script src="{SCRIPT_PATH}"></script>'.encode()
SETTINGS_FILES = ("pelicanconf.py", "publishconf.py")
WATCHED_DIRS = ("content", "theme", "plugins")

RELOAD_JS = """\
// Added by `invoke livereload` to the pages it serves (never to output/).
(function () {
  "use strict";
  var seen = null;
  var source = new EventSource("%s");
  source.addEventListener("hello", function (event) {
    // After a reconnect: reload if a rebuild happened while the connection was down.
    if (seen !== null && event.data !== seen) { window.location.reload(); }
    seen = event.data;
  });
  source.addEventListener("reload", function () { window.location.reload(); });
  source.addEventListener("failed", function (event) {
    console.error("livereload: the rebuild failed; this page shows the previous build.\\n" +
                  JSON.parse(event.data).join("\\n"));
  });
})();
""" % EVENTS_PATH


def inject(html: bytes) -> bytes:
    """The page with the reload script before its last ``</body>`` (or at the end)."""
    i = html.lower().rfind(b"</body>")
    return html + SCRIPT_TAG if i < 0 else html[:i] + SCRIPT_TAG + html[i:]


def header_lines(output: Path):
    """The headers that output/_headers gives every path (``/*``), such as the CSP."""
    try:
        text = (output / "_headers").read_text(encoding="utf-8")
    except OSError:
        return []
    headers, in_all = [], False
    for line in text.splitlines():
        if not line.strip():
            continue
        if not line[0].isspace():
            in_all = line.strip() == "/*"
        elif in_all and ":" in line:
            name, _, value = line.strip().partition(":")
            # HSTS over plain http on 127.0.0.1 is meaningless; leave it to the real host.
            if name.lower() != "strict-transport-security":
                headers.append((name.strip(), value.strip()))
    return headers


def reload_changed_modules(changes):
    """Reload the changed modules that this process has imported.

    Pelican itself runs in fresh processes, but the build task writes the site-wide files
    (publishing.sitewide) in this one: a change to such a module must count too.
    """
    import importlib

    changed = {os.path.realpath(p) for p in changes}
    for module in list(sys.modules.values()):
        file = getattr(module, "__file__", None)
        if file and os.path.realpath(file) in changed:
            try:
                importlib.reload(module)
            except Exception as e:  # noqa: BLE001 (the build reports what is wrong)
                sys.stderr.write(f"livereload: could not reload {module.__name__}: {e}\n")


_PROBLEM = re.compile(r"^\S+:\d+:\d+: \S+: ")
_LOG_LINE = re.compile(r"^(?:\[[\d:]+\]\s+)?(?P<level>WARNING|ERROR|CRITICAL)\s+(?P<message>.*?)(?:\s{2,}\S+\.py:\d+)?$")
_FRAME = re.compile(r'^File "(?P<file>[^"]+)", line (?P<line>\d+), in ')
_FATAL_WARNING = "RuntimeError: Warning or error encountered"  # Pelican's --fatal warnings


def one_line_errors(text, root):
    """A failed build's log, one line per problem: buildcheck's ``file:line:col: field:
    message`` lines as they are, Pelican's warnings and errors without their time stamps and
    tracebacks, a template error as ``theme/templates/x.html:line:1: template: message``."""
    out, template = [], None
    for raw in text.splitlines():  # the innermost template in the traceback
        m = _FRAME.match(raw.strip())
        if m and m.group("file").endswith((".html", ".xml", ".j2")):
            template = (m.group("file"), m.group("line"))
    for raw in text.splitlines():
        line = raw.strip()
        if _PROBLEM.match(line) or line.startswith("buildcheck:"):
            out.append(line)
        elif m := _LOG_LINE.match(line):
            message = m.group("message").strip()
            if message == _FATAL_WARNING and out:
                continue
            if m.group("level") == "CRITICAL" and template and message.split(":")[0].endswith(
                    ("UndefinedError", "TemplateSyntaxError", "TemplateNotFound", "TemplateError")):
                out.append(f"{os.path.relpath(template[0], root)}:{template[1]}:1: template: {message}")
            else:
                out.append(f"pelican: {m.group('level').lower()}: {message}")
    if not out:
        out = [line.strip() for line in text.splitlines() if line.strip()][-1:] or ["the build failed"]
    return list(dict.fromkeys(out))


# --- rebuilding --------------------------------------------------------------------------------

class Rebuilder:
    """Runs the build and tells whoever waits (the SSE clients, the tests) how it went."""

    def __init__(self, root, build_site, build_failed, settings_file=None, output=None, out=sys.stdout,
                 finish_build=None):
        self.root = Path(root).resolve()
        self.settings_file = Path(settings_file or self.root / "pelicanconf.py")
        self.output = Path(output or self.root / "output")
        self.build_site = build_site
        # With finish_build, the pages are swapped in (and the browsers reloaded) first; the
        # search index and the sitemap are renewed after that (tasks.build_site(later=True)).
        self.finish_build = finish_build
        self.build_failed = build_failed
        self.out = out
        self.server_id = uuid.uuid4().hex[:8]
        self.generation = 0  # successful builds so far
        self.failures = 0  # failed builds so far
        self.last_errors: list[str] = []  # one line each
        self.last_log = ""  # the whole log of the last failed build
        self.changed = threading.Condition()
        self._lock = threading.Lock()  # one build at a time

    @property
    def token(self):
        return f"{self.server_id}-{self.generation}"

    def _say(self, text):
        self.out.write(text + "\n")
        self.out.flush()

    def rebuild(self, changes=()):
        """Build once; True if it succeeded. Never raises for a broken site."""
        with self._lock:
            started = time.monotonic()
            what = ", ".join(sorted({os.path.relpath(p, self.root) for p in changes})[:5])
            errors = None
            try:
                # Read the settings here first: a settings file that does not even load
                # is reported on one line, like any other problem.
                from pelican.settings import read_settings

                read_settings(str(self.settings_file))
            except Exception as e:  # noqa: BLE001 (report, keep serving)
                errors = [f"{self.settings_file.name}: {type(e).__name__}: {e}".replace("\n", " ")]
            if errors is None:
                try:
                    reload_changed_modules(changes)
                    later = {"later": True} if self.finish_build else {}
                    self.build_site(settings_file=self.settings_file, output=self.output, cwd=self.root, **later)
                except self.build_failed as e:
                    self.last_log = e.errors
                    errors = one_line_errors(e.errors, self.root)
                except Exception as e:  # noqa: BLE001 (report, keep serving)
                    errors = [f"build: {type(e).__name__}: {e}".replace("\n", " ")]
            seconds = time.monotonic() - started
            with self.changed:
                if errors is None:
                    self.generation += 1
                    self.last_errors = []
                else:
                    self.failures += 1
                    self.last_errors = errors
                self.changed.notify_all()
            if errors is None:
                self._say(f"rebuilt in {seconds:.1f} s" + (f" ({what})" if what else ""))
                if self.finish_build:
                    self._finish(started)
                return True
        self._say(f"rebuild FAILED in {seconds:.1f} s" + (f" ({what})" if what else "")
                  + "; still serving the previous build:")
        for line in errors:
            self._say(f"  {line}")
        self._say("  (the whole log: invoke build)")
        return False

    def _finish(self, started):
        try:
            self.finish_build(settings_file=self.settings_file, output=self.output)
        except Exception as e:  # noqa: BLE001 (report, keep serving: the pages are new already)
            self._say(f"  search index and sitemap: FAILED ({type(e).__name__}: {e})".replace("\n", " "))
        else:
            self._say(f"  search index and sitemap renewed ({time.monotonic() - started:.1f} s in all)")

    def wait(self, generation, failures, timeout):
        """Wait until a build after (generation, failures) finished; return the new pair."""
        with self.changed:
            self.changed.wait_for(lambda: (self.generation, self.failures) != (generation, failures), timeout)
            return self.generation, self.failures


# --- watching ----------------------------------------------------------------------------------

class Watcher:
    """Watches the site's sources; each batch of changes is put on ``self.changes``."""

    def __init__(self, root, debounce_ms=300):
        self.root = Path(root).resolve()
        self.debounce_ms = debounce_ms
        self.changes: queue.Queue = queue.Queue()
        self.stop_event = threading.Event()
        self.ready = threading.Event()
        self._threads = []
        self._ready = []

    def _run(self, paths, recursive, only, ready):
        def keep(change, path):
            name = os.path.basename(path)
            if only is not None:
                return name in only
            return watchfiles.DefaultFilter()(change, path) and not name.startswith(".output-")

        try:
            for batch in watchfiles.watch(*paths, watch_filter=keep, recursive=recursive,
                                          debounce=self.debounce_ms, step=50, rust_timeout=500,
                                          yield_on_timeout=True, stop_event=self.stop_event,
                                          raise_interrupt=False):
                # The first yield (an empty one after the timeout at the latest) means the
                # operating system watches are in place.
                ready.set()
                if all(r.is_set() for r in self._ready):
                    self.ready.set()
                if batch:
                    self.changes.put({path for _, path in batch})
        except Exception as e:  # noqa: BLE001 (a watcher that dies must say so)
            sys.stderr.write(f"livereload: the watcher stopped: {e}\n")
            ready.set()

    def start(self):
        dirs = [str(self.root / d) for d in WATCHED_DIRS if (self.root / d).is_dir()]
        # The settings files are watched through their directory (not recursively, so not
        # output/ or .venv/): an editor that saves by replacing the file is seen too.
        plans = [(dirs, True, None), ([str(self.root)], False, set(SETTINGS_FILES))]
        for paths, recursive, only in plans:
            ready = threading.Event()
            self._ready.append(ready)
            t = threading.Thread(target=self._run, args=(paths, recursive, only, ready),
                                 name="livereload-watch", daemon=True)
            t.start()
            self._threads.append(t)
        return self

    def stop(self):
        self.stop_event.set()
        for t in self._threads:
            t.join(timeout=5)


# --- serving -----------------------------------------------------------------------------------

class DevServer(http.server.ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, address, output, rebuilder):
        self.output = Path(output)
        self.rebuilder = rebuilder
        self.stopping = threading.Event()
        super().__init__(address, DevHandler)


class DevHandler(http.server.SimpleHTTPRequestHandler):
    server: DevServer

    def __init__(self, *args, **kwargs):
        super().__init__(*args, directory=str(args[2].output), **kwargs)

    def log_message(self, format, *args):  # noqa: A002 (the stdlib's name)
        pass  # the rebuild messages are what matters in the terminal

    def end_headers(self):
        self.send_header("Cache-Control", "no-store")
        for name, value in header_lines(self.server.output):
            self.send_header(name, value)
        super().end_headers()

    def do_GET(self):
        self._get(head=False)

    def do_HEAD(self):
        self._get(head=True)

    def _get(self, head):
        path = unquote(urlsplit(self.path).path)
        if path == SCRIPT_PATH:
            return self._send(200, "text/javascript; charset=utf-8", RELOAD_JS.encode(), head)
        if path == EVENTS_PATH:
            return None if head else self._events()
        file = Path(self.translate_path(path))
        if file.is_dir():
            if not path.endswith("/"):
                self.send_response(301)
                self.send_header("Location", urlsplit(self.path).path + "/")
                self.send_header("Content-Length", "0")
                self.end_headers()
                return None
            file = file / "index.html"
        if not file.is_file():
            return self._not_found(path, head)
        if file.suffix == ".html":
            return self._send(200, "text/html; charset=utf-8", inject(file.read_bytes()), head)
        return super().do_HEAD() if head else super().do_GET()

    def _not_found(self, path, head):
        # The 404 page of the language the address is in (en/404.html under /en/).
        first = path.strip("/").split("/")[0]
        for page in ([self.server.output / first / "404.html"] if first else []) + [self.server.output / "404.html"]:
            if page.is_file():
                return self._send(404, "text/html; charset=utf-8", inject(page.read_bytes()), head)
        return self._send(404, "text/plain; charset=utf-8", b"Not found (is output/ built?)\n", head)

    def _send(self, status, content_type, body, head):
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if not head:
            self.wfile.write(body)

    def _events(self):
        """Server-Sent Events: ``hello`` now, then ``reload`` or ``failed`` after each build."""
        rb = self.server.rebuilder
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.end_headers()
        state = (rb.generation, rb.failures)
        last_ping = time.monotonic()
        try:
            self._event("hello", rb.token, retry=1000)
            while not self.server.stopping.is_set():
                new = rb.wait(*state, timeout=0.5)
                if new[0] != state[0]:
                    self._event("reload", rb.token)
                elif new[1] != state[1]:
                    self._event("failed", json.dumps(rb.last_errors))
                elif time.monotonic() - last_ping > 15:
                    self.wfile.write(b": ping\n\n")  # find out whether the browser went away
                    self.wfile.flush()
                    last_ping = time.monotonic()
                state = new
        except (BrokenPipeError, ConnectionResetError, ConnectionAbortedError):
            pass
        self.close_connection = True

    def _event(self, name, data, retry=None):
        text = (f"retry: {retry}\n" if retry else "") + f"event: {name}\n"
        text += "".join(f"data: {line}\n" for line in str(data).split("\n")) + "\n"
        self.wfile.write(text.encode())
        self.wfile.flush()


# --- all together ------------------------------------------------------------------------------

class LiveReload:
    """The first build, the development server, the watcher and the rebuild loop."""

    def __init__(self, root, build_site, build_failed, host="127.0.0.1", port=8000, settings_file=None,
                 output=None, out=sys.stdout, debounce_ms=300, finish_build=None):
        self.root = Path(root).resolve()
        self.rebuilder = Rebuilder(self.root, build_site, build_failed, settings_file, output, out, finish_build)
        self.host, self.port = host, port
        self.out = out
        self.watcher = Watcher(self.root, debounce_ms)
        self.server = None
        self._threads = []

    @property
    def url(self):
        return f"http://{self.host}:{self.server.server_address[1]}/"

    def start(self, ready_timeout=30):
        # Take the port first: if it is in use, say so before a build.
        self.server = DevServer((self.host, self.port), self.rebuilder.output, self.rebuilder)
        self.rebuilder.rebuild()
        self._spawn(self.server.serve_forever, "livereload-serve")
        self.watcher.start()
        self._spawn(self._rebuild_loop, "livereload-rebuild")
        if not self.watcher.ready.wait(ready_timeout):
            raise RuntimeError("livereload: the file watcher did not start")
        return self

    def _spawn(self, target, name):
        t = threading.Thread(target=target, name=name, daemon=True)
        t.start()
        self._threads.append(t)

    def _rebuild_loop(self):
        changes = self.watcher.changes
        while not self.watcher.stop_event.is_set():
            try:
                batch = changes.get(timeout=0.2)
            except queue.Empty:
                continue
            while True:  # changes made during the last build: one more build for them all
                try:
                    batch |= changes.get_nowait()
                except queue.Empty:
                    break
            if batch:
                self.rebuilder.rebuild(batch)

    def stop(self):
        self.watcher.stop()
        if self.server:
            self.server.stopping.set()
            with self.rebuilder.changed:
                self.rebuilder.changed.notify_all()
            self.server.shutdown()
            self.server.server_close()
        for t in self._threads:
            t.join(timeout=5)

    def run(self):
        """Start, print the address, run until Ctrl-C."""
        try:
            self.start()
        except OSError as e:
            sys.stderr.write(f"livereload: cannot serve at {self.host}:{self.port}: {e.strerror or e}\n")
            return 1
        self.out.write(f"serving the site at {self.url} ; rebuilding on every change to "
                       f"{', '.join(d + '/' for d in WATCHED_DIRS)} and {', '.join(SETTINGS_FILES)} (Ctrl-C stops)\n")
        self.out.flush()
        try:
            while True:
                time.sleep(3600)
        except KeyboardInterrupt:
            self.out.write("stopping\n")
        finally:
            self.stop()
        return 0
