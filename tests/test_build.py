"""Builds fail loudly, one line per problem, and never destroy the previous output."""

import datetime
import hashlib
import os
import re
import shutil
from pathlib import Path

import pytest
from jinja2 import StrictUndefined

from sitebuild import freshness
from sitebuild.build import build_site
from sitebuild.errors import BuildFailed
from tests.support import ROOT, copy_site


def snapshot(directory: Path):
    return {p.relative_to(directory).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(directory.rglob("*")) if p.is_file()}


@pytest.fixture(scope="module")
def first_build(tmp_path_factory):
    """A copy of the site after its first build, made once for the module: (where it was
    built, a snapshot of it)."""
    work = tmp_path_factory.mktemp("built")
    root = copy_site(work / "site")
    build_site(settings_file=root / "pelicanconf.py", output=root / "output", cwd=root, capture=True)
    shutil.copytree(root, work / "snapshot", symlinks=True)
    return root, work / "snapshot"


@pytest.fixture
def built_copy(first_build):
    """A copy of the site as its first build left it, for a test to change: the snapshot put
    back where that build ran (the build's record of what it built holds absolute paths, and
    copy2 keeps each file's size and mtime, which it compares)."""
    root, snap = first_build
    shutil.rmtree(root)
    shutil.copytree(snap, root, symlinks=True)
    return root


def build(root):
    return build_site(settings_file=root / "pelicanconf.py", output=root / "output", cwd=root, capture=True)


def test_broken_metadata_header_fails_with_file_and_line_and_keeps_output(built_copy):
    before = snapshot(built_copy / "output")
    assert "index.html" in before
    (built_copy / "content/blog/kapot.md").write_text(
        "title: Kapot bericht\n"
        "lang: nl\n"
        "translation_key: kapot\n"
        "summary: x\n"
        "date: gisteren\n"
        "auhtor: Jelmer\n"
        "dit is geen metadata\n"
        "\nTekst.\n", encoding="utf-8")
    with pytest.raises(BuildFailed) as e:
        build(built_copy)
    lines = e.value.errors.splitlines()
    assert "content/blog/kapot.md:5:7: date: 'gisteren' is not a date; write it as 3-5-2019, 3 mei 2019 or 2019-05-03" in lines
    assert "content/blog/kapot.md:6:1: auhtor: unknown metadata key (did you mean 'author'?)" in lines
    assert "content/blog/kapot.md:7:1: metadata: expected 'key: value', got 'dit is geen metadata'" in lines
    assert snapshot(built_copy / "output") == before
    assert not list(built_copy.glob(".output-*")), "the failed build left its directory behind"


def test_missing_required_metadata_is_reported_for_every_file(built_copy):
    (built_copy / "content/blog/a.md").write_text("title: A\nlang: nl\n\nTekst.\n", encoding="utf-8")
    (built_copy / "content/pages/b.md").write_text("title: B\n\nTekst.\n", encoding="utf-8")
    with pytest.raises(BuildFailed) as e:
        build(built_copy)
    lines = e.value.errors.splitlines()
    for expected in ("content/blog/a.md:1:1: date: required metadata is missing",
                     "content/blog/a.md:1:1: translation_key: required metadata is missing",
                     "content/pages/b.md:1:1: lang: required metadata is missing"):
        assert expected in lines
    # Each problem is one line in the `file:line:col: field: message` format.
    for line in lines:
        if line.startswith("content/"):
            assert re.fullmatch(r"content/\S+:\d+:\d+: \S+: .+", line), line


def test_misspelt_template_variable_fails_the_build(built_copy):
    template = built_copy / "theme/templates/article.html"
    template.write_text(template.read_text(encoding="utf-8").replace("{{ article.title }}", "{{ artcle.title }}"),
                        encoding="utf-8")
    before = snapshot(built_copy / "output")
    with pytest.raises(BuildFailed) as e:
        build(built_copy)
    assert "artcle" in e.value.errors
    assert snapshot(built_copy / "output") == before


def test_templates_render_with_strict_undefined():
    from pelican.settings import read_settings

    settings = read_settings(str(ROOT / "pelicanconf.py"))
    assert settings["JINJA_ENVIRONMENT"]["undefined"] is StrictUndefined


