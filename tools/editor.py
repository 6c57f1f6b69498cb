"""The editors' tools behind ``invoke new-post``, ``invoke translate`` and ``invoke check``.

    new_post(site, "Titel", lang=..., author=..., networks=..., tags=..., date=..., draft=...)
    translate(site, "content/blog/x.md" or "x", lang="en", title=...)
    check(site) -> [Finding, ...]

``site`` is a :class:`Site`: the settings file of a site (pelicanconf.py) and what it
names (the content directory, the languages). Every function works on any copy of the
site, which is how the tests use them.

The check reads the Markdown sources only; it builds nothing. The metadata header is
checked by the build's own checker (buildcheck.check_header); the other checks are
those a build cannot make, or makes too late: placeholder texts, images without alt
text, links to files or networks that do not exist, tags that look like a typo of an
existing tag, duplicate translations, posts without a translation and drafts. Each
finding prints as ``file:line:col: field: message`` (a warning's message starts with
"warning:"); ``invoke check`` exits with status 1 if any finding is an error.
"""

from __future__ import annotations

import datetime
import difflib
import re
import sys
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from urllib.parse import unquote

ROOT = Path(__file__).resolve().parents[1]
ERROR, WARNING = "error", "warning"

#: A tag this similar to a more established tag of the same language is taken for a typo.
TAG_TYPO_CUTOFF = 0.85

#: Placeholders written by new-post and translate; ``invoke check`` reports any text
#: still starting with "TODO".
PLACEHOLDERS = {
    "nl": {
        "summary": "TODO: schrijf hier in één of twee zinnen waar het bericht over gaat.",
        "body": "TODO: schrijf hier het bericht. Een lege regel begint een nieuwe alinea.",
    },
    "en": {
        "summary": "TODO: one or two sentences on what the post is about.",
        "body": "TODO: write the post here. An empty line starts a new paragraph.",
    },
}

_KEY_LINE = re.compile(r"^(?P<key>[A-Za-z0-9_-]+):(?P<sep>\s*)(?P<value>.*)$")
_FENCE = re.compile(r"^ {0,3}(?P<fence>`{3,}|~{3,})")
_INLINE_CODE = re.compile(r"(?P<ticks>`+)(?!`).*?(?<!`)(?P=ticks)(?!`)")
_COMMENT = re.compile(r"<!--.*?-->", re.S)
_MD_IMAGE_NO_ALT = re.compile(r"!\[\s*\](?=[(\[])")
_IMG_TAG = re.compile(r"<img\b[^>]*>", re.I | re.S)
_ALT_ATTR = re.compile(r"\salt\s*=", re.I)
#: Pelican's intra-site links ({filename}, {static}, {attach}; also |filename|) and the
#: networks plugin's {network}slug, as written in Markdown.
_SITE_LINK = re.compile(r"[{|](?P<what>filename|static|attach|network)[}|](?P<value>[^\s\"'()<>\[\]]*)")
_TODO = re.compile(r"^\s*(?:<!--\s*)?TODO\b")


class EditorError(Exception):
    """A request the tools refuse (the message says why and what to do instead)."""


@dataclass(frozen=True, order=True)
class Finding:
    """One finding of the check, printed as ``file:line:col: field: message``."""

    path: str
    line: int
    col: int
    field: str
    message: str
    level: str = ERROR

    def __str__(self):
        warning = "warning: " if self.level == WARNING else ""
        return f"{self.path}:{self.line}:{self.col}: {self.field}: {warning}{self.message}"


@dataclass
class Source:
    """One Markdown file: its header as the build reads it, with line and column numbers."""

    path: Path  # absolute
    shown: str  # as printed: relative to the site's root
    text: str
    is_article: bool
    meta: dict = field(default_factory=dict)  # lower-case key -> value (first occurrence)
    where: dict = field(default_factory=dict)  # key -> (line, column of the value)
    body_line: int = 1  # the line number of the first line after the header

    @property
    def lines(self):
        return self.text.splitlines()

    @property
    def lang(self):
        return self.meta.get("lang", "")

    @property
    def key(self):
        return self.meta.get("translation_key") or None

    @property
    def status(self):
        return self.meta.get("status", "published").strip().lower()

    @property
    def body(self):
        return "\n".join(self.lines[self.body_line - 1:])

    def list_of(self, key):
        return [v.strip() for v in self.meta.get(key, "").split(",") if v.strip()]

    def at(self, key):
        return self.where.get(key, (1, 1))


