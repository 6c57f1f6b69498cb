"""The one development server, started by `make serve` (`invoke serve`).

    DevServer(root).run()     build, serve, watch, rebuild, reload; Ctrl-C or SIGTERM stops all

* The site: output/ at http://127.0.0.1:8000, served by Starlette's StaticFiles under
  uvicorn: every file with its content type, ``/path/`` answered by its index.html, a
  missing path by the 404 page of its language, the headers of output/_headers (the CSP
  among them) on every answer, and nothing cached by the browser.
* Watching: content/, theme/, plugins/, networks/ (the model) and the settings files (watchfiles). Each change
  runs the ordinary build (sitebuild.build.build_site, in fresh Pelican processes, so a
  changed plugin is loaded anew); the new pages are swapped in and the open pages reload
  first, the search index and sitemap follow (finish_build). A failed build leaves the
  previous output in place: the problems are printed in the terminal, one line each
  (``file:line:col: field: message``), and shown over the open page.
* Beside it (unless ``forms=False``): the form service at :8080 and a mail sink at :8025
  that prints every mail, as child processes that stop with the server; and (``editor``,
  by default as ``forms``) decap-server, the local backend of the editor at /admin/, at the
  address DECAP_LOCAL_BACKEND of the settings (127.0.0.1:8081), when npm installed it.

The browser is told about rebuilds without any inline script (the site's CSP allows none):
every HTML page served gets ``<script src="/__livereload.js">`` before ``</body>`` (never
the files in output/); that script listens to ``/__livereload`` (Server-Sent Events),
reloads the page after a successful rebuild and shows the problems of a failed one.
"""

from __future__ import annotations

import asyncio
import ctypes
import json
import mimetypes
import os
import queue
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.request
import uuid
from pathlib import Path

import uvicorn
import watchfiles

from publishing.sitewide import headers_for, remember_sitemap, sitemap_origin

from . import ROOT
from .build import build_pages_first, build_site, finish_build, read_site_settings, show_changes_first, start_warm_pelican
from .errors import BuildFailed, one_line_errors
from .search import PreparedIndex, read_stamp

HOST = "127.0.0.1"
PORT, FORMS_PORT, SMTP_PORT = 8000, 8080, 8025
SCRIPT_PATH, STYLE_PATH, EVENTS_PATH = "/__livereload.js", "/__livereload.css", "/__livereload"
SCRIPT_TAG = f'<script src="{SCRIPT_PATH}"></script>'.encode()
SETTINGS_FILES = ("pelicanconf.py", "publishconf.py")
WATCHED_DIRS = ("content", "theme", "plugins", "networks")  # networks/: the network model

# Types Python's table lacks or gets wrong for what output/ holds (Pagefind's index files
# are binary; without a type Starlette would call them text/plain).
for _type, _ext in (("application/manifest+json", ".webmanifest"), ("application/wasm", ".wasm"),
                    ("image/svg+xml", ".svg"), ("image/x-icon", ".ico"), ("application/json", ".json"),
                    ("application/xml", ".xml"), ("text/javascript", ".js"), ("text/css", ".css"),
                    ("image/avif", ".avif"), ("image/webp", ".webp"),  # the images plugin's files
                    ("application/octet-stream", ".pagefind"), ("application/octet-stream", ".pf_meta"),
                    ("application/octet-stream", ".pf_index"), ("application/octet-stream", ".pf_fragment")):
    mimetypes.add_type(_type, _ext)

RELOAD_JS = """\
// Added by the development server (make serve) to the pages it serves; never in output/.
(function () {
  "use strict";
  var seen = null;
  function show(lines) {
    var box = document.getElementById("__livereload-errors");
    if (!box) {
      var css = document.createElement("link");
      css.rel = "stylesheet";
      css.href = "%(style)s";
      document.head.appendChild(css);
      box = document.createElement("div");
      box.id = "__livereload-errors";
      box.setAttribute("role", "alert");
      document.body.insertBefore(box, document.body.firstChild);
    }
    box.textContent = "";
    var title = document.createElement("strong");
    title.textContent = "The last build failed; this page shows the previous one. Fix:";
    box.appendChild(title);
    var list = document.createElement("pre");
    list.textContent = lines.join("\\n");
    box.appendChild(list);
  }
  var source = new EventSource("%(events)s");
  source.addEventListener("hello", function (event) {
    // After a reconnect: reload if a rebuild happened while the connection was down.
    if (seen !== null && event.data !== seen) { window.location.reload(); }
    seen = event.data;
  });
  source.addEventListener("reload", function () { window.location.reload(); });
  source.addEventListener("failed", function (event) {
    var lines = JSON.parse(event.data);
    console.warn("make serve: the build failed:\\n" + lines.join("\\n"));
    show(lines);
  });
})();
""" % {"style": STYLE_PATH, "events": EVENTS_PATH}