def test_a_successful_build_replaces_the_output(built_copy):
    (built_copy / "output" / "stale.html").write_text("old", encoding="utf-8")
    build_site(settings_file=built_copy / "pelicanconf.py", output=built_copy / "output", cwd=built_copy,
                     force=True)
    assert not (built_copy / "output" / "stale.html").exists()
    assert (built_copy / "output" / "index.html").exists()


def test_extra_settings_reach_every_language(tmp_path):
    root = copy_site(tmp_path / "site")
    build_site(settings_file=root / "pelicanconf.py", output=root / "output", cwd=root,
                     extra={"FORM_ENDPOINT": '"http://127.0.0.1:9/join/{slug}"'})
    for page in ("netwerken/suspacc/index.html", "en/networks/suspacc/index.html"):
        assert 'action="http://127.0.0.1:9/join/suspacc"' in (root / "output" / page).read_text(encoding="utf-8")


def test_blog_index_paginates_with_language_words(tmp_path):
    import lxml.html

    root = copy_site(tmp_path / "site", extra_posts=sorted((ROOT / "tests/fixtures/posts").glob("*.md")))
    build_site(settings_file=root / "pelicanconf.py", output=root / "output", cwd=root,
                     extra={"DEFAULT_PAGINATION": "1"})
    out = root / "output"
    first = lxml.html.fromstring((out / "blog/index.html").read_text(encoding="utf-8"))
    assert first.xpath("//nav[contains(@class,'pagination')]//a[@rel='next']/@href") == ["/blog/pagina/2/"]
    second = lxml.html.fromstring((out / "blog/pagina/2/index.html").read_text(encoding="utf-8"))
    assert second.xpath("//nav[contains(@class,'pagination')]//a[@rel='prev']/@href") == ["/blog/"]
    assert "Pagina 2 van 3" in second.text_content()
    assert (out / "en/blog/page/2/index.html").exists()
    assert (out / "blog/tag/samenwerking/pagina/2/index.html").exists()


def test_each_language_run_converts_only_its_own_language():
    """Other languages' files are listed and linked, never written: their bodies are not converted."""
    from pelican.settings import read_settings

    from buildcheck.check import CheckedMarkdownReader

    post = ROOT / "content/blog/kracht-van-samenwerken.nl.md"
    for run_lang, converted in (("nl", True), ("en", False)):
        settings = read_settings(str(ROOT / "pelicanconf.py"), override={"PATH": str(ROOT / "content")})
        settings.update(LANG=run_lang, BUILDCHECK_TYPOGRIFY=False)
        content, metadata = CheckedMarkdownReader(settings).read(str(post))
        assert metadata["title"] == "De kracht van samenwerken"
        assert metadata["lang"] == "nl" and "Biocoöperatie" in str(metadata["summary"])
        assert ("Laat ik voorop stellen" in content) is converted


def test_nothing_is_rebuilt_when_nothing_changed(built_copy):
    before = snapshot(built_copy / "output")
    assert build(built_copy) == [], "an unchanged site was built again"
    assert snapshot(built_copy / "output") == before
    post = built_copy / "content/blog/kracht-van-samenwerken.nl.md"
    post.write_text(post.read_text(encoding="utf-8") + "\nBewerkingsmarkering.\n", encoding="utf-8")
    # Below its header, a Dutch file matters to the Dutch run only: English is not built again.
    english = {k: v for k, v in before.items() if k.startswith("en/")}
    assert [r.lang for r in build(built_copy)] == ["nl"]
    assert "Bewerkingsmarkering." in (built_copy / "output/blog/de-kracht-van-samenwerken/index.html").read_text(
        encoding="utf-8")
    after = snapshot(built_copy / "output")
    assert {k: v for k, v in after.items() if k.startswith("en/")} == english
    assert build(built_copy) == []
    # A header is read by every language: the English post's new address reaches the Dutch page.
    en_post = built_copy / "content/blog/kracht-van-samenwerken.en.md"
    en_post.write_text(en_post.read_text(encoding="utf-8").replace(
        "slug: the-power-of-collaboration", "slug: the-strength-of-collaboration"), encoding="utf-8")
    assert sorted(r.lang for r in build(built_copy)) == ["en", "nl"]
    dutch = (built_copy / "output/blog/de-kracht-van-samenwerken/index.html").read_text(encoding="utf-8")
    assert 'hreflang="en" href="/en/blog/the-strength-of-collaboration/"' in dutch
    assert not (built_copy / "output/en/blog/the-power-of-collaboration").exists()
    # An English body change: the Dutch pages are carried over from the previous output as they were.
    before = snapshot(built_copy / "output")
    dutch_index = (built_copy / "output/pagefind/nl/pagefind-entry.json").stat().st_ino
    en_post.write_text(en_post.read_text(encoding="utf-8") + "\nEnglishEditMarker.\n", encoding="utf-8")
    assert [r.lang for r in build(built_copy)] == ["en"]
    # ... and so is their search index: not made again from the same pages.
    assert (built_copy / "output/pagefind/nl/pagefind-entry.json").stat().st_ino == dutch_index
    after = snapshot(built_copy / "output")
    assert {k: v for k, v in after.items() if not k.startswith(("en/", "pagefind/", "."))} == \
           {k: v for k, v in before.items() if not k.startswith(("en/", "pagefind/", "."))}
    assert "EnglishEditMarker." in (built_copy / "output/en/blog/the-strength-of-collaboration/index.html"
                                      ).read_text(encoding="utf-8")
    template = built_copy / "theme/templates/base.html"
    template.write_text(template.read_text(encoding="utf-8") + "\n", encoding="utf-8")
    assert len(build(built_copy)) == 2
    assert len(build_site(settings_file=built_copy / "publishconf.py", output=built_copy / "output",
                                cwd=built_copy)) == 2  # other settings: another build


