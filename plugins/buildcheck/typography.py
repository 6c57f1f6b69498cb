"""The site's Markdown and typography, at a fraction of their cost and with the very same output.

Two passes make the text typographic: Markdown's ``smarty`` extension while parsing (quotes,
dashes, ellipses) and typogrify's filters on the HTML (``amp``, ``initial_quotes``,
``widont``). With Markdown's own inline pass, they were most of a cold build's time (issue 16:
smarty's pass alone half of Markdown's), not for what they change but for how they look for it:

* Markdown's inline pass tries each of its patterns on each text of the tree, in Python;
  smarty's pass does the same with its 16 patterns. :func:`speed_up_markdown` makes both skip
  the patterns whose expression finds nothing in a text (see _FastInline), and smarty's pass
  skip a text without a quote, two dashes or three dots, which none of its patterns can match.
* typogrify's ``amp`` cuts the whole page into tags and texts to find an ``&`` between
  spaces; a page without one is returned as it is. ``widont``'s expression backtracks into
  every word of the page; the same expression with possessive quantifiers cannot match
  anything the original would not (a shorter word or space run is always followed by
  something the rest of the expression refuses), and does not backtrack.

tests/test_typography.py compares both with the originals on the site's text and on
generated text.
"""

import re

from markdown import inlinepatterns
from markdown.treeprocessors import InlineProcessor, Treeprocessor
from markdown.util import AtomicString
from typogrify import filters

# Every smarty pattern needs one of these: a quote (all quote patterns), "--" (dashes),
# "..." (ellipses), "<<" or ">>" (angled quotes).
_SMARTY_TRIGGER = re.compile(r"""['"]|--|\.\.\.|<<|>>""")


# What Markdown's own inline patterns (3.11) cannot match without, by their exact expression: a
# text without any of these is not searched (an expression not listed here is always searched).
_NEEDS = {
    r"(?:(?<!\\)((?:\\{2})+)(?=`+)|(?<!\\)`)": ("`",),  # backtick
    r"\\(.)": ("\\",),  # escape
    r"\[\^([^\]]*)\]": ("[^",),  # footnote
    r"(?<!\!)\[": ("[",),  # reference, link, short_reference
    r"\!\[": ("![",),  # image_link, image_reference, short_image_ref
    r"<([A-Za-z][A-Za-z0-9+.-]*://[^<>]*)>": ("://",),  # autolink
    r"<([^<> !]+@[^@<> ]+)>": ("@",),  # automail
    r"  \n": ("  \n",),  # linebreak
    r"(&(?:\#[0-9]+|\#x[0-9a-fA-F]+|[a-zA-Z0-9]+);)": ("&",),  # entity
    r"\*|_": ("*", "_"),  # em_strong, em_strong2, not_strong
}
for _html in (inlinepatterns.HTML_RE, inlinepatterns.HTML_RE + r"(?!\>)"):  # html; smarty's with angled quotes
    if _html.startswith("(<"):
        _NEEDS[_html] = ("<",)


class _FastInline(InlineProcessor):
    """Markdown's inline pass, the same patterns in the same order, without its overhead per
    text and pattern: a pattern whose expression finds nothing in a text is not tried on it
    (nor searched, when the text lacks a character the expression needs: _NEEDS).

    InlineProcessor tries pattern after pattern on a text (self.__handleInline); a pattern
    that does not match passes the text on unchanged to the next, and after a match it never
    returns to an earlier pattern. So when the first patterns' expressions find nothing in the
    text, starting at the first one that does gives the same result; when none does, the text
    is returned as it is. The patterns are also read from a snapshot of the registry per run
    (the registry sorts itself on every look-up)."""

    def run(self, tree, ancestors=None):
        registry = self.inlinePatterns
        self.inlinePatterns = tuple(registry)
        expressions = [p.getCompiledRegExp() for p in self.inlinePatterns]
        self._checks = tuple((_NEEDS.get(e.pattern), e) for e in expressions)
        try:
            return super().run(tree, ancestors)
        finally:
            self.inlinePatterns = registry

    # InlineProcessor calls self.__handleInline, i.e. this name, for every text of the tree.
    def _InlineProcessor__handleInline(self, data, patternIndex=0):  # noqa: N802
        if isinstance(data, AtomicString):
            return data
        checks = self._checks
        for index in range(patternIndex, len(checks)):
            needs, expression = checks[index]
            if needs is not None and not any(literal in data for literal in needs):
                continue
            if expression.search(data) is not None:
                return InlineProcessor._InlineProcessor__handleInline(self, data, index)
        return data


class _SmartyPass(_FastInline):
    """smarty's own inline pass (the same patterns), leaving alone a text none of them can match."""

    def __init__(self, md, patterns):
        super().__init__(md)
        self.inlinePatterns = patterns

    def run(self, tree, ancestors=None):
        # A document none of whose texts has a trigger is left as it is: the pass would give
        # every text back unchanged (and put it back where it was).
        if not any(_SMARTY_TRIGGER.search(text) for text in tree.itertext()):
            return tree
        return super().run(tree, ancestors)

    def _InlineProcessor__handleInline(self, data, patternIndex=0):  # noqa: N802
        if _SMARTY_TRIGGER.search(data) is None:
            return data
        return super()._InlineProcessor__handleInline(data, patternIndex)


