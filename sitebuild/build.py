"""The build: one Pelican run per language into a fresh directory, swapped in for output/.

    build_site(settings_file, output)   every language; raises BuildFailed, output/ untouched
    build_pages_first(settings_file, output)   the editing loop's: the pages now, swapped in at once
    finish_build(settings_file, output) then the sitemap and search index build_pages_first() left
"""

import ctypes
import errno
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
from .freshness import (LANGUAGE_STAMPS, STAMP, BuildState, code_fingerprint, keep_cache_if_valid,
                        language_fingerprints)
from .search import (SEARCH_STAMP, PreparedIndex, language_pages, link_or_copy, read_stamp, start_indexing,
                     write_stamp)

SITEWIDE_LATER = ("pagefind", SEARCH_STAMP, "sitemap.xml", "robots.txt", "_headers")  # what finish_build() renews


@dataclass
class LanguageRun:
    lang: str
    returncode: int
    stdout: str
    stderr: str
    search_error: BuildFailed = None  # its Pagefind index failed
    search_index: PreparedIndex = None  # show_changes_first(): its index, begun on the earlier pages


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


def _link(src, dst):
    """`src` (a file or a tree) at `dst` too, by hard links (link_or_copy): the output being served keeps every
    file until the fresh one is swapped in, and keeps them all when the build fails."""
    if src.is_dir():
        shutil.copytree(src, dst, copy_function=link_or_copy, dirs_exist_ok=True)
    else:
        link_or_copy(src, dst)


def _carry_over_unchanged_language(lang, settings, output, fresh):
    """The pages of `lang`, which need no new run, from the previous output into the fresh
    one. A non-primary language's pages are all under its prefix; the primary language's are
    everything else (the sitewide files are made anew or carried over)."""
    prefixes = {code: cfg["prefix"] for code, cfg in settings["LANGUAGES"].items()}
    if prefixes[lang]:
        if (output / prefixes[lang]).exists():
            _link(output / prefixes[lang], fresh / prefixes[lang])
        return
    others = {Path(p).parts[0] for code, p in prefixes.items() if p}
    for entry in output.iterdir():
        if entry.name not in others | {STAMP, LANGUAGE_STAMPS, *SITEWIDE_LATER}:
            _link(entry, fresh / entry.name)


@dataclass
class _Plan:
    """What a build will do: the settings it reads, the languages to run, what each was built from."""

    settings_file: Path
    output: Path
    content: Path
    cwd: Path
    extra: dict
    settings: dict
    langs: list
    todo: list  # the languages to run; the others' pages are carried over from the previous output
    per_language: dict = None  # {lang: fingerprint}; None until read (a forced build reads it while running)

    @property
    def fingerprint(self):
        return _site_fingerprint(self.per_language)


def _plan(settings_file, output, content, cwd, extra, force):
    """The plan of a build, or None when `output` is up to date (nothing it depends on changed)."""
    settings_file, output = Path(settings_file).resolve(), Path(output).resolve()
    content = Path(content).resolve() if content else Path(cwd) / "content"
    settings = read_site_settings(settings_file)
    langs = list(settings["LANGUAGES"])
    plan = _Plan(settings_file, output, content, Path(cwd), extra, settings, langs, todo=langs)
    if not force:  # every language's inputs cover the settings, requirements, content, theme, plugins, date
        plan.per_language = language_fingerprints(settings_file, settings, content, extra, langs)
        state = BuildState.read(output)
        if state is not None and state.up_to_date and state.fingerprint == plan.fingerprint:
            return None
        built_from = _built_from(output) or {}
        plan.todo = [lang for lang in langs if built_from.get(lang) != plan.per_language[lang]]
    keep_cache_if_valid(settings_file, settings, extra)
    output.parent.mkdir(parents=True, exist_ok=True)
    return plan