def test_a_build_from_the_content_cache_equals_a_build_from_the_sources(built_copy):
    """The reader's results (Markdown, typogrify) are cached per language; a forced build
    that reads them from the cache writes exactly what a build from the sources wrote."""
    cache = built_copy / "cache"
    assert any(cache.rglob("*")), "the first build filled no content cache"
    cold = snapshot(built_copy / "output")
    build_seconds = build_site(settings_file=built_copy / "pelicanconf.py", output=built_copy / "output",
                                     cwd=built_copy, force=True)
    assert len(build_seconds) == 2
    warm = snapshot(built_copy / "output")

    def pages(files):  # Pagefind's own hashes may differ from one run to the next
        return {name: digest for name, digest in files.items() if not name.startswith("pagefind/")}

    assert pages(warm) == pages(cold) and len(pages(warm)) > 50
    # typogrify's work is in the cached page: widont joins a paragraph's last two words
    page = (built_copy / "output/blog/de-kracht-van-samenwerken/index.html").read_text(encoding="utf-8")
    assert "&nbsp;" in page


def test_the_content_cache_is_emptied_when_the_plugins_or_settings_change(built_copy):
    cache = built_copy / "cache"
    marker = cache / "nl" / "marker"
    marker.write_text("x", encoding="utf-8")
    assert build(built_copy) == [] and marker.exists()  # nothing changed: the cache stays
    plugin = built_copy / "plugins/buildcheck/check.py"
    plugin.write_text(plugin.read_text(encoding="utf-8") + "\n", encoding="utf-8")
    assert len(build(built_copy)) == 2
    assert not marker.exists(), "the plugins changed, but the content cache was kept"
    marker.parent.mkdir(parents=True, exist_ok=True)
    marker.write_text("x", encoding="utf-8")
    post = built_copy / "content/blog/kracht-van-samenwerken.nl.md"
    post.write_text(post.read_text(encoding="utf-8") + "\nNog een alinea.\n", encoding="utf-8")
    assert len(build(built_copy)) == 1  # the Dutch run
    assert marker.exists(), "only content changed: Pelican's own check per file is enough"
    settings = built_copy / "pelicanconf.py"
    settings.write_text(settings.read_text(encoding="utf-8") + "\nDEFAULT_PAGINATION = 7\n", encoding="utf-8")
    assert len(build(built_copy)) == 2
    assert not marker.exists(), "the settings changed, but the content cache was kept"


def test_typogrify_twice_is_refused_at_start_up(built_copy):
    before = snapshot(built_copy / "output")
    with pytest.raises(BuildFailed) as failed:
        build_site(settings_file=built_copy / "pelicanconf.py", output=built_copy / "output", cwd=built_copy,
                         extra={"TYPOGRIFY": "true"})
    assert "buildcheck: BUILDCHECK_TYPOGRIFY and TYPOGRIFY are both on" in failed.value.errors
    assert snapshot(built_copy / "output") == before