def parse_header(text):
    """(meta, where, body_line) of a Markdown file's metadata header, read like the build does."""
    lines = text.splitlines()
    meta, where = {}, {}
    start = 1 if lines and lines[0].strip() == "---" else 0
    last = None
    number = start
    for number, line in enumerate(lines[start:], start=start + 1):
        if not line.strip() or line.strip() in ("---", "..."):
            return meta, where, number + 1
        if (line.startswith("    ") or line.startswith("\t")) and last:
            meta[last] = f"{meta[last]} {line.strip()}".strip()
            continue
        m = _KEY_LINE.match(line)
        if not m:
            continue
        key = m.group("key").lower()
        last = key
        if key not in meta:
            meta[key] = m.group("value").strip()
            where[key] = (number, m.start("value") + 1)
    return meta, where, number + 1


class Site:
    """A site: its settings file (pelicanconf.py) and the content it names."""

    def __init__(self, settings_file=None, settings=None):
        self.settings_file = Path(settings_file or ROOT / "pelicanconf.py").resolve()
        self.root = self.settings_file.parent
        self._settings = settings

    @cached_property
    def settings(self):
        if self._settings is not None:
            return self._settings
        from pelican.settings import read_settings

        return read_settings(str(self.settings_file))

    @property
    def content(self):
        return Path(self.settings["PATH"])

    @property
    def languages(self):
        return list(self.settings["LANGUAGES"])

    @property
    def primary_lang(self):
        return self.languages[0]

    def language_name(self, code):
        try:
            from babel import Locale

            return Locale.parse(code).get_display_name("en")
        except Exception:  # noqa: BLE001 (a name is only for messages)
            return code

    def shown(self, path):
        path = Path(path)
        try:
            return path.relative_to(self.root).as_posix()
        except ValueError:
            return str(path)

    def article_dirs(self):
        return [self.content / p for p in self.settings["ARTICLE_PATHS"]]

    def markdown_files(self):
        from pelican.readers import MarkdownReader

        suffixes = {f".{ext}" for ext in MarkdownReader.file_extensions}
        return sorted(p for p in self.content.rglob("*")
                      if p.is_file() and p.suffix in suffixes
                      and not any(part.startswith(".") for part in p.relative_to(self.content).parts))

    def read(self, path):
        """A Source, or a Finding if the file cannot be read as UTF-8."""
        path = Path(path).resolve()
        shown = self.shown(path)
        try:
            text = path.read_text(encoding="utf-8")
        except UnicodeDecodeError as e:
            return Finding(shown, 1, 1, "file", f"not UTF-8: {e.reason}")
        meta, where, body_line = parse_header(text)
        is_article = any(d in path.parents for d in self.article_dirs())
        return Source(path, shown, text, is_article, meta, where, body_line)

    def sources(self):
        out = []
        for p in self.markdown_files():
            s = self.read(p)
            if isinstance(s, Source):
                out.append(s)
        return out

    def network_slugs(self):
        """The slugs of content/networks/*.yaml, or None if there are no such files."""
        import yaml

        directory = self.content / self.settings.get("NETWORKS_PATH", "networks")
        files = sorted([*directory.glob("*.yaml"), *directory.glob("*.yml")]) if directory.is_dir() else []
        if not files:
            return None
        slugs = set()
        for f in files:
            try:
                data = yaml.safe_load(f.read_text(encoding="utf-8"))
            except (yaml.YAMLError, UnicodeDecodeError):
                continue  # the build reports broken network files
            if isinstance(data, dict) and isinstance(data.get("slug"), str):
                slugs.add(data["slug"])
        return slugs

    def slugify(self, text):
        from pelican.utils import slugify

        return slugify(text, regex_subs=self.settings["SLUG_REGEX_SUBSTITUTIONS"])


