import os
import re
import sys

from markdown import Markdown
from pelican import signals
from pelican.readers import MarkdownReader
from pelican.utils import SafeDatetime

from core.problem import Problem  # noqa: F401  (buildcheck.check.Problem)

from core import source
from core.contentfiles import unaccounted
from core.source import (ARTICLE_REQUIRED_KEYS, KNOWN_KEYS, REQUIRED_KEYS, STATUSES)  # noqa: F401
from .typography import csp_safe_tables, speed_up_markdown


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


def check_header(path, text, settings, is_article):
    """Problems in the metadata header of a Markdown file (an empty list if it is fine)."""
    return source.parse_header(relpath(path), source.normalize(text), list(settings["LANGUAGES"]),
                               is_article).problems


class BuildcheckSettingsError(Exception):
    """A setting of this plugin is wrong; raised at start-up."""


def typogrifier(settings, omit=()):
    """The site's typogrify pass as a function of HTML (Pelican's TYPOGRIFY_IGNORE_TAGS,
    TYPOGRIFY_OMIT_FILTERS and TYPOGRIFY_DASHES, and the filters in `omit` left out too),
    or None when BUILDCHECK_TYPOGRIFY is off."""
    if not settings.get("BUILDCHECK_TYPOGRIFY"):
        return None
    import smartypants  # noqa: PLC0415  (optional, like in Pelican)

    from .typography import typogrify  # noqa: PLC0415  (typogrify's, faster: same output)

    dashes = settings.get("TYPOGRIFY_DASHES", "default")
    smartypants.Attr.default = {"oldschool": smartypants.Attr.set2,
                                "oldschool_inverted": smartypants.Attr.set3}.get(dashes, smartypants.Attr.set1)
    smartypants.Attr.default |= smartypants.Attr.w
    ignore = settings.get("TYPOGRIFY_IGNORE_TAGS", [])
    omit = dict.fromkeys([*settings.get("TYPOGRIFY_OMIT_FILTERS", []), *omit], False)

    def apply(html):
        return typogrify(html, ignore, **omit)

    return apply


def _run_typogrifier(settings):
    # A checking run (BUILDCHECK_DRY_RUN) writes no page: typogrify could only cost time.
    return None if settings.get("BUILDCHECK_DRY_RUN") else typogrifier(settings)


def new_markdown(settings):
    """The Markdown instance every file of a run is converted with; the header is never left
    to its meta extension (core.source reads it)."""
    md = csp_safe_tables(speed_up_markdown(Markdown(**settings["MARKDOWN"])))
    if "meta" in md.preprocessors:
        md.preprocessors.deregister("meta")
    return md


# The header fields a page shows as HTML: Markdown (those in FORMATTED_FIELDS), then typography.
SHOWN_FIELDS = ("title", "summary")
# The metadata key of the fields a file in another language keeps as written (see finish_fields).
UNFINISHED = "buildcheck_unfinished"


def _finish(settings, md, typogrify, name, value):
    """A header field as the page shows it: Markdown for FORMATTED_FIELDS, then typography."""
    if name in settings["FORMATTED_FIELDS"]:
        md.reset()
        value = md.convert(value)
    if typogrify and name in SHOWN_FIELDS:
        value = typogrify(value)
    return value


def finish_fields(settings, items):
    """Finish the fields the reader left as written in files of another language than the
    run's (UNFINISHED): called for the ones the run lists after all (a post with no version in
    the run's language), so they show as they do in their own language's run."""
    md = typogrify = None
    for item in items:
        names = item.metadata.pop(UNFINISHED, None)
        if not names:
            continue
        if md is None:
            md, typogrify = new_markdown(settings), _run_typogrifier(settings)
        delattr(item, UNFINISHED)
        for name in names:
            value = _finish(settings, md, typogrify, name, item.metadata[name])
            item.metadata[name] = value
            setattr(item, "_summary" if name == "summary" else name, value)


def check_settings(pelican):
    s = pelican.settings
    s.setdefault("BUILDCHECK_DRY_RUN", False)
    if not isinstance(s["BUILDCHECK_DRY_RUN"], bool):
        raise BuildcheckSettingsError(f"buildcheck: BUILDCHECK_DRY_RUN must be True or False, not {s['BUILDCHECK_DRY_RUN']!r}")
    if s.get("BUILDCHECK_TYPOGRIFY") and s.get("TYPOGRIFY"):
        raise BuildcheckSettingsError(
            "buildcheck: BUILDCHECK_TYPOGRIFY and TYPOGRIFY are both on, which would typogrify every "
            "page twice: set TYPOGRIFY = False (BUILDCHECK_TYPOGRIFY does the same, inside the content cache)")


