"""The build: one Pelican run per language into a fresh directory, swapped in for output/.

    build_site(settings_file, output)   every language; raises BuildFailed, output/ untouched
    finish_build(settings_file, output) the sitemap and search index a build_site(later=True) left
"""

import hashlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from publishing.sitewide import sitemap_entries, write_sitewide_files

from . import DEV_SETTINGS, ROOT
from .errors import BuildFailed
from .freshness import (LANGUAGE_STAMPS, PENDING, STAMP, code_fingerprint, keep_cache_if_valid,
                        language_fingerprints)
from .search import index_for_search

SITEWIDE_LATER = ("pagefind", "sitemap.xml", "robots.txt", "_headers")  # what finish_build() renews


@dataclass
class LanguageRun:
    lang: str
    returncode: int
    stdout: str
    stderr: str
    search_error: BuildFailed = None  # its Pagefind index failed


def read_site_settings(settings_file):
    from pelican.settings import read_settings

    return read_settings(str(settings_file))


def pelican_command(settings_file, content, output, lang, extra=None):
    # One -e with every KEY=VALUE: a second -e would replace the first (argparse "store").
    settings = [f'DEFAULT_LANG="{lang}"'] + [f"{key}={value}" for key, value in (extra or {}).items()]
    return [sys.executable, "-m", "pelican", str(content), "-s", str(settings_file),
            "-o", str(output), "--fatal", "warnings", "-e", *settings]


def _run(cmd, cwd):
    env = dict(os.environ, COLUMNS="200", TERM="dumb")
    p = subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True)
    return p.returncode, p.stdout, p.stderr


def _unique_lines(texts):
    """Each language run reads all content, so each reports the same problems: once is enough."""
    seen, out = set(), []
    for text in texts:
        for line in text.splitlines():
            if line not in seen:
                seen.add(line)
                out.append(line)
    return "\n".join(out) + "\n"


def _move_unchanged_language(lang, settings, output, fresh):
    """Move the pages of `lang`, which need no new run, from the previous output into the
    fresh one. A non-primary language's pages are all under its prefix; the primary
    language's are everything else (the sitewide files are made anew or carried over)."""
    prefixes = {code: cfg["prefix"] for code, cfg in settings["LANGUAGES"].items()}
    if prefixes[lang]:
        if (output / prefixes[lang]).exists():
            (fresh / prefixes[lang]).parent.mkdir(parents=True, exist_ok=True)
            (output / prefixes[lang]).rename(fresh / prefixes[lang])
        return
    others = {Path(p).parts[0] for code, p in prefixes.items() if p}
    for entry in output.iterdir():
        if entry.name not in others | {STAMP, LANGUAGE_STAMPS, *SITEWIDE_LATER}:
            entry.rename(fresh / entry.name)


