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

That one index after a save is begun early (PreparedIndex): while the saved post's pages are
made, a Pagefind service (Pagefind's Python API, the same index as its command, byte for byte)
reads the language's indexed pages as they are, at the lowest priority, on the core that run
leaves idle; afterwards it is given only the pages that changed (for an address, Pagefind keeps
the page it was given last) and writes the index. What it cannot take in (a page it read that
is gone) is left to the command, which makes the index anew.
"""

import asyncio
import hashlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
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
    chosen, digest = _indexed(site, settings, lang)
    return [page for page, _, _ in chosen], digest


def _indexed(site, settings, lang):
    """indexed_pages(), each page with the bytes the digest was made from and their own digest:
    [(page, bytes, sha256)], digest."""
    site = Path(site)
    pages = sorted(language_pages(site, settings, lang))
    marked, everything = hashlib.sha256(), hashlib.sha256()
    chosen, read = [], []
    for page in pages:
        data = page.read_bytes()
        own = hashlib.sha256(data).digest()
        entry = page.relative_to(site).as_posix().encode() + b"\0" + own
        everything.update(entry)
        read.append((page, data, own))
        if MARKER in data:
            marked.update(entry)
            chosen.append((page, data, own))
    return (chosen, marked.hexdigest()) if chosen else (read, everything.hexdigest())


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

    def __init__(self, site, settings, root):
        self.site, self.settings, self.root = site, settings, root
        self.runs = []  # (lang, digest, process or None, its page tree, its log)
        self.prepared = []  # (lang, digest, future of a PreparedIndex's finish)

    def start(self, lang, pages, digest):
        """Pagefind's command on `pages`, into root/lang (made anew: no stale fragment, no file
        written through a link)."""
        shutil.rmtree(self.root / lang, ignore_errors=True)
        tree = tempfile.TemporaryDirectory(prefix=f".search-{lang}-", dir=self.site.parent)
        log = tempfile.TemporaryFile(dir=tree.name)
        self.runs.append((lang, digest, None, tree, log))  # cleaned up by wait() even if Popen fails
        _link_tree(self.site, pages, Path(tree.name))
        proc = subprocess.Popen([sys.executable, "-m", "pagefind", "--site", tree.name, "--silent",
                                 "--output-path", str(self.root / lang)], stdout=log, stderr=subprocess.STDOUT)
        self.runs[-1] = (lang, digest, proc, tree, log)

    def wait(self):
        """{lang: digest of its indexed pages, or None when its index was left as it was};
        raises BuildFailed when a Pagefind failed. The page trees are removed either way."""
        failed = []
        try:
            for lang, digest, finishing in self.prepared:
                try:
                    finishing.result(PreparedIndex.TIMEOUT)
                except Exception:  # noqa: BLE001 (the index is made anew by the command, which reports any problem)
                    self.start(lang, indexed_pages(self.site, self.settings, lang)[0], digest)
            for lang, _, proc, _, log in self.runs:
                if proc is not None and proc.wait() != 0:
                    log.seek(0)
                    failed.append(f"{lang}: {log.read().decode(errors='replace')}")
        finally:
            for _, _, proc, tree, log in self.runs:
                if proc is not None and proc.poll() is None:
                    proc.kill()
                    proc.wait()
                if tree is not None:
                    log.close()
                    tree.cleanup()
        if failed:
            raise BuildFailed("pagefind: indexing failed:\n" + "\n".join(failed))
        return {lang: digest for lang, digest, *_ in [*self.prepared, *self.runs]}


def start_indexing(site, settings, langs=None, bundle=None, prepared=None):
    """Start Pagefind, one process and one index per language, side by side, into
    site/pagefind/<lang>/ or `bundle`/<lang>/; `langs`: only these languages. A language whose
    indexed pages are those its index in site/pagefind/ was made from (SEARCH_STAMP) is not
    indexed again, nor written to `bundle`. `prepared`: {lang: PreparedIndex} begun on the
    language's earlier pages, which then index only the pages that changed. Returns at once:
    the caller reads the pages for the sitemap while Pagefind works, then calls wait() (an
    Indexing); write_stamp() records the digests once the index is in place."""
    site = Path(site)
    root = Path(bundle) if bundle else site / "pagefind"
    stamp = read_stamp(site)
    prepared = dict(prepared or {})
    indexing = Indexing(site, settings, root)
    try:
        for lang in list(settings["LANGUAGES"]) if langs is None else langs:
            pages, digest = _indexed(site, settings, lang)
            if stamp.get(lang) == digest and (site / "pagefind" / lang / "pagefind-entry.json").is_file():
                indexing.runs.append((lang, None, None, None, None))
            elif lang in prepared:
                shutil.rmtree(root / lang, ignore_errors=True)
                indexing.prepared.append((lang, digest, prepared.pop(lang).finish(site, pages, root / lang)))
            else:
                indexing.start(lang, [page for page, _, _ in pages], digest)
    except BaseException:
        for _, _, proc, tree, log in indexing.runs:
            if proc is not None:
                proc.kill()
                proc.wait()
            if tree is not None:
                log.close()
                tree.cleanup()
        raise
    finally:
        for ready in prepared.values():
            ready.close()
    return indexing


def _yield_cpu(pid):
    """The lowest priority for a process or thread (Linux): a begun index reads pages beside the
    run that makes the saved post's page, which the editor waits for; it gets the core that run
    leaves idle, not a share of the run's."""
    if pid:
        try:
            os.setpriority(os.PRIO_PROCESS, pid, 19)
        except (AttributeError, OSError):
            pass