def _did_you_mean(word, choices):
    close = difflib.get_close_matches(word, sorted(choices), n=1, cutoff=0.6)
    return f" (did you mean {close[0]!r}?)" if close else ""


def _split_list(value):
    if value is None:
        return []
    if isinstance(value, (list, tuple)):
        value = ",".join(value)
    return [v.strip() for v in str(value).split(",") if v.strip()]


# --- new-post ----------------------------------------------------------------------------------

def default_category(site, lang, sources=None):
    """The category most used by the posts in ``lang``; else the site's DEFAULT_CATEGORY."""
    counts = Counter(s.meta["category"] for s in (sources or site.sources())
                     if s.is_article and s.lang == lang and s.meta.get("category"))
    if counts:
        best = max(counts.values())
        return sorted(c for c, n in counts.items() if n == best)[0]
    return site.settings.get("DEFAULT_CATEGORY", "blog")


def _check_date(value):
    from pelican.utils import get_date

    value = str(value).strip()
    try:
        get_date(value)
    except (ValueError, OverflowError):
        raise EditorError(f"--date {value!r} is not a date (use YYYY-MM-DD)") from None
    return value


def _check_lang(site, lang):
    if lang not in site.settings["LANGUAGES"]:
        raise EditorError(f"--lang {lang!r} is not a site language (one of: {', '.join(site.languages)})"
                          f"{_did_you_mean(lang, site.languages)}")
    return lang


def _check_networks(site, networks, notes):
    slugs = site.network_slugs()
    if not networks:
        return networks
    if slugs is None:
        where = site.shown(site.content / site.settings.get("NETWORKS_PATH", "networks"))
        notes.append(f"there are no networks in {where} yet: "
                     f"the build accepts {', '.join(networks)} only once a network has that slug")
        return networks
    unknown = [n for n in networks if n not in slugs]
    if unknown:
        raise EditorError("; ".join(f"--networks: no network has slug {n!r}{_did_you_mean(n, slugs)}"
                                    for n in unknown) + f" (the networks: {', '.join(sorted(slugs))})")
    return networks


def _similar_tag_notes(tags, lang, sources):
    known = {t for s in sources if s.lang == lang for t in s.list_of("tags")}
    notes = []
    for t in tags:
        if t in known:
            continue
        close = difflib.get_close_matches(t, sorted(known), n=1, cutoff=TAG_TYPO_CUTOFF)
        if close:
            notes.append(f"tag {t!r} is new; the existing tag {close[0]!r} looks the same: a typo?")
    return notes


def _refuse_taken(site, sources, path, slug, lang, key):
    if path.exists():
        raise EditorError(f"{site.shown(path)} already exists; it was left as it is (choose another title)")
    for s in (s for s in sources if s.is_article):
        if s.key == key:
            raise EditorError(f"translation_key {key!r} is already used by {s.shown} (lang {s.lang}); "
                              f"choose another title, or translate that post with `invoke translate {s.shown}`")
        if s.lang == lang and s.meta.get("slug") == slug:
            raise EditorError(f"slug {slug!r} is already used by {s.shown}: choose another title")


def _header(fields):
    return "".join(f"{k}: {v}\n" for k, v in fields if v is not None)


def new_post(site, title, lang=None, author=None, networks=None, tags=None, date=None, draft=False,
             notes=None):
    """Write content/<first ARTICLE_PATHS>/<slug>.md and return its path."""
    notes = [] if notes is None else notes
    title = " ".join(str(title or "").split())
    if not title:
        raise EditorError("the post needs a title: invoke new-post \"The title\"")
    lang = _check_lang(site, lang or site.primary_lang)
    slug = site.slugify(title)
    if not slug:
        raise EditorError(f"no web address can be made from the title {title!r}: use letters or digits")
    sources = site.sources()
    path = site.article_dirs()[0] / f"{slug}.md"
    _refuse_taken(site, sources, path, slug, lang, key=slug)
    networks = _check_networks(site, _split_list(networks), notes)
    tags = _split_list(tags)
    notes.extend(_similar_tag_notes(tags, lang, sources))
    date = _check_date(date) if date else datetime.date.today().isoformat()
    if not site.settings.get("WITH_FUTURE_DATES", True) and date[:10] > datetime.date.today().isoformat():
        notes.append(f"the date {date} is in the future: the post is not published before then")
    author = " ".join(str(author).split()) if author else site.settings.get("AUTHOR", "")
    texts = PLACEHOLDERS.get(lang, PLACEHOLDERS["en"])
    text = _header([
        ("title", title), ("slug", slug), ("translation_key", slug), ("lang", lang), ("date", date),
        ("author", author or None), ("category", default_category(site, lang, sources)),
        ("tags", ", ".join(tags) or None), ("networks", ", ".join(networks) or None),
        ("status", "draft" if draft else None), ("summary", texts["summary"]),
    ]) + f"\n{texts['body']}\n"
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "x", encoding="utf-8") as f:  # "x": never overwrite, even in a race
        f.write(text)
    return path