class _AlignClasses(Treeprocessor):
    """A table column's alignment (`|---:|`) as a class, not a style attribute: the site's
    Content-Security-Policy (style-src 'self') blocks inline styles, and `align` is obsolete."""

    def run(self, root):
        for cell in (e for e in root.iter() if e.tag in ("th", "td")):
            m = _ALIGN.fullmatch(cell.get("style", ""))
            if m:
                del cell.attrib["style"]
                cell.set("class", f"{cell.get('class', '')} align-{m.group(1)}".strip())


_ALIGN = re.compile(r"text-align:\s*(left|right|center);?")


def csp_safe_tables(md):
    """Table cells aligned by class (align-left, align-right, align-center in main.css)."""
    md.treeprocessors.register(_AlignClasses(md), "site-align-classes", 1)
    return md


def speed_up_markdown(md):
    """Make `md` (a markdown.Markdown) convert faster, to the same HTML: its inline pass (see
    _FastInline) and smarty's (which also skips the texts without a quote, '--' or '...').
    Only smarty's own patterns are known to need these: with any other pattern in its
    registry, smarty's pass is left as it is."""
    inline = md.treeprocessors["inline"] if "inline" in md.treeprocessors else None
    if type(inline) is InlineProcessor:
        inline.__class__ = _FastInline
    if "smarty" not in md.treeprocessors:
        return md
    current = md.treeprocessors["smarty"]
    patterns = getattr(current, "inlinePatterns", None)
    if type(current) is not InlineProcessor or patterns is None or \
            not all(item.name.startswith("smarty-") for item in patterns._priority):
        return md
    priority = next(item.priority for item in md.treeprocessors._priority if item.name == "smarty")
    md.treeprocessors.register(_SmartyPass(md, patterns), "smarty", priority)
    return md


# typogrify's widont, with possessive quantifiers (see the module's docstring).
_WIDONT = re.compile(
    r"""((?:</?(?:a|em|span|strong|i|b)[^>]*>)|[^<>\s])
        \s++
        ([^<>\s]++
        \s*+
        (</(a|em|span|strong|i|b)>\s*)*
        ((</(p|h[1-6]|li|dt|dd)>)|$))
    """,
    re.VERBOSE,
)
_AMP = re.compile(r"(\s|&nbsp;)(&|&amp;|&\#38;)(\s|&nbsp;)")  # typogrify's amp_finder
_INITIAL_QUOTE = re.compile(r"""["']|&ldquo;|&\#8220;|&lsquo;|&\#8216;""")  # what initial_quotes wraps


_BLOCK_END = re.compile(r"</(?:p|h[1-6]|li|dt|dd)>")
_INLINE_ENDS = tuple(f"</{t}>" for t in ("a", "em", "span", "strong", "i", "b"))
_LT_IN_TAG = re.compile(r"<[^>]*<")


def widont(text):
    """typogrify's widont: the same matches, looked for only where one can be.

    A match ends at a block's end tag (or the text's end) and holds only the block's last
    word, the space before it and what precedes that space (a character, or one inline tag):
    so the search for each block starts just before its last word, not at its first character.
    A text with a '<' inside a tag (no HTML Markdown writes) is left to the full search."""
    if _LT_IN_TAG.search(text):
        return _WIDONT.sub(r"\1&nbsp;\2", text)
    out, done = [], 0
    for end in _BLOCK_END.finditer(text):
        start, close = done, end.start()
        j = close
        while True:  # back over the spaces and inline end tags after the last word
            while j > start and text[j - 1].isspace():
                j -= 1
            tag = next((t for t in _INLINE_ENDS if text.endswith(t, start, j)), None)
            if tag is None:
                break
            j -= len(tag)
        w = j
        while w > start and text[w - 1] not in "<>" and not text[w - 1].isspace():
            w -= 1
        p = w
        while p > start and text[p - 1].isspace():
            p -= 1
        k = max(start, text.rfind(">", start, p - 1) + 1) if p > start and text[p - 1] == ">" else max(start, p - 1)
        m = _WIDONT.search(text, k, end.end())
        if m is not None:
            out.append(text[done:m.start()])
            out.append(f"{m.group(1)}&nbsp;{m.group(2)}")
            done = m.end()
        else:
            out.append(text[done:end.end()])
            done = end.end()
    out.append(_WIDONT.sub(r"\1&nbsp;\2", text[done:]))
    return "".join(out)


def _apply(text, amp=True, smartypants=True, caps=True, initial_quotes=True, widont_=True):
    """typogrify.filters.applyfilters, in its order, each filter skipped where it cannot change anything."""
    if amp and _AMP.search(text):
        text = filters.amp(text)
    if smartypants:
        text = filters.smartypants(text)
    if caps:
        text = filters.caps(text)
    if initial_quotes and _INITIAL_QUOTE.search(text):
        text = filters.initial_quotes(text)
    if widont_:
        text = widont(text)
    return text


def typogrify(text, ignore_tags=None, **kwargs):
    """typogrify.filters.typogrify, with the same output (and the same keyword arguments)."""
    kwargs["widont_"] = kwargs.pop("widont", True)
    unknown = set(kwargs) - {"amp", "smartypants", "caps", "initial_quotes", "widont_"}
    if unknown:
        raise TypeError(f"Unexpected keyword argument(s): {sorted(unknown)}")
    if "<" not in text:  # no tag, so nothing to ignore: process_ignores would give [(text, True)]
        return _apply(text, **kwargs) if text else text
    return "".join(_apply(chunk, **kwargs) if process else chunk
                   for chunk, process in filters.process_ignores(text, ignore_tags))
