"""The one reading of a Markdown source file, shared by the build's reader and ``invoke check``.

No Pelican import: the editors' tools use it without a build.

    text, problem = read_text(path, shown)          # UTF-8, byte-order mark and CRLF accepted
    header = parse_header(shown, text, languages, is_article)
    header.meta, header.where, header.body_line, header.problems
    problems, links = check_body(shown, text, header.body_line, settings)

A file starts with its header in one of two forms:

* Pelican's ``key: value`` lines, up to the first empty line (a line indented by four
  spaces continues the value above);
* a YAML front matter block between two ``---`` lines, read with PyYAML: lists
  (``tags: [a, b]`` or one ``- item`` a line), quoted strings, dates.

Both give the same metadata (text values; lists for tags, authors and networks; dates as
ISO text, read day first as Dutch editors write them) and the same problems, each a
:class:`Problem` with the line and column of what it is about. Whatever is not
understood is a problem, never quietly turned into something else.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from core import yamltext
from core.dates import parse_date
from core.problem import Problem
from core.suggest import did_you_mean

#: Metadata keys an editor may use in a header.
KNOWN_KEYS = {
    "title", "date", "modified", "author", "authors", "category", "tags", "slug", "lang",
    "translation_key", "summary", "status", "template", "save_as", "url", "networks",
    "image", "image_alt", "description",
}
LIST_KEYS = {"tags", "authors", "networks"}
REQUIRED_KEYS = ("title", "lang", "translation_key")
ARTICLE_REQUIRED_KEYS = ("title", "date", "lang", "translation_key", "summary")
NOT_EMPTY = ("title", "slug", "summary", "translation_key", "lang")
STATUSES = {"published", "draft", "hidden", "skip"}

_KEY_LINE = re.compile(r"^ {0,3}(?P<key>[A-Za-z0-9_-]+):(?P<sep>\s*)(?P<value>.*)$")
_CONTINUATION = re.compile(r"^( {4,}|\t)(?P<value>.*)$")


def normalize(text):
    """The text of a file as both check and build read it: no byte-order mark, \\n line ends."""
    return text.removeprefix("\ufeff").replace("\r\n", "\n").replace("\r", "\n")


def read_text(path, shown):
    """(text, None), or (None, Problem) when the file is not UTF-8."""
    with open(path, "rb") as f:
        raw = f.read()
    try:
        return normalize(raw.decode("utf-8")), None
    except UnicodeDecodeError as e:
        line = raw[: e.start].count(b"\n") + 1
        col = e.start - (raw.rfind(b"\n", 0, e.start) + 1) + 1
        return None, Problem(shown, line, col, "file",
                             f"not UTF-8 ({e.reason}): save the file as UTF-8 in your text editor")


@dataclass
class Header:
    """A file's header as read: values as text (lists for LIST_KEYS), with positions."""

    format: str = "pelican"  # or "yaml"
    meta: dict = field(default_factory=dict)  # lower-case key -> str | list[str]
    where: dict = field(default_factory=dict)  # key -> (line, col) of the value
    keys: dict = field(default_factory=dict)  # key -> (line, col) of the key itself
    items: dict = field(default_factory=dict)  # list key -> [(item, line, col)]
    body_line: int = 1  # the first line after the header (1-based)
    problems: list = field(default_factory=list)

    def text(self, key, default=""):
        value = self.meta.get(key, default)
        return ", ".join(value) if isinstance(value, list) else value

    def at(self, key):
        return self.where.get(key, (1, 1))


def _list_items(value, line, col):
    """'a, b' (as Pelican splits it) -> [(item, line, col)]."""
    out = []
    for m in re.finditer(r"[^,;]+", value):
        item = m.group(0).strip()
        if item:
            out.append((item, line, col + m.start() + len(m.group(0)) - len(m.group(0).lstrip())))
    return out


def _unbracket(value):
    return ", ".join(v.strip().strip("\"'") for v in value[1:-1].split(",") if v.strip())


