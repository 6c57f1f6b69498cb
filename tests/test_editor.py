"""The editors' tools: `invoke new-post`, `invoke translate` and `invoke check` (tools/editor.py)."""

import datetime
import io
import shutil
import subprocess
import sys

import lxml.html
import pytest
from pelican.settings import read_settings

from sitebuild.build import build_site
from tests.support import ROOT, copy_site
from tools import editor
from tools.editor import ERROR, WARNING, EditorError

FIXTURE = ROOT / "tests" / "fixtures" / "editor" / "content"
SHOWN = "tests/fixtures/editor/content/"


def header(path):
    meta, _, _ = editor.parse_header(path.read_text(encoding="utf-8"))
    return meta


def build(root):
    return build_site(settings_file=root / "pelicanconf.py", output=root / "output", cwd=root)


def alternate(page, lang):
    doc = lxml.html.fromstring(page.read_bytes())
    return doc.xpath(f"//head/link[@rel='alternate'][@hreflang='{lang}']/@href")


@pytest.fixture
def site(tmp_path):
    root = copy_site(tmp_path / "site")
    return editor.Site(root / "pelicanconf.py")


# --- new-post and translate --------------------------------------------------------------------

def test_new_post_and_its_translation_build_and_link_each_other(site):
    root = site.root
    post = editor.new_post(site, "Biocoöperatie viert tienjarig bestaan", tags="samenwerking, jubileum",
                           networks="suspacc", date="2024-05-01")
    assert post == root / "content/blog/biocooperatie-viert-tienjarig-bestaan.md"
    meta = header(post)
    assert meta == {
        "title": "Biocoöperatie viert tienjarig bestaan", "slug": "biocooperatie-viert-tienjarig-bestaan",
        "translation_key": "biocooperatie-viert-tienjarig-bestaan", "lang": "nl", "date": "2024-05-01",
        "author": site.settings["AUTHOR"], "category": "Samenwerken",  # the Dutch posts' category
        "tags": "samenwerking, jubileum", "networks": "suspacc", "summary": editor.PLACEHOLDERS["nl"]["summary"],
    }
    post.write_text(post.read_text(encoding="utf-8").replace(
        editor.PLACEHOLDERS["nl"]["body"],
        "Tien jaar samenwerken in het noorden.\n\nMet [SUSPACC]({network}suspacc); [contact]({filename}/pages/contact.md)."),
        encoding="utf-8")

    translation = editor.translate(site, "biocooperatie-viert-tienjarig-bestaan", lang="en",
                                   title="Biocooperative celebrates ten years")
    assert translation == root / "content/blog/biocooperative-celebrates-ten-years.md"
    tmeta = header(translation)
    assert {k: tmeta[k] for k in ("title", "slug", "translation_key", "lang", "date", "author", "networks",
                                  "status", "category")} == {
        "title": "Biocooperative celebrates ten years", "slug": "biocooperative-celebrates-ten-years",
        "translation_key": "biocooperatie-viert-tienjarig-bestaan", "lang": "en", "date": "2024-05-01",
        "author": site.settings["AUTHOR"], "networks": "suspacc", "status": "draft",
        "category": "Collaboration",  # what the English versions of "Samenwerken" posts use
    }
    text = translation.read_text(encoding="utf-8")
    assert ("> Tien jaar samenwerken in het noorden.\n>\n"
            "> Met [SUSPACC]({network}suspacc); [contact]({filename}/pages/contact.md).\n") in text

    # The draft builds, but is not published.
    build(root)
    out = root / "output"
    nl_page = out / "blog/biocooperatie-viert-tienjarig-bestaan/index.html"
    en_page = out / "en/blog/biocooperative-celebrates-ten-years/index.html"
    assert nl_page.is_file()
    assert not en_page.exists()

    translation.write_text(text.replace("status: draft\n", ""), encoding="utf-8")
    build(root)
    assert en_page.is_file()
    assert alternate(nl_page, "en") == ["/en/blog/biocooperative-celebrates-ten-years/"]
    assert alternate(en_page, "nl") == ["/blog/biocooperatie-viert-tienjarig-bestaan/"]
    quote = lxml.html.fromstring(en_page.read_bytes()).xpath("//blockquote")[0]
    assert " ".join(quote.text_content().split()) == "Tien jaar samenwerken in het noorden. Met SUSPACC; contact."
    hrefs = quote.xpath(".//a/@href")
    assert len(hrefs) == 2 and not [h for h in hrefs if "{" in h or "%7B" in h], hrefs

    # What check still reports is what the editor has to write: the TODOs, nothing else.
    errors = [f for f in editor.check(site) if f.level == ERROR]
    assert {(f.path, f.field) for f in errors} == {
        ("content/blog/biocooperatie-viert-tienjarig-bestaan.md", "summary"),
        ("content/blog/biocooperative-celebrates-ten-years.md", "summary"),
        ("content/blog/biocooperative-celebrates-ten-years.md", "text"),
    }, errors


