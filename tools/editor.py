"""The editors' tools behind ``invoke new-post``, ``invoke translate`` and ``invoke check``.

    new_post(site, "Titel", lang=..., author=..., networks=..., tags=..., date=..., draft=...)
    translate(site, "content/blog/x.md" or "x", lang="en", title=...)
    check(site) -> [Problem, ...]

``site`` is a :class:`Site`: the settings file of a site (pelicanconf.py) and what it
names (the content directory, the languages). Every function works on any copy of the
site, which is how the tests use them.

The check runs the build's own checks, by the same code (sitebuild.check: one Pelican
run per language that reads and checks everything, then stops before writing): headers
in either form, the text (blocked HTML, half-written links, images without a
description), every internal link and image, the network files, duplicate addresses and
translations. To those it adds what only an editor needs to hear: placeholder texts
still saying TODO, tags that look like a typo of an existing tag, posts without a
translation (with a "did you mean" for a mistyped translation_key), drafts, and posts
dated in the future. Each finding prints as ``file:line:col: field: message`` (a
warning's message starts with "warning:"); ``invoke check`` exits with status 1 if any
finding is an error. Files are read by core.source, as the build reads them.
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

from core import source as buildsource
from core.contentfiles import skipped
from core.dates import parse_date
from core.problem import ERROR, WARNING, Problem
from core.site import url_settings
from core.suggest import closest, did_you_mean
from sitebuild.check import check_site

ROOT = Path(__file__).resolve().parents[1]
#: Where the development server (make serve) shows the site.
PREVIEW = "http://127.0.0.1:8000"

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

_COMMENT = re.compile(r"<!--.*?-->", re.S)
_TODO = re.compile(r"^\s*(?:<!--\s*)?TODO\b")


class EditorError(Exception):
    """A request the tools refuse (the message says why and what to do instead)."""


@dataclass
class Source:
    """One Markdown file: its header as the build reads it, with line and column numbers."""

    path: Path  # absolute
    shown: str  # as printed: relative to the site's root
    text: str
    is_article: bool
    meta: dict = field(default_factory=dict)  # lower-case key -> value as text (lists joined by ", ")
    where: dict = field(default_factory=dict)  # key -> (line, column of the value)
    body_line: int = 1  # the line number of the first line after the header
    header: buildsource.Header = field(default_factory=buildsource.Header)  # as the build reads it

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
        value = self.header.meta.get(key)
        if isinstance(value, list):
            return value
        return [v.strip() for v in self.meta.get(key, "").split(",") if v.strip()]

    def at(self, key):
        return self.where.get(key, (1, 1))


def parse_header(text, languages=(), is_article=False, shown=""):
    """(meta, where, body_line) of a Markdown file's header (either form), read as the build
    reads it (core.source): values as text, lists joined by ", ", dates as ISO."""
    header = buildsource.parse_header(shown, buildsource.normalize(text), list(languages), is_article)
    return {k: header.text(k) for k in header.meta}, dict(header.where), header.body_line


class Site:
    """A site: its settings file (pelicanconf.py) and the content it names."""

    def __init__(self, settings_file=None, overrides=None):
        self.settings_file = Path(settings_file or ROOT / "pelicanconf.py").resolve()
        self.root = self.settings_file.parent
        self.overrides = dict(overrides or {})  # setting -> value, as Pelican's -e gives them

    @cached_property
    def settings(self):
        from pelican.settings import read_settings

        return read_settings(str(self.settings_file), override=dict(self.overrides))

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

    def page_dirs(self):
        return [self.content / p for p in self.settings["PAGE_PATHS"]]

    def markdown_files(self):
        """The posts and pages the site reads: `.md` files in the posts' and pages' folders (any
        other file under content/ is accounted for by core.contentfiles, in check and build alike)."""
        return sorted(p for folder in [*self.article_dirs(), *self.page_dirs()] for p in Path(folder).rglob("*.md")
                      if p.is_file() and not any(skipped(part) for part in p.relative_to(self.content).parts))

    def read(self, path):
        """A Source, or a Problem if the file cannot be read as UTF-8."""
        path = Path(path).resolve()
        shown = self.shown(path)
        text, problem = buildsource.read_text(path, shown)
        if problem:
            return problem
        is_article = any(d in path.parents for d in self.article_dirs())
        header = buildsource.parse_header(shown, text, self.languages, is_article)
        meta = {k: header.text(k) for k in header.meta}
        return Source(path, shown, text, is_article, meta, dict(header.where), header.body_line, header)

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
    """The date as ISO text, read as the build reads a header's date (day first)."""
    iso, problem = parse_date(value)
    if problem:
        raise EditorError(f"--date: {problem}")
    return iso