def _parse_pelican(shown, lines, header):
    seen = {}
    last = None
    number = 0
    end = len(lines)
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            end = number - 1
            break
        cont = _CONTINUATION.match(line)
        if cont:
            if last is None:
                header.problems.append(Problem(shown, number, 1, "metadata",
                                               "an indented line before any 'key: value' line"))
            elif last in header.meta and not isinstance(header.meta[last], list):
                header.meta[last] = f"{header.meta[last]} {cont.group('value').strip()}".strip()
            elif last in header.meta:
                col = len(line) - len(line.lstrip()) + 1
                header.meta[last] += [i for i, _, _ in _list_items(cont.group("value"), number, col)]
                header.items[last] += _list_items(cont.group("value"), number, col)
            continue
        m = _KEY_LINE.match(line)
        if not m:
            hint = ""
            if line.strip() in ("---", "..."):
                hint = " (a YAML front matter block starts with --- on the very first line)"
            header.problems.append(Problem(shown, number, 1, "metadata",
                                           f"expected 'key: value', got {line.strip()[:40]!r}{hint}"))
            last = None
            continue
        key = m.group("key").lower()
        value = m.group("value").strip()
        vcol = m.start("value") + 1
        last = key
        if key in seen:
            header.problems.append(Problem(shown, number, m.start("key") + 1, key,
                                           f"given twice (first on line {seen[key]})"))
            last = None
            continue
        seen[key] = number
        header.where[key] = (number, vcol)
        header.keys[key] = (number, m.start("key") + 1)
        if key in LIST_KEYS:
            if value.startswith("[") and value.endswith("]"):
                header.problems.append(Problem(
                    shown, number, vcol, key,
                    f"{value!r} looks like a YAML list, which a 'key: value' header does not read: write "
                    f"{key}: {_unbracket(value)} "
                    "(or start the file with a YAML front matter block between --- lines)"))
            header.items[key] = _list_items(value, number, vcol)
            header.meta[key] = [i for i, _, _ in header.items[key]]
        else:
            header.meta[key] = value
    else:
        end = len(lines)
    header.body_line = end + 2 if end < len(lines) else end + 1
    _blank_ended_header(shown, lines, end, header)


def _blank_ended_header(shown, lines, end, header):
    """Header lines found right after the empty line that ended the header."""
    number = end + 1  # the empty line (1-based: lines[end] is it)
    if end >= len(lines):
        return
    for n in range(end + 1, min(len(lines), end + 15)):
        line = lines[n]
        if not line.strip():
            continue
        m = _KEY_LINE.match(line)
        if not (m and m.group("key").lower() in KNOWN_KEYS) or m.group("key").lower() in header.meta:
            break
        key = m.group("key").lower()
        header.meta.setdefault("_after_blank", {})[key] = n + 1
        header.problems.append(Problem(
            shown, n + 1, 1, key,
            f"this looks like a header line, but the empty line {number} ended the header, so it is "
            f"read as text: delete the empty line {number}"))


def _compose(yaml, text):
    """The YAML node tree of `text`: by libyaml's parser when PyYAML has it (a fifth of the time:
    every run reads every file's header), else by PyYAML's own. A text libyaml refuses is read
    again by PyYAML's, whose messages (and marks) the advice to editors is written for; so is
    one with a tab, which libyaml accepts where PyYAML does not."""
    loader = getattr(yaml, "CSafeLoader", None)
    if loader is not None and "\t" not in text:
        try:
            return yaml.compose(text, Loader=loader)
        except yaml.YAMLError:
            pass
    return yaml.compose(text, Loader=yaml.SafeLoader)


