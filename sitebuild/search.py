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

That one index after a save is begun early (PreparedIndex): a Pagefind service (Pagefind's
service mode, the same index as its command, byte for byte) reads the language's indexed pages as
they are, at the lowest priority, before the save (the development server begins one for each
language after every build) or else while the saved post's pages are made, on the core that run
leaves idle; afterwards it is given only the pages that changed (for an address, Pagefind keeps
the page it was given last) and answers with the index's files, which are written here. What it
cannot take in (a page it read that is gone) is left to the command, which makes the index anew.
"""

import base64
import hashlib
import json
import os
import queue
import shutil
import subprocess
import tempfile
import threading
from concurrent.futures import Future
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


def _indexed(site, settings, lang, keep=False):
    """indexed_pages(), each page with its own digest and, with `keep`, the bytes the digests
    were made from: [(page, bytes or None, sha256)], digest. Without `keep` no page's bytes are
    held beyond its own turn (a large site's pages are hundreds of megabytes)."""
    site = Path(site)
    pages = sorted(language_pages(site, settings, lang))
    marked, everything = hashlib.sha256(), hashlib.sha256()
    chosen, unmarked = [], []  # unmarked: every page, until one has the marker
    for page in pages:
        data = page.read_bytes()
        own = hashlib.sha256(data).digest()
        entry = page.relative_to(site).as_posix().encode() + b"\0" + own
        everything.update(entry)
        held = data if keep else None
        if MARKER in data:
            marked.update(entry)
            chosen.append((page, held, own))
            unmarked = None
        elif unmarked is not None:
            unmarked.append((page, held, own))
    return (chosen, marked.hexdigest()) if chosen else (unmarked, everything.hexdigest())


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


def pagefind_binary():
    """The Pagefind binary of the pinned Python package (what `python -m pagefind` runs, without
    a Python process started first to find it); looked up at each start, as PAGEFIND_BINARY_PATH
    may name another."""
    from pagefind.service import get_executable  # noqa: PLC0415 (its own lookup: PAGEFIND_BINARY_PATH, the wheel)

    found = get_executable()
    if found is None:
        raise BuildFailed("pagefind: its binary is missing (the pagefind package in requirements.txt brings it)")
    return str(found)


class Indexing:
    """Pagefind at work for some languages (start_indexing()); wait() gives their digests."""

    def __init__(self, site, settings, root):
        self.site, self.settings, self.root = site, settings, root
        self.runs = []  # (lang, digest, process or None, its page tree, its log)
        self.prepared = []  # (lang, digest, a PreparedIndex, the future of its finish())

    def start(self, lang, pages, digest):
        """Pagefind's command on `pages`, into root/lang (made anew: no stale fragment, no file
        written through a link)."""
        shutil.rmtree(self.root / lang, ignore_errors=True)
        tree = tempfile.TemporaryDirectory(prefix=f".search-{lang}-", dir=self.site.parent)
        log = tempfile.TemporaryFile(dir=tree.name)
        self.runs.append((lang, digest, None, tree, log))  # cleaned up by wait() even if Popen fails
        _link_tree(self.site, pages, Path(tree.name))
        proc = subprocess.Popen([pagefind_binary(), "--site", tree.name, "--silent",
                                 "--output-path", str(self.root / lang)], stdout=log, stderr=subprocess.STDOUT)
        self.runs[-1] = (lang, digest, proc, tree, log)

    def wait(self):
        """{lang: digest of its indexed pages, or None when its index was left as it was};
        raises BuildFailed when a Pagefind failed. The page trees are removed either way."""
        failed = []
        try:
            for lang, digest, ready, finishing in self.prepared:
                try:
                    finishing.result(PreparedIndex.TIMEOUT)
                except Exception:  # noqa: BLE001 (the index is made anew by the command, which reports any problem)
                    ready.close()
                    self.start(lang, indexed_pages(self.site, self.settings, lang)[0], digest)
            for lang, _, proc, _, log in self.runs:
                if proc is not None and proc.wait() != 0:
                    log.seek(0)
                    failed.append(f"{lang}: {log.read().decode(errors='replace')}")
        finally:
            self.clean_up()
        if failed:
            raise BuildFailed("pagefind: indexing failed:\n" + "\n".join(failed))
        return {lang: digest for lang, digest, *_ in [*self.prepared, *self.runs]}

    def clean_up(self):
        """Stop the commands still at work; remove their page trees."""
        for _, _, proc, tree, log in self.runs:
            if proc is not None and proc.poll() is None:
                proc.kill()
                proc.wait()
            if tree is not None:
                log.close()
                tree.cleanup()


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
            pages, digest = _indexed(site, settings, lang, keep=lang in prepared)
            if stamp.get(lang) == digest and (site / "pagefind" / lang / "pagefind-entry.json").is_file():
                indexing.runs.append((lang, None, None, None, None))
            elif lang in prepared:
                shutil.rmtree(root / lang, ignore_errors=True)
                ready = prepared.pop(lang)
                indexing.prepared.append((lang, digest, ready, ready.finish(site, pages, root / lang)))
            else:
                indexing.start(lang, [page for page, _, _ in pages], digest)
    except BaseException:
        indexing.clean_up()
        for _, _, ready, _ in indexing.prepared:
            ready.close()
        raise
    finally:
        for ready in prepared.values():
            ready.close()
    return indexing


def _yield_cpu(pid):
    """The lowest priority for a process or thread (Linux): a begun index reads pages beside the
    run that makes the saved post's page, which the editor waits for; it gets the core that run
    leaves idle, not a share of the run's."""
    try:
        os.setpriority(os.PRIO_PROCESS, pid, 19)
    except (AttributeError, OSError):
        pass


class _PagefindService:
    """Pagefind's service mode (`pagefind --service`, what its Node and Python APIs drive):
    requests and answers in base64 JSON, each followed by a comma, one at a time. Pagefind's
    Python API looks for each answer a tenth of a second after the one before (a second more
    for ten pages); this reads it as it comes, and an ended service as an error at once."""

    def __init__(self):
        self.proc = subprocess.Popen([pagefind_binary(), "--service"], stdin=subprocess.PIPE,
                                     stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
        self._id, self._buffer = 0, b""

    def call(self, **payload):
        self._id += 1
        message = json.dumps({"message_id": self._id, "payload": payload}).encode()
        try:
            self.proc.stdin.write(base64.b64encode(message) + b",")
            self.proc.stdin.flush()
        except BrokenPipeError as e:
            raise EOFError("pagefind --service ended") from e
        while True:
            chunks = [self._buffer]  # an answer with the index's files is megabytes: no quadratic joining
            while b"," not in chunks[-1]:
                chunk = self.proc.stdout.read1(1 << 20)
                if not chunk:
                    raise EOFError("pagefind --service ended")
                chunks.append(chunk)
            raw, _, self._buffer = b"".join(chunks).partition(b",")
            answer = json.loads(base64.b64decode(raw))
            if answer.get("message_id") in (self._id, None):
                break
        if answer["payload"].get("type") == "Error":
            raise RuntimeError(f"pagefind --service: {answer['payload'].get('message')}")
        return answer["payload"]

    def end(self):
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait()
        for pipe in (self.proc.stdin, self.proc.stdout):
            try:
                pipe.close()
            except OSError:
                pass


class PreparedIndex:
    """A language's search index begun before its pages change (the editing loop): after a build
    or while the saved post's pages are made, a Pagefind service (Pagefind's service mode, which
    makes the same index as its command, byte for byte) reads the language's indexed pages as they
    are, in a thread and a process of the lowest priority. finish() then gives it only the pages that
    changed since (for an address, Pagefind keeps the page it was given last) and writes the
    index's files it answers with. When that cannot give the index of the pages as they are now
    (a page it read is gone or no longer indexed, the service failed), finish()'s future fails
    and the index is made anew by the command (Indexing.wait). close() ends the service;
    finish() does when done."""

    TIMEOUT = 120  # seconds finish() may take before the command is run instead
    FORGOTTEN = 600  # seconds without finish() or close() after which it ends by itself

    def __init__(self, site, settings, lang):
        self.site, self.lang = Path(site), lang
        self.written = False  # True once finish() has written the index
        self.digest = None  # of the pages it reads (indexed_pages()), once they are chosen
        self._service, self._ending = None, False
        self._tree = tempfile.TemporaryDirectory(prefix=f".search-{lang}-", dir=self.site.parent)
        self._jobs = queue.SimpleQueue()  # one thread does the work, in order
        threading.Thread(target=self._work, name=f"search-index-{lang}", daemon=True).start()
        self._begun = self._submit(self._begin, settings)

    def _submit(self, job, *args):
        future = Future()
        self._jobs.put((future, job, args))
        return future

    def _work(self):
        _yield_cpu(threading.get_native_id())
        while True:
            try:
                future, job, args = self._jobs.get(timeout=self.FORGOTTEN)
            except queue.Empty:  # neither finished nor closed: let go of the service and the tree
                future, job, args = Future(), self._end, ()
            try:
                future.set_result(job(*args))
            except BaseException as e:  # noqa: BLE001 (the future carries it)
                future.set_exception(e)
            if job == self._end:
                return

    def _begin(self, settings):
        """Link the language's indexed pages into a tree and have the service read it: (its
        index, {address relative to the site: digest of the bytes it read})."""
        chosen, self.digest = _indexed(self.site, settings, self.lang)
        tree = Path(self._tree.name)
        _link_tree(self.site, [page for page, _, _ in chosen], tree)
        # Each page's digest is of its bytes before it was linked: the service reads it later,
        # as it is then. A page replaced in between differs from its digest, and finish() gives
        # it to the service again; what the service read is never older than its digest says.
        read = {page.relative_to(self.site).as_posix(): own for page, _, own in chosen}
        if self._ending:
            raise RuntimeError("closed")
        self._service = _PagefindService()
        _yield_cpu(self._service.proc.pid)
        index = self._service.call(type="NewIndex", config=None)["index_id"]
        self._service.call(type="AddDir", index_id=index, path=str(tree), glob=None)
        return index, read

    def usable(self):
        """Neither closed, nor ended by itself, nor failed: finish() may take in changed pages."""
        return not self._ending and not (self._begun.done() and self._begun.exception() is not None)

    def wait_read(self, timeout=TIMEOUT):
        """Wait until the service has read the pages (finish() does not need this)."""
        self._begun.result(timeout)

    def finish(self, site, pages, output):
        """Have the index take in `pages` (_indexed()'s, of the language under `site`, as now)
        and write it into `output`: a future, done when it is written."""
        now = {page.relative_to(site).as_posix(): (data, own) for page, data, own in pages}
        return self._submit(self._finish, now, Path(output))

    def _finish(self, now, output):
        try:
            index, read = self._begun.result()
            if not read.keys() <= now.keys():
                raise LookupError("a page the index read is gone or no longer indexed")
            for address, (data, own) in now.items():
                if read.get(address) != own:
                    url = "/" + (address[: -len("index.html")] if address.endswith("index.html") else address)
                    self._service.call(type="AddFile", index_id=index, url=url, file_path=None,
                                       file_contents=data.decode("utf-8"))
            # The files come in the answer, and are written here: the service's own writing
            # (WriteFiles) answers while its last writes may still be under way in its threads,
            # and the service is ended as soon as it has answered (a pagefind-ui.js cut short).
            for file in self._service.call(type="GetFiles", index_id=index)["files"]:
                target = output / file["path"]
                target.parent.mkdir(parents=True, exist_ok=True)
                target.write_bytes(base64.b64decode(file["content"]))
            self.written = True
        finally:
            self._submit(self._end)  # after the caller has the index

    def close(self):
        """End the service and remove its page tree (at once if it is at work)."""
        if not self._ending:
            self._ending = True
            if self._service is not None:
                self._service.end()  # a read in the thread ends with it
            self._submit(self._end)

    def _end(self):
        self._ending = True
        if self._service is not None:
            self._service.end()
        self._tree.cleanup()


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
