import difflib
import os
import re
import sys

from pelican import signals
from markdown import Markdown
from pelican.readers import MarkdownReader
from pelican.utils import get_date

from sitebuild.problem import Problem

#: Metadata keys an editor may use in a Markdown header.
KNOWN_KEYS = {
    "title", "date", "modified", "author", "authors", "category", "tags", "slug", "lang",
    "translation_key", "summary", "status", "template", "save_as", "url", "networks",
    "image", "image_alt", "description",
}
REQUIRED_KEYS = ("title", "lang", "translation_key")
ARTICLE_REQUIRED_KEYS = ("title", "date", "lang", "translation_key", "summary")
STATUSES = {"published", "draft", "hidden", "skip"}
_KEY_LINE = re.compile(r"^(?P<key>[A-Za-z0-9_-]+):(?P<sep>\s*)(?P<value>.*)$")
_LANG_LINE = re.compile(r"^lang:\s*(\S+)\s*$", re.MULTILINE | re.IGNORECASE)


def header_of(text):
    """The metadata header of a Markdown file: everything before the first empty line."""
    match = re.search(r"\n[ \t]*\n", text)
    return text[: match.start() + 1] if match else text


class BuildError(Exception):
    """Raised at the end of a run that found problems; Pelican exits non-zero."""

    exitcode = 1


def _problems(settings):
    # One list per Pelican run, kept on that run's settings: no module-global state.
    return settings.setdefault("BUILDCHECK_PROBLEMS", [])


def report(settings, problems):
    """Record problems found by any plugin; the run fails once all are collected."""
    found = _problems(settings)
    for p in problems:
        if p not in found:
            found.append(p)
            # One line each, straight to stderr: the logger would wrap long lines.
            sys.stderr.write(f"{p}\n")
            sys.stderr.flush()


def relpath(path):
    try:
        rel = os.path.relpath(path)
    except ValueError:
        return path
    return path if rel.startswith("..") else rel


def did_you_mean(word, choices):
    close = difflib.get_close_matches(word, sorted(choices), n=1, cutoff=0.6)
    return f" (did you mean {close[0]!r}?)" if close else ""


def check_header(path, text, settings, is_article):
    """Problems in the metadata header of a Markdown file (None if it is fine)."""
    problems = []
    rel = relpath(path)
    lines = text.splitlines()
    seen = {}
    start = 0
    if lines and lines[0].strip() == "---":
        start = 1
    for number, line in enumerate(lines[start:], start=start + 1):
        if not line.strip() or line.strip() in ("---", "..."):
            break
        if line.startswith("    ") or line.startswith("\t"):
            if not seen:
                problems.append(Problem(rel, number, 1, "metadata", "continuation line before any key"))
            continue
        m = _KEY_LINE.match(line)
        if not m:
            problems.append(Problem(rel, number, 1, "metadata",
                                    f"expected 'key: value', got {line.strip()[:40]!r}"))
            continue
        key = m.group("key").lower()
        value = m.group("value").strip()
        vcol = m.start("value") + 1
        if key in seen:
            problems.append(Problem(rel, number, 1, key, f"given twice (first on line {seen[key]})"))
        seen[key] = number
        if key not in KNOWN_KEYS:
            problems.append(Problem(rel, number, 1, key,
                                    f"unknown metadata key{did_you_mean(key, KNOWN_KEYS)}"))
        elif key in ("date", "modified"):
            try:
                get_date(value)
            except (ValueError, OverflowError):
                problems.append(Problem(rel, number, vcol, key, f"{value!r} is not a date (use YYYY-MM-DD)"))
        elif key == "status" and value.lower() not in STATUSES:
            problems.append(Problem(rel, number, vcol, key,
                                    f"{value!r} is not one of {', '.join(sorted(STATUSES))}"))
        elif key == "lang" and value not in settings["LANGUAGES"]:
            problems.append(Problem(rel, number, vcol, key,
                                    f"{value!r} is not a site language ({', '.join(settings['LANGUAGES'])})"))
        elif key in ("title", "slug", "summary", "translation_key") and not value:
            problems.append(Problem(rel, number, vcol, key, "is empty"))
    for key in ARTICLE_REQUIRED_KEYS if is_article else REQUIRED_KEYS:
        if key not in seen:
            problems.append(Problem(rel, 1, 1, key, "required metadata is missing"))
    return problems


class BuildcheckSettingsError(Exception):
    """A setting of this plugin is wrong; raised at start-up."""


