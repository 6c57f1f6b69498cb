"""An editor's mistakes, planted in a copy of the real content and caught the way an editor
meets them: `invoke check` and `invoke build`, each started as a subprocess, print one line
`file:line:col: field: message` per mistake (all at once), exit with status 1, and never
show a Python traceback. Issues 13 and 19."""

import datetime
import re
import shutil
import subprocess
import sys

import lxml.html
import pytest

from core.source import normalize, parse_header
from tests.support import ROOT, copy_site


def real(key, lang):
    """The real content file (relative to content/) with this translation_key and language:
    found by its header, so that the tests follow the content wherever it is kept."""
    for path in sorted((ROOT / "content").rglob("*.md")):
        meta = parse_header("", normalize(path.read_text(encoding="utf-8")), ["nl", "en"], False).meta
        if meta.get("translation_key") == key and meta.get("lang") == lang:
            return path.relative_to(ROOT / "content").as_posix()
    raise LookupError(f"no content file has translation_key {key!r} in {lang!r}")


CONTACT_NL, CONTACT_EN = real("contact", "nl"), real("contact", "en")

HEADER = "title: {name}\nslug: {name}\ntranslation_key: {name}\nlang: nl\ndate: 2019-05-03\nsummary: Iets.\n\n"


def post(name, body="Tekst.\n", header=None):
    return (header if header is not None else HEADER.format(name=name)) + body


