"""invoke tasks for the KNN Advies site. `make` creates .venv and then calls these.

    invoke build [--publish]   build every language into output/ (safely: build, then swap)
    invoke serve               build, then serve output/ at http://127.0.0.1:8000
    invoke test                run the whole test suite
    invoke bench               benchmarks (BENCHMARKS.md)
    invoke new-post "Titel"    start a post;  invoke translate <post> --lang en: its translation
    invoke check               the editors' lint (file:line:col: field: message)
    invoke livereload          build, serve, rebuild on every change and refresh the browser
"""

import datetime
import hashlib
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from invoke import task

ROOT = Path(__file__).resolve().parent
DEV_SETTINGS = ROOT / "pelicanconf.py"
PUBLISH_SETTINGS = ROOT / "publishconf.py"
HOST, PORT = "127.0.0.1", 8000


class BuildFailed(Exception):
    def __init__(self, errors):
        super().__init__(errors)
        self.errors = errors


@dataclass
class LanguageRun:
    lang: str
    returncode: int
    stdout: str
    stderr: str


def read_site_settings(settings_file):
    from pelican.settings import read_settings

    return read_settings(str(settings_file))


def pelican_command(settings_file, content, output, lang, extra=None):
    # One -e with every KEY=VALUE: a second -e would replace the first (argparse "store").
    settings = [f'DEFAULT_LANG="{lang}"'] + [f"{key}={value}" for key, value in (extra or {}).items()]
    return [sys.executable, "-m", "pelican", str(content), "-s", str(settings_file),
            "-o", str(output), "--fatal", "warnings", "-e", *settings]


def _run(cmd, cwd):
    env = dict(os.environ, COLUMNS="200", TERM="dumb")
    p = subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True)
    return p.returncode, p.stdout, p.stderr


def _unique_lines(texts):
    """Each language run reads all content, so each reports the same problems: once is enough."""
    seen, out = set(), []
    for text in texts:
        for line in text.splitlines():
            if line not in seen:
                seen.add(line)
                out.append(line)
    return "\n".join(out) + "\n"


def search_glob(site, settings, lang):
    """Pagefind's --glob for the pages of one language: under its prefix, or, for the
    primary language, everything but the other languages' prefixes."""
    prefixes = {code: cfg["prefix"] for code, cfg in settings["LANGUAGES"].items()}
    if prefixes[lang]:
        return f"{prefixes[lang]}/**/*.html"
    others = {Path(p).parts[0] for p in prefixes.values() if p} | {"pagefind"}
    dirs = sorted(e.name for e in Path(site).iterdir()
                  if e.is_dir() and e.name not in others and not e.name.startswith("."))
    return "{" + ",".join(["*.html", *(f"{d}/**/*.html" for d in dirs)]) + "}"


def index_for_search(site, settings, langs=None, bundle=None):
    """Pagefind, one process and one index per language, side by side (both cores), into
    site/pagefind/<lang>/ or `bundle`/<lang>/; `langs`: only these languages."""
    root = Path(bundle) if bundle else Path(site) / "pagefind"

    def one(lang):
        return subprocess.run([sys.executable, "-m", "pagefind", "--site", str(site), "--silent",
                               "--glob", search_glob(site, settings, lang), "--output-path", str(root / lang)],
                              capture_output=True, text=True)

    langs = list(settings["LANGUAGES"]) if langs is None else langs
    with ThreadPoolExecutor(max_workers=max(1, len(langs))) as pool:
        runs = list(pool.map(one, langs))
    failed = [f"{lang}: {p.stdout}{p.stderr}" for lang, p in zip(langs, runs) if p.returncode != 0]
    if failed:
        raise BuildFailed("pagefind: indexing failed:\n" + "\n".join(failed))