def typogrifier(settings, omit=()):
    """The site's typogrify pass as a function of HTML (Pelican's TYPOGRIFY_IGNORE_TAGS,
    TYPOGRIFY_OMIT_FILTERS and TYPOGRIFY_DASHES, and the filters in `omit` left out too),
    or None when BUILDCHECK_TYPOGRIFY is off."""
    if not settings.get("BUILDCHECK_TYPOGRIFY"):
        return None
    import smartypants  # noqa: PLC0415  (optional, like in Pelican)
    from typogrify.filters import typogrify  # noqa: PLC0415

    dashes = settings.get("TYPOGRIFY_DASHES", "default")
    smartypants.Attr.default = {"oldschool": smartypants.Attr.set2,
                                "oldschool_inverted": smartypants.Attr.set3}.get(dashes, smartypants.Attr.set1)
    smartypants.Attr.default |= smartypants.Attr.w
    ignore = settings.get("TYPOGRIFY_IGNORE_TAGS", [])
    omit = dict.fromkeys([*settings.get("TYPOGRIFY_OMIT_FILTERS", []), *omit], False)

    def apply(html):
        return typogrify(html, ignore, **omit)

    return apply


def check_settings(pelican):
    s = pelican.settings
    if s.get("BUILDCHECK_TYPOGRIFY") and s.get("TYPOGRIFY"):
        raise BuildcheckSettingsError(
            "buildcheck: BUILDCHECK_TYPOGRIFY and TYPOGRIFY are both on, which would typogrify every "
            "page twice: set TYPOGRIFY = False (BUILDCHECK_TYPOGRIFY does the same, inside the content cache)")


class CheckedMarkdownReader(MarkdownReader):
    """Pelican's Markdown reader, after a check of the metadata header.

    Beyond the check it differs in three ways, all for speed: one Markdown instance serves
    every file of the run (reset in between, as Python-Markdown intends); a file in
    another language than the run's has only its header read; and with
    BUILDCHECK_TYPOGRIFY typogrify runs here, so Pelican's content cache keeps its result
    (Pelican's own TYPOGRIFY pass runs after the cache, on every build, cached or not).
    """

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._shared_md = None
        self._typogrify = typogrifier(self.settings)

    def _markdown(self):
        """The run's Markdown instance, reset, with the meta preprocessor in place
        (Pelican's _parse_metadata deregisters it after each file)."""
        if self._shared_md is None:
            self._shared_md = Markdown(**self.settings["MARKDOWN"])
            self._meta_preprocessor = self._shared_md.preprocessors["meta"]
        else:
            self._shared_md.reset()
            if "meta" not in self._shared_md.preprocessors:
                self._shared_md.preprocessors.register(self._meta_preprocessor, "meta", 27)
        return self._shared_md

    def read(self, source_path):
        with open(source_path, encoding="utf-8") as f:
            try:
                text = f.read()
            except UnicodeDecodeError as e:
                report(self.settings, [Problem(relpath(source_path), 1, 1, "file", f"not UTF-8: {e.reason}")])
                return "", {"title": "error", "status": "skip"}
        text = text.removeprefix("\ufeff")
        content_root = os.path.abspath(self.settings["PATH"])
        article_dirs = [os.path.join(content_root, p) for p in self.settings["ARTICLE_PATHS"]]
        is_article = any(os.path.abspath(source_path).startswith(d + os.sep) for d in article_dirs)
        problems = check_header(source_path, text, self.settings, is_article)
        if problems:
            report(self.settings, problems)
            # Skip the file; the run fails at the end, after every file was checked.
            return "", {"title": "error", "status": "skip"}
        header = header_of(text)
        run_lang = self.settings.get("LANG")  # set by the languages plugin: one run per language
        lang = _LANG_LINE.search(header)
        # Another language's run writes the page of a file in another language; this run
        # only lists and links it, so the metadata is all it needs: the body is not converted.
        foreign = run_lang and lang and lang.group(1) != run_lang
        self._source_path = source_path
        self._md = self._markdown()
        content = "" if foreign else self._md.convert(text)
        if foreign:
            self._md.convert(header)
        metadata = self._parse_metadata(getattr(self._md, "Meta", {}))
        if self._typogrify:
            content = self._typogrify(content) if content else content
            for key in ("title", "summary"):
                if key in metadata:
                    metadata[key] = self._typogrify(metadata[key])
        return content, metadata


def readers_init(readers):
    for ext in MarkdownReader.file_extensions:
        if ext in readers.reader_classes:
            readers.reader_classes[ext] = CheckedMarkdownReader


def fail_if_problems(pelican_or_generators):
    settings = pelican_or_generators.settings if hasattr(pelican_or_generators, "settings") else None
    if settings is None:
        settings = pelican_or_generators[0].settings
    problems = _problems(settings)
    if problems:
        # SystemExit passes Pelican's handler, which would add a traceback to the clear lines above.
        sys.stderr.write(f"buildcheck: {len(problems)} problem(s) in the content; nothing was written\n")
        raise SystemExit(BuildError.exitcode)


def register():
    signals.initialized.connect(check_settings)
    signals.readers_init.connect(readers_init)
    # After reading everything (and before writing anything), stop if anything was wrong.
    signals.all_generators_finalized.connect(fail_if_problems)