#: name -> (file under content/, its text, the line check and build must print (a prefix
#: of it, from the file name on)).
MISTAKES = {
    # Dates as Dutch editors write them: never read month first.
    "date-two-digit-year": ("blog/date-two-digit-year.md",
                            post("date-two-digit-year", header=HEADER.format(name="date-two-digit-year")
                                 .replace("2019-05-03", "03-05-19")),
                            "5:7: date: '03-05-19' is ambiguous"),
    "date-impossible": ("blog/date-impossible.md",
                        post("date-impossible", header=HEADER.format(name="date-impossible")
                             .replace("2019-05-03", "31-02-2019")),
                        "5:7: date: '31-02-2019' is not a date: read as day 31 of februari 2019"),
    "date-month-first": ("blog/date-month-first.md",
                         post("date-month-first", header=HEADER.format(name="date-month-first")
                              .replace("2019-05-03", "05-13-2019")),
                         "5:7: date: '05-13-2019' is not a date: read day first"),
    "date-wrong-weekday": ("blog/date-wrong-weekday.md",
                           post("date-wrong-weekday", header=HEADER.format(name="date-wrong-weekday")
                                .replace("2019-05-03", "maandag 3 mei 2019")),
                           "5:7: date: 'maandag 3 mei 2019': 3 mei 2019 is a vrijdag, not a maandag"),
    "date-words": ("blog/date-words.md",
                   post("date-words", header=HEADER.format(name="date-words").replace("2019-05-03", "gisteren")),
                   "5:7: date: 'gisteren' is not a date; write it as 3-5-2019, 3 mei 2019 or 2019-05-03"),
    # Raw HTML the site blocks or that runs script.
    "script": ("blog/script.md", post("script", "Tekst.\n\n<script>alert('hoi')</script>\n"),
               "10:1: html: <script>: a <script> does not run on this site"),
    "iframe": ("blog/iframe.md",
               post("iframe", "Kaart:\n\n<iframe src=\"https://www.openstreetmap.org/export/embed.html\"></iframe>\n"),
               "10:1: html: <iframe>: an <iframe> (an embedded page, map or video) is blocked by the site's "
               "Content-Security-Policy: link to it instead"),
    "embed": ("blog/embed.md", post("embed", "<embed src=\"/images/x.swf\">\n"), "8:1: html: <embed>"),
    "object": ("blog/object.md", post("object", "Tekst <object data=\"x.pdf\"></object>\n"), "8:7: html: <object>"),
    "onclick": ("blog/onclick.md", post("onclick", "Een <a href=\"/contact/\" onclick=\"go()\">link</a>.\n"),
                "8:25: html: <a onclick=...> runs script"),
    "onerror": ("blog/onerror.md", post("onerror", "<img src=\"/x.png\" alt=\"x\" onerror=\"go()\">\n"),
                "8:27: html: <img onerror=...> runs script"),
    "javascript-link": ("blog/javascript-link.md", post("javascript-link", "Een [knop](javascript:go()) hier.\n"),
                        "8:12: link: a javascript: link runs script"),
    "javascript-href": ("blog/javascript-href.md",
                        post("javascript-href", "Een <a href=\"javascript:go()\">knop</a>.\n"),
                        "8:8: html: href=\"javascript:go()...\" runs script"),
    "style-attribute": ("blog/style-attribute.md", post("style-attribute", "<p style=\"color: red\">Rood</p>\n"),
                        "8:4: html: <p style=...>: the site's Content-Security-Policy blocks inline styles"),
    "external-image": ("blog/external-image.md",
                       post("external-image", "![De kaart](https://example.com/kaart.png)\n"),
                       "8:13: image: the image is on another site (https://example.com)"),
    # Half-written Markdown.
    "half-link": ("blog/half-link.md",
                  post("half-link", "Lees het [verslag](https://example.com/verslag en meer.\n"),
                  "8:10: link: half-written link: the ( after ] is never closed with )"),
    "link-with-space": ("blog/link-with-space.md",
                        post("link-with-space", "Lees het [verslag](https://example.com/mijn verslag).\n"),
                        "8:10: link: half-written link: the address has a space in it"),
    "half-image": ("blog/half-image.md", post("half-image", "![Foto van de dag](/images/foto.jpg\n"),
                   "8:1: image: half-written image"),
    "unclosed-bracket": ("blog/unclosed-bracket.md",
                         post("unclosed-bracket", "Het [verslag(https://example.com/verslag).\n"),
                         "8:5: link: half-written link: the [ is never closed with ]"),
    "space-before-paren": ("blog/space-before-paren.md",
                           post("space-before-paren", "Het [verslag] (https://example.com/verslag).\n"),
                           "8:5: link: half-written link: a space between ] and ("),
    "undefined-reference": ("blog/undefined-reference.md",
                            post("undefined-reference", "Het [verslag][vs] staat online.\n"),
                            "8:5: link: half-written link: [vs] is not defined"),
    # Links and images to the site itself must exist, in the post's language.
    "site-path": ("blog/site-path.md", post("site-path", "Over [SUSPACC](/netwerken/suspac/).\n"),
                  "8:16: link: /netwerken/suspac/: this site has no such page or file (did you mean /netwerken/suspacc/?)"),
    "site-image": ("blog/site-image.md", post("site-image", "![Het team](/images/team.jpg)\n"),
                   "8:13: image: /images/team.jpg: this site has no such picture or file"),
    "relative-path": ("blog/relative-path.md", post("relative-path", "Zie [onze diensten](../diensten/).\n"),
                      "8:21: link: ../diensten/: this site has no such page or file; it is read relative to "
                      "this page's address, /blog/relative-path/, so it points at /blog/diensten/"),
    "relative-image": ("blog/relative-image.md", post("relative-image", "![Het team](team.jpg)\n"),
                       "8:13: image: team.jpg: this site has no such picture or file; it is read relative to"),
    "filename-link": ("blog/filename-link.md",
                      post("filename-link", "Zie [dit bericht]({filename}/blog/bestaat-niet.md).\n"),
                      "8:19: link: {filename}/blog/bestaat-niet.md: there is no file content/blog/bestaat-niet.md"),
    "static-image": ("blog/static-image.md", post("static-image", "![Het logo]({static}/images/logo.png)\n"),
                     "8:13: image: {static}/images/logo.png: there is no file content/images/logo.png"),
    "other-language": ("blog/other-language.md",
                       post("other-language", f"[Neem contact op]({{filename}}/{CONTACT_EN}).\n"),
                       f"8:19: link: {{filename}}/{CONTACT_EN} is the English version; this Dutch text "
                       f"should link to {{filename}}/{CONTACT_NL}"),
    "other-language-path": ("blog/other-language-path.md",
                            post("other-language-path", "Over [SUSPACC](/en/networks/suspacc/).\n"),
                            "8:16: link: /en/networks/suspacc/ is the English page; this Dutch text should "
                            "link to the Dutch one, /netwerken/suspacc/"),
    "summary-link": ("blog/summary-link.md",
                     post("summary-link", header=HEADER.format(name="summary-link")
                          .replace("summary: Iets.", "summary: Zie [dit]({filename}/blog/weg.md).")),
                     "6:20: link: {filename}/blog/weg.md: there is no file content/blog/weg.md"),
    "image-no-description": ("blog/image-no-description.md",
                             post("image-no-description", "<img src=\"/images/x.png\" alt=\"\">\n"),
                             "8:1: image: no description"),
    # Headers.
    "empty-line-in-header": ("blog/empty-line-in-header.md",
                             "title: Lege regel\nslug: lege-regel\ntranslation_key: lege-regel\nlang: nl\n"
                             "date: 2019-05-03\n\nsummary: Iets.\n\nTekst.\n",
                             "7:1: summary: this looks like a header line, but the empty line 6 ended the header"),
    "yaml-list-in-pelican-header": ("blog/yaml-list.md",
                                    post("yaml-list", header=HEADER.format(name="yaml-list")
                                         .replace("summary:", "tags: [samenwerking, netwerken]\nsummary:")),
                                    "6:7: tags: '[samenwerking, netwerken]' looks like a YAML list"),
    "front-matter-unknown-key": ("blog/front-matter.md",
                                 "---\ntitle: \"Samen: sterker\"\nslug: front-matter\ntranslation_key: front-matter\n"
                                 "lang: nl\ndate: 3 mei 2019\ntags: [samenwerking]\nsumary: Iets.\n---\n\nTekst.\n",
                                 "8:1: sumary: unknown metadata key (did you mean 'summary'?)"),
    "front-matter-not-closed": ("blog/front-matter-open.md",
                                "---\ntitle: Open\nslug: open\ntranslation_key: open\nlang: nl\n\nTekst.\n",
                                "1:1: metadata: the front matter that starts with --- on line 1 is never closed"),
    "front-matter-colon": ("blog/front-matter-colon.md",
                           "---\ntitle: Samen: sterker\nslug: colon\ntranslation_key: colon\nlang: nl\n"
                           "date: 2019-05-03\nsummary: Iets.\n---\n\nTekst.\n",
                           "2:13: metadata: not valid YAML: mapping values are not allowed here: a value with ': '"),
    "duplicate-address": ("blog/dubbel.md",
                          post("dubbel", header=HEADER.format(name="dubbel").replace("slug: dubbel",
                                                                                      "slug: de-kracht-van-samenwerken")),
                          "2:7: slug: its address /blog/de-kracht-van-samenwerken/ is also the address of "
                          f"content/{real('kracht-van-samenwerken', 'nl')}"),
    "page-on-generated-address": ("pages/netwerken.md",
                                  "title: Netwerken\nslug: netwerken\nlang: nl\ntranslation_key: netwerkpagina\n\nTekst.\n",
                                  "2:7: slug: its address /netwerken/ is also the address of the networks overview: "
                                  "give this page another slug"),
    "filename-to-a-picture": ("blog/filename-picture.md",
                              post("filename-picture", "![Het logo]({filename}/images/logo.svg)\n"),
                              "8:13: image: {filename}/images/logo.svg is a file, not a post or page: write "
                              "{static}/images/logo.svg"),
    "bom-crlf-with-mistake": ("blog/bom.md",
                              "\ufeff" + post("bom", "Regel een.\n\n<iframe src=\"x\"></iframe>\n").replace("\n", "\r\n"),
                              "10:1: html: <iframe>"),
    # Network files are checked too (today's check read only Markdown).
    "network-missing-field": ("networks/nieuw.yaml",
                              "slug: nieuw\nname: {nl: Nieuw, en: New}\nkind: network\n"
                              "region: {nl: Noord, en: North}\nsummary: {nl: Kort., en: Short.}\n"
                              "description: {nl: Lang., en: Long.}\njoin: {open: false}\n",
                              "1:1: contact: required field is missing"),
    # What YAML reads otherwise than it looks, and messages that say what to do.
    "yaml-hash-cuts-title": ("blog/bijeenkomst.md",
                             "---\ntitle: SUSPACC netwerkbijeenkomst #3 bij Cumapol\nslug: bijeenkomst\n"
                             "translation_key: bijeenkomst\nlang: nl\ndate: 2019-05-03\nsummary: Iets.\n---\n\n"
                             "Tekst.\n",
                             "2:8: title: YAML reads ' #' as the start of a comment, so this is read as "
                             "'SUSPACC netwerkbijeenkomst', without '#3 bij Cumapol': put the whole text in quotes: "
                             "title: \"SUSPACC netwerkbijeenkomst #3 bij Cumapol\""),
    "yaml-quote-not-closed": ("blog/aanhalingsteken.md",
                              "---\ntitle: \"Samen sterker\nslug: aanhalingsteken\n---\n\nTekst.\n",
                              "3:22: metadata: not valid YAML: found unexpected end of stream: a quote is not "
                              "closed"),
    "email-as-link": ("blog/mail-jelmer.md", post("mail-jelmer", "Vragen? [Mail Jelmer](jelmer@knnadvies.nl)\n"),
                      "8:23: link: jelmer@knnadvies.nl: this site has no such page or file: an e-mail address as "
                      "a link needs mailto: in front, so it opens a new mail: write (mailto:jelmer@knnadvies.nl)"),
    "network-tab": ("networks/tabs.yaml", "slug: tabs\nname:\n\tnl: Tabs\n",
                    "3:1: yaml: a tab: YAML indents with spaces only, so replace the tab by spaces"),
    "network-hash-cuts-text": ("networks/hekje.yaml",
                               "slug: hekje\nname: {nl: Hekje, en: Hash}\nkind: network\nregion:\n"
                               "  nl: Noord #3 regio\n  en: North\n",
                               "5:7: region.nl: YAML reads ' #' as the start of a comment, so this is read as "
                               "'Noord', without '#3 regio': put the whole text in quotes: nl: \"Noord #3 regio\""),
    # Every file under content/ is accounted for: one line for a file the site would leave out.
    "saved-as-txt": ("blog/kennisdag-emmen.nl.md.txt", post("kennisdag-emmen"),
                     "1:1: file: not read: a post or page is a Markdown file ending in .md: rename it "
                     "kennisdag-emmen.nl.md"),
    "markdown-extension": ("pages/colofon.nl.markdown", post("colofon"),
                           "1:1: file: not read: a post or page is a Markdown file ending in .md: rename it "
                           "colofon.nl.md"),
    "capital-md": ("blog/verslag.nl.MD", post("verslag"),
                   "1:1: file: not read: a post or page is a Markdown file ending in .md: rename it verslag.nl.md"),
    "post-in-content-root": ("losse-post.nl.md", post("losse-post"),
                             "1:1: file: not published: a post goes in content/blog/, a page in content/pages/: "
                             "move it there as content/blog/losse-post.nl.md"),
    "network-yml-txt": ("networks/nieuw.txt", "slug: nieuw\n",
                        "1:1: file: not read: name it nieuw.yaml"),
    "network-indentation": ("networks/inspringen.yaml", "slug: inspringen\nname:\n  nl: In\n   en: Out\n",
                            "4:6: yaml: the indentation is off"),
}