def _check_lang(site, lang):
    if lang not in site.settings["LANGUAGES"]:
        raise EditorError(f"--lang {lang!r} is not a site language (one of: {', '.join(site.languages)})"
                          f"{did_you_mean(lang, site.languages)}")
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
        raise EditorError("; ".join(f"--networks: no network has slug {n!r}{did_you_mean(n, slugs)}"
                                    for n in unknown) + f" (the networks: {', '.join(sorted(slugs))})")
    return networks


def _similar_tag_notes(tags, lang, sources):
    known = {t for s in sources if s.lang == lang for t in s.list_of("tags")}
    notes = []
    for t in tags:
        if t in known:
            continue
        close = closest(t, known, TAG_TYPO_CUTOFF)
        if close:
            notes.append(f"tag {t!r} is new; the existing tag {close!r} looks the same: a typo?")
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
            if isinstance(found, Problem):
                raise EditorError(str(found))
            return found
    name = Path(post).stem if post.endswith(".md") else post
    matches = [s for s in sources if s.meta.get("slug") == name or s.path.stem == name]
    if len(matches) > 1:
        raise EditorError(f"{post!r} names more than one file ({', '.join(s.shown for s in matches)}): "
                          "give the file's path")
    if not matches:
        slugs = {s.meta.get("slug") or s.path.stem for s in sources if s.is_article}
        raise EditorError(f"no post {post!r}{did_you_mean(name, slugs)}: give its slug or its file's path")
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


def _links_in(site, sources, original, lang):
    """The original's text, its {filename} links to posts and pages that have a version in
    ``lang`` pointing at that version (the build wants a text's links in its own language)."""
    by_path = {s.path: s for s in sources}
    versions = {(s.is_article, s.key, s.lang): s for s in sources if s.key}

    def swap(m):
        value = m.group("value")
        path, sep, rest = value.partition("#")
        target = (site.content / path.lstrip("/")) if path.startswith("/") else (original.path.parent / path)
        linked = by_path.get(target.resolve())
        other = linked and versions.get((linked.is_article, linked.key, lang))
        if not other:
            return m.group(0)
        return f"{m.group('what')}/{other.path.relative_to(site.content.resolve()).as_posix()}{sep}{rest}"

    return re.sub(r"(?P<what>[{|]filename[}|])(?P<value>[^\s)\]\"'>]+)", swap, original.body)


def translate(site, post, lang=None, title=None, notes=None):
    """Start a translation of ``post``: a draft with the same translation_key. Returns its path."""
    notes = [] if notes is None else notes
    sources = site.sources()
    original = find_post(site, post, sources)
    problems = {p.field for p in original.header.problems if p.field in ("lang", "translation_key")}
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
             f"\n\n{_quoted(_links_in(site, sources, original, lang))}\n")
    with open(path, "x", encoding="utf-8") as f:
        f.write(text)
    return path


# --- check -------------------------------------------------------------------------------------

def _blank_but_first_line(match):
    first, newline, rest = match.group(0).partition("\n")
    return first + newline + re.sub(r"[^\n]", " ", rest)


def placeholder_findings(site, src):
    """Metadata values and text lines that still start with TODO; a page without a summary."""
    found = []
    for key, value in src.meta.items():
        if _TODO.match(value):
            line, col = src.at(key)
            found.append(Problem(src.shown, line, col, key, f"{key} still says TODO"))
    # Text inside an HTML comment is not shown, but a comment's first line counts.
    body = _COMMENT.sub(_blank_but_first_line, src.body)
    for number, line in enumerate(body.split("\n"), start=src.body_line):
        if _TODO.match(line):
            found.append(Problem(src.shown, number, line.index("TODO") + 1, "text", "the text still has a TODO"))
    if not src.is_article and "summary" not in src.meta and src.status not in ("hidden", "skip"):
        found.append(Problem(src.shown, 1, 1, "summary",
                             "missing: search engines and link previews show it as the page's description",
                             WARNING))
    return found


def _tag_positions(src):
    """tag -> (line, col) where the header has it (either header form)."""
    positions = {}
    for tag, line, col in src.header.items.get("tags", []):
        positions.setdefault(tag, (line, col))
    return positions


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
                line, col = _tag_positions(s).get(tag, s.at("tags"))
                found.append(Problem(s.shown, line, col, "tags",
                                     f"{tag!r} looks like a typo of the tag {best!r} (used in {example})"))
    return found


