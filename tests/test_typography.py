"""The faster typography (plugins/buildcheck/typography.py) gives exactly what smarty and
typogrify give: on every Markdown file of the site, on the benchmark's synthetic posts, and on
generated text full of quotes, dashes, ampersands, tags and spaces."""

import functools
import sys

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st
from markdown import Markdown

from tests.support import ROOT

sys.path.insert(0, str(ROOT / "plugins"))
from buildcheck.typography import _FastInline, _SmartyPass, speed_up_markdown, typogrify, widont  # noqa: E402
from typogrify import filters  # noqa: E402

EXTENSIONS = ["markdown.extensions.extra", "markdown.extensions.toc", "markdown.extensions.smarty"]
IGNORE = ["pre", "code", "script", "title"]


def site_texts():
    texts = [p.read_text(encoding="utf-8") for p in sorted((ROOT / "content").rglob("*.md"))]
    from bench.content import post_text

    texts += [post_text(i, lang, 50) for i in range(0, 50, 7) for lang in ("nl", "en")]
    return texts


@functools.cache
def _instance(fast, smarty):
    md = Markdown(extensions=EXTENSIONS, extension_configs={"markdown.extensions.smarty": dict(smarty)},
                  output_format="html5")
    if fast:
        speed_up_markdown(md)
        assert isinstance(md.treeprocessors["smarty"], _SmartyPass)
        assert isinstance(md.treeprocessors["inline"], _FastInline)
    return md


def convert(text, fast, **smarty):
    """`text` through Python-Markdown with smarty, with our faster passes or without; one
    instance of each, reset before every text, as the site's reader uses one (creating one was
    two thirds of a short text's time)."""
    md = _instance(fast, tuple(sorted(smarty.items())))
    md.reset()
    return md.convert(text)


def test_the_smarty_pass_is_replaced_only_when_it_is_smartys_own():
    md = speed_up_markdown(Markdown(extensions=["markdown.extensions.extra"]))
    assert "smarty" not in md.treeprocessors  # nothing to speed up
    md = speed_up_markdown(Markdown(extensions=["markdown.extensions.extra"]))
    assert isinstance(md.treeprocessors["inline"], _FastInline)
    md = Markdown(extensions=EXTENSIONS)
    md.treeprocessors["smarty"].inlinePatterns.register(md.inlinePatterns["em_strong"], "mine", 1)
    speed_up_markdown(md)
    assert not isinstance(md.treeprocessors["smarty"], _SmartyPass)  # a pattern it does not know


def test_every_expression_known_to_need_a_character_is_markdowns():
    """_NEEDS is keyed by Markdown's own expressions: after an upgrade that changed them, a
    key no pattern has would only cost speed; this says so."""
    from buildcheck.typography import _NEEDS

    expressions = set()
    for angled in (False, True):
        md = Markdown(extensions=EXTENSIONS, extension_configs={"markdown.extensions.smarty":
                                                                  {"smart_angled_quotes": angled}})
        expressions |= {md.inlinePatterns[i.name].getCompiledRegExp().pattern for i in md.inlinePatterns._priority}
    assert set(_NEEDS) <= expressions
    assert expressions <= set(_NEEDS)  # every pattern of the site's Markdown has its shortcut


def test_same_html_as_smarty_and_typogrify_on_the_sites_text():
    texts = site_texts()
    assert len(texts) > 20
    for text in texts:
        slow = convert(text, fast=False)
        assert convert(text, fast=True) == slow
        assert typogrify(slow, IGNORE, caps=False, smartypants=False) == \
            filters.typogrify(slow, IGNORE, caps=False, smartypants=False)
        assert typogrify(slow, IGNORE) == filters.typogrify(slow, IGNORE)


