"""The editing loop's first step (sitebuild.build.show_changes_first, plugins/publishing/
selective.py): after a saved post, only the pages that show it are written, into output/, in
forks of a warm Pelican process; a mistake fails it like a build; the full build after it
makes the same site as a build from scratch; the search index takes the saved post in
between, and is not made again by the full build when its pages did not change."""

import hashlib
import json
import shutil
import subprocess
import time

import pytest

from bench.content import post_name, slug_for
from bench.serve import index_text
from bench.sites import prepare_site
from sitebuild.build import (build_pages_first, build_site, finish_build, pelican_command, show_changes_first,
                             start_warm_pelican)
from sitebuild.errors import BuildFailed
from sitebuild.freshness import BuildState

POSTS = 30


def files(directory):
    """{path: (mtime, hash)} of every file: a file written again has a new mtime."""
    return {p.relative_to(directory).as_posix(): (p.stat().st_mtime_ns, hashlib.sha256(p.read_bytes()).hexdigest())
            for p in sorted(directory.rglob("*")) if p.is_file()}


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    root = tmp_path_factory.mktemp("editing") / "site"
    prepare_site(root, POSTS)
    build_site(settings_file=root / "pelicanconf.py", output=root / "output", cwd=root)
    return root


def show_first(site, changes, warm=None):
    return show_changes_first(changes, settings_file=site / "pelicanconf.py", output=site / "output", cwd=site,
                              warm=warm)


def test_a_saved_post_is_shown_first_and_only_the_pages_that_show_it_are_written(site):
    out = site / "output"
    before = files(out)
    post = site / "content" / "blog" / post_name(12, "nl")
    post.write_text(post.read_text(encoding="utf-8") + "\nEen nieuwe alinea: markering-eerst.\n", encoding="utf-8")
    cache = files(site / "cache")
    warm = start_warm_pelican(site / "pelicanconf.py")
    try:
        runs = show_first(site, [post], warm)
    finally:
        warm.close()
    assert [r.lang for r in runs] == ["nl"]  # the body changed: the English pages cannot have
    assert files(site / "cache") == cache  # the content cache was read, not written again: the full build does
    page = f"blog/{slug_for(12, 'nl')}/index.html"
    assert "markering-eerst" in (out / page).read_text(encoding="utf-8")
    after = files(out)
    written = {p for p in after if after[p][0] != before.get(p, (None,))[0]}
    pages = {p for p in before if p.endswith(".html")}
    assert page in written
    assert f"blog/{slug_for(3, 'nl')}/index.html" not in written  # another post's page
    assert not any(p.startswith("en/") for p in written)
    assert not any(p.startswith("admin/") for p in written), "the editor was written again"
    assert len(written & pages) < len(pages) / 3, sorted(written & pages)
    assert not BuildState.read(out).up_to_date, "not up to date before the full build"
    assert not list(site.glob(".output-*")), "the first step left its directory behind"

    # Then, as the development server does, the search index and sitemap take the new page in:
    # only the changed language is indexed again, by the Pagefind service the first step began
    # on the earlier pages (the full build below makes no index: the comparison with a build from
    # scratch, byte for byte, is of that index).
    assert runs[0].search_index is not None
    assert finish_build(settings_file=site / "pelicanconf.py", output=out, prepared=runs)
    assert runs[0].search_index.written, "the index begun by the first step was not the one written"
    deadline = time.monotonic() + 30  # the service ends, and its page tree goes, once the index is written
    while list(site.glob(".search-*")):
        assert time.monotonic() < deadline, "the search index left its page tree behind"
        time.sleep(0.05)
    assert b"markering-eerst" in index_text(out, "nl")
    indexed = files(out / "pagefind")
    assert {p.split("/")[0] for p in indexed if indexed[p][0] != before.get("pagefind/" + p, (None,))[0]} == {"nl"}
    assert not BuildState.read(out).up_to_date, "not up to date before the full build"

    # The full build after it: every page anew, the sitemap; the same site as a build from
    # scratch. Its pages are those the index was just made from: Pagefind does not run again.
    build_pages_first(settings_file=site / "pelicanconf.py", output=out, cwd=site)
    assert not BuildState.read(out).up_to_date  # until finish_build()
    assert finish_build(settings_file=site / "pelicanconf.py", output=out)
    assert files(out / "pagefind") == indexed
    scratch = site.parent / "scratch"
    build_site(settings_file=site / "pelicanconf.py", output=scratch, cwd=site, force=True)
    ours, theirs = files(out), files(scratch)
    assert set(ours) == set(theirs)
    assert [p for p in ours if ours[p][1] != theirs[p][1]] == []
    assert BuildState.read(out) == BuildState.read(scratch) and BuildState.read(out).up_to_date


def tree_digests(directory):
    return {p.relative_to(directory).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(directory.rglob("*")) if p.is_file()}