STAMP = ".build-stamp"
PENDING = "pending "  # "pending nl,en: <fingerprint>": new pages; finish_build() must index these languages
SITEWIDE_LATER = ("pagefind", "sitemap.xml", "robots.txt", "_headers")  # what finish_build() renews
LANGUAGE_STAMPS = ".build-languages"  # JSON: what each language's pages were built from
_LANG_LINE = re.compile(rb"^lang:[ \t]*(\S+)[ \t]*$", re.MULTILINE | re.IGNORECASE)


def _fingerprint(settings_file, settings, extra, roots):
    """A hash of every setting, the pinned requirements, the settings files, and the size
    and modification time of every file under `roots`."""
    h = hashlib.sha256()
    h.update(repr(sorted((k, repr(v)) for k, v in settings.items() if k.isupper())).encode())
    h.update(repr(sorted((extra or {}).items())).encode())
    files = {*Path(settings_file).parent.glob("*.py"), ROOT / "requirements.txt"}
    for root in roots:
        files.update(p for p in Path(root).rglob("*") if p.is_file() and "__pycache__" not in p.parts)
    for f in sorted(files):
        st = f.stat()
        h.update(f"{f}\0{st.st_size}\0{st.st_mtime_ns}\n".encode())
    return h.hexdigest()


def plugin_dirs(settings_file, settings):
    return [Path(settings_file).parent / p for p in settings["PLUGIN_PATHS"]]


def _today():
    """Part of each language's fingerprint: a post dated in the future is published on its day, with
    no file changed, so the first build of a day builds everything."""
    return datetime.date.today().isoformat()


def language_fingerprints(settings_file, settings, content, extra, langs):
    """{lang: hash of what that language's Pelican run reads}. A run converts only its own
    language's Markdown; of a file in another language it reads just the metadata header
    (plugins/buildcheck), so a change below another language's header cannot change its
    pages. Everything else (settings, theme, plugins, networks, images, a file whose
    language is unclear, the date) counts for every language."""
    shared = _fingerprint(settings_file, settings, extra,
                          [settings["THEME"], *plugin_dirs(settings_file, settings)]) + _today()
    hashes = {lang: hashlib.sha256(shared.encode()) for lang in langs}
    for f in sorted(p for p in Path(content).rglob("*") if p.is_file()):
        st = f.stat()
        whole = f"{f}\0{st.st_size}\0{st.st_mtime_ns}\n".encode()
        lang = None
        if f.suffix in (".md", ".markdown", ".mkd", ".mdown"):
            raw = f.read_bytes()
            blank = re.search(rb"\n[ \t]*\n", raw)
            header = raw[: blank.start() + 1] if blank else raw
            found = _LANG_LINE.search(header)
            lang = found.group(1).decode() if found else None
            header_only = f"{f}\0".encode() + hashlib.sha256(header).digest()
        for code, h in hashes.items():
            h.update(whole if lang in (None, code) or lang not in hashes else header_only)
    return {lang: h.hexdigest() for lang, h in hashes.items()}


def _move_unchanged_language(lang, settings, output, fresh):
    """Move the pages of `lang`, which need no new run, from the previous output into the
    fresh one. A non-primary language's pages are all under its prefix; the primary
    language's are everything else (the sitewide files are made anew or carried over)."""
    prefixes = {code: cfg["prefix"] for code, cfg in settings["LANGUAGES"].items()}
    if prefixes[lang]:
        if (output / prefixes[lang]).exists():
            (fresh / prefixes[lang]).parent.mkdir(parents=True, exist_ok=True)
            (output / prefixes[lang]).rename(fresh / prefixes[lang])
        return
    others = {Path(p).parts[0] for code, p in prefixes.items() if p}
    for entry in output.iterdir():
        if entry.name not in others | {STAMP, LANGUAGE_STAMPS, *SITEWIDE_LATER}:
            entry.rename(fresh / entry.name)