class PreparedIndex:
    """A language's search index begun before its pages change (the editing loop): while the
    saved post's pages are made, a Pagefind service (Pagefind's Python API, which makes the same
    index as its command, byte for byte) reads the language's indexed pages as they are, in the
    background. finish() then gives it only the pages that changed since (for an address,
    Pagefind keeps the page it was given last) and has it write the index. When that cannot give
    the index of the pages as they are now (a page it read is gone or no longer indexed, the
    service failed or took too long), finish()'s future fails: the index is made anew by the
    command (Indexing.wait). close() ends the service; finish() closes it when done."""

    TIMEOUT = 120  # seconds for any one step of the service

    def __init__(self, site, settings, lang):
        self.site, self.lang = Path(site), lang
        self._loop = asyncio.new_event_loop()
        threading.Thread(target=self._run, name=f"search-index-{lang}", daemon=True).start()
        self._service = self._closed = None
        self.written = False  # True once finish() has written the index
        self._tree = tempfile.TemporaryDirectory(prefix=f".search-{lang}-", dir=self.site.parent)
        self._begun = asyncio.run_coroutine_threadsafe(self._begin(settings), self._loop)

    def _run(self):
        _yield_cpu(threading.get_native_id())  # this thread's share of the reading
        self._loop.run_forever()  # until _close() stops it
        self._loop.close()

    async def _begin(self, settings):
        """Link the language's indexed pages into a tree and have the service read it: {address
        relative to the site: digest of the bytes it read}."""
        from pagefind.service import PagefindService  # noqa: PLC0415

        pages = indexed_pages(self.site, settings, self.lang)[0]
        tree = Path(self._tree.name)
        _link_tree(self.site, pages, tree)
        read = {page.relative_to(self.site).as_posix(): hashlib.sha256((tree / page.relative_to(self.site)).read_bytes()).digest()
                for page in pages}
        self._service = await PagefindService().launch()
        _yield_cpu(getattr(getattr(self._service, "_backend", None), "pid", None))
        index = await asyncio.wait_for(self._service.create_index(), self.TIMEOUT)
        await asyncio.wait_for(index.add_directory(str(tree)), self.TIMEOUT)
        return index, read

    def wait_read(self, timeout=TIMEOUT):
        """Wait until the service has read the pages (finish() does not need this)."""
        self._begun.result(timeout)

    def finish(self, site, pages, output):
        """Have the index take in `pages` (_indexed()'s, of the language under `site`, as now)
        and write it into `output`: a concurrent future, done when it is written."""
        now = {page.relative_to(site).as_posix(): (data, own) for page, data, own in pages}
        return asyncio.run_coroutine_threadsafe(self._finish(now, Path(output)), self._loop)

    async def _finish(self, now, output):
        try:
            index, read = await asyncio.wait_for(asyncio.wrap_future(self._begun), self.TIMEOUT)
            if not read.keys() <= now.keys():
                raise LookupError("a page the index read is gone or no longer indexed")
            for address, (data, own) in now.items():
                if read.get(address) != own:
                    url = "/" + (address[: -len("index.html")] if address.endswith("index.html") else address)
                    await asyncio.wait_for(index.add_html_file(content=data.decode("utf-8"), url=url), self.TIMEOUT)
            await asyncio.wait_for(index.write_files(output_path=str(output)), self.TIMEOUT)
            self.written = True
        finally:
            self._loop.create_task(self._close())  # after the caller has the index: ending the service takes a tenth of a second

    def close(self):
        """End the service and remove its page tree (in the background)."""
        if not self._closed and not self._loop.is_closed():
            asyncio.run_coroutine_threadsafe(self._close(), self._loop)

    def __del__(self):  # one begun and never finished nor closed
        try:
            self.close()
        except Exception:  # noqa: BLE001 (the interpreter may be ending)
            pass

    async def _close(self):
        if self._closed:
            return
        self._closed = True
        try:
            await asyncio.wait_for(asyncio.wrap_future(self._begun), self.TIMEOUT)
        except Exception:  # noqa: BLE001 (closing: whatever it did)
            pass
        if self._service is not None:
            try:
                await self._service.close()
            except Exception:  # noqa: BLE001
                pass
        self._tree.cleanup()
        self._loop.call_soon(self._loop.stop)


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