def _run_languages(plan, fresh, after_run=None):
    """One Pelican process per language of plan.todo into `fresh`, side by side; after_run(run)
    in the run's own thread when it succeeded. Raises BuildFailed (fresh removed) if any failed."""
    def one(lang):
        run = LanguageRun(lang, *_run(pelican_command(plan.settings_file, plan.content, fresh, lang, plan.extra),
                                      plan.cwd))
        if run.returncode == 0 and after_run is not None:
            after_run(run)
        return run

    try:
        with ThreadPoolExecutor(max_workers=max(1, len(plan.todo))) as pool:
            futures = [pool.submit(one, lang) for lang in plan.todo]
            if plan.per_language is None:
                plan.per_language = language_fingerprints(plan.settings_file, plan.settings, plan.content,
                                                          plan.extra, plan.langs)
            results = [f.result() for f in futures]
    except BaseException:
        shutil.rmtree(fresh, ignore_errors=True)
        raise
    failed = [r for r in results if r.returncode != 0]
    if failed:
        shutil.rmtree(fresh, ignore_errors=True)
        raise BuildFailed(_unique_lines([r.stderr for r in failed] + [r.stdout for r in failed]))
    for lang in plan.langs:
        if lang not in plan.todo:
            _carry_over_unchanged_language(lang, plan.settings, plan.output, fresh)
    (fresh / LANGUAGE_STAMPS).write_text(json.dumps(plan.per_language), encoding="utf-8")
    return results


_RENAME_EXCHANGE = 2  # linux/fs.h
_AT_FDCWD = -100


def _exchange(a, b):
    """Swap the names of `a` and `b` in one step (Linux's renameat2 with RENAME_EXCHANGE), so a
    reader of either path finds the one directory or the other, never none. False where the
    system or the file system cannot; then nothing was done."""
    renameat2 = getattr(ctypes.CDLL(None, use_errno=True), "renameat2", None)
    if renameat2 is None:
        return False
    if renameat2(_AT_FDCWD, os.fsencode(a), _AT_FDCWD, os.fsencode(b), _RENAME_EXCHANGE) == 0:
        return True
    err = ctypes.get_errno()
    if err in (errno.EINVAL, errno.ENOSYS, errno.EOPNOTSUPP):
        return False
    raise OSError(err, os.strerror(err), str(a), None, str(b))


def _replace_dir(new, target):
    """`new` becomes `target`, which the development server may be serving from: the two are
    exchanged at once where the system can (then `new` holds the old directory, and is returned);
    elsewhere the old one is moved aside first (a reader may then find `target` missing for that
    moment) to the returned path. None when there was no `target`."""
    if not target.exists():
        new.rename(target)
        return None
    if _exchange(new, target):
        return new
    aside = Path(tempfile.mkdtemp(prefix=".old-", dir=new.parent))
    target.rename(aside)  # in place of the empty directory
    new.rename(target)
    return aside


def _swap_in(fresh, output, keep_old=False):
    """`fresh` becomes `output`; the previous output is deleted (or, with keep_old, left in a
    .output-old-* directory beside it for finish_build() to delete)."""
    os.chmod(fresh, 0o755)
    old = _replace_dir(fresh, output)
    if old is None:
        return
    if keep_old:
        old.rename(Path(tempfile.mkdtemp(prefix=".output-old-", dir=output.parent)) / "output")
    else:
        shutil.rmtree(old, ignore_errors=True)


def _print_logs(results, capture):
    if not capture:
        for r in results:
            sys.stdout.write(r.stdout)
            sys.stderr.write(r.stderr)