def test_one_markdown_instance_reads_many_files_like_fresh_ones(tmp_path):
    """The reader reuses one Markdown instance (reset in between): no state may leak from one
    file into the next (footnotes, heading ids, abbreviations, metadata)."""
    from pelican.readers import MarkdownReader
    from pelican.settings import read_settings

    from buildcheck.check import CheckedMarkdownReader

    for i in range(3):
        (tmp_path / f"p{i}.md").write_text(
            f"title: Pagina {i}\nlang: nl\ntranslation_key: p{i}\nsummary: Over *HTML* {i}\n\n"
            f"## Kop\n\nTekst{i} met een voetnoot[^1] en HTML.\n\n## Kop\n\n"
            f"[^1]: Voetnoot {i}.\n" + ("\n*[HTML]: HyperText Markup Language\n" if i == 0 else ""),
            encoding="utf-8")
    files = sorted(tmp_path.glob("*.md")) + sorted((ROOT / "content").rglob("*.md"))

    def settings():
        s = read_settings(str(ROOT / "pelicanconf.py"), override={"PATH": str(ROOT / "content")})
        s.update(LANG="nl", BUILDCHECK_TYPOGRIFY=False)
        return s

    shared = CheckedMarkdownReader(settings())
    compared = 0
    for path in files + files[::-1]:
        content, metadata = shared.read(str(path))
        if metadata["lang"] != "nl":
            assert content == ""
            continue
        expected_content, expected_metadata = MarkdownReader(settings()).read(str(path))
        assert content == expected_content, path
        # buildcheck keeps the links and positions it found; a list stays a list.
        ours = {k: v for k, v in metadata.items() if not k.startswith("buildcheck_")}
        if "networks" in expected_metadata:
            expected_metadata["networks"] = [n.strip() for n in expected_metadata["networks"].split(",")]
        assert ours == expected_metadata, path
        compared += 1
    assert compared >= 8
    first = shared.read(str(tmp_path / "p0.md"))[0]
    assert "<abbr" in first and "<abbr" not in shared.read(str(tmp_path / "p1.md"))[0]


def test_the_first_build_of_a_day_builds_everything(built_copy, monkeypatch):
    """A post dated in the future is published on its day without any file changing."""
    assert build(built_copy) == []
    tomorrow = (datetime.date.today() + datetime.timedelta(days=1)).isoformat()
    monkeypatch.setattr(freshness, "_today", lambda: tomorrow)
    assert sorted(r.lang for r in build(built_copy)) == ["en", "nl"]
    assert build(built_copy) == []


def test_only_the_run_that_copied_the_theme_files_renames_them(tmp_path):
    """The language runs write into one directory at once; the primary run copies the theme's
    files and gives them fingerprinted names. Another run renaming them too could take a file
    the first is still copying, or fail on one it has renamed already (seen as a flaky build)."""
    import types

    from publishing.plugin import finalized

    static = tmp_path / "theme" / "css"
    static.mkdir(parents=True)
    (static / "main.css").write_text("body{}", encoding="utf-8")
    settings = {"THEME_STATIC_DIR": "theme", "PUBLISHING_ASSETS": {"css/main.css": "css/main.0123456789.css"}}
    finalized(types.SimpleNamespace(settings=dict(settings, THEME_STATIC_PATHS=[]), output_path=str(tmp_path)))
    assert sorted(p.name for p in static.iterdir()) == ["main.css"]  # another language's run: left alone
    finalized(types.SimpleNamespace(settings=dict(settings, THEME_STATIC_PATHS=["static"]), output_path=str(tmp_path)))
    assert sorted(p.name for p in static.iterdir()) == ["main.0123456789.css"]  # the run that copied it


def test_the_sitewide_files_are_replaced_whole_never_rewritten_in_place(tmp_path):
    """finish_build() renews the sitemap, robots.txt and _headers in an output that is being
    served (the development server reads _headers for every answer, and a request during a
    rewrite went out without its CSP): each is written beside and moved in, so a reader that
    opened the old file reads it whole, and no other file is left behind."""
    from publishing.sitewide import write_sitewide_files
    from sitebuild.build import read_site_settings

    settings = read_site_settings(ROOT / "pelicanconf.py")
    (tmp_path / "index.html").write_text("<html lang='nl'><head></head><body></body></html>", encoding="utf-8")
    write_sitewide_files(tmp_path, settings)
    names = ("sitemap.xml", "robots.txt", "_headers")
    before = {name: (tmp_path / name).read_bytes() for name in names}
    opened = {name: open(tmp_path / name, "rb") for name in names}  # noqa: SIM115
    try:
        write_sitewide_files(tmp_path, dict(settings, SITE_ORIGIN="https://elders.example"))
        for name in names:
            assert opened[name].read() == before[name], name
            assert (tmp_path / name).read_bytes() != before[name] or name == "_headers"
    finally:
        for f in opened.values():
            f.close()
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(("index.html", *names))


