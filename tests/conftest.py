"""Fixtures shared by the whole suite: one real build of the site, and a server for it."""

from pathlib import Path

import pytest

from sitebuild.build import build_site
from tests.support import ROOT, copy_site, serve_static

FIXTURE_POSTS = sorted((ROOT / "tests" / "fixtures" / "posts").glob("*.md"))


@pytest.fixture(scope="session")
def site(tmp_path_factory):
    """The real site (content, theme, plugins, settings) plus fixture posts, built once."""
    root = copy_site(tmp_path_factory.mktemp("site"), extra_posts=FIXTURE_POSTS)
    output = root / "output"
    build_site(settings_file=root / "pelicanconf.py", output=output, cwd=root, capture=True)
    return output


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