RELOAD_CSS = """\
#__livereload-errors { position: fixed; inset: 0 0 auto 0; z-index: 2147483647; margin: 0;
  padding: 1rem 1.5rem; background: #7a0010; color: #fff; font: 15px/1.4 system-ui, sans-serif;
  max-height: 60vh; overflow: auto; box-shadow: 0 2px 8px rgba(0, 0, 0, .4); }
#__livereload-errors pre { margin: .5rem 0 0; white-space: pre-wrap; font: 14px/1.4 monospace; }
"""

NOT_BUILT = """<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Not built yet</title>
</head><body><h1>The site has not been built yet</h1><p>The first build failed; the problems are
listed here and in the terminal. This page reloads when they are fixed.</p></body></html>"""


def inject(html: bytes) -> bytes:
    """The page with the reload script before its last ``</body>`` (or at the end)."""
    i = html.lower().rfind(b"</body>")
    return html + SCRIPT_TAG if i < 0 else html[:i] + SCRIPT_TAG + html[i:]


def header_lines(output: Path, path="/"):
    """The headers that output/_headers gives `path` (publishing.sitewide.headers_for), less
    HSTS: over plain http on 127.0.0.1 it is meaningless; it is left to the real host."""
    return [(n, v) for n, v in headers_for(output / "_headers", path) if n.lower() != "strict-transport-security"]


def reload_changed_modules(changes):
    """Reload the changed modules that this process has imported.

    Pelican itself runs in fresh processes, but the build writes the site-wide files
    (publishing.sitewide) in this one: a change to such a module must count too.
    """
    import importlib

    changed = {os.path.realpath(p) for p in changes if str(p).endswith(".py")}
    if not changed:  # a saved post: no module to look for (realpath of each is 20 ms a save)
        return
    for module in list(sys.modules.values()):
        file = getattr(module, "__file__", None)
        if file and os.path.realpath(file) in changed:
            try:
                importlib.reload(module)
            except Exception as e:  # noqa: BLE001 (the build reports what is wrong)
                sys.stderr.write(f"make serve: could not reload {module.__name__}: {e}\n")


# --- rebuilding --------------------------------------------------------------------------------