def translation_findings(site, sources):
    """A translation_key without a version in some site language (a warning, with a "did
    you mean" when a close key of a post in that language exists). Two files with the same
    translation_key and language are the build's to report (plugins/languages)."""
    found = []
    groups = defaultdict(list)
    for s in sources:
        if s.key and s.lang in site.settings["LANGUAGES"] and s.status != "skip":
            groups[s.is_article, s.key].append(s)  # posts and pages are translated apart
    for (_, key), versions in sorted(groups.items()):
        first = {}
        for s in versions:
            first.setdefault(s.lang, s)
        missing = [code for code in site.languages if code not in first]
        if missing:
            anchor = first.get(site.primary_lang) or min(first.values(), key=lambda s: s.shown)
            line, col = anchor.at("translation_key")
            names = ", ".join(site.language_name(code) for code in missing)
            # A key that nearly matches, of posts (or pages) in the missing languages and none of these.
            partners = {k: vs for (art, k), vs in groups.items() if art == anchor.is_article and k != key
                        and any(v.lang in missing for v in vs) and not any(v.lang in first for v in vs)}
            close = closest(key, partners, 0.8)
            if close:
                other = min(partners[close], key=lambda s: s.shown)
                found.append(Problem(anchor.shown, line, col, "translation_key",
                                     f"no {names} version has translation_key {key!r}: did you mean "
                                     f"{close!r}, the translation_key of {other.shown}? (the two versions "
                                     "of a post share one translation_key)", WARNING))
                continue
            found.append(Problem(anchor.shown, line, col, "translation_key",
                                 f"no {names} translation yet (start one: invoke translate {anchor.shown}"
                                 f" --lang {missing[0]})", WARNING))
    return found


def status_findings(site, src, today=None):
    """A draft left in; a post dated in the future (not published until then)."""
    found = []
    if src.status == "draft":
        line, col = src.at("status")
        found.append(Problem(src.shown, line, col, "status",
                             "still a draft: it is not published (delete the status line when it is ready)",
                             WARNING))
    if src.is_article and src.meta.get("date") and not site.settings.get("WITH_FUTURE_DATES", True):
        try:
            date = datetime.date.fromisoformat(src.meta["date"][:10])
        except ValueError:
            return found  # the build's check reports it
        today = today or datetime.date.today()
        if date > today and src.status != "draft":
            line, col = src.at("date")
            found.append(Problem(src.shown, line, col, "date",
                                 f"dated in the future: it stays a draft until {date.isoformat()}", WARNING))
    return found


def build_findings(site):
    """The build's own checks (sitebuild.check), as findings; a run that failed for another
    reason than a content problem raises EditorError with its output."""
    problems, failures = check_site(site.settings_file, content=site.content, languages=site.languages,
                                    overrides=site.overrides, cwd=site.root)
    if failures:
        raise EditorError("the build's check could not run:\n" + "\n".join(failures))
    return problems


def check(site, today=None):
    """Every finding for the site's content (the build's checks, then the editors'), sorted
    by file and line."""
    findings = build_findings(site)
    sources = [s for s in (site.read(p) for p in site.markdown_files()) if isinstance(s, Source)]
    for src in sources:
        findings += placeholder_findings(site, src)
        findings += status_findings(site, src, today)
    findings += tag_findings(site, [s for s in sources if s.is_article])
    findings += translation_findings(site, sources)
    return sorted(set(findings))


# --- the commands (thin invoke tasks call these) -----------------------------------------------

def preview_url(site, path, today=None):
    """The address of a post or page on the development server, in its language: its
    draft address while it is a draft or dated in the future (drafts show there with a
    banner), else its published one."""
    src = site.read(path)
    slug = src.meta.get("slug") or site.slugify(src.meta.get("title", Path(path).stem))
    urls = url_settings(site.settings["LANGUAGES"][src.lang])
    if src.meta.get("url"):
        return f"{PREVIEW}/{src.meta['url'].lstrip('/')}"
    future = False
    if src.is_article and src.meta.get("date") and not site.settings.get("WITH_FUTURE_DATES", True):
        try:
            future = datetime.date.fromisoformat(src.meta["date"][:10]) > (today or datetime.date.today())
        except ValueError:
            pass
    draft = src.status == "draft" or future
    kind = ("DRAFT" if draft else "ARTICLE") if src.is_article else ("DRAFT_PAGE" if draft else "PAGE")
    return f"{PREVIEW}/{urls[f'{kind}_URL'].format(slug=slug)}"


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
    err.write(f"Preview: {preview_url(site, path)} (with the development server running: make serve)\n"
              "Next: write the text and the summary (replace each TODO), then `invoke check`.\n")
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
    err.write(f"Preview: {preview_url(site, path)} (with the development server running: make serve)\n")
    err.write("Next: translate the text (the original is quoted at the end of the file), then delete "
              "the quote and the line \"status: draft\" to publish it; `invoke check` shows what is left.\n")
    return 0


def run_check(site=None, out=sys.stdout, err=sys.stderr):
    site = site or Site()
    try:
        findings = check(site)
    except EditorError as e:
        err.write(f"check: {e}\n")
        return 1
    for f in findings:
        out.write(f"{f}\n")
    errors = sum(f.level == ERROR for f in findings)
    warnings = len(findings) - errors
    err.write(f"check: {errors} error(s), {warnings} warning(s) in {site.shown(site.content)}\n")
    return 1 if errors else 0