def planted_site(tmp_path, files):
    root = copy_site(tmp_path / "site")
    for name in ("tasks.py", "requirements.txt"):
        shutil.copy2(ROOT / name, root / name)
    if (ROOT / "sitebuild").is_dir():  # the build engine, once it has left tasks.py
        shutil.copytree(ROOT / "sitebuild", root / "sitebuild", ignore=shutil.ignore_patterns("__pycache__"))
    for path, text in files.items():
        target = root / "content" / path
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(text.encode("utf-8"))
    return root


def invoke(root, *args):
    return subprocess.run([sys.executable, "-m", "invoke", *args], cwd=root, capture_output=True, text=True,
                          timeout=300)


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    """Every mistake planted at once in one copy of the site: `invoke check` and `invoke build`."""
    files = {path: text for path, text, _ in MISTAKES.values()}
    files["images/logo.svg"] = '<svg xmlns="http://www.w3.org/2000/svg" width="1" height="1"/>\n'  # a real picture
    root = planted_site(tmp_path_factory.mktemp("mistakes"), files)
    return root, invoke(root, "check"), invoke(root, "build")


@pytest.mark.parametrize("name", MISTAKES)
def test_check_and_build_name_the_mistake(runs, name):
    root, check, build = runs
    path, _, expected = MISTAKES[name]
    line = f"content/{path}:{expected}"
    for what, run in (("check", check), ("build", build)):
        printed = (run.stdout + run.stderr).splitlines()
        assert [p for p in printed if p.startswith(line)], f"invoke {what} did not print {line!r}:\n" + "\n".join(
            p for p in printed if p.startswith(f"content/{path}"))