# --- translate ---------------------------------------------------------------------------------

def find_post(site, post, sources=None):
    """The Source of a post given as a path (relative to the current directory or the
    site) or as a slug or file name."""
    sources = sources if sources is not None else site.sources()
    for candidate in (site.root / post, Path(post)):
        if candidate.is_file():
            if site.content.resolve() not in candidate.resolve().parents:
                raise EditorError(f"{post} is not under {site.shown(site.content)}/")
            found = site.read(candidate)
            if isinstance(found, Finding):
                raise EditorError(str(found))
            return found
    name = Path(post).stem if post.endswith(".md") else post
    matches = [s for s in sources if s.meta.get("slug") == name or s.path.stem == name]
    if len(matches) > 1:
        raise EditorError(f"{post!r} names more than one file ({', '.join(s.shown for s in matches)}): "
                          "give the file's path")
    if not matches:
        slugs = {s.meta.get("slug") or s.path.stem for s in sources if s.is_article}
        raise EditorError(f"no post {post!r}{_did_you_mean(name, slugs)}: give its slug or its file's path")
    return matches[0]


def _translated_category(site, sources, original, lang):
    """The category that posts in ``lang`` use where their originals use the original's."""
    by_key = defaultdict(dict)
    for s in sources:
        if s.is_article and s.key:
            by_key[s.key][s.lang] = s
    category = original.meta.get("category")
    seen = Counter(versions[lang].meta.get("category") for versions in by_key.values()
                   if original.lang in versions and lang in versions
                   and versions[original.lang].meta.get("category") == category
                   and versions[lang].meta.get("category"))
    if category and seen:
        return seen.most_common(1)[0][0]
    return default_category(site, lang, sources)


def _quoted(text):
    # A quote, not an HTML comment: typogrify turns the "--" of a comment into a dash, so
    # a comment would show on the page anyway. A quote stays one block, whatever the text.
    return "\n".join(f"> {line}".rstrip() for line in text.strip("\n").split("\n"))