def _parse_yaml(shown, lines, header):
    import yaml

    header.format = "yaml"
    close = next((i for i in range(1, len(lines)) if lines[i].rstrip() in ("---", "...")), None)
    if close is None:
        header.problems.append(Problem(shown, 1, 1, "metadata",
                                       "the front matter that starts with --- on line 1 is never closed: "
                                       "end it with a line of three dashes, ---"))
        header.body_line = len(lines) + 1
        return
    header.body_line = close + 2
    text = "\n".join(lines[1:close])
    try:
        root = _compose(yaml, text)
    except yaml.MarkedYAMLError as e:
        mark = e.problem_mark or e.context_mark
        line, col = (mark.line + 2, mark.column + 1) if mark else (2, 1)
        problem = e.problem or e.context or "not valid YAML"
        what = yamltext.advice(problem, e.context or "", lines[line - 1] if mark and line - 1 < len(lines) else None,
                               mark.column if mark else None)
        header.problems.append(Problem(shown, line, col, "metadata",
                                       f"not valid YAML: {problem}" + (f": {what}" if what else "")))
        return
    except yaml.YAMLError as e:
        header.problems.append(Problem(shown, 2, 1, "metadata", f"not valid YAML: {e}"))
        return
    if root is None:
        return
    if not isinstance(root, yaml.MappingNode):
        header.problems.append(Problem(shown, root.start_mark.line + 2, root.start_mark.column + 1, "metadata",
                                       "the front matter must be 'key: value' lines"))
        return
    seen = {}

    def pos(node):
        return node.start_mark.line + 2, node.start_mark.column + 1

    for knode, vnode in root.value:
        line, col = pos(knode)
        if not isinstance(knode, yaml.ScalarNode):
            header.problems.append(Problem(shown, line, col, "metadata", "a key must be a plain word"))
            continue
        key = knode.value.lower()
        if key in seen:
            header.problems.append(Problem(shown, line, col, key, f"given twice (first on line {seen[key]})"))
            continue
        seen[key] = line
        vline, vcol = pos(vnode)
        if vnode.start_mark.line != knode.start_mark.line and isinstance(vnode, yaml.ScalarNode) \
                and vnode.value == "":
            vline, vcol = line, col + len(knode.value) + 1
        header.where[key] = (vline, vcol)
        header.keys[key] = (line, col)
        if isinstance(vnode, yaml.MappingNode):
            header.problems.append(Problem(shown, vline, vcol, key,
                                           "expected a text" + (" or a list" if key in LIST_KEYS else "")
                                           + ", not 'key: value' pairs"))
            continue
        if isinstance(vnode, yaml.SequenceNode):
            if key not in LIST_KEYS:
                header.problems.append(Problem(shown, vline, vcol, key, "expected one text, not a list"))
                continue
            items = []
            for item in vnode.value:
                if not isinstance(item, yaml.ScalarNode) or "," in item.value:
                    il, ic = pos(item)
                    header.problems.append(Problem(shown, il, ic, key,
                                                   "each item of the list must be one plain text, without commas"))
                    continue
                if item.value.strip():
                    items.append((item.value.strip(), *pos(item)))
            header.items[key] = items
            header.meta[key] = [i for i, _, _ in items]
            continue
        if not vnode.style and vnode.end_mark.line == vnode.start_mark.line:  # a plain value
            comment = yamltext.cut_comment(lines[vnode.end_mark.line + 1], vnode.end_mark.column)
            if comment is not None:
                header.problems.append(Problem(shown, vline, vcol, key,
                                               yamltext.comment_problem(key, vnode.value, comment)))
                continue
        value = vnode.value if vnode.tag != "tag:yaml.org,2002:null" else ""
        value = value.strip() if key != "summary" else " ".join(value.split())
        if key in LIST_KEYS:
            offset = 1 if vnode.style in ("'", '"') else 0
            header.items[key] = _list_items(value, vline, vcol + offset)
            header.meta[key] = [i for i, _, _ in header.items[key]]
        else:
            header.meta[key] = value


def parse_header(shown, text, languages, is_article):
    """The header of a Markdown file (already normalized) and its problems."""
    lines = text.split("\n")
    header = Header()
    if lines and lines[0].rstrip() == "---":
        _parse_yaml(shown, lines, header)
    else:
        _parse_pelican(shown, lines, header)
    after_blank = header.meta.pop("_after_blank", {})
    for key in list(header.meta):
        line, col = header.at(key)
        value = header.meta[key]
        if key not in KNOWN_KEYS:
            header.problems.append(Problem(shown, *header.keys.get(key, (line, 1)),
                                           key, f"unknown metadata key{did_you_mean(key, KNOWN_KEYS)}"))
            del header.meta[key]
        elif key in ("date", "modified"):
            iso, problem = parse_date(value)
            if problem:
                header.problems.append(Problem(shown, line, col, key, problem))
            else:
                header.meta[key] = iso
        elif key == "status" and value.lower() not in STATUSES:
            header.problems.append(Problem(shown, line, col, key,
                                           f"{value!r} is not one of {', '.join(sorted(STATUSES))}"))
        elif key == "lang" and value and value not in languages:
            header.problems.append(Problem(shown, line, col, key,
                                           f"{value!r} is not a site language ({', '.join(languages)})"
                                           f"{did_you_mean(value, languages)}"))
        elif key in NOT_EMPTY and not value:
            header.problems.append(Problem(shown, line, col, key, "is empty"))
    if header.meta.get("image") and not header.meta.get("image_alt"):
        header.problems.append(Problem(shown, *header.at("image"), "image_alt",
                                       "the image has no image_alt: describe it (image_alt: what the image shows)"))
    required = ARTICLE_REQUIRED_KEYS if is_article else REQUIRED_KEYS
    if header.format == "yaml" and any(p.field == "metadata" for p in header.problems):
        required = ()  # the block could not be read: that one problem says it all
    for key in required:
        if key not in header.meta and key not in after_blank and not any(p.field == key for p in header.problems):
            header.problems.append(Problem(shown, 1, 1, key, "required metadata is missing"))
    return header