class Rebuilder:
    """Runs the build and tells whoever waits (the event streams, the tests) how it went."""

    def __init__(self, root, settings_file=None, output=None, out=sys.stdout):
        self.root = Path(root).resolve()
        self.settings_file = Path(settings_file or self.root / "pelicanconf.py")
        self.output = Path(output or self.root / "output")
        self.out = out
        self.server_id = uuid.uuid4().hex[:8]
        self.generation = 0  # successful builds so far
        self.failures = 0  # failed builds so far
        self.last_errors: list[str] = []  # one line each; empty after a good build
        self.changed = threading.Condition()
        self._lock = threading.Lock()  # one build at a time
        self.warm = None  # a warm Pelican process for the first step after a save (sitebuild.warm)
        self.ahead = {}  # {lang: search.PreparedIndex} begun on output/ as it is, for the next save

    @property
    def token(self):
        return f"{self.server_id}-{self.generation}"

    def _say(self, text):
        self.out.write(text + "\n")
        self.out.flush()

    def rebuild(self, changes=(), first=False):
        """Build once; True if it succeeded. Never raises for a broken site.

        After saved Markdown files only, the pages that show them come first (build.
        show_changes_first, in forks of a warm Pelican process): the browser reloads then, the
        search index and sitemap take them in (finish_build), and the full build renews every
        page right after."""
        with self._lock:
            started = time.monotonic()
            what = ", ".join(sorted({os.path.relpath(p, self.root) for p in changes})[:5])
            errors, runs, shown = None, [], None
            try:
                # A settings file that does not even load is reported on one line too.
                read_site_settings(self.settings_file)
            except Exception as e:  # noqa: BLE001 (report, keep serving)
                errors = [f"{self.settings_file.name}: {type(e).__name__}: {e}".replace("\n", " ")]
            if errors is None:
                try:
                    reload_changed_modules(changes)
                    if not first:
                        shown = show_changes_first(changes, settings_file=self.settings_file, output=self.output,
                                                   cwd=self.root, warm=self.warm, ahead=self.ahead)
                    if shown:
                        self._announce(None)
                        self._say(f"shown in {time.monotonic() - started:.1f} s ({what})")
                        self._finish(started, shown)  # the search index and sitemap find the new pages now
                    # The first build is a whole one; later ones show the pages first and
                    # renew the search index and sitemap right after (finish_build), which
                    # indexes only a language whose indexed pages changed.
                    build = build_site if first else build_pages_first
                    runs = build(settings_file=self.settings_file, output=self.output, cwd=self.root)
                except BuildFailed as e:
                    errors = one_line_errors(e.errors, self.root)
                except Exception as e:  # noqa: BLE001 (report, keep serving)
                    errors = [f"build: {type(e).__name__}: {e}".replace("\n", " ")]
            seconds = time.monotonic() - started
            if errors is not None or not shown:  # after pages shown first, the browser has them already
                self._announce(errors)
            if errors is None:
                self._warm_up()
                if not runs:
                    if first:
                        self._read_ahead()
                    self._say("output/ is up to date" + (f" ({what})" if what else ""))
                    self._index_ahead()
                    return True
                self._say(("built" if first else "rebuilt") + f" in {seconds:.1f} s" + (f" ({what})" if what else ""))
                if not first:
                    self._finish(started)
                self._index_ahead()
                return True
        self._say(f"build FAILED in {seconds:.1f} s" + (f" ({what})" if what else "")
                  + ("; still serving the previous build:" if self.output.is_dir() else ":"))
        for line in errors:
            self._say(f"  {line}")
        return False

    def _announce(self, errors):
        """Tell the open pages (they wait on `changed`): a new generation to reload, or the
        build's errors (None: it succeeded)."""
        with self.changed:
            if errors is None:
                self.generation += 1
                self.last_errors = []
            else:
                self.failures += 1
                self.last_errors = errors
            self.changed.notify_all()

    def _warm_up(self):
        """Have a warm Pelican process of the current code ready for the next save (it imports
        in the background). A broken one is not kept: the next step runs fresh processes."""
        try:
            from .freshness import code_fingerprint

            settings = read_site_settings(self.settings_file)
            wanted = code_fingerprint(self.settings_file.resolve(), settings, None)
            if self.warm is not None and self.warm.alive() and self.warm.fingerprint == wanted:
                return
            if self.warm is not None:
                self.warm.close()
            self.warm = start_warm_pelican(self.settings_file)
        except Exception:  # noqa: BLE001 (only a speed-up)
            self.warm = None

    def _index_ahead(self):
        """Have each language's search index begun on its pages as they are now (search.
        PreparedIndex: Pagefind reads them at the lowest priority): after the next save, the index
        takes in only the pages the save changed, and is written as soon as they are made. One
        begun on these very pages (their digest is the index's in output/) is kept."""
        try:
            settings = read_site_settings(self.settings_file)
            stamp = read_stamp(self.output)
            for lang in set(self.ahead) - set(settings["LANGUAGES"]):  # a language no longer built
                self.ahead.pop(lang).close()
            for lang in settings["LANGUAGES"]:
                index = self.ahead.get(lang)
                if index is not None and index.usable() and index.digest is not None and index.digest == stamp.get(lang):
                    continue
                if index is not None:
                    index.close()
                self.ahead[lang] = PreparedIndex(self.output, settings, lang)
        except Exception:  # noqa: BLE001 (only a speed-up: a save then begins its own)
            pass

    def settle(self, timeout=120):
        """Wait until no build is under way and the indexes begun ahead have read their pages
        (the benchmark saves then, as an editor does a few seconds after the last save)."""
        with self._lock:
            ahead = list(self.ahead.values())
        for index in ahead:
            try:
                index.wait_read(timeout)
            except Exception:  # noqa: BLE001 (a failed one is replaced by the save's own)
                pass

    def _read_ahead(self):
        """The sitemap after each save reads every page's head, and parses only those it has not
        seen, and is not written again when it lists the same pages (publishing.sitewide): when
        the first build found output/ up to date and read none, read them now, in the
        background, so that the first save is as quick as the next."""
        def read():
            try:
                remember_sitemap(self.output, sitemap_origin(read_site_settings(self.settings_file)))
            except Exception:  # noqa: BLE001 (only a speed-up; a page replaced meanwhile is read later)
                pass

        threading.Thread(target=read, name="devserver-read-ahead", daemon=True).start()

    def close(self):
        """End the warm Pelican process and the indexes begun ahead."""
        if self.warm is not None:
            self.warm.close()
            self.warm = None
        for index in self.ahead.values():
            index.close()
        self.ahead.clear()

    def _finish(self, started, shown=None):
        try:
            finish_build(settings_file=self.settings_file, output=self.output, prepared=shown)
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
            sys.stderr.write(f"make serve: the file watcher stopped: {e}\n")
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
                                 name="devserver-watch", daemon=True)
            t.start()
            self._threads.append(t)
        return self

    def stop(self):
        self.stop_event.set()
        for t in self._threads:
            t.join(timeout=5)