def keep_cache_if_valid(settings_file, settings, extra):
    """Pelican's content cache (Markdown and typogrify results per file) is keyed by each
    file's modification time only: a change of the settings or of the plugins' code would
    leave stale pages in it. Empty it when those changed since it was filled."""
    if not (settings["CACHE_CONTENT"] and settings["LOAD_CONTENT_CACHE"]):
        return
    cache = Path(settings["CACHE_PATH"])
    fingerprint = _fingerprint(settings_file, settings, extra, plugin_dirs(settings_file, settings))
    stamp = cache / STAMP
    if cache.is_dir() and not (stamp.is_file() and stamp.read_text(encoding="utf-8") == fingerprint):
        shutil.rmtree(cache)
    cache.mkdir(parents=True, exist_ok=True)
    stamp.write_text(fingerprint, encoding="utf-8")


def build_site(settings_file=DEV_SETTINGS, output=ROOT / "output", content=None, cwd=ROOT,
               extra=None, capture=True, force=False, later=False):
    """Build every language into a fresh directory, then swap it in place of `output`.

    The languages are built by parallel Pelican processes into one tree. If any of them
    fails, the fresh directory is removed and `output` stays exactly as it was.
    `extra` maps setting names to JSON values (Pelican's -e). Returns the runs; with
    capture=False their log is printed too. Raises BuildFailed with the problems.
    When nothing the build depends on changed since `output` was built, nothing is done
    (returns []) unless `force`; a language whose inputs did not change (see
    language_fingerprints) is not run again: its pages move over from `output`.
    With `later` (the editing loop), the new pages are swapped in as soon as Pelican wrote
    them, beside the previous build's search index and sitewide files; finish_build() then
    renews those. Until it has, the output does not count as up to date.
    """
    settings_file, output = Path(settings_file).resolve(), Path(output).resolve()
    content = Path(content).resolve() if content else Path(cwd) / "content"
    settings = read_site_settings(settings_file)
    langs = list(settings["LANGUAGES"])
    # What the build depends on: every language's inputs (which together cover the settings,
    # requirements, content, theme, plugins and the date).
    per_language = language_fingerprints(settings_file, settings, content, extra, langs)
    fingerprint = hashlib.sha256(json.dumps(per_language, sort_keys=True).encode()).hexdigest()
    stamp = output / STAMP
    if not force and stamp.is_file() and stamp.read_text(encoding="utf-8") == fingerprint:
        return []
    keep_cache_if_valid(settings_file, settings, extra)
    try:
        built_from = json.loads((output / LANGUAGE_STAMPS).read_text(encoding="utf-8")) if not force else {}
    except (OSError, ValueError):
        built_from = {}
    todo = [lang for lang in langs if built_from.get(lang) != per_language[lang]]
    output.parent.mkdir(parents=True, exist_ok=True)
    fresh = Path(tempfile.mkdtemp(prefix=".output-", dir=output.parent))
    with ThreadPoolExecutor(max_workers=max(1, len(todo))) as pool:
        results = list(pool.map(
            lambda lang: LanguageRun(lang, *_run(pelican_command(settings_file, content, fresh, lang, extra), cwd)),
            todo))
    failed = [r for r in results if r.returncode != 0]
    if failed:
        shutil.rmtree(fresh, ignore_errors=True)
        raise BuildFailed(_unique_lines([r.stderr for r in failed] + [r.stdout for r in failed]))
    for lang in langs:
        if lang not in todo:
            _move_unchanged_language(lang, settings, output, fresh)
    (fresh / LANGUAGE_STAMPS).write_text(json.dumps(per_language), encoding="utf-8")
    if not capture:
        for r in results:
            sys.stdout.write(r.stdout)
            sys.stderr.write(r.stderr)
    try:
        if later:
            for name in SITEWIDE_LATER:
                if (output / name).exists() and not (fresh / name).exists():
                    (output / name).rename(fresh / name)  # the old output goes away below
            pending = [lang for lang in langs if lang in todo or lang in _pending_languages(output)]
            (fresh / STAMP).write_text(f"{PENDING}{','.join(pending)}: {fingerprint}", encoding="utf-8")
        else:
            sitewide_and_search(fresh, settings)
            (fresh / STAMP).write_text(fingerprint, encoding="utf-8")
    except BaseException:
        shutil.rmtree(fresh, ignore_errors=True)
        raise
    os.chmod(fresh, 0o755)
    old = None
    if output.exists():
        old = Path(tempfile.mkdtemp(prefix=".output-old-", dir=output.parent))
        output.rename(old / "output")
    fresh.rename(output)
    if old and not later:  # later: finish_build() deletes it, after the browser has the new page
        shutil.rmtree(old, ignore_errors=True)
    return results