MARKDOWN_BITS = ["'", '"', "--", "---", "...", "<<", ">>", " ", "\n", "\n\n", "word", "'80s", "*", "**", "`",
                 "[a](/b)", "# ", "- ", "&", "&amp;", "\\'", "(", ")", "-", ".", "'s", "<em>x</em>", "é", "_", "__",
                 "[", "]", "![a](/i.png)", "[^1]", "\n[^1]: note\n", "<https://x.nl>", "<a@b.nl>", "  \n", "&copy;",
                 "\\*", "{: .c}", "\n*[KNN]: Kennis\n", "KNN", "[x][r]", "\n[r]: /u\n", "<span>", "</span>", "```",
                 "\n    code\n", "> ", "1. ", "| a | b |\n|---|---|\n"]
HTML_BITS = ["<p>", "</p>", "<h2>", "</h2>", "<li>", "</li>", "<em>", "</em>", '<a href="x y">', "</a>", "<br>",
             "<pre>", "</pre>", "<code>", "</code>", "<title>", "</title>", " ", "  ", "\n", "\t", "word", "x",
             "&", "&amp;", "&nbsp;", "&#38;", '"', "'", "&ldquo;", "&lsquo;", "<", ">", "\xa0", "</span>", "<b>",
             "</dd>", "<dt>", "KNN", "A.B. "]


@settings(max_examples=3000, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.sampled_from(MARKDOWN_BITS), max_size=30), st.booleans())
def test_same_html_as_smarty_on_generated_text(bits, angled):
    text = "".join(bits)
    assert convert(text, fast=True, smart_angled_quotes=angled) == \
        convert(text, fast=False, smart_angled_quotes=angled)


@settings(max_examples=3000, deadline=None)
@given(st.lists(st.sampled_from(HTML_BITS), max_size=30))
def test_same_html_as_typogrify_on_generated_html(bits):
    html = "".join(bits)
    assert widont(html) == filters.widont(html)
    for omit in ({}, {"caps": False, "smartypants": False}, {"amp": False, "widont": False}):
        assert typogrify(html, IGNORE, **omit) == filters.typogrify(html, IGNORE, **omit)


def test_unknown_filter_is_refused_as_typogrify_does():
    with pytest.raises(TypeError):
        filters.typogrify("<p>a b</p>", IGNORE, bogus=False)
    with pytest.raises(TypeError):
        typogrify("<p>a b</p>", IGNORE, bogus=False)


def test_dates_read_as_pelican_reads_them():
    """The reader's shortcut for ISO dates without a time zone gives what Pelican's get_date gives."""
    from pelican.readers import MarkdownReader
    from pelican.settings import DEFAULT_CONFIG

    from buildcheck.check import CheckedMarkdownReader

    settings = dict(DEFAULT_CONFIG, LANGUAGES={"nl": {}}, BUILDCHECK_TYPOGRIFY=False)
    ours, pelicans = CheckedMarkdownReader(settings), MarkdownReader(settings)
    for value in ("2019-03-04", "2019-03-04 09:05", "2019-03-04 23:59:58", "2024-02-29 00:00"):
        for name in ("date", "modified"):
            mine, theirs = ours.process_metadata(name, value), pelicans.process_metadata(name, value)
            assert mine == theirs and type(mine) is type(theirs) and mine.tzinfo is None
    # anything else goes to Pelican's own processor
    assert ours.process_metadata("date", "2019-03-04T09:05+01:00") == pelicans.process_metadata(
        "date", "2019-03-04T09:05+01:00")


def test_an_aligned_table_column_gets_a_class_not_a_style():
    """`|---:|` makes Markdown write style="text-align: right;", which the site's CSP blocks
    (a console error in every browser): the reader writes class="align-right" instead."""
    from markdown import Markdown

    from buildcheck.typography import csp_safe_tables

    md = csp_safe_tables(Markdown(extensions=["markdown.extensions.extra"]))
    html = md.convert("| a | b | c |\n|:---|:---:|---:|\n| 1 | 2 | 3 |\n")
    assert "style=" not in html
    assert html.count('class="align-left"') == 2 and html.count('class="align-center"') == 2
    assert html.count('class="align-right"') == 2