def translate(site, post, lang=None, title=None, notes=None):
    """Start a translation of ``post``: a draft with the same translation_key. Returns its path."""
    notes = [] if notes is None else notes
    sources = site.sources()
    original = find_post(site, post, sources)
    problems = {p.field for p in header_findings(site, original) if p.field in ("lang", "translation_key")}
    if problems or not original.lang or not original.key:
        raise EditorError(f"{original.shown}: fix its lang and translation_key first (see `invoke check`)")
    key = original.key
    have = {s.lang: s for s in sources if s.key == key and s.is_article == original.is_article}
    if lang is None:
        missing = [code for code in site.languages if code not in have]
        if not missing:
            raise EditorError(f"{original.shown} is already translated into every site language")
        lang = missing[0]
    lang = _check_lang(site, lang)
    if lang == original.lang:
        raise EditorError(f"{original.shown} is itself in {lang!r}: give --lang another language")
    if lang in have:
        raise EditorError(f"{original.shown} already has a translation in {lang!r}: {have[lang].shown}")
    original_slug = original.meta.get("slug") or original.path.stem
    if title:
        title = " ".join(title.split())
        slug = site.slugify(title)
        if not slug:
            raise EditorError(f"no web address can be made from the title {title!r}: use letters or digits")
    else:
        title = original.meta.get("title", original_slug)
        slug = f"{original_slug}-{lang}"
        notes.append(f"no --title given: the title is still the original's, and the slug is {slug!r}; "
                     "translate the title, and change the slug to match if you like")
    path = original.path.parent / f"{slug}.md"
    if path.exists():
        raise EditorError(f"{site.shown(path)} already exists; it was left as it is (give another --title)")
    for s in sources:
        if s.lang == lang and s.is_article == original.is_article and s.meta.get("slug") == slug:
            raise EditorError(f"slug {slug!r} is already used by {s.shown}: give another --title")
    name = site.language_name(lang)
    summary = " ".join(original.meta.get("summary", "").split())
    summary = "" if _TODO.match(summary) else summary
    text = _header([
        ("title", title), ("slug", slug), ("translation_key", key), ("lang", lang),
        ("date", original.meta.get("date")), ("author", original.meta.get("author")),
        ("category", _translated_category(site, sources, original, lang) if original.is_article else None),
        ("tags", original.meta.get("tags")), ("networks", original.meta.get("networks")),
        ("status", "draft"), ("summary", f"TODO: translate: {summary}" if summary else "TODO: translate"),
    ])
    text += (f"\nTODO: write the {name} text here, in place of this line: translate the original, "
             f"which is quoted at the end. Translate the title, summary and tags above too.\n\n"
             f"TODO: when the translation is done, delete this line and the quoted original below it, "
             f"and the line \"status: draft\" to publish. The original ({original.lang}, {original.shown}):"
             f"\n\n{_quoted(original.body)}\n")
    with open(path, "x", encoding="utf-8") as f:
        f.write(text)
    return path


# --- check -------------------------------------------------------------------------------------

def header_findings(site, src):
    """The build's own metadata header check (buildcheck.check_header)."""
    from buildcheck.check import check_header

    return [Finding(p.path, p.line, p.col, p.field, p.message)
            for p in check_header(src.shown, src.text, site.settings, src.is_article)]


def _masked(text):
    """The text with code (fenced blocks, inline spans) and HTML comments blanked out,
    every character's line and column unchanged."""
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


def _position(src, body, offset):
    """(line, col) in the file of an offset into ``body`` (which starts at src.body_line)."""
    before = body[:offset]
    return src.body_line + before.count("\n"), offset - (before.rfind("\n") + 1) + 1


def _blank_but_first_line(match):
    first, newline, rest = match.group(0).partition("\n")
    return first + newline + re.sub(r"[^\n]", " ", rest)


def placeholder_findings(site, src):
    """Metadata values and text lines that still start with TODO; a page without a summary."""
    found = []
    for key, value in src.meta.items():
        if _TODO.match(value):
            line, col = src.at(key)
            found.append(Finding(src.shown, line, col, key, f"{key} still says TODO"))
    # Text inside an HTML comment is not shown, but a comment's first line counts.
    body = _COMMENT.sub(_blank_but_first_line, src.body)
    for number, line in enumerate(body.split("\n"), start=src.body_line):
        if _TODO.match(line):
            found.append(Finding(src.shown, number, line.index("TODO") + 1, "text", "the text still has a TODO"))
    if not src.is_article and "summary" not in src.meta and src.status not in ("hidden", "skip"):
        found.append(Finding(src.shown, 1, 1, "summary",
                             "missing: search engines and link previews show it as the page's description",
                             WARNING))
    return found


def image_findings(site, src):
    """Images without alt text."""
    found = []
    body = _masked(src.body)
    for m in _MD_IMAGE_NO_ALT.finditer(body):
        line, col = _position(src, body, m.start())
        found.append(Finding(src.shown, line, col, "image",
                             "no alt text: describe the image between the brackets, ![like this](...)"))
    for m in _IMG_TAG.finditer(body):
        if not _ALT_ATTR.search(m.group(0)):
            line, col = _position(src, body, m.start())
            found.append(Finding(src.shown, line, col, "image",
                                 'no alt text: add alt="what the image shows" (alt="" only if it is decoration)'))
    if src.meta.get("image") and not src.meta.get("image_alt"):
        line, col = src.at("image")
        found.append(Finding(src.shown, line, col, "image_alt", "the image has no image_alt: describe it"))
    return found