def test_a_build_that_fails_after_carrying_a_language_over_keeps_the_output(built_copy, tmp_path, monkeypatch):
    """A language whose inputs did not change is carried over into the fresh output before the
    search index is made; when Pagefind then fails, the previous output still has every page."""
    en_post = built_copy / "content/blog/kracht-van-samenwerken.en.md"
    en_post.write_text(en_post.read_text(encoding="utf-8") + "\nEnglishEditMarker.\n", encoding="utf-8")
    broken = tmp_path / "pagefind"
    broken.write_text("#!/bin/sh\necho 'pagefind: planted failure' >&2\nexit 1\n", encoding="utf-8")
    broken.chmod(0o755)
    monkeypatch.setenv("PAGEFIND_BINARY_PATH", str(broken))
    before = snapshot(built_copy / "output")
    with pytest.raises(BuildFailed, match="planted failure"):
        build(built_copy)
    assert snapshot(built_copy / "output") == before
    assert not list(built_copy.glob(".output-*")), "the failed build left its directory behind"


def test_the_output_is_never_missing_while_a_build_is_swapped_in(tmp_path):
    """The development server answers from output/ while builds are swapped in: a reader finds
    the old output or the new one, never no output (the two are exchanged in one step)."""
    import threading

    from sitebuild.build import _swap_in

    output = tmp_path / "output"
    output.mkdir()
    (output / "index.html").write_text("0", encoding="utf-8")
    missing, done = [], threading.Event()

    def read():
        while not done.is_set():
            try:
                (output / "index.html").read_text(encoding="utf-8")
            except FileNotFoundError:
                missing.append(1)

    reader = threading.Thread(target=read)
    reader.start()
    try:
        for n in range(1, 300):
            fresh = tmp_path / f".output-{n}"
            fresh.mkdir()
            (fresh / "index.html").write_text(str(n), encoding="utf-8")
            _swap_in(fresh, output, keep_old=n % 2 == 0)
    finally:
        done.set()
        reader.join()
    assert (output / "index.html").read_text(encoding="utf-8") == "299"
    assert not missing, f"output/index.html was missing {len(missing)} times"
    left = [p.name for p in tmp_path.iterdir() if p.name != "output"]  # the kept ones, for finish_build() to delete
    assert len(left) == 149 and all(name.startswith(".output-old-") for name in left), left


def test_the_build_state_is_replaced_whole(tmp_path):
    """The development server's tests and tools poll the build state while the editing loop
    renews it: a reader that opened the old state reads it whole, and no other file is left."""
    from sitebuild.freshness import BuildState

    BuildState("a" * 64, ("nl",)).write(tmp_path)
    with open(tmp_path / ".build-stamp", "rb") as opened:
        old = (tmp_path / ".build-stamp").read_bytes()
        BuildState("b" * 64).write(tmp_path)
        assert opened.read() == old
    assert BuildState.read(tmp_path) == BuildState("b" * 64)
    assert [p.name for p in tmp_path.iterdir()] == [".build-stamp"]


def test_a_header_changed_in_place_changes_the_other_languages_fingerprint(tmp_path):
    """The development server asks for every language's fingerprint at each save, and a file's
    header is read again only when the file changed: a header edit of the same length, saved in
    place, still reaches the other language's fingerprint; an edit below the header does not."""
    import os

    from sitebuild.build import read_site_settings
    from sitebuild.freshness import language_fingerprints

    root = copy_site(tmp_path / "site")
    settings = read_site_settings(root / "pelicanconf.py")

    def fingerprints():
        return language_fingerprints(root / "pelicanconf.py", settings, root / "content", None, ["nl", "en"])

    post = root / "content/blog/kracht-van-samenwerken.en.md"
    before = fingerprints()
    assert fingerprints() == before
    text = post.read_text(encoding="utf-8")
    st = post.stat()
    post.write_text(text + "Below the header.\n", encoding="utf-8")
    body = fingerprints()
    assert body["nl"] == before["nl"] and body["en"] != before["en"]
    post.write_text(text.replace("the-power-of-collaboration", "the-power-of-cooperation!!"), encoding="utf-8")
    os.utime(post, ns=(st.st_atime_ns, st.st_mtime_ns + 1))
    assert post.stat().st_size == st.st_size  # the same length: only the time tells it changed
    header = fingerprints()
    assert header["nl"] != before["nl"] and header["en"] != before["en"]