def build_site(settings_file=DEV_SETTINGS, output=ROOT / "output", content=None, cwd=ROOT,
               extra=None, capture=True, force=False):
    """Build every language into a fresh directory, with its search index and sitewide files,
    then swap it in place of `output`.

    The languages are built by parallel Pelican processes into one tree; as soon as a
    language's run is done, Pagefind indexes it while its sitemap entries are read. If any
    run fails, the fresh directory is removed and `output` stays exactly as it was.
    `extra` maps setting names to JSON values (Pelican's -e). Returns the runs; with
    capture=False their log is printed too. Raises BuildFailed with the problems.
    When nothing the build depends on changed since `output` was built, nothing is done
    (returns []) unless `force`; a language whose inputs did not change (see
    language_fingerprints) is not run again: its pages are carried over from `output` (hard links).
    """
    plan = _plan(settings_file, output, content, cwd, extra, force)
    if plan is None:
        return []
    fresh = Path(tempfile.mkdtemp(prefix=".output-", dir=plan.output.parent))
    sitemap = {}  # lang -> its pages' sitemap entries
    digests = {}  # lang -> the digest of the pages its search index was made from
    sitemap_lock = threading.Lock()

    def index_and_read(run):
        """This language's search index and sitemap entries now, while the other runs go on;
        the run that reads the last language's pages writes the sitemap."""
        def entries_read(entries):
            with sitemap_lock:
                sitemap[run.lang] = entries
                if len(sitemap) == len(plan.langs):
                    _write_sitewide(fresh, plan.settings, sitemap)

        _, indexed, run.search_error = _index_and_read(fresh, plan.settings, run.lang, entries_read)
        digests.update(indexed)

    results = _run_languages(plan, fresh, after_run=index_and_read)
    _print_logs(results, capture)
    try:
        errors = [r.search_error for r in results if r.search_error]
        if errors:
            raise errors[0]
        carried = [lang for lang in plan.langs if lang not in sitemap]  # not run: their pages carried over
        previous = read_stamp(plan.output)
        for lang in carried:  # and their index, kept if their pages are those it was made from
            if lang in previous and (plan.output / "pagefind" / lang).is_dir():
                _link(plan.output / "pagefind" / lang, fresh / "pagefind" / lang)
        write_stamp(fresh, {lang: previous.get(lang) for lang in carried})
        for lang in carried:
            sitemap[lang], indexed, error = _index_and_read(fresh, plan.settings, lang)
            if error:
                raise error
            digests.update(indexed)
        if len(plan.todo) < len(plan.langs):
            _write_sitewide(fresh, plan.settings, sitemap)
        write_stamp(fresh, digests)
        BuildState(plan.fingerprint).write(fresh)
    except BaseException:
        shutil.rmtree(fresh, ignore_errors=True)
        raise
    _swap_in(fresh, plan.output)
    return results


def build_pages_first(settings_file=DEV_SETTINGS, output=ROOT / "output", content=None, cwd=ROOT,
                      extra=None, capture=True, force=False):
    """The editing loop's build: every language's pages, swapped in as soon as Pelican wrote
    them, beside the previous build's search index and sitewide files; finish_build() then
    renews those. Until it has, the output does not count as up to date. Otherwise as
    build_site()."""
    plan = _plan(settings_file, output, content, cwd, extra, force)
    if plan is None:
        return []
    fresh = Path(tempfile.mkdtemp(prefix=".output-", dir=plan.output.parent))
    results = _run_languages(plan, fresh)
    _print_logs(results, capture)
    try:
        for name in SITEWIDE_LATER:
            if (plan.output / name).exists() and not (fresh / name).exists():
                _link(plan.output / name, fresh / name)  # finish_build() renews them
        before = BuildState.read(plan.output)
        pending = [lang for lang in plan.langs if lang in plan.todo or (before and lang in before.pending)]
        BuildState(plan.fingerprint, tuple(pending)).write(fresh)
    except BaseException:
        shutil.rmtree(fresh, ignore_errors=True)
        raise
    _swap_in(fresh, plan.output, keep_old=True)  # finish_build() deletes it, after the browser has the new page
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
                       extra=None, warm=None, ahead=None):
    """The first step of the editing loop, before the full build: when only Markdown files
    were saved, run the languages they change with PUBLISHING_WRITE_ONLY (plugins/publishing/
    selective.py: the pages that show those posts, and the few pages every run writes) into a
    fresh directory, then move its files into `output`, each replacing the old one (os.replace).
    Every file is read and checked as in a full run: a content problem raises BuildFailed and
    leaves `output` as it was. Returns the runs, or None when this step does not apply (another
    kind of file changed, one was deleted, or `output` was not built yet); the full build
    (build_site(later=True), then finish_build()) renews the rest either way. With `warm` (a
    start_warm_pelican() of the same code), the runs are forks of it, which have Pelican and
    the plugins imported already. `ahead`: {lang: PreparedIndex} begun on `output` before the save
    (the development server's), from which this step takes the changed languages' indexes."""
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
    # The run reads the content cache but does not write it back (pickling all of it again is a
    # tenth of this step at 1,000 posts): the full build after it reads the saved files anew.
    only = dict(extra or {}, PUBLISHING_WRITE_ONLY=json.dumps([str(p) for p in changes]), CACHE_CONTENT="false")
    # Meanwhile, on the other core, Pagefind reads each changed language's indexed pages as they
    # are (unless it has read them before the save): finish_build(prepared=...) then gives it
    # only the pages this step changed.
    indexes = {lang: _taken(ahead, lang) or PreparedIndex(output, settings, lang) for lang in todo}
    fresh = Path(tempfile.mkdtemp(prefix=".output-", dir=output.parent))
    done = False
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
        results = [LanguageRun(lang, *r, search_index=indexes[lang]) for lang, r in zip(todo, ran)]
        failed = [r for r in results if r.returncode != 0]
        if failed:
            raise BuildFailed(_unique_lines([r.stderr for r in failed] + [r.stdout for r in failed]))
        # Not up to date until the full build (build_pages_first(), finish_build()) has run.
        before = BuildState.read(output)
        pending = sorted(set(todo) | set(before.pending if before else ()))
        BuildState(None, tuple(pending)).write(output)
        for path in sorted(fresh.rglob("*")):
            if path.is_file():
                target = output / path.relative_to(fresh)
                target.parent.mkdir(parents=True, exist_ok=True)
                os.replace(path, target)
        done = True
    finally:
        shutil.rmtree(fresh, ignore_errors=True)
        if not done:
            for index in indexes.values():
                index.close()
    return results


