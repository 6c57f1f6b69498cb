"""Fixtures shared by the whole suite: one real build of the site, and a server for it."""

import fcntl
import os
import shutil
from pathlib import Path

import pytest

from sitebuild.build import build_site
from tests.support import ROOT, copy_site, serve_static

FIXTURE_POSTS = sorted((ROOT / "tests" / "fixtures" / "posts").glob("*.md"))
ENTRY_POINTS = "tests/entrypoints/"


def work_unit(nodeid):
    """The unit of work of a test under `--dist loadfile`: its file, but the README's entry points
    (tests/entrypoints/) are one unit: their clean copy of the tree is set up from scratch (pip,
    npm) once per worker, so on one worker it is set up once, and `make serve` (fixed ports)
    never runs twice at once."""
    scope = nodeid.split("::", 1)[0]
    return ENTRY_POINTS if scope.startswith(ENTRY_POINTS) else scope


def pytest_xdist_make_scheduler(config, log):
    if config.getoption("dist") != "loadfile":
        return None
    from xdist.scheduler import LoadFileScheduling  # noqa: PLC0415 (only with xdist's -n)

    class EntryPointsTogether(LoadFileScheduling):
        def _split_scope(self, nodeid):
            return work_unit(nodeid)

    return EntryPointsTogether(config, log)


def run_directory(tmp_path_factory):
    """The temporary directory of this test run, which its xdist workers share."""
    base = tmp_path_factory.getbasetemp()
    return base.parent if os.environ.get("PYTEST_XDIST_WORKER") else base


@pytest.fixture(scope="session")
def site(tmp_path_factory):
    """The real site (content, theme, plugins, settings) plus fixture posts, built once per run:
    the first worker that needs it builds it, the others wait for that build and read it (the
    tests only read it)."""
    root = run_directory(tmp_path_factory) / "site"
    with open(root.with_name("site.lock"), "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not (root / ".built").exists():
            shutil.rmtree(root, ignore_errors=True)  # a build that failed on another worker
            copy_site(root, extra_posts=FIXTURE_POSTS)
            build_site(settings_file=root / "pelicanconf.py", output=root / "output", cwd=root, capture=True)
            (root / ".built").touch()
    return root / "output"


@pytest.fixture(scope="session")
def html_pages(site):
    return sorted(p for p in site.rglob("*.html"))


@pytest.fixture(scope="session")
def site_url(site):
    """The built site served over HTTP on loopback."""
    with serve_static(site) as url:
        yield url


def read(path: Path) -> str:
    return path.read_text(encoding="utf-8")