# --- serving -----------------------------------------------------------------------------------

def site_app(output, rebuilder, stopping, no_reload=()):
    """The ASGI application that serves `output` (see the module's docstring). Pages under
    the `no_reload` paths (the editor at /admin/) are served as they are: a rebuild after
    each save must not reload the editor."""
    from starlette.applications import Starlette
    from starlette.exceptions import HTTPException
    from starlette.responses import FileResponse, Response, StreamingResponse
    from starlette.routing import Mount, Route
    from starlette.staticfiles import StaticFiles

    output = Path(output)

    def html(body: bytes, status=200):
        return Response(inject(body), status_code=status, media_type="text/html; charset=utf-8")

    class SiteFiles(StaticFiles):
        """output/ as a static host serves it, plus the reload script in every HTML page."""

        async def check_config(self):
            pass  # output/ may not exist yet, or be swapped for a new build at any time

        async def get_response(self, path, scope):
            if not output.is_dir():  # the first build failed: show why
                return not_found(scope["path"])
            try:
                response = await super().get_response(path, scope)
            except HTTPException as e:
                if e.status_code != 404:
                    raise
                response = None
            if response is None or response.status_code == 404:
                return not_found(scope["path"])
            if isinstance(response, FileResponse) and response.media_type.startswith("text/html") \
                    and not scope["path"].startswith(tuple(no_reload)):
                return html(Path(response.path).read_bytes(), response.status_code)
            return response

    def not_found(path):
        # The 404 page of the language the address is in (en/404.html under /en/).
        first = path.strip("/").split("/")[0]
        for page in ([output / first / "404.html"] if first else []) + [output / "404.html"]:
            if page.is_file():
                return html(page.read_bytes(), 404)
        if not output.is_dir():
            return html(NOT_BUILT.encode(), 503)
        return Response("Not found\n", status_code=404, media_type="text/plain; charset=utf-8")

    def script(request):
        return Response(RELOAD_JS, media_type="text/javascript; charset=utf-8")

    def style(request):
        return Response(RELOAD_CSS, media_type="text/css; charset=utf-8")

    async def events(request):
        """Server-Sent Events: ``hello`` now (and ``failed`` if the last build failed),
        then ``reload`` or ``failed`` after each build."""

        def event(name, data, retry=None):
            text = (f"retry: {retry}\n" if retry else "") + f"event: {name}\n"
            return text + "".join(f"data: {line}\n" for line in str(data).split("\n")) + "\n"

        async def stream():
            state = (rebuilder.generation, rebuilder.failures)
            yield event("hello", rebuilder.token, retry=1000)
            if rebuilder.last_errors:
                yield event("failed", json.dumps(rebuilder.last_errors))
            last_ping = time.monotonic()
            while not stopping.is_set():
                await asyncio.sleep(0.02)  # the page hears of a build within 20 ms (a tenth of a second was felt)
                new = (rebuilder.generation, rebuilder.failures)
                if new[0] != state[0]:
                    yield event("reload", rebuilder.token)
                elif new[1] != state[1]:
                    yield event("failed", json.dumps(rebuilder.last_errors))
                elif time.monotonic() - last_ping > 15:
                    yield ": ping\n\n"  # finds out whether the browser went away
                    last_ping = time.monotonic()
                state = new

        return StreamingResponse(stream(), media_type="text/event-stream")

    app = Starlette(routes=[Route(SCRIPT_PATH, script), Route(STYLE_PATH, style), Route(EVENTS_PATH, events),
                            Mount("/", SiteFiles(directory=output, html=True, check_dir=False))])

    async def with_headers(scope, receive, send):
        """The headers of output/_headers on every answer, and no caching by the browser."""
        if scope["type"] != "http":
            return await app(scope, receive, send)
        extra = [(b"cache-control", b"no-store")] + [
            (name.lower().encode(), value.encode()) for name, value in header_lines(output, scope["path"])]

        async def send_with_headers(message):
            if message["type"] == "http.response.start":
                names = {extra_name for extra_name, _ in extra}
                kept = [(k, v) for k, v in message.get("headers", []) if k.lower() not in names]
                message = dict(message, headers=kept + extra)
            await send(message)

        return await app(scope, receive, send_with_headers)

    return with_headers