def sitewide_and_search(output, settings, langs=None, bundle=None):
    """The sitewide files (sitemap, robots, headers) and the search index, side by side:
    Pagefind runs in its own processes while this one parses the pages for the sitemap."""
    from publishing.sitewide import write_sitewide_files

    with ThreadPoolExecutor(max_workers=1) as pool:
        search = pool.submit(index_for_search, output, settings, langs, bundle)
        write_sitewide_files(output, settings)
        search.result()


def _pending_languages(output):
    """The languages whose search index a build_site(later=True) left to finish_build()."""
    stamp = Path(output) / STAMP
    text = stamp.read_text(encoding="utf-8") if stamp.is_file() else ""
    return [code for code in text[len(PENDING):].split(": ", 1)[0].split(",") if code] \
        if text.startswith(PENDING) else []


def finish_build(settings_file=DEV_SETTINGS, output=ROOT / "output"):
    """The rest of a build_site(later=True): write the sitewide files (sitemap, robots,
    headers), index the rebuilt languages for search and swap their indexes in, and mark
    the output up to date. Returns False when there was nothing to finish."""
    output = Path(output).resolve()
    stamp = output / STAMP
    text = stamp.read_text(encoding="utf-8") if stamp.is_file() else ""
    if not text.startswith(PENDING):
        return False
    langs = _pending_languages(output)
    new, old = output / ".pagefind-new", output / ".pagefind-old"
    for leftover in (new, old, *output.parent.glob(".output-old-*")):
        shutil.rmtree(leftover, ignore_errors=True)
    sitewide_and_search(output, read_site_settings(Path(settings_file).resolve()), langs=langs, bundle=new)
    (output / "pagefind").mkdir(exist_ok=True)
    old.mkdir()
    for lang in langs:
        if (output / "pagefind" / lang).exists():
            (output / "pagefind" / lang).rename(old / lang)
        (new / lang).rename(output / "pagefind" / lang)
    for leftover in (new, old):
        shutil.rmtree(leftover, ignore_errors=True)
    stamp.write_text(text.split(": ", 1)[1], encoding="utf-8")
    return True


@task(help={"publish": "use publishconf.py (production URLs) instead of pelicanconf.py",
            "force": "build even when nothing changed since the last build"})
def build(c, publish=False, force=False):
    """Build the whole site (every language) into output/."""
    try:
        if not build_site(PUBLISH_SETTINGS if publish else DEV_SETTINGS, capture=False, force=force):
            print("output/ is up to date (nothing changed since it was built; --force builds anyway)")
            return
    except BuildFailed as e:
        sys.stderr.write(e.errors)
        sys.exit("build failed: output/ was left as it was")
    print(f"built into {ROOT / 'output'}")


def start_form_service(smtp_port=8025, port=8080):
    """The form service and a debugging mail server that prints every mail, for `serve`."""
    formservice = str(Path(sys.executable).parent / "formservice")
    env = dict(os.environ, FORMSERVICE_SMTP_URL=f"smtp://127.0.0.1:{smtp_port}",
               FORMSERVICE_SITE_URL=f"http://{HOST}:{PORT}")
    sink = subprocess.Popen([formservice, "smtp-sink", "--port", str(smtp_port)], cwd=ROOT, env=env)
    service = subprocess.Popen([formservice, "serve", "--host", "127.0.0.1", "--port", str(port)],
                               cwd=ROOT, env=env)
    return [service, sink]