class CheckedMarkdownReader(MarkdownReader):
    """Pelican's Markdown reader, reading the header itself (core.source).

    The header, in Pelican's ``key: value`` form or as YAML front matter, is parsed and
    checked by :mod:`core.source` (the same code ``invoke check`` runs), so both
    forms give the same metadata; dates are read day first. The text is checked too (raw
    HTML the site blocks, half-written links, images without a description) and its
    links and images are kept in the metadata (``buildcheck_links``), to be checked
    against everything the build makes once every file is read (:func:`final_checks`).
    A file with problems is skipped; the run fails at the end, after every file was read.

    Beyond the checks it differs in three ways, all for speed: one Markdown instance
    serves every file of the run (reset in between); a file in another language than
    the run's has only its header read, its title and summary finished only if the run
    lists it (:func:`finish_fields`); and with BUILDCHECK_TYPOGRIFY typogrify runs here,
    so Pelican's content cache keeps its result.
    """

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._shared_md = None
        self._typogrify = _run_typogrifier(self.settings)

    def _markdown(self):
        """The run's Markdown instance (new_markdown), reset."""
        if self._shared_md is None:
            self._shared_md = new_markdown(self.settings)
        else:
            self._shared_md.reset()
        return self._shared_md

    def process_metadata(self, name, value):
        if name in ("date", "modified") and isinstance(value, str) and _NAIVE_ISO.fullmatch(value):
            return SafeDatetime.fromisoformat(value)
        return super().process_metadata(name, value)

    def _is_article(self, source_path):
        content_root = os.path.abspath(self.settings["PATH"])
        article_dirs = [os.path.join(content_root, p) for p in self.settings["ARTICLE_PATHS"]]
        return any(os.path.abspath(source_path).startswith(d + os.sep) for d in article_dirs)

    def read(self, source_path):
        shown = relpath(source_path)
        skip = "", {"title": "error", "status": "skip"}
        text, problem = source.read_text(source_path, shown)
        if problem:
            report(self.settings, [problem])
            return skip
        header = source.parse_header(shown, text, list(self.settings["LANGUAGES"]), self._is_article(source_path))
        if header.problems:
            report(self.settings, header.problems)
            return skip
        run_lang = self.settings.get("LANG")  # set by the languages plugin: one run per language
        lang = header.meta.get("lang")
        # Another language's run writes the page of a file in another language; this run
        # only lists and links it, so the metadata is all it needs: the text is not read.
        foreign = bool(run_lang and lang and lang != run_lang)
        links, problems = [], []
        if not foreign:
            problems, links = source.check_body(shown, text, header.body_line, self.settings)
            summary = header.meta.get("summary")
            if summary and ("](" in summary or "<" in summary or "[" in summary):
                # The summary is Markdown too (Pelican's FORMATTED_FIELDS): its links count.
                line, col = header.at("summary")
                more, more_links = source.check_body(shown, "\n" * (line - 1) + " " * (col - 1) + summary, line,
                                                     self.settings)
                problems, links = problems + more, links + more_links
            # The run fails at the end; the text is not converted, but the file stays in the
            # run, so that its links are checked too (every problem at once).
            report(self.settings, problems)
        self._source_path = source_path
        self._md = self._markdown()
        body = "\n".join(text.split("\n")[header.body_line - 1:])
        content = "" if foreign or problems else self._md.convert(body)
        # A file in another language keeps its title and summary as written: their Markdown and
        # typography only if the run lists it (finish_fields), never for a translation this run
        # only links. A title its slug is made of is finished at once.
        unfinished = [] if not foreign else [
            name for name in SHOWN_FIELDS if name in header.meta and not (
                name == "title" and "slug" not in header.meta and self.settings["SLUGIFY_SOURCE"] == "title")]
        metadata = {}
        for name, value in header.meta.items():
            if name not in unfinished:
                value = _finish(self.settings, self._md, self._typogrify, name, value)
            metadata[name] = self.process_metadata(name, value)
        if unfinished:
            metadata[UNFINISHED] = unfinished
        metadata["buildcheck_links"] = [(link.kind, link.target, link.line, link.col) for link in links]
        metadata["buildcheck_where"] = dict(header.where)
        metadata["buildcheck_items"] = {k: list(v) for k, v in header.items.items()}
        if self._typogrify and content:
            content = self._typogrify(content)
        return content, metadata


# The dates the header gives (core.source, as ISO text) without a time zone: Pelican's
# get_date (dateutil, a tenth of a millisecond each, twice per file and run) gives the same.
_NAIVE_ISO = re.compile(r"\d{4}-\d{2}-\d{2}(?: \d{2}:\d{2}(?::\d{2})?)?")


def readers_init(readers):
    for ext in MarkdownReader.file_extensions:
        if ext in readers.reader_classes:
            readers.reader_classes[ext] = CheckedMarkdownReader


def prune_static_links(generator):
    """A {static} link to a file that does not exist: Pelican would stop with a traceback
    when copying it; final_checks reports it on the line that has it instead."""
    links = generator.context.get("static_links")
    if links:
        root = generator.settings["PATH"]
        for path in [p for p in links if not os.path.isfile(os.path.join(root, p))]:
            links.discard(path)


def fail_if_problems(generators):
    from .links import final_checks  # noqa: PLC0415

    settings = generators[0].settings
    report(settings, final_checks(generators[0].context, settings))
    report(settings, unaccounted(settings["PATH"], settings["ARTICLE_PATHS"], settings["PAGE_PATHS"],
                                 settings["STATIC_PATHS"], settings.get("NETWORKS_PATH", "networks"), os.getcwd()))
    problems = _problems(settings)
    if problems:
        # SystemExit passes Pelican's handler, which would add a traceback to the clear lines above.
        sys.stderr.write(f"buildcheck: {len(problems)} problem(s) in the content; nothing was written\n")
        raise SystemExit(BuildError.exitcode)
    if settings.get("BUILDCHECK_DRY_RUN"):
        raise SystemExit(0)  # `invoke check`: every check made, nothing written


def register():
    signals.initialized.connect(check_settings)
    signals.readers_init.connect(readers_init)
    signals.page_generator_finalized.connect(prune_static_links)
    # After reading everything (and before writing anything), stop if anything was wrong.
    signals.all_generators_finalized.connect(fail_if_problems)
