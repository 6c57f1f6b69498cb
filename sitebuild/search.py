"""The search index: Pagefind, one process and one index per language.

Pagefind indexes only the pages that carry `data-pagefind-body` (posts, pages, networks) once
any page does, but it reads and parses every page it is given first: a third of a language's
pages are listings (tags, categories, authors, numbered blog pages) it would read for nothing.
So each language's Pagefind is given a tree of hard links to exactly the pages that carry the
marker (all of them when none does): the same index (a test compares both), for two thirds of
the reading.

Pagefind cannot add pages to an index it made before: a language's index is made anew from
all its pages. So it is not made again when the pages it indexes are, byte for byte, those it
was made from (their digest is kept in SEARCH_STAMP beside the index): after a saved post the
development server indexes the post's new page once, and the full build that follows finds
nothing left to index.
"""

import hashlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from publishing.sitewide import replace_whole

from .errors import BuildFailed

MARKER = b"data-pagefind-body"
SEARCH_STAMP = ".search-stamp"  # {lang: digest of the pages its index was made from}, in the output


def language_pages(site, settings, lang):
    """The HTML pages of one language's run in `site`: under its prefix, or, for the primary
    language, everywhere but under the other languages' prefixes."""
    site = Path(site)
    prefixes = {code: cfg["prefix"] for code, cfg in settings["LANGUAGES"].items()}
    if prefixes[lang]:
        return list((site / prefixes[lang]).rglob("*.html"))
    others = {Path(p).parts[0] for p in prefixes.values() if p}
    return [page for entry in site.iterdir() if entry.name not in others and not entry.name.startswith(".")
            for page in ([entry] if entry.is_file() else entry.rglob("*.html")) if page.suffix == ".html"]


def indexed_pages(site, settings, lang):
    """(pages, digest): the pages of `lang` Pagefind indexes (those with the marker, or every
    page if none has it) and a digest of their addresses and contents."""
    site = Path(site)
    pages = sorted(language_pages(site, settings, lang))
    marked, everything = hashlib.sha256(), hashlib.sha256()
    chosen = []
    for page in pages:
        data = page.read_bytes()
        entry = page.relative_to(site).as_posix().encode() + b"\0" + hashlib.sha256(data).digest()
        everything.update(entry)
        if MARKER in data:
            marked.update(entry)
            chosen.append(page)
    return (chosen, marked.hexdigest()) if chosen else (pages, everything.hexdigest())


def read_stamp(site):
    try:
        return json.loads((Path(site) / SEARCH_STAMP).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}


def link_or_copy(src, dst):
    """`dst` as a hard link to the file `src` (nothing copied, and the file a reader has open stays
    whole); a copy where the file system has no hard links between the two."""
    try:
        os.link(src, dst)
    except OSError:
        shutil.copy2(src, dst)


def _link_tree(site, pages, dest):
    """`dest` mirrors `site` with only `pages` in it (link_or_copy)."""
    for page in pages:
        target = dest / page.relative_to(site)
        target.parent.mkdir(parents=True, exist_ok=True)
        link_or_copy(page, target)


class Indexing:
    """Pagefind at work for some languages (start_indexing()); wait() gives their digests."""

    def __init__(self):
        self.runs = []  # (lang, digest, process or None, its page tree, its log)

    def wait(self):
        """{lang: digest of its indexed pages, or None when its index was left as it was};
        raises BuildFailed when a Pagefind failed. The page trees are removed either way."""
        failed = []
        try:
            for lang, _, proc, _, log in self.runs:
                if proc is not None and proc.wait() != 0:
                    log.seek(0)
                    failed.append(f"{lang}: {log.read().decode(errors='replace')}")
        finally:
            for _, _, _, tree, log in self.runs:
                if tree is not None:
                    tree.cleanup()
                    log.close()
        if failed:
            raise BuildFailed("pagefind: indexing failed:\n" + "\n".join(failed))
        return {lang: digest for lang, digest, *_ in self.runs}


def start_indexing(site, settings, langs=None, bundle=None):
    """Start Pagefind, one process and one index per language, side by side, into
    site/pagefind/<lang>/ or `bundle`/<lang>/; `langs`: only these languages. A language whose
    indexed pages are those its index in site/pagefind/ was made from (SEARCH_STAMP) is not
    indexed again, nor written to `bundle`. Returns at once: the caller reads the pages for the
    sitemap while Pagefind works, then calls wait() (an Indexing); write_stamp() records the
    digests once the index is in place."""
    site = Path(site)
    root = Path(bundle) if bundle else site / "pagefind"
    stamp = read_stamp(site)
    indexing = Indexing()
    try:
        for lang in list(settings["LANGUAGES"]) if langs is None else langs:
            pages, digest = indexed_pages(site, settings, lang)
            if stamp.get(lang) == digest and (site / "pagefind" / lang / "pagefind-entry.json").is_file():
                indexing.runs.append((lang, None, None, None, None))
                continue
            shutil.rmtree(root / lang, ignore_errors=True)  # made anew: no stale fragment, no file written through a link
            tree = tempfile.TemporaryDirectory(prefix=f".search-{lang}-", dir=site.parent)
            log = tempfile.TemporaryFile(dir=tree.name)
            _link_tree(site, pages, Path(tree.name))
            proc = subprocess.Popen([sys.executable, "-m", "pagefind", "--site", tree.name, "--silent",
                                     "--output-path", str(root / lang)], stdout=log, stderr=subprocess.STDOUT)
            indexing.runs.append((lang, digest, proc, tree, log))
    except BaseException:
        for _, _, proc, tree, log in indexing.runs:
            if proc is not None:
                proc.kill()
                proc.wait()
                log.close()
                tree.cleanup()
        raise
    return indexing


def index_for_search(site, settings, langs=None, bundle=None):
    """start_indexing(), waited for: {lang: digest of its indexed pages, or None when its index
    was left as it was}."""
    return start_indexing(site, settings, langs, bundle).wait()


def write_stamp(site, digests):
    """Record, in `site`, the digests of the pages each language's index was made from
    (index_for_search()'s answer; a language with None keeps its digest)."""
    stamp = read_stamp(site)
    stamp.update({lang: digest for lang, digest in digests.items() if digest is not None})
    replace_whole(Path(site) / SEARCH_STAMP, json.dumps(stamp, sort_keys=True))