def stop(processes):
    for p in processes:
        p.terminate()
    for p in processes:
        try:
            p.wait(timeout=10)
        except subprocess.TimeoutExpired:
            p.kill()


@task(help={"no_forms": "do not start the form service and the mail sink"})
def serve(c, no_forms=False):
    """Build, then serve output/ at http://127.0.0.1:8000, with the form service at :8080
    and a mail sink at :8025 that prints every mail (Ctrl-C stops all three)."""
    build(c)
    from pelican.server import ComplexHTTPRequestHandler, RootedHTTPServer

    class Handler(ComplexHTTPRequestHandler):
        SUFFIXES = ["/index.html", ".html", "/"]

    def interrupt(signum, frame):
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, interrupt)  # a plain `kill` also stops the form service and the sink
    processes = [] if no_forms else start_form_service()
    server = RootedHTTPServer(str(ROOT / "output"), (HOST, PORT), Handler)
    print(f"serving the site at http://{HOST}:{PORT}/ (Ctrl-C stops)")
    if processes:
        print("join requests: http://127.0.0.1:8080 (stored in var/); mails are printed here")
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
        stop(processes)


@task(help={"k": "only tests matching this expression (pytest -k)"})
def test(c, k=None):
    """Run the whole test suite."""
    args = [sys.executable, "-m", "pytest", "-n", "2"]  # both cores (CI has two)
    if k:
        args += ["-k", k]
    sys.exit(subprocess.call(args, cwd=ROOT))


@task(help={"sizes": "comma-separated post counts (default 100,1000,5000)", "quick": "smallest sizes, one repeat"})
def bench(c, sizes=None, quick=False):
    """Benchmark build speed, the editing loop, page weight, Lighthouse and the form service."""
    from tools import bench as benchmark

    sys.exit(benchmark.main(sizes=sizes, quick=quick))


# --- editors' tools: thin wrappers around tools/editor.py and tools/livereload.py ----------

@task(help={"title": "the post's title, in quotes",
            "lang": "the post's language (default: the site's first language)",
            "author": "who wrote it (default: the site's AUTHOR)",
            "networks": "comma-separated slugs of the networks the post is about",
            "tags": "comma-separated tags",
            "date": "the date, day first (3-5-2025, 3 mei 2025) or 2025-05-03 (default: today)",
            "draft": "mark it as a draft: not published until the status line is deleted"})
def new_post(c, title, lang=None, author=None, networks=None, tags=None, date=None, draft=False):
    """Start a new blog post: writes content/blog/<slug>.md with its header filled in."""
    from tools import editor

    sys.exit(editor.run_new_post(title, lang=lang, author=author, networks=networks, tags=tags,
                                 date=date, draft=draft, site=editor.Site(DEV_SETTINGS)))


@task(help={"post": "the post's file (content/blog/x.md) or its slug",
            "lang": "the language to translate into (default: the first one it lacks)",
            "title": "the translated title (the web address is made from it)"})
def translate(c, post, lang=None, title=None):
    """Start a translation of a post: a linked draft with the original quoted in it."""
    from tools import editor

    sys.exit(editor.run_translate(post, lang=lang, title=title, site=editor.Site(DEV_SETTINGS)))


@task
def check(c):
    """The build's checks of everything under content/, without building; exit 1 on any error."""
    from tools import editor

    sys.exit(editor.run_check(site=editor.Site(DEV_SETTINGS)))


@task(help={"port": f"the port to serve at (default {PORT})"})
def livereload(c, port=PORT):
    """Build, serve at http://127.0.0.1:8000, rebuild on every change and refresh the browser."""
    from tools.livereload import LiveReload

    sys.exit(LiveReload(ROOT, build_site, BuildFailed, host=HOST, port=port, finish_build=finish_build).run())