def test_every_mistake_at_once_and_no_traceback(runs):
    root, check, build = runs
    assert check.returncode == 1 and build.returncode == 1
    for run in (check, build):
        text = run.stdout + run.stderr
        assert "Traceback" not in text and "CRITICAL" not in text and "Error:" not in text, text[-3000:]
        for line in text.splitlines():
            if line.startswith("content/"):
                assert re.fullmatch(r"content/\S+:\d+:\d+: \S+: .+", line), line
    # The build names the same problems as check (check adds the editors' warnings only).
    errors = {line for line in check.stdout.splitlines() if ": warning: " not in line}
    built = {line for line in build.stderr.splitlines() if line.startswith("content/")}
    assert built == {e for e in errors if e.startswith("content/")}
    assert not (root / "output").exists()


def test_a_clean_site_with_every_accepted_form_builds_and_passes_check(tmp_path):
    """YAML front matter (lists, quotes, a date written out), a byte-order mark, CRLF line
    ends, Dutch day-first dates and every kind of good link: check says 0 errors and the
    build publishes what was meant."""
    files = {
        "blog/yaml-kop.md": "\ufeff" + (
            "---\ntitle: \"Samen: sterker\"\nslug: yaml-kop\ntranslation_key: yaml-kop\nlang: nl\n"
            "date: 3 mei 2019\ntags: [samenwerking, netwerken]\nnetworks:\n  - suspacc\n  - bernn\n"
            "summary: >\n  Een samenvatting\n  over twee regels.\n---\n\n"
            "Zie [SUSPACC](/netwerken/suspacc/), [contact](../../contact/), [het bericht]"
            f"({{filename}}/{real('kracht-van-samenwerken', 'nl')}), [de netwerken](/netwerken), [English](/en/) en "
            "[extern](https://example.org/a \"titel\").\n").replace("\n", "\r\n"),
        "blog/dag-eerst.md": post("dag-eerst", header=HEADER.format(name="dag-eerst").replace("2019-05-03", "03-05-2019")),
        # What editors and systems leave beside files: skipped without a word (docs/redacteuren.md)
        "blog/dag-eerst.md~": "een reservekopie",
        "blog/.dag-eerst.md.swp": "vim",
        "blog/#dag-eerst.md#": "emacs",
        "pages/~$ntwerp.docx": "Word",
        "Thumbs.db": "Windows",
    }
    root = planted_site(tmp_path, files)
    check = invoke(root, "check")
    assert check.returncode == 0, check.stdout + check.stderr
    assert "check: 0 error(s)" in check.stderr
    build = invoke(root, "build")
    assert build.returncode == 0, build.stdout + build.stderr
    page = lxml.html.fromstring((root / "output/blog/yaml-kop/index.html").read_bytes())
    assert page.xpath("//h1")[0].text_content().replace("\xa0", " ").strip() == "Samen: sterker"  # widont
    assert page.xpath("//time/@datetime")[0].startswith("2019-05-03")
    tags = {a.text_content().strip() for a in page.xpath("//a[contains(@href, '/tag/')]")}
    assert {"samenwerking", "netwerken"} <= tags and not [t for t in tags if "[" in t or "]" in t], tags
    day_first = lxml.html.fromstring((root / "output/blog/dag-eerst/index.html").read_bytes())
    assert day_first.xpath("//time/@datetime")[0].startswith("2019-05-03")  # 3 May, never 5 March