def link_findings(site, src, network_slugs):
    """{filename}/{static}/{attach} links to files that do not exist; {network} links and
    ``networks:`` metadata naming a network that does not exist."""
    found = []
    body = _masked(src.body)
    slugs = network_slugs or set()
    none_yet = "" if network_slugs else " (there are no networks in content/networks yet)"
    for m in _SITE_LINK.finditer(body):
        what, value = m.group("what"), m.group("value")
        line, col = _position(src, body, m.start())
        if what == "network":
            slug = value.split("#")[0].split("?")[0]
            if slug not in slugs:
                found.append(Finding(src.shown, line, col, "link",
                                     f"{{network}}{slug}: no network has slug {slug!r}"
                                     f"{_did_you_mean(slug, slugs)}{none_yet}"))
            continue
        target = unquote(value.split("#")[0].split("?")[0])
        if not target:
            found.append(Finding(src.shown, line, col, "link", f"{{{what}}} without a file name"))
            continue
        resolved = (site.content / target.lstrip("/")) if target.startswith("/") else (src.path.parent / target)
        if not resolved.resolve().is_file():
            siblings = [p.name for p in resolved.parent.glob("*")] if resolved.parent.is_dir() else []
            found.append(Finding(src.shown, line, col, "link",
                                 f"{{{what}}}{value}: there is no file {site.shown(resolved.resolve())}"
                                 f"{_did_you_mean(resolved.name, siblings)}"))
    if "networks" in src.meta:
        line, _ = src.at("networks")
        text = src.lines[line - 1]
        for slug in src.list_of("networks"):
            if slug not in slugs:
                m = re.search(rf"(?<![\w-]){re.escape(slug)}(?![\w-])", text[text.index(":") + 1:])
                col = text.index(":") + 2 + m.start() if m else 1
                found.append(Finding(src.shown, line, col, "networks",
                                     f"no network has slug {slug!r}{_did_you_mean(slug, slugs)}{none_yet}"))
    return found


def _tag_columns(src):
    line, _ = src.at("tags")
    text = src.lines[line - 1] if line - 1 < len(src.lines) else ""
    start = text.index(":") + 1 if ":" in text else 0
    cols = {}
    for m in re.finditer(r"[^,]+", text[start:]):
        tag = m.group(0).strip()
        if tag and tag not in cols:
            cols[tag] = start + m.start() + len(m.group(0)) - len(m.group(0).lstrip()) + 1
    return line, cols


def tag_findings(site, sources):
    """A tag that looks like a typo of another tag of the same language: of two similar
    tags, the one used by fewer posts (or, as often, first used later) is reported."""
    found = []
    for lang in {s.lang for s in sources}:
        uses = defaultdict(list)  # tag -> [(date, path, source)]
        for s in sources:
            if s.lang == lang:
                for tag in s.list_of("tags"):
                    uses[tag].append((s.meta.get("date", ""), s.shown, s))
        slugs = {t: site.slugify(t) for t in uses}

        def weight(tag):
            return (-len({u[1] for u in uses[tag]}), min(u[:2] for u in uses[tag]))

        for tag in sorted(uses):
            rivals = [other for other in uses if slugs[other] != slugs[tag]
                      and difflib.SequenceMatcher(None, tag.lower(), other.lower()).ratio() >= TAG_TYPO_CUTOFF
                      and weight(other) < weight(tag)]
            if not rivals:
                continue
            best = min(rivals, key=weight)
            example = min(u[1] for u in uses[best])
            for _, _, s in uses[tag]:
                line, cols = _tag_columns(s)
                found.append(Finding(s.shown, line, cols.get(tag, 1), "tags",
                                     f"{tag!r} looks like a typo of the tag {best!r} (used in {example})"))
    return found