def build_site(settings_file=DEV_SETTINGS, output=ROOT / "output", content=None, cwd=ROOT,
               extra=None, capture=True, force=False, later=False):
    """Build every language into a fresh directory, then swap it in place of `output`.

    The languages are built by parallel Pelican processes into one tree. If any of them
    fails, the fresh directory is removed and `output` stays exactly as it was.
    `extra` maps setting names to JSON values (Pelican's -e). Returns the runs; with
    capture=False their log is printed too. Raises BuildFailed with the problems.
    When nothing the build depends on changed since `output` was built, nothing is done
    (returns []) unless `force`; a language whose inputs did not change (see
    language_fingerprints) is not run again: its pages move over from `output`.
    With `later` (the editing loop), the new pages are swapped in as soon as Pelican wrote
    them, beside the previous build's search index and sitewide files; finish_build() then
    renews those. Until it has, the output does not count as up to date.
    """
    settings_file, output = Path(settings_file).resolve(), Path(output).resolve()
    content = Path(content).resolve() if content else Path(cwd) / "content"
    settings = read_site_settings(settings_file)
    langs = list(settings["LANGUAGES"])
    # What the build depends on: every language's inputs (which together cover the settings,
    # requirements, content, theme, plugins and the date). A forced build runs every language
    # whatever they are: it reads them while the runs go on.
    per_language = fingerprint = None
    if force:
        todo = langs
    else:
        per_language = language_fingerprints(settings_file, settings, content, extra, langs)
        fingerprint = _site_fingerprint(per_language)
        stamp = output / STAMP
        if stamp.is_file() and stamp.read_text(encoding="utf-8") == fingerprint:
            return []
        built_from = _built_from(output) or {}
        todo = [lang for lang in langs if built_from.get(lang) != per_language[lang]]
    keep_cache_if_valid(settings_file, settings, extra)
    output.parent.mkdir(parents=True, exist_ok=True)
    fresh = Path(tempfile.mkdtemp(prefix=".output-", dir=output.parent))
    sitemap = {}  # lang -> its pages' sitemap entries
    sitemap_lock = threading.Lock()

    def entries_read(lang, entries):
        """The sitemap is written by the run that reads the last language's pages, while its
        Pagefind still runs (when every language was run anew)."""
        with sitemap_lock:
            sitemap[lang] = entries
            if len(sitemap) == len(langs):
                _write_sitewide(fresh, settings, sitemap)

    def one(lang):
        run = LanguageRun(lang, *_run(pelican_command(settings_file, content, fresh, lang, extra), cwd))
        if run.returncode == 0 and not later:
            # This language's search index and sitemap entries now, while the other runs go on.
            _, run.search_error = _index_and_read(fresh, settings, lang, lambda e: entries_read(lang, e))
        return run

    try:
        with ThreadPoolExecutor(max_workers=max(1, len(todo))) as pool:
            futures = [pool.submit(one, lang) for lang in todo]
            if per_language is None:
                per_language = language_fingerprints(settings_file, settings, content, extra, langs)
                fingerprint = _site_fingerprint(per_language)
            results = [f.result() for f in futures]
    except BaseException:
        shutil.rmtree(fresh, ignore_errors=True)
        raise
    failed = [r for r in results if r.returncode != 0]
    if failed:
        shutil.rmtree(fresh, ignore_errors=True)
        raise BuildFailed(_unique_lines([r.stderr for r in failed] + [r.stdout for r in failed]))
    for lang in langs:
        if lang not in todo:
            _move_unchanged_language(lang, settings, output, fresh)
    (fresh / LANGUAGE_STAMPS).write_text(json.dumps(per_language), encoding="utf-8")
    if not capture:
        for r in results:
            sys.stdout.write(r.stdout)
            sys.stderr.write(r.stderr)
    try:
        if later:
            for name in SITEWIDE_LATER:
                if (output / name).exists() and not (fresh / name).exists():
                    (output / name).rename(fresh / name)  # the old output goes away below
            pending = [lang for lang in langs if lang in todo or lang in _pending_languages(output)]
            (fresh / STAMP).write_text(f"{PENDING}{','.join(pending)}: {fingerprint}", encoding="utf-8")
        else:
            errors = [r.search_error for r in results if r.search_error]
            if errors:
                raise errors[0]
            if len(sitemap) < len(langs):  # some languages were moved over: indexed again, as before
                for lang in langs:
                    if lang not in todo:
                        more, error = _index_and_read(fresh, settings, lang)
                        if error:
                            raise error
                        sitemap[lang] = more
                _write_sitewide(fresh, settings, sitemap)
            (fresh / STAMP).write_text(fingerprint, encoding="utf-8")
    except BaseException:
        shutil.rmtree(fresh, ignore_errors=True)
        raise
    os.chmod(fresh, 0o755)
    old = None
    if output.exists():
        old = Path(tempfile.mkdtemp(prefix=".output-old-", dir=output.parent))
        output.rename(old / "output")
    fresh.rename(output)
    if old and not later:  # later: finish_build() deletes it, after the browser has the new page
        shutil.rmtree(old, ignore_errors=True)
    return results