def test_an_index_begun_on_pages_that_are_gone_is_made_anew_by_pagefinds_command(site, tmp_path):
    """Pagefind cannot drop a page it has read: when a page the begun index read is gone, the
    index is made by Pagefind's command instead, from the pages as they are."""
    from sitebuild.build import read_site_settings
    from sitebuild.search import PreparedIndex, start_indexing

    out = tmp_path / "output"
    shutil.copytree(site / "output", out)
    settings = read_site_settings(site / "pelicanconf.py")
    begun = PreparedIndex(out, settings, "nl")
    begun.wait_read()
    gone = out / "blog" / slug_for(7, "nl") / "index.html"
    changed = out / "blog" / slug_for(8, "nl") / "index.html"
    gone.unlink()
    changed.write_text(changed.read_text(encoding="utf-8").replace("</article>", "<p>woord-nieuw</p></article>", 1),
                       encoding="utf-8")
    digests = start_indexing(out, settings, ["nl"], bundle=tmp_path / "begun" / "pagefind", prepared={"nl": begun}).wait()
    again = start_indexing(out, settings, ["nl"], bundle=tmp_path / "command" / "pagefind").wait()
    assert not begun.written and digests == again and digests["nl"]
    assert tree_digests(tmp_path / "begun") == tree_digests(tmp_path / "command")
    assert b"woord-nieuw" in index_text(tmp_path / "begun", "nl") and slug_for(7, "nl").encode() not in index_text(
        tmp_path / "begun", "nl")
    deadline = time.monotonic() + 30
    while list(tmp_path.glob(".search-*")):
        assert time.monotonic() < deadline, "a page tree of the search index was left behind"
        time.sleep(0.05)


def test_a_begun_index_whose_pagefind_ends_gives_way_to_the_command_at_once(site, tmp_path, monkeypatch):
    """A Pagefind service that ends is an error as soon as it has ended (not after a time-out):
    the index is left to Pagefind's command, whose failure the build reports."""
    from sitebuild.build import read_site_settings
    from sitebuild.search import PreparedIndex, start_indexing

    out = tmp_path / "output"
    shutil.copytree(site / "output", out)
    settings = read_site_settings(site / "pelicanconf.py")
    broken = tmp_path / "pagefind"
    broken.write_text("#!/bin/sh\necho 'pagefind: planted failure' >&2\nexit 1\n", encoding="utf-8")
    broken.chmod(0o755)
    monkeypatch.setenv("PAGEFIND_BINARY_PATH", str(broken))
    begun = PreparedIndex(out, settings, "nl")
    with pytest.raises(EOFError):
        begun.wait_read()
    changed = out / "blog" / slug_for(8, "nl") / "index.html"
    changed.write_text(changed.read_text(encoding="utf-8").replace("</article>", "<p>woord</p></article>", 1),
                       encoding="utf-8")
    with pytest.raises(BuildFailed, match="planted failure"):
        start_indexing(out, settings, ["nl"], bundle=tmp_path / "b" / "pagefind", prepared={"nl": begun}).wait()
    assert not begun.written
    deadline = time.monotonic() + 30
    while list(tmp_path.glob(".search-*")):
        assert time.monotonic() < deadline, "a page tree of the search index was left behind"
        time.sleep(0.05)


def test_a_mistake_in_the_saved_post_fails_the_first_step_and_leaves_the_output(site):
    out = site / "output"
    before = files(out)
    post = site / "content" / "blog" / post_name(5, "nl")
    good = post.read_text(encoding="utf-8")
    post.write_text(good.replace("\nlang: nl\n", "\nlang: nl\nauhtor: X\n", 1), encoding="utf-8")
    try:
        with pytest.raises(BuildFailed) as e:
            show_first(site, [post])
        assert f"content/blog/{post_name(5, 'nl')}:" in e.value.errors
        assert "auhtor: unknown metadata key (did you mean 'author'?)" in e.value.errors
        assert files(out) == before
        assert not list(site.glob(".output-*"))
    finally:
        post.write_text(good, encoding="utf-8")


def test_a_run_writing_only_some_pages_makes_no_directory_for_the_pages_it_skips(site, tmp_path):
    """The first step's run (PUBLISHING_WRITE_ONLY) skips most listing pages: it makes no
    directory for them (hundreds of empty ones at 1,000 posts, made and removed at each save)."""
    post = site / "content" / "blog" / post_name(12, "nl")
    out = tmp_path / "out"
    cmd = pelican_command(site / "pelicanconf.py", site / "content", out, "nl",
                          {"PUBLISHING_WRITE_ONLY": json.dumps([str(post)]), "CACHE_CONTENT": "false"})
    run = subprocess.run(cmd, cwd=site, capture_output=True, text=True)
    assert run.returncode == 0, run.stderr
    written = {p.relative_to(out).as_posix() for p in out.rglob("*.html")}
    assert f"blog/{slug_for(12, 'nl')}/index.html" in written
    assert f"blog/{slug_for(3, 'nl')}/index.html" not in written
    tags = {p.relative_to(site / "output").as_posix() for p in (site / "output").glob("blog/tag/*/index.html")}
    assert tags & written and tags - written, "some tag pages show the post, some do not"
    assert not (out / "skipped.html").exists()
    empty = [d.relative_to(out).as_posix() for d in out.rglob("*") if d.is_dir() and not any(d.rglob("*.*"))]
    assert empty == []


def test_other_changes_are_left_to_the_full_build(site):
    assert show_first(site, [site / "theme" / "templates" / "base.html"]) is None
    assert show_first(site, [site / "content" / "blog" / "deleted.md"]) is None  # a deleted post
    assert show_first(site, [site / "content" / "networks" / "netwerk-01.yaml"]) is None