def test_new_post_refuses_to_overwrite(site):
    first = editor.new_post(site, "Een bericht")
    first.write_text(first.read_text(encoding="utf-8") + "Mijn tekst.\n", encoding="utf-8")
    before = first.read_bytes()
    with pytest.raises(EditorError, match="already exists"):
        editor.new_post(site, "Een bericht!")  # the same slug
    assert first.read_bytes() == before
    err = io.StringIO()
    assert editor.run_new_post("Een bericht", site=site, out=io.StringIO(), err=err) == 1
    assert "already exists" in err.getvalue()
    assert first.read_bytes() == before


def test_new_post_options(site):
    post = editor.new_post(site, "A new post", lang="en", author="Willemien", tags="networks", draft=True)
    meta = header(post)
    assert (meta["lang"], meta["author"], meta["category"], meta["status"], meta["date"]) == (
        "en", "Willemien", "Collaboration", "draft", datetime.date.today().isoformat())
    assert meta["summary"].startswith("TODO")
    for kwargs, message in [({"lang": "fr"}, "not a site language"),
                            ({"date": "gisteren"}, "not a date"),
                            ({"networks": "suspac"}, "did you mean 'suspacc'")]:
        with pytest.raises(EditorError, match=message):
            editor.new_post(site, "Nog een bericht", **kwargs)
    assert not (site.root / "content/blog/nog-een-bericht.md").exists()


def test_new_post_accepts_networks_before_any_network_exists(site):
    shutil.rmtree(site.root / "content/networks")
    notes = []
    post = editor.new_post(site, "Over een nieuw netwerk", networks="nieuw-netwerk", notes=notes)
    assert header(post)["networks"] == "nieuw-netwerk"
    assert any("no networks" in n for n in notes), notes


def test_new_post_refuses_a_translation_key_in_use(site):
    (site.root / "content/blog/x.md").write_text(
        "title: X\nslug: x\ntranslation_key: een-titel\nlang: en\ndate: 2020-01-01\nsummary: X.\n\nX.\n",
        encoding="utf-8")
    with pytest.raises(EditorError, match="invoke translate"):
        editor.new_post(site, "Een titel")


def test_translate_without_title_and_its_refusals(site):
    notes = []
    # the real post has an English translation: remove it, then start a new one
    (site.root / "content/blog/the-power-of-collaboration.md").unlink()
    path = editor.translate(site, "content/blog/de-kracht-van-samenwerken.md", notes=notes)  # lang: the missing one
    meta = header(path)
    assert path.name == "de-kracht-van-samenwerken-en.md"
    assert (meta["lang"], meta["title"], meta["translation_key"], meta["status"]) == (
        "en", "De kracht van samenwerken", "kracht-van-samenwerken", "draft")
    assert any("title is still the original's" in n for n in notes)
    before = path.read_bytes()
    with pytest.raises(EditorError, match="already has a translation in 'en'"):
        editor.translate(site, "de-kracht-van-samenwerken", lang="en", title="Something else")
    with pytest.raises(EditorError, match="already translated into every site language"):
        editor.translate(site, "de-kracht-van-samenwerken")
    with pytest.raises(EditorError, match="is itself in 'nl'"):
        editor.translate(site, "de-kracht-van-samenwerken", lang="nl")
    with pytest.raises(EditorError, match="did you mean 'de-kracht-van-samenwerken'"):
        editor.translate(site, "de-kracht-van-samenwerkn", lang="en")
    assert path.read_bytes() == before


def test_invoke_tasks_on_a_copy(site):
    """The task wrappers: positional title, exit status, the path printed."""
    shutil.copy2(ROOT / "tasks.py", site.root / "tasks.py")

    def invoke(*args):
        return subprocess.run([sys.executable, "-m", "invoke", *args], cwd=site.root, capture_output=True,
                              text=True, timeout=60)

    p = invoke("new-post", "Biocoöperatie groeit", "--tags", "samenwerking")
    assert p.returncode == 0, p.stderr
    assert p.stdout.strip() == "content/blog/biocooperatie-groeit.md"
    p = invoke("translate", "biocooperatie-groeit", "--lang", "en", "--title", "Biocooperative grows")
    assert p.returncode == 0, p.stderr
    assert p.stdout.strip() == "content/blog/biocooperative-grows.md"
    p = invoke("check")
    assert p.returncode == 1
    assert "content/blog/biocooperatie-groeit.md:9:10: summary: summary still says TODO" in p.stdout.splitlines()