# --- the text below the header ---------------------------------------------------------------

_FENCE = re.compile(r"^ {0,3}(?P<fence>`{3,}|~{3,})")
_INLINE_CODE = re.compile(r"(?P<ticks>`+)(?!`).*?(?<!`)(?P=ticks)(?!`)")
_COMMENT = re.compile(r"<!--.*?-->", re.S)
_TAG = re.compile(r"<(?P<name>[A-Za-z][A-Za-z0-9-]*)(?P<attrs>(?:\s+[^\s\"'>/=]+(?:\s*=\s*(?:\"[^\"]*\"|'[^']*'|"
                  r"[^\s\"'=<>`]+))?)*)\s*/?>")
_ATTR = re.compile(r"(?P<name>[^\s\"'>/=]+)(?:\s*=\s*(?:\"(?P<dq>[^\"]*)\"|'(?P<sq>[^']*)'|(?P<bare>[^\s\"'=<>`]+)))?")
#: An inline link or image, from its ']' on: the destination and optional title, closed.
_DESTINATION = re.compile(r"\(\s*(?:<(?P<angle>[^<>\n]*)>|(?P<url>(?:[^\s()\\]|\\.|\([^\s()]*\))*))"
                          r"(?:\s+(?:\"[^\"\n]*\"|'[^'\n]*'|\([^()\n]*\)))?\s*\)")
_OPEN_BRACKET = re.compile(r"(?P<bang>!?)\[")
_REF_DEF = re.compile(r"^ {0,3}\[(?P<ref>[^\]]+)\]:\s*(?P<url>\S+)", re.M)
#: Pelican's intra-site links ({filename}, |filename|...) and the networks plugin's {network}.
SITE_LINK = re.compile(r"^[{|](?P<what>filename|static|attach|network|tag|category|author|index)[}|](?P<value>.*)$")

BLOCKED_TAGS = {
    "script": "a <script> does not run on this site (its Content-Security-Policy blocks scripts in pages)",
    "iframe": "an <iframe> (an embedded page, map or video) is blocked by the site's Content-Security-Policy",
    "frame": "a <frame> is blocked by the site's Content-Security-Policy",
    "embed": "an <embed> is blocked by the site's Content-Security-Policy",
    "object": "an <object> is blocked by the site's Content-Security-Policy",
    "applet": "an <applet> is blocked by the site's Content-Security-Policy",
    "video": "a <video> is blocked by the site's Content-Security-Policy (it allows no media)",
    "audio": "an <audio> is blocked by the site's Content-Security-Policy (it allows no media)",
    "style": "a <style> block is blocked by the site's Content-Security-Policy",
    "form": "a <form> in a post cannot send anything (the Content-Security-Policy allows only the join forms)",
    "base": "a <base> tag would change where every link of the page goes",
    "meta": "a <meta> tag does not belong in the text",
    "link": "a <link> tag does not belong in the text",
}
INSTEAD = {
    "script": "leave it out, and link to the page that has it: [text](https://...)",
    "style": "leave the styling to the site's stylesheet",
    "form": "link to the contact page or to a network's page, where the join form is",
}
DEFAULT_INSTEAD = "link to it instead: [what it shows](https://...)"
#: The CSP directive a developer can extend (PUBLISHING_CSP_EXTRA) to allow an embed.
EMBED_DIRECTIVES = {"iframe": "frame-src", "frame": "frame-src", "video": "media-src", "audio": "media-src",
                    "embed": "object-src", "object": "object-src"}


def masked(text):
    """The text with code (fenced blocks, inline spans) and HTML comments blanked out,
    every other character's line and column unchanged."""
    out, fence = [], None
    for line in text.split("\n"):
        m = _FENCE.match(line)
        if fence:
            out.append(" " * len(line))
            if m and m.group("fence")[0] == fence[0] and len(m.group("fence")) >= len(fence):
                fence = None
            continue
        if m:
            fence = m.group("fence")
            out.append(" " * len(line))
            continue
        out.append(_INLINE_CODE.sub(lambda c: " " * len(c.group(0)), line))
    text = "\n".join(out)
    return _COMMENT.sub(lambda c: re.sub(r"[^\n]", " ", c.group(0)), text)