def translation_findings(site, sources):
    """Two files with the same translation_key and language (an error); a translation_key
    without a version in some site language (a warning)."""
    found = []
    groups = defaultdict(list)
    for s in sources:
        if s.key and s.lang in site.settings["LANGUAGES"] and s.status != "skip":
            groups[s.is_article, s.key].append(s)  # posts and pages are translated apart
    for (_, key), versions in sorted(groups.items()):
        first = {}
        for s in versions:
            if s.lang in first:
                line, col = s.at("translation_key")
                found.append(Finding(s.shown, line, col, "translation_key",
                                     f"{first[s.lang].shown} already has translation_key {key!r} in "
                                     f"{s.lang!r}: give this file its own translation_key, or another lang"))
            else:
                first[s.lang] = s
        missing = [code for code in site.languages if code not in first]
        if missing:
            anchor = first.get(site.primary_lang) or min(first.values(), key=lambda s: s.shown)
            line, col = anchor.at("translation_key")
            names = ", ".join(site.language_name(code) for code in missing)
            found.append(Finding(anchor.shown, line, col, "translation_key",
                                 f"no {names} translation yet (start one: invoke translate {anchor.shown}"
                                 f" --lang {missing[0]})", WARNING))
    return found


def status_findings(site, src, today=None):
    """A draft left in; a post dated in the future (not published until then)."""
    found = []
    if src.status == "draft":
        line, col = src.at("status")
        found.append(Finding(src.shown, line, col, "status",
                             "still a draft: it is not published (delete the status line when it is ready)",
                             WARNING))
    if src.is_article and src.meta.get("date") and not site.settings.get("WITH_FUTURE_DATES", True):
        from pelican.utils import get_date

        try:
            date = get_date(src.meta["date"])
        except (ValueError, OverflowError):
            return found  # the header check reports it
        today = today or datetime.date.today()
        if date.date() > today and src.status != "draft":
            line, col = src.at("date")
            found.append(Finding(src.shown, line, col, "date",
                                 f"dated in the future: it stays a draft until {date.date().isoformat()}",
                                 WARNING))
    return found


def check(site, today=None):
    """Every finding for every Markdown file of the site's content, sorted by file and line."""
    findings, sources = [], []
    for p in site.markdown_files():
        src = site.read(p)
        if isinstance(src, Finding):
            findings.append(src)
        else:
            sources.append(src)
    slugs = site.network_slugs()
    for src in sources:
        findings += header_findings(site, src)
        findings += placeholder_findings(site, src)
        findings += image_findings(site, src)
        findings += link_findings(site, src, slugs)
        findings += status_findings(site, src, today)
    findings += tag_findings(site, [s for s in sources if s.is_article])
    findings += translation_findings(site, sources)
    return sorted(set(findings))


# --- the commands (thin invoke tasks call these) -----------------------------------------------

def _report_notes(notes, stream):
    for note in notes:
        stream.write(f"note: {note}\n")


def run_new_post(title, lang=None, author=None, networks=None, tags=None, date=None, draft=False,
                 site=None, out=sys.stdout, err=sys.stderr):
    site = site or Site()
    notes = []
    try:
        path = new_post(site, title, lang=lang, author=author, networks=networks, tags=tags, date=date,
                        draft=draft, notes=notes)
    except EditorError as e:
        err.write(f"new-post: {e}\n")
        return 1
    _report_notes(notes, err)
    out.write(f"{site.shown(path)}\n")
    err.write("Next: write the text and the summary (replace each TODO), then `invoke check` "
              "and `invoke livereload` to preview.\n")
    return 0


def run_translate(post, lang=None, title=None, site=None, out=sys.stdout, err=sys.stderr):
    site = site or Site()
    notes = []
    try:
        path = translate(site, post, lang=lang, title=title, notes=notes)
    except EditorError as e:
        err.write(f"translate: {e}\n")
        return 1
    _report_notes(notes, err)
    out.write(f"{site.shown(path)}\n")
    err.write("Next: translate the text (the original is quoted at the end of the file), then delete "
              "the quote and the line \"status: draft\" to publish it; `invoke check` shows what is left.\n")
    return 0


def run_check(site=None, out=sys.stdout, err=sys.stderr):
    site = site or Site()
    findings = check(site)
    for f in findings:
        out.write(f"{f}\n")
    errors = sum(f.level == ERROR for f in findings)
    warnings = len(findings) - errors
    err.write(f"check: {errors} error(s), {warnings} warning(s) in {site.shown(site.content)}\n")
    return 1 if errors else 0