def _site_fingerprint(per_language):
    """One hash of every language's inputs: the output is up to date when its STAMP holds it."""
    return hashlib.sha256(json.dumps(per_language, sort_keys=True).encode()).hexdigest()


def _built_from(output):
    """What each language's pages in `output` were built from (LANGUAGE_STAMPS), or None."""
    try:
        return json.loads((output / LANGUAGE_STAMPS).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def _write_sitewide(site, settings, sitemap):
    """The sitewide files of `site`, from the sitemap entries read per language ({lang: entries})."""

    write_sitewide_files(site, settings, [e for lang in settings["LANGUAGES"] for e in sitemap[lang]])


def start_warm_pelican(settings_file=DEV_SETTINGS, extra=None):
    """A warm Pelican process (sitebuild.warm) for show_changes_first(), for the code as it is now."""
    from .warm import WarmPelican

    settings_file = Path(settings_file).resolve()
    settings = read_site_settings(settings_file)
    return WarmPelican(settings_file, code_fingerprint(settings_file, settings, extra),
                       [settings_file.parent / p for p in settings["PLUGIN_PATHS"]])


def show_changes_first(changes, settings_file=DEV_SETTINGS, output=ROOT / "output", content=None, cwd=ROOT,
                       extra=None, warm=None):
    """The first step of the editing loop, before the full build: when only Markdown files
    were saved, run the languages they change with PUBLISHING_WRITE_ONLY (plugins/publishing/
    selective.py: the pages that show those posts, and the few pages every run writes) into a
    fresh directory, then move its files into `output`, each replacing the old one (os.replace).
    Every file is read and checked as in a full run: a content problem raises BuildFailed and
    leaves `output` as it was. Returns the runs, or None when this step does not apply (another
    kind of file changed, one was deleted, or `output` was not built yet); the full build
    (build_site(later=True), then finish_build()) renews the rest either way. With `warm` (a
    start_warm_pelican() of the same code), the runs are forks of it, which have Pelican and
    the plugins imported already."""
    settings_file, output = Path(settings_file).resolve(), Path(output).resolve()
    content = Path(content).resolve() if content else Path(cwd) / "content"
    changes = [Path(p).resolve() for p in changes]
    markdown = (".md", ".markdown", ".mkd", ".mdown")
    if not changes or not all(p.suffix in markdown and p.is_file() and p.is_relative_to(content) for p in changes):
        return None
    built_from = _built_from(output)
    if built_from is None:
        return None
    settings = read_site_settings(settings_file)
    langs = list(settings["LANGUAGES"])
    per_language = language_fingerprints(settings_file, settings, content, extra, langs)
    todo = [lang for lang in langs if built_from.get(lang) != per_language[lang]]
    if not todo:
        return []
    keep_cache_if_valid(settings_file, settings, extra)
    only = dict(extra or {}, PUBLISHING_WRITE_ONLY=json.dumps([str(p) for p in changes]))
    fresh = Path(tempfile.mkdtemp(prefix=".output-", dir=output.parent))
    try:
        commands = [pelican_command(settings_file, content, fresh, lang, only) for lang in todo]
        ran = None
        if warm is not None and warm.alive() and warm.fingerprint == code_fingerprint(settings_file, settings, extra):
            try:
                ran = warm.run_many([(cmd, cwd) for cmd in commands])
            except OSError:
                ran = None  # the warm process is gone: fresh processes, as a full build runs
        if ran is None:
            with ThreadPoolExecutor(max_workers=len(todo)) as pool:
                ran = list(pool.map(lambda cmd: _run(cmd, cwd), commands))
        results = [LanguageRun(lang, *r) for lang, r in zip(todo, ran)]
        failed = [r for r in results if r.returncode != 0]
        if failed:
            raise BuildFailed(_unique_lines([r.stderr for r in failed] + [r.stdout for r in failed]))
        # Not up to date until the full build (build_site(later=True), finish_build()) has run.
        pending = sorted(set(todo) | set(_pending_languages(output)))
        (output / STAMP).write_text(f"{PENDING}{','.join(pending)}: shown first", encoding="utf-8")
        for path in sorted(fresh.rglob("*")):
            if path.is_file():
                target = output / path.relative_to(fresh)
                target.parent.mkdir(parents=True, exist_ok=True)
                os.replace(path, target)
    finally:
        shutil.rmtree(fresh, ignore_errors=True)
    return results


def language_pages(site, settings, lang):
    """The HTML pages of one language's run in `site`: under its prefix, or, for the primary
    language, everywhere but under the other languages' prefixes."""
    site = Path(site)
    prefixes = {code: cfg["prefix"] for code, cfg in settings["LANGUAGES"].items()}
    if prefixes[lang]:
        return list((site / prefixes[lang]).rglob("*.html"))
    others = {Path(p).parts[0] for p in prefixes.values() if p}
    return [page for entry in site.iterdir() if entry.name not in others
            for page in ([entry] if entry.is_file() else entry.rglob("*.html")) if page.suffix == ".html"]


def _index_and_read(site, settings, lang, then=None):
    """Pagefind for one language's pages (its own process) while this thread reads their
    sitemap entries, and calls then(entries): (entries, None), or (entries, BuildFailed) when
    Pagefind failed."""

    with ThreadPoolExecutor(max_workers=1) as pool:
        search = pool.submit(index_for_search, site, settings, [lang])
        entries = sitemap_entries(language_pages(site, settings, lang))
        if then is not None:
            then(entries)
        try:
            search.result()
        except BuildFailed as e:
            return entries, e
    return entries, None


def sitewide_and_search(output, settings, langs=None, bundle=None):
    """The sitewide files (sitemap, robots, headers) and the search index, side by side:
    Pagefind runs in its own processes while this one parses the pages for the sitemap."""

    with ThreadPoolExecutor(max_workers=1) as pool:
        search = pool.submit(index_for_search, output, settings, langs, bundle)
        write_sitewide_files(output, settings)
        search.result()


def _pending_languages(output):
    """The languages whose search index a build_site(later=True) left to finish_build()."""
    stamp = Path(output) / STAMP
    text = stamp.read_text(encoding="utf-8") if stamp.is_file() else ""
    return [code for code in text[len(PENDING):].split(": ", 1)[0].split(",") if code] \
        if text.startswith(PENDING) else []


def finish_build(settings_file=DEV_SETTINGS, output=ROOT / "output"):
    """The rest of a build_site(later=True): write the sitewide files (sitemap, robots,
    headers), index the rebuilt languages for search and swap their indexes in, and mark
    the output up to date. Returns False when there was nothing to finish."""
    output = Path(output).resolve()
    stamp = output / STAMP
    text = stamp.read_text(encoding="utf-8") if stamp.is_file() else ""
    if not text.startswith(PENDING):
        return False
    langs = _pending_languages(output)
    new, old = output / ".pagefind-new", output / ".pagefind-old"
    for leftover in (new, old, *output.parent.glob(".output-old-*")):
        shutil.rmtree(leftover, ignore_errors=True)
    sitewide_and_search(output, read_site_settings(Path(settings_file).resolve()), langs=langs, bundle=new)
    (output / "pagefind").mkdir(exist_ok=True)
    old.mkdir()
    for lang in langs:
        if (output / "pagefind" / lang).exists():
            (output / "pagefind" / lang).rename(old / lang)
        (new / lang).rename(output / "pagefind" / lang)
    for leftover in (new, old):
        shutil.rmtree(leftover, ignore_errors=True)
    stamp.write_text(text.split(": ", 1)[1], encoding="utf-8")
    return True
