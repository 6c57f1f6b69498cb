"""Fixtures shared by the whole suite: one real build of the site, and a server for it."""

import functools
import http.server
import threading
from pathlib import Path

import pytest

import tasks
from tests.support import ROOT, copy_site, free_port

FIXTURE_POSTS = sorted((ROOT / "tests" / "fixtures" / "posts").glob("*.md"))


@pytest.fixture(scope="session")
def site(tmp_path_factory):
    """The real site (content, theme, plugins, settings) plus fixture posts, built once."""
    root = copy_site(tmp_path_factory.mktemp("site"), extra_posts=FIXTURE_POSTS)
    output = root / "output"
    tasks.build_site(settings_file=root / "pelicanconf.py", output=output, cwd=root, capture=True)
    return output


@pytest.fixture(scope="session")
def html_pages(site):
    return sorted(p for p in site.rglob("*.html"))


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


@pytest.fixture(scope="session")
def site_url(site):
    """The built site served over HTTP on loopback."""
    port = free_port()
    handler = functools.partial(_QuietHandler, directory=str(site))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", port), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{port}"
    server.shutdown()
    server.server_close()


def read(path: Path) -> str:
    return path.read_text(encoding="utf-8")