# --- the form service and the mail sink --------------------------------------------------------

def _die_with_parent():
    """In a child, before exec: get SIGTERM if the development server dies, however it dies."""
    try:
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
    except OSError:
        pass


def port_is_free(port, host=HOST):
    with socket.socket() as s:
        # As a server binds: a port whose last connections are in TIME_WAIT is free.
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind((host, port))
        except OSError:
            return False
        return True


class Children:
    """The processes that run beside the site: started together, stopped together."""

    def __init__(self, root, out=sys.stdout):
        self.root = Path(root)
        self.out = out
        self.processes: list[tuple[str, subprocess.Popen]] = []

    def start(self, name, cmd, env):
        p = subprocess.Popen(cmd, cwd=self.root, env=env, preexec_fn=_die_with_parent)
        self.processes.append((name, p))
        return p

    def start_forms(self, site_port=PORT, forms_port=FORMS_PORT, smtp_port=SMTP_PORT):
        """The form service and a mail sink that prints every mail it receives."""
        formservice = str(Path(sys.executable).parent / "formservice")
        env = dict(os.environ, FORMSERVICE_SMTP_URL=f"smtp://{HOST}:{smtp_port}",
                   FORMSERVICE_SITE_URL=f"http://{HOST}:{site_port}")
        self.start("mail sink", [formservice, "smtp-sink", "--host", HOST, "--port", str(smtp_port),
                                "--log-level", "warning"], env)
        self.start("form service", [formservice, "serve", "--host", HOST, "--port", str(forms_port)], env)

    def start_decap(self, backend):
        """decap-server (npm), the editor's local backend: it edits the files of `root` (no
        login). It listens on every interface unless told BIND_HOST: loopback only here."""
        from urllib.parse import urlsplit

        program = self.root / "node_modules" / ".bin" / "decap-server"
        if not backend or not program.exists():
            return None
        where = urlsplit(backend)
        env = dict(os.environ, BIND_HOST=where.hostname, PORT=str(where.port or 80), MODE="fs",
                   GIT_REPO_DIRECTORY=str(self.root), LOG_LEVEL="warn")
        return self.start("decap-server", [str(program)], env)

    def wait_ready(self, url, timeout=30):
        """Wait until `url` answers 200; False if it does not or a child has ended."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if any(p.poll() is not None for _, p in self.processes):
                return False
            try:
                with urllib.request.urlopen(url, timeout=2) as r:
                    if r.status == 200:
                        return True
            except OSError:
                pass
            time.sleep(0.2)
        return False

    def ended(self):
        return [(name, p.returncode) for name, p in self.processes if p.poll() is not None]

    def stop(self):
        for _, p in self.processes:
            if p.poll() is None:
                p.terminate()
        for _, p in self.processes:
            try:
                p.wait(timeout=10)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()


# --- all together ------------------------------------------------------------------------------

class DevServer:
    """The first build, the site server, the watcher, the rebuild loop and the children."""

    def __init__(self, root=ROOT, host=HOST, port=PORT, forms=True, forms_port=FORMS_PORT,
                 smtp_port=SMTP_PORT, settings_file=None, output=None, out=sys.stdout, debounce_ms=300,
                 editor=None):
        self.root = Path(root).resolve()
        self.host, self.port = host, port
        self.forms, self.forms_port, self.smtp_port = forms, forms_port, smtp_port
        self.editor = forms if editor is None else editor
        self.out = out
        self.rebuilder = Rebuilder(self.root, settings_file, output, out)
        self.watcher = Watcher(self.root, debounce_ms)
        self.children = Children(self.root, out)
        self.stopping = threading.Event()
        self.server = None

    @property
    def url(self):
        return f"http://{self.host}:{self.port}/"

    def _say(self, text):
        self.out.write(text + "\n")
        self.out.flush()

    def _rebuild_loop(self):
        changes = self.watcher.changes
        while not self.stopping.is_set():
            try:
                batch = changes.get(timeout=0.2)
            except queue.Empty:
                continue
            while True:  # changes made during the last build: one more build for them all
                try:
                    batch |= changes.get_nowait()
                except queue.Empty:
                    break
            if batch and not self.stopping.is_set():
                self.rebuilder.rebuild(batch)

    def _check_ports(self):
        ports = [("the site", self.port)]
        if self.forms:
            ports += [("the form service", self.forms_port), ("the mail sink", self.smtp_port)]
        busy = [f"{what} ({self.host}:{port})" for what, port in ports if not port_is_free(port, self.host)]
        if self.editor and self.decap_backend():
            from urllib.parse import urlsplit

            where = urlsplit(self.decap_backend())
            if not port_is_free(where.port, where.hostname):
                busy.append(f"the editor's decap-server ({where.hostname}:{where.port})")
        if busy:
            raise OSError(f"port in use for {', '.join(busy)}: is another `make serve` running?")

    def editor_paths(self):
        """The editor's path (/admin/), which gets no reload script."""
        try:
            return (f"/{read_site_settings(self.rebuilder.settings_file).get('DECAP_PATH', 'admin')}/",)
        except Exception:  # noqa: BLE001
            return ("/admin/",)

    def decap_backend(self):
        """The settings' DECAP_LOCAL_BACKEND (decap-server's API URL), or None."""
        try:
            return read_site_settings(self.rebuilder.settings_file).get("DECAP_LOCAL_BACKEND")
        except Exception:  # noqa: BLE001 (a broken settings file is reported by the first build)
            return None

    def run(self):
        """Start everything, serve until Ctrl-C or SIGTERM, stop everything. Returns an exit status."""
        try:
            self._check_ports()
        except OSError as e:
            sys.stderr.write(f"make serve: {e}\n")
            return 1

        def interrupt(signum, frame):
            raise KeyboardInterrupt

        main = threading.current_thread() is threading.main_thread()  # (tests run it in a thread)
        previous = signal.signal(signal.SIGTERM, interrupt) if main else None  # until uvicorn takes over

        def restore():
            if main:
                signal.signal(signal.SIGTERM, previous)

        threads = []
        try:
            if self.forms:
                self.children.start_forms(self.port, self.forms_port, self.smtp_port)
            if self.editor and self.children.start_decap(self.decap_backend()):
                self._say(f"the editor: {self.url}admin/ (decap-server at {self.decap_backend()} saves into content/)")
            self.watcher.start()  # watching during the first build: a save then is not lost
            self.rebuilder.rebuild(first=True)
            threads = [threading.Thread(target=self._rebuild_loop, name="devserver-rebuild", daemon=True)]
            threads[0].start()
            if self.forms:
                if self.children.wait_ready(f"http://{self.host}:{self.forms_port}/healthz"):
                    self._say(f"join requests: http://{self.host}:{self.forms_port} (stored in var/); "
                              f"mails go to the sink at {self.host}:{self.smtp_port} and are printed here")
                else:
                    ended = ", ".join(f"{name} (exit status {code})" for name, code in self.children.ended())
                    self._say("make serve: the form service did not start" + (f": {ended} ended" if ended else ""))
            config = uvicorn.Config(site_app(self.rebuilder.output, self.rebuilder, self.stopping,
                                             no_reload=self.editor_paths()),
                                    host=self.host, port=self.port, log_level="warning", access_log=False,
                                    lifespan="off", timeout_graceful_shutdown=2)
            server = self.server = _Server(config, self.stopping)
            self._say(f"serving the site at {self.url} ; rebuilding on every change to "
                      f"{', '.join(d + '/' for d in WATCHED_DIRS)} and {', '.join(SETTINGS_FILES)} (Ctrl-C stops)")
            restore()
            server.run()  # until SIGINT or SIGTERM (uvicorn's own handlers)
            return 0 if server.started else 1
        except KeyboardInterrupt:
            return 0
        finally:
            self._say("stopping")
            self.stopping.set()
            self.watcher.stop()
            self.children.stop()
            for t in threads:
                t.join(timeout=5)
            self.rebuilder.close()
            restore()

    def stop(self):
        """Stop a server that run() is serving in another thread (as Ctrl-C would)."""
        self.stopping.set()
        if self.server is not None:
            self.server.should_exit = True


class _Server(uvicorn.Server):
    """uvicorn's Server, which also tells the event streams to end when it is told to stop."""

    def __init__(self, config, stopping):
        super().__init__(config)
        self.stopping = stopping

    def handle_exit(self, sig, frame):
        self.stopping.set()
        super().handle_exit(sig, frame)
