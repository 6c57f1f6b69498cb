"""invoke tasks for the KNN Advies site. `make` creates .venv and then calls these.

    invoke serve               build, serve at http://127.0.0.1:8000, rebuild on every change
    invoke build [--publish]   build every language into output/ (safely: build, then swap)
    invoke test                run the whole test suite
    invoke bench               benchmarks (BENCHMARKS.md)
    invoke new-post "Titel"    start a post;  invoke translate <post> --lang en: its translation
    invoke check               the editors' lint (file:line:col: field: message)

The work is done by the packages: sitebuild (build engine, development server), bench
(the benchmark), tools (editors' tools). Each task only calls one of them.
"""

import subprocess
import sys
from pathlib import Path

from invoke import task

ROOT = Path(__file__).resolve().parent  # the tree these tasks work on
DEV_SETTINGS, PUBLISH_SETTINGS = ROOT / "pelicanconf.py", ROOT / "publishconf.py"


@task(help={"publish": "use publishconf.py (production URLs) instead of pelicanconf.py",
            "force": "build even when nothing changed since the last build"})
def build(c, publish=False, force=False):
    """Build the whole site (every language) into output/."""
    from sitebuild.build import build_site
    from sitebuild.errors import BuildFailed, one_line_errors

    try:
        if not build_site(PUBLISH_SETTINGS if publish else DEV_SETTINGS, output=ROOT / "output", cwd=ROOT,
                          capture=False, force=force):
            print("output/ is up to date (nothing changed since it was built; --force builds anyway)")
            return
    except BuildFailed as e:
        sys.stderr.write("".join(line + "\n" for line in one_line_errors(e.errors, ROOT)))
        sys.exit("build failed: output/ was left as it was")
    print(f"built into {ROOT / 'output'}")


@task(help={"no_forms": "do not start the form service, the mail sink and decap-server (the editor's backend)",
            "port": "the port of the site (default 8000)"})
def serve(c, no_forms=False, port=8000):
    """Build, serve at http://127.0.0.1:8000 and rebuild on every change, with the form
    service at :8080 and a mail sink at :8025 (Ctrl-C stops all of them)."""
    from sitebuild.devserver import DevServer

    sys.exit(DevServer(ROOT, port=int(port), forms=not no_forms).run())


@task(help={"k": "only tests matching this expression (pytest -k)"})
def test(c, k=None):
    """Run the whole test suite."""
    # Both cores (CI has two); by file, so that the tests that start `make serve` (its fixed
    # ports), all in one file, never run two at once.
    _needs_dev_tools("pytest")
    args = [sys.executable, "-m", "pytest", "-n", "2", "--dist", "loadfile"]
    if k:
        args += ["-k", k]
    sys.exit(subprocess.call(args, cwd=ROOT))


@task(help={"sizes": "comma-separated post counts (default 100,1000,5000)", "quick": "smallest sizes, one repeat",
            "only": "one section alone (forms, pages, check, images, profile or publish): rewrites only its part "
                    "of BENCHMARKS.md"})
def bench(c, sizes=None, quick=False, only=None):
    """Benchmark build speed, the editing loop, page weight, Lighthouse and the form service."""
    _needs_dev_tools("playwright")
    from bench.main import main

    sys.exit(main(sizes=sizes, quick=quick, only=only))


def _needs_dev_tools(module):
    """The test and benchmark tools come with `make test` and `make bench` (requirements-dev.txt),
    not with `make serve`: say so rather than fail on an import."""
    import importlib.util

    if importlib.util.find_spec(module) is None:
        sys.exit(f"{module} is not installed: `make test` or `make bench` installs the test and benchmark tools "
                 "(requirements-dev.txt)")


# --- editors' tools: thin wrappers around tools/editor.py ------------------------------------

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
