"""What a build depends on, and the content cache that must not outlive it.

A build is skipped when the fingerprint of everything it reads (settings, requirements,
content, theme, plugins, the date) is the one stamped in output/; a language whose own
fingerprint did not change is not run again.
"""

import datetime
import hashlib
import json
import re
import shutil
from dataclasses import dataclass
from pathlib import Path

import core
from publishing.sitewide import replace_whole

from . import ROOT

STAMP = ".build-stamp"  # JSON: the BuildState of an output directory
LANGUAGE_STAMPS = ".build-languages"  # JSON: what each language's pages were built from
_LANG_LINE = re.compile(rb"^lang:[ \t]*(\S+)[ \t]*$", re.MULTILINE | re.IGNORECASE)


@dataclass(frozen=True)
class BuildState:
    """What an output directory was built from, kept in its STAMP file.

    `fingerprint`: the hash of every language's inputs (None when only the pages of a few
    saved posts were shown first: the full build is still to come); `pending`: the languages
    whose search index, with the sitemap and the other sitewide files, finish_build() must
    still renew."""

    fingerprint: str | None
    pending: tuple = ()

    @property
    def up_to_date(self):
        return not self.pending and self.fingerprint is not None

    @classmethod
    def read(cls, output):
        """The state of `output`, or None when it has none (not built, or by an older build)."""
        try:
            data = json.loads((Path(output) / STAMP).read_text(encoding="utf-8"))
            return cls(data["fingerprint"], tuple(data["pending"]))
        except (OSError, ValueError, KeyError, TypeError):
            return None

    def write(self, output):
        """Written beside and moved in: the development server's output is read (and this
        state polled) while the editing loop renews it."""
        replace_whole(Path(output) / STAMP, json.dumps({"fingerprint": self.fingerprint, "pending": list(self.pending)}))


def _fingerprint(settings_file, settings, extra, roots):
    """A hash of every setting, the pinned requirements, the settings files, and the size
    and modification time of every file under `roots`."""
    h = hashlib.sha256()
    h.update(repr(sorted((k, repr(v)) for k, v in settings.items() if k.isupper())).encode())
    h.update(repr(sorted((extra or {}).items())).encode())
    files = {*Path(settings_file).parent.glob("*.py"), ROOT / "requirements.txt"}
    for root in roots:
        root = Path(root)
        files.update([root] if root.is_file() else
                     (p for p in root.rglob("*") if p.is_file() and "__pycache__" not in p.parts))
    for f in sorted(files):
        st = f.stat()
        h.update(f"{f}\0{st.st_size}\0{st.st_mtime_ns}\n".encode())
    return h.hexdigest()


def plugin_dirs(settings_file, settings):
    """The code a build runs besides Pelican: the plugins, and the core they import (core/)."""
    return [Path(settings_file).parent / p for p in settings["PLUGIN_PATHS"]] + [Path(core.__file__).parent]


def _today():
    """Part of each language's fingerprint: a post dated in the future is published on its day, with
    no file changed, so the first build of a day builds everything."""
    return datetime.date.today().isoformat()


def language_fingerprints(settings_file, settings, content, extra, langs):
    """{lang: hash of what that language's Pelican run reads}. A run converts only its own
    language's Markdown; of a file in another language it reads just the metadata header
    (plugins/buildcheck), so a change below another language's header cannot change its
    pages. Everything else (settings, theme, plugins, networks, images, a file whose
    language is unclear, the date) counts for every language."""
    shared = _fingerprint(settings_file, settings, extra,
                          [settings["THEME"], *plugin_dirs(settings_file, settings)]) + _today()
    hashes = {lang: hashlib.sha256(shared.encode()) for lang in langs}
    for f in sorted(p for p in Path(content).rglob("*") if p.is_file()):
        st = f.stat()
        whole = f"{f}\0{st.st_size}\0{st.st_mtime_ns}\n".encode()
        lang, header_only = _header(f, st) if f.suffix in (".md", ".markdown", ".mkd", ".mdown") else (None, None)
        for code, h in hashes.items():
            h.update(whole if lang in (None, code) or lang not in hashes else header_only)
    return {lang: h.hexdigest() for lang, h in hashes.items()}


_HEADERS = {}  # path -> (inode, size, mtime, (lang, header digest)): what _header() read, per file


def _header(path, st):
    """(the `lang:` of a Markdown file's header or None, what stands for its header in another
    language's fingerprint). Read again only when the file changed (its inode, size or
    modification time): the development server asks at every save, and reading every file's
    header was a tenth of showing a saved post at 1,000 posts."""
    key = (st.st_ino, st.st_size, st.st_mtime_ns)
    known = _HEADERS.get(str(path))
    if known is not None and known[0] == key:
        return known[1]
    raw = path.read_bytes()
    blank = re.search(rb"\n[ \t]*\n", raw)
    header = raw[: blank.start() + 1] if blank else raw
    found = _LANG_LINE.search(header)
    got = (found.group(1).decode() if found else None, f"{path}\0".encode() + hashlib.sha256(header).digest())
    _HEADERS[str(path)] = (key, got)
    return got


def code_fingerprint(settings_file, settings, extra):
    """A hash of what turns a file into pages: the settings, the requirements and the plugins'
    code (not the content, not the theme)."""
    return _fingerprint(settings_file, settings, extra, plugin_dirs(settings_file, settings))


def keep_cache_if_valid(settings_file, settings, extra):
    """Pelican's content cache (Markdown and typogrify results per file) is keyed by each
    file's modification time only: a change of the settings or of the plugins' code would
    leave stale pages in it. Empty it when those changed since it was filled."""
    if not (settings["CACHE_CONTENT"] and settings["LOAD_CONTENT_CACHE"]):
        return
    cache = Path(settings["CACHE_PATH"])
    fingerprint = code_fingerprint(settings_file, settings, extra)
    stamp = cache / STAMP
    if cache.is_dir() and stamp.is_file() and stamp.read_text(encoding="utf-8") == fingerprint:
        return
    shutil.rmtree(cache, ignore_errors=True)
    cache.mkdir(parents=True, exist_ok=True)
    stamp.write_text(fingerprint, encoding="utf-8")