@dataclass(frozen=True)
class Link:
    """A link or image in the text, as written, with its position."""

    kind: str  # "link" or "image"
    target: str
    line: int
    col: int


def _origin(url):
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}".lower() if parts.scheme and parts.netloc else ""


def _allowed(settings, directives, url):
    """Whether PUBLISHING_CSP_EXTRA lets the page load ``url`` under one of ``directives``."""
    extra = (settings or {}).get("PUBLISHING_CSP_EXTRA") or {}
    origin = _origin(url)
    for directive in directives:
        for source in extra.get(directive, []):
            if source == "*" or (origin and source.rstrip("/").lower() == origin) or (
                    not origin and source == "'self'"):
                return True
    return False


class _Positions:
    def __init__(self, text, first_line):
        self.starts = [0]
        for m in re.finditer("\n", text):
            self.starts.append(m.end())
        self.first_line = first_line

    def __call__(self, offset):
        import bisect

        i = bisect.bisect_right(self.starts, offset) - 1
        return self.first_line + i, offset - self.starts[i] + 1


def check_body(shown, text, body_line, settings=None):
    """(problems, links) of the text below the header: raw HTML the site blocks or that runs
    script, half-written links and images, images without a description; and every link
    and image to check against the build (see check.resolve_links)."""
    lines = text.split("\n")
    body = "\n".join(lines[body_line - 1:])
    plain = masked(body)
    at = _Positions(plain, body_line)
    problems, links = [], []

    def problem(offset, fieldname, message):
        problems.append(Problem(shown, *at(offset), fieldname, message))

    # Raw HTML.
    for m in _TAG.finditer(plain):
        name = m.group("name").lower()
        attrs = {}
        for a in _ATTR.finditer(m.group("attrs")):
            value = next((v for v in (a.group("dq"), a.group("sq"), a.group("bare")) if v is not None), None)
            attrs.setdefault(a.group("name").lower(), (value, m.start("attrs") + a.start()))
        src = (attrs.get("src") or (None,))[0] or (attrs.get("data") or (None,))[0] or ""
        if name in BLOCKED_TAGS:
            directive = EMBED_DIRECTIVES.get(name)
            if directive and src and _allowed(settings, (directive,), src):
                pass  # a developer allowed this embed in PUBLISHING_CSP_EXTRA
            else:
                instead = INSTEAD.get(name, DEFAULT_INSTEAD)
                allow = ""
                if directive:
                    host = _origin(src) or ("'self'" if src else "https://the-other-site")
                    allow = (f"; or, to embed it anyway, a developer allows it in pelicanconf.py: "
                             f"PUBLISHING_CSP_EXTRA = {{\"{directive}\": [\"{host}\"]}} (which adds {host} "
                             f"to the policy's {directive})")
                problem(m.start(), "html", f"<{name}>: {BLOCKED_TAGS[name]}: {instead}{allow}")
        for attr, (value, offset) in attrs.items():
            if attr.startswith("on"):
                problem(offset, "html", f"<{name} {attr}=...> runs script, which the site's "
                                        "Content-Security-Policy blocks: leave the attribute out "
                                        "(a plain link: [text](https://...))")
            elif attr == "style":
                problem(offset, "html", f"<{name} style=...>: the site's Content-Security-Policy blocks "
                                        "inline styles: leave the attribute out")
            elif value and attr in ("href", "src", "action", "formaction", "data") \
                    and re.match(r"\s*(javascript|vbscript|data):", value, re.I) \
                    and not (name == "img" and value.strip().lower().startswith("data:image/")):
                problem(offset, "html", f"{attr}=\"{value.strip()[:30]}...\" runs script or hides content, "
                                        "which the site blocks: link to a page instead, [text](https://...)")
        if name == "img":
            alt = attrs.get("alt")
            if alt is None or not (alt[0] or "").strip():
                problem(m.start(), "image", "no description: add alt=\"what the image shows\", "
                                            "or write the image as ![what the image shows](/images/name.jpg)")
        if name in ("a", "img") and (attrs.get("href") or attrs.get("src")):
            value, offset = attrs.get("href") or attrs.get("src")
            if value is not None:
                links.append(Link("image" if name == "img" else "link", value.strip(), *at(offset)))

    # Markdown links and images.
    defs = [r for r in _REF_DEF.finditer(plain) if not r.group("ref").startswith("^")]
    refs = {r.group("ref").strip().lower() for r in defs}
    for r in defs:
        links.append(Link("link", r.group("url").strip("<>"), *at(r.start("url"))))
    for m in _OPEN_BRACKET.finditer(plain):
        start = m.start()
        if start and plain[start - 1] == "\\":
            continue
        kind = "image" if m.group("bang") else "link"
        if not m.group("bang") and start and plain[start - 1] == "!":
            continue
        # The matching ']' on the same paragraph (nested brackets allowed one level deep).
        depth, i, close = 0, m.end(), None
        while i < len(plain):
            c = plain[i]
            if c == "\\":
                i += 2
                continue
            if c == "\n" and plain[i + 1:i + 2] == "\n":
                break
            if c == "[":
                depth += 1
            elif c == "]":
                if depth == 0:
                    close = i
                    break
                depth -= 1
            i += 1
        label = plain[m.end():close] if close is not None else ""
        if close is None:
            rest = plain[m.end():i]
            if re.search(r"\]?\s*\(\s*(https?:|/|\{|mailto:)", rest):
                problem(start, kind, f"half-written {kind}: the [ is never closed with ]: "
                                     f"write [text](address)" if kind == "link" else
                        f"half-written image: the ![ is never closed with ]: write ![what it shows](/images/name.jpg)")
            continue
        after = plain[close + 1:]
        if after.startswith("("):
            d = _DESTINATION.match(after)
            if d:
                target = d.group("angle") if d.group("angle") is not None else d.group("url")
                if kind == "image" and not label.strip():
                    problem(start, "image", "no description: write what the image shows between the "
                                            "brackets, ![like this](/images/name.jpg)")
                if re.match(r"\s*(javascript|vbscript):", target or "", re.I):
                    problem(close + 2, kind, "a javascript: link runs script, which the site's "
                                             "Content-Security-Policy blocks: link to a page instead")
                else:
                    links.append(Link(kind, target or "", *at(close + 1 + d.start("angle" if d.group("angle")
                                                                               is not None else "url"))))
                continue
            line_end = after.find("\n")
            first_line = after if line_end < 0 else after[:line_end]
            if ")" in first_line:
                why = "the address has a space in it (write %20 for a space, or leave out the text after it)"
            else:
                why = "the ( after ] is never closed with )"
            problem(start, kind, f"half-written {kind}: {why}: write "
                    + ("[text](https://address)" if kind == "link" else "![what it shows](/images/name.jpg)"))
            continue
        gap = re.match(r"[ \t]+\((https?:|/|\{|mailto:)", after)
        if gap:
            problem(start, kind, f"half-written {kind}: a space between ] and ( makes it plain text: "
                                 "write [text](address) without the space")
            continue
        if after.startswith("["):
            end = after.find("]")
            ref = (after[1:end] if end > 0 else "").strip().lower() or label.strip().lower()
            if end > 0 and ref not in refs:
                problem(start, kind, f"half-written {kind}: [{ref}] is not defined anywhere in the text: "
                                     f"add a line [{ref}]: https://address, or write [text](address)")
        elif kind == "image" and not after.startswith(":"):
            problem(start, "image", "half-written image: ![...] needs the file after it: "
                                    "![what it shows](/images/name.jpg)")
    for link in links:
        message = external_image_problem(settings, link)
        if message:
            problems.append(Problem(shown, link.line, link.col, "image", message))
    return problems, links


def external_image_problem(settings, link):
    """An image from another site: the Content-Security-Policy blocks it unless allowed."""
    if link.kind != "image" or not re.match(r"(https?:)?//", link.target, re.I):
        return None
    if _allowed(settings, ("img-src",), link.target if "://" in link.target else "https:" + link.target):
        return None
    host = _origin(link.target if "://" in link.target else "https:" + link.target)
    return (f"the image is on another site ({host}), which the site's Content-Security-Policy blocks: "
            "put the file in content/images/ and write ![what it shows](/images/name.jpg) (or a developer "
            f"allows it in pelicanconf.py: PUBLISHING_CSP_EXTRA = {{\"img-src\": [\"{host}\"]}})")