def _taken(ahead, lang):
    """The index of `lang` begun ahead, taken out of `ahead`, if it can still be used; else None."""
    index = ahead.pop(lang, None) if ahead else None
    if index is not None and not index.usable():
        index.close()
        return None
    return index


def _index_and_read(site, settings, lang, then=None):
    """Pagefind for one language's pages (its own process, started first) while this thread
    reads their sitemap entries, and calls then(entries): (entries, digests, None) (see
    start_indexing), or (entries, {}, BuildFailed) when Pagefind failed."""
    search = start_indexing(site, settings, [lang])
    entries = sitemap_entries(language_pages(site, settings, lang))
    if then is not None:
        then(entries)
    try:
        return entries, search.wait(), None
    except BuildFailed as e:
        return entries, {}, e


def sitewide_and_search(output, settings, langs=None, bundle=None, prepared=None):
    """The sitewide files (sitemap, robots, headers) and the search index, side by side:
    Pagefind, started first, runs in its own processes while this one parses the pages for the
    sitemap (`prepared`: see start_indexing)."""
    search = start_indexing(output, settings, langs, bundle, prepared)
    write_sitewide_files(output, settings)
    return search.wait()


def finish_build(settings_file=DEV_SETTINGS, output=ROOT / "output", prepared=None):
    """The rest of a build_pages_first() or show_changes_first(): write the sitewide files
    (sitemap, robots, headers), index the rebuilt languages for search (those whose indexed
    pages changed) and swap their indexes in; after build_pages_first(), the output is then up
    to date. `prepared`: the runs show_changes_first() returned, whose search indexes it began.
    Returns False when there was nothing to finish."""
    output = Path(output).resolve()
    indexes = {run.lang: run.search_index for run in prepared or () if run.search_index is not None}
    state = BuildState.read(output)
    if state is None or not state.pending:
        for index in indexes.values():
            index.close()
        return False
    new = output / ".pagefind-new"
    for leftover in (new, *output.parent.glob(".output-old-*")):
        shutil.rmtree(leftover, ignore_errors=True)
    try:
        digests = sitewide_and_search(output, read_site_settings(Path(settings_file).resolve()),
                                      langs=list(state.pending), bundle=new, prepared=indexes)
    except BaseException:
        for index in indexes.values():
            index.close()
        raise
    (output / "pagefind").mkdir(exist_ok=True)
    for lang in [lang for lang in state.pending if digests.get(lang) is not None]:  # the others' pages did not change
        _replace_dir(new / lang, output / "pagefind" / lang)  # the old index is left in `new`
    shutil.rmtree(new, ignore_errors=True)
    write_stamp(output, digests)
    BuildState(state.fingerprint).write(output)
    return True