def test_the_sitemap_reads_each_page_as_it_is_now_and_parses_a_head_it_has_seen_only_once(tmp_path, monkeypatch):
    """sitemap_entries() remembers what a page's <head> gives by the head's own bytes: a head
    changed in place (same size, same modification second) is read anew; an unchanged one is
    not parsed again (the development server reads every page after each save)."""
    import lxml.html
    from publishing import sitewide

    def page(lang, other, extra=""):
        return (f'<!DOCTYPE html><html lang="{lang}"{extra}><head><title>t</title>'
                f'<link rel="alternate" hreflang="{other}" href="/{other}/x/"></head><body><p>x</p></body></html>')

    (tmp_path / "en").mkdir()
    a, b = tmp_path / "a.html", tmp_path / "en" / "b.html"
    a.write_text(page("nl", "en"))
    b.write_text(page("en", "nl"))
    parsed = []
    real = lxml.html.fromstring
    monkeypatch.setattr(lxml.html, "fromstring", lambda data, *args, **kw: parsed.append(data) or real(data, *args, **kw))
    assert [links for _, links in sitewide.sitemap_entries([a, b])] == [(("en", "/en/x/"),), (("nl", "/nl/x/"),)]
    seen = len(parsed)
    assert sitewide.sitemap_entries([a, b]) == [(a, (("en", "/en/x/"),)), (b, (("nl", "/nl/x/"),))]
    assert len(parsed) == seen, "an unchanged head was parsed again"
    stat = a.stat()
    a.write_text(page("nl", "de"))  # the same size
    os.utime(a, ns=(stat.st_atime_ns, stat.st_mtime_ns))
    b.write_text(page("en", "nl", ' data-sitemap="exclude"'))
    assert sitewide.sitemap_entries([a, b]) == [(a, (("de", "/de/x/"),))]


def test_the_sitemap_is_written_again_only_when_its_pages_or_the_file_changed(tmp_path):
    """write_sitemap() leaves sitemap.xml alone when it lists the same pages as the file it wrote
    (the development server writes it after every save); a page more, or a file replaced since
    (a swapped-in output), is written anew."""
    from publishing import sitewide

    def page(path, lang):
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(f'<!DOCTYPE html><html lang="{lang}"><head><title>t</title></head><body></body></html>')

    page(tmp_path / "index.html", "nl")
    sitemap = tmp_path / "sitemap.xml"
    sitewide.write_sitemap(tmp_path, "https://example.org")
    first = sitemap.stat().st_ino
    sitewide.write_sitemap(tmp_path, "https://example.org")
    assert sitemap.stat().st_ino == first, "the same pages: the file is left as it is"
    page(tmp_path / "blog" / "index.html", "nl")
    sitewide.write_sitemap(tmp_path, "https://example.org")
    assert sitemap.stat().st_ino != first and b"https://example.org/blog/" in sitemap.read_bytes()
    sitemap.write_text("replaced")
    sitewide.write_sitemap(tmp_path, "https://example.org")
    assert b"https://example.org/blog/" in sitemap.read_bytes(), "a replaced file is written anew"
    second = sitemap.stat().st_ino
    sitewide.write_sitemap(tmp_path, "https://example.com")
    assert sitemap.stat().st_ino != second and b"https://example.com/blog/" in sitemap.read_bytes()
    # A sitemap found in an output (the development server, at its start) is taken for the
    # pages' only when it is theirs, byte for byte.
    sitewide._SITEMAPS.clear()
    sitemap.write_bytes(sitemap.read_bytes().replace(b"/blog/", b"/blogg/"))
    sitewide.remember_sitemap(tmp_path, "https://example.com")
    sitewide.write_sitemap(tmp_path, "https://example.com")
    assert b"https://example.com/blog/" in sitemap.read_bytes()
    third = sitemap.stat().st_ino
    sitewide._SITEMAPS.clear()
    sitewide.remember_sitemap(tmp_path, "https://example.com")
    sitewide.write_sitemap(tmp_path, "https://example.com")
    assert sitemap.stat().st_ino == third