# --- check -------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def fixture_findings():
    settings = read_settings(str(ROOT / "pelicanconf.py"),
                             override={"PATH": str(FIXTURE), "WITH_FUTURE_DATES": False})
    return editor.check(editor.Site(ROOT / "pelicanconf.py", settings=settings), today=datetime.date(2025, 1, 1))


#: (file, line, col, field, level, part of the message): one file per kind of mistake.
PLANTED = [
    ("blog/header.md", 8, 1, "auhtor", ERROR, "unknown metadata key (did you mean 'author'?)"),
    ("blog/summary-todo.md", 8, 10, "summary", ERROR, "summary still says TODO"),
    ("blog/text-todo.md", 12, 1, "text", ERROR, "still has a TODO"),
    ("pages/no-summary.md", 1, 1, "summary", WARNING, "missing"),
    ("blog/image-no-alt.md", 12, 1, "image", ERROR, "no alt text"),
    ("blog/img-tag-no-alt.md", 12, 5, "image", ERROR, "no alt text"),
    ("blog/image-meta-no-alt.md", 8, 8, "image_alt", ERROR, "no image_alt"),
    ("blog/broken-filename-link.md", 10, 16, "link", ERROR, "no file tests/fixtures/editor/content/blog/bestaat-niet.md"),
    ("blog/broken-static-link.md", 12, 22, "link", ERROR, "no file tests/fixtures/editor/content/images/folder.pdf"),
    ("blog/unknown-network-link.md", 10, 25, "link", ERROR, "no network has slug 'biocoperatie' (did you mean 'biocooperatie'?)"),
    ("blog/unknown-network-meta.md", 8, 20, "networks", ERROR, "no network has slug 'bernn'"),
    ("blog/tag-typo.md", 8, 18, "tags", ERROR, "'samenwerkng' looks like a typo of the tag 'samenwerking'"),
    ("blog/duplicate-translation.md", 3, 18, "translation_key", ERROR, "already has translation_key 'clean' in 'nl'"),
    ("blog/no-translation.md", 3, 18, "translation_key", WARNING, "no English translation"),
    ("blog/draft.md", 8, 9, "status", WARNING, "still a draft"),
    ("blog/future.md", 5, 7, "date", WARNING, "dated in the future"),
    ("blog/not-utf8.md", 1, 1, "file", ERROR, "not UTF-8"),
]


@pytest.mark.parametrize("file, line, col, field, level, message", PLANTED, ids=[p[0] for p in PLANTED])
def test_check_finds_each_planted_mistake(fixture_findings, file, line, col, field, level, message):
    prefix = f"{SHOWN}{file}:{line}:{col}: {field}: " + ("warning: " if level == WARNING else "")
    printed = [str(f) for f in fixture_findings]
    hits = [p for p in printed if p.startswith(prefix)]
    assert hits, f"nothing starts with {prefix!r}:\n" + "\n".join(printed)
    assert any(message in h for h in hits), hits
    assert all("\n" not in p for p in printed)


def test_check_reports_nothing_but_the_planted_mistakes(fixture_findings):
    """The clean fixture files (every kind of correct link, image and tag) give nothing."""
    assert sorted((f.path, f.line, f.field, f.level) for f in fixture_findings) == sorted(
        (SHOWN + file, line, field, level) for file, line, _, field, level, _ in PLANTED)


def test_the_real_content_has_no_errors():
    findings = editor.check(editor.Site(ROOT / "pelicanconf.py"))
    assert not [str(f) for f in findings if f.level == ERROR]


def test_check_exit_status(tmp_path):
    root = copy_site(tmp_path / "site")
    site = editor.Site(root / "pelicanconf.py")

    def run():
        out, err = io.StringIO(), io.StringIO()
        return editor.run_check(site=site, out=out, err=err), out.getvalue().splitlines()

    assert run() == (0, [])
    post = root / "content/blog/de-kracht-van-samenwerken.md"
    post.write_text(post.read_text(encoding="utf-8").replace("\nsummary:", "\nstatus: draft\nsummary:"),
                    encoding="utf-8")
    line = post.read_text(encoding="utf-8").splitlines().index("status: draft") + 1
    status, lines = run()
    assert status == 0  # warnings only
    assert lines == [f"content/blog/de-kracht-van-samenwerken.md:{line}:9: status: warning: still a draft: "
                     "it is not published (delete the status line when it is ready)"]
    post.write_text(post.read_text(encoding="utf-8") + "\n![](foto.jpg)\n", encoding="utf-8")
    status, lines = run()
    assert status == 1
    assert any(line.startswith("content/blog/de-kracht-van-samenwerken.md:") and ": image: no alt text" in line
               for line in lines), lines
