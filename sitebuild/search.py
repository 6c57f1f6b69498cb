"""The search index: Pagefind, one process and one index per language."""

import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from .errors import BuildFailed


def search_glob(site, settings, lang):
    """Pagefind's --glob for the pages of one language: under its prefix, or, for the
    primary language, everything but the other languages' prefixes."""
    prefixes = {code: cfg["prefix"] for code, cfg in settings["LANGUAGES"].items()}
    if prefixes[lang]:
        return f"{prefixes[lang]}/**/*.html"
    others = {Path(p).parts[0] for p in prefixes.values() if p} | {"pagefind"}
    dirs = sorted(e.name for e in Path(site).iterdir()
                  if e.is_dir() and e.name not in others and not e.name.startswith("."))
    return "{" + ",".join(["*.html", *(f"{d}/**/*.html" for d in dirs)]) + "}"


def index_for_search(site, settings, langs=None, bundle=None):
    """Pagefind, one process and one index per language, side by side (both cores), into
    site/pagefind/<lang>/ or `bundle`/<lang>/; `langs`: only these languages."""
    root = Path(bundle) if bundle else Path(site) / "pagefind"

    def one(lang):
        return subprocess.run([sys.executable, "-m", "pagefind", "--site", str(site), "--silent",
                               "--glob", search_glob(site, settings, lang), "--output-path", str(root / lang)],
                              capture_output=True, text=True)

    langs = list(settings["LANGUAGES"]) if langs is None else langs
    with ThreadPoolExecutor(max_workers=max(1, len(langs))) as pool:
        runs = list(pool.map(one, langs))
    failed = [f"{lang}: {p.stdout}{p.stderr}" for lang, p in zip(langs, runs) if p.returncode != 0]
    if failed:
        raise BuildFailed("pagefind: indexing failed:\n" + "\n".join(failed))