def test_mistyped_translation_key_gets_did_you_mean(tmp_path):
    root = planted_site(tmp_path, {})
    english = root / "content" / real("kracht-van-samenwerken", "en")
    text = english.read_text(encoding="utf-8").replace("translation_key: kracht-van-samenwerken",
                                                       "translation_key: kracht-van-samenwerkn")
    english.write_text(text, encoding="utf-8")
    line = text[:text.index("translation_key:")].count("\n") + 1
    check = invoke(root, "check")
    assert (f"content/{real('kracht-van-samenwerken', 'en')}:{line}:18: translation_key: warning: no Dutch version "
            "has translation_key 'kracht-van-samenwerkn': did you mean 'kracht-van-samenwerken', the "
            f"translation_key of content/{real('kracht-van-samenwerken', 'nl')}?") in check.stdout, check.stdout


def test_new_post_date_is_read_day_first_and_the_preview_address_is_printed(tmp_path):
    root = planted_site(tmp_path, {})
    p = invoke(root, "new-post", "Dag eerst", "--date", "3-5-2019")
    assert p.returncode == 0, p.stderr
    text = (root / "content/blog/dag-eerst.md").read_text(encoding="utf-8")
    assert "\ndate: 2019-05-03\n" in text
    assert "Preview: http://127.0.0.1:8000/blog/dag-eerst/ " in p.stderr
    p = invoke(root, "new-post", "Een Engels bericht", "--lang", "en", "--draft", "--date", "3 May 2019")
    assert p.returncode == 0, p.stderr
    assert "Preview: http://127.0.0.1:8000/en/blog/drafts/een-engels-bericht/ " in p.stderr
    tomorrow = datetime.date.today() + datetime.timedelta(days=1)
    p = invoke(root, "new-post", "Morgen", "--date", f"{tomorrow.day}-{tomorrow.month}-{tomorrow.year}")
    assert "Preview: http://127.0.0.1:8000/blog/drafts/morgen/ " in p.stderr  # not published before its date
    for bad, message in (("03-05-19", "is ambiguous"), ("31-02-2019", "that month has no day 31"),
                         ("05-13-2019", "there is no month 13")):
        p = invoke(root, "new-post", "Fout", "--date", bad)
        assert p.returncode == 1 and message in p.stderr, p.stderr
        assert not (root / "content/blog/fout.md").exists()


def test_deleted_pages_the_site_needs_are_one_line_each(tmp_path):
    """The English home page and both thank-you pages deleted: content problems, not tracebacks."""
    root = planted_site(tmp_path, {})
    home = real("home", "en")
    for name in (home, real("thank-you", "nl"), real("thank-you", "en")):
        (root / "content" / name).unlink()
    for run in (invoke(root, "check"), invoke(root, "build")):
        text = run.stdout + run.stderr
        assert run.returncode == 1 and "Traceback" not in text, text
        lines = text.splitlines()
        assert [line for line in lines if re.fullmatch(r"content/\S+/home(\.en)?\.md:1:1: home: there is no home "
                                                       r"page in 'en': add this file .*", line)], text
        assert [line for line in lines if re.fullmatch(r"content/networks/\S+\.yaml:\d+:1: join: the join form "
                                                       r"needs a page with translation_key 'thank-you'.*", line)], text
