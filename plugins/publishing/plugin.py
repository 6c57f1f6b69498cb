import hashlib
import logging
import os
from pathlib import Path
from urllib.parse import urlsplit

from babel import Locale
from babel.core import get_global

from jinja2 import FileSystemBytecodeCache
from pelican import signals

log = logging.getLogger(__name__)

FINGERPRINTED = (".css", ".js")


class PublishingSettingsError(ValueError):
    pass


def origin(url):
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}" if parts.scheme and parts.netloc else ""


def content_security_policy(settings, for_meta=False):
    """The site's CSP. Pages have no inline script or style, so none is allowed."""
    form = origin(settings.get("FORM_ENDPOINT", ""))
    directives = {
        "default-src": ["'none'"],
        "script-src": ["'self'", "'wasm-unsafe-eval'"],  # Pagefind's search runs as WebAssembly
        "style-src": ["'self'"],
        "img-src": ["'self'", "data:"],
        "font-src": ["'self'"],
        "connect-src": ["'self'"] + ([form] if form else []),
        "form-action": ["'self'"] + ([form] if form else []),
        "base-uri": ["'none'"],
        "manifest-src": ["'self'"],
    }
    if not for_meta:  # ignored (with a console error) when delivered by <meta>
        directives["frame-ancestors"] = ["'none'"]
    for directive, sources in settings.get("PUBLISHING_CSP_EXTRA", {}).items():
        directives.setdefault(directive, []).extend(sources)
    return "; ".join(f"{d} {' '.join(s)}" for d, s in directives.items())


def theme_assets(settings):
    """{'css/main.css': 'css/main.3f2a9c1b.css', ...} for the theme's CSS and JS files."""
    static = Path(settings["THEME"]) / "static"
    mapping = {}
    for f in sorted(static.rglob("*")):
        if f.is_file() and f.suffix in FINGERPRINTED:
            rel = f.relative_to(static).as_posix()
            if settings["PUBLISHING_FINGERPRINT"]:
                digest = hashlib.sha256(f.read_bytes()).hexdigest()[:10]
                mapping[rel] = f"{rel[: -len(f.suffix)]}.{digest}{f.suffix}"
            else:
                mapping[rel] = rel
    return mapping


def og_locale(lang):
    """Open Graph wants language_TERRITORY: nl -> nl_NL, en -> en_US (CLDR's likely subtags)."""
    likely = get_global("likely_subtags").get(lang, lang)
    loc = Locale.parse(likely)
    return f"{loc.language}_{loc.territory}" if loc.territory else loc.language


def initialized(pelican):
    s = pelican.settings
    s.setdefault("PUBLISHING_FINGERPRINT", True)
    s.setdefault("PUBLISHING_SHOW_DRAFTS", True)
    s.setdefault("PUBLISHING_CSP_EXTRA", {})
    for key in ("PUBLISHING_FINGERPRINT", "PUBLISHING_SHOW_DRAFTS"):
        if not isinstance(s[key], bool):
            raise PublishingSettingsError(f"publishing: {key} must be True or False, not {s[key]!r}")
    if not isinstance(s["PUBLISHING_CSP_EXTRA"], dict):
        raise PublishingSettingsError("publishing: PUBLISHING_CSP_EXTRA must map CSP directives to lists of sources")
    s["PUBLISHING_ASSETS"] = theme_assets(s)
    s["CONTENT_SECURITY_POLICY_META"] = content_security_policy(s, for_meta=True)
    if not s["PUBLISHING_SHOW_DRAFTS"]:
        s["DRAFT_SAVE_AS"] = s["DRAFT_LANG_SAVE_AS"] = ""
        s["DRAFT_PAGE_SAVE_AS"] = s["DRAFT_PAGE_LANG_SAVE_AS"] = ""


def generator_init(generator):
    s = generator.settings

    def asset(path):
        return f"{s['SITEURL']}/{s['THEME_STATIC_DIR']}/{s['PUBLISHING_ASSETS'].get(path, path)}"

    def pretty(output_file):
        return output_file[: -len("index.html")] if output_file.endswith("index.html") else output_file

    generator.env.globals["asset"] = asset
    generator.env.filters["pretty_path"] = pretty
    locales = {code: og_locale(code) for code in s.get("LANGUAGES", {s["DEFAULT_LANG"]: None})}
    generator.env.filters["og_locale"] = locales.__getitem__
    generator.env.filters["person"] = lambda name: {"@type": "Person", "name": name}
    # A run renders the templates as they were when it started (each run is a process or a fork
    # of its own): Jinja need not look at each template file's mtime again at every page.
    generator.env.auto_reload = False
    if s.get("LOAD_CONTENT_CACHE"):
        # Compiled templates are kept beside the content cache, so that a build does not
        # compile every template again (Jinja compares each template's source first); the
        # editing loop's first step reads that cache without writing it (CACHE_CONTENT off).
        path = os.path.join(s["CACHE_PATH"], "templates")
        os.makedirs(path, exist_ok=True)
        generator.env.bytecode_cache = FileSystemBytecodeCache(path)


def finalized(pelican):
    """Give the copied theme files their fingerprinted names, in the run that copied them: the
    other languages' runs write into the same directory at the same time, and must not rename a
    file that run is still copying (or has renamed already)."""
    s = pelican.settings
    if not s["THEME_STATIC_PATHS"]:
        return
    static_out = Path(pelican.output_path) / s["THEME_STATIC_DIR"]
    for plain, printed in s["PUBLISHING_ASSETS"].items():
        src = static_out / plain
        if plain != printed and src.exists():
            os.replace(src, static_out / printed)


def register():
    from . import selective

    signals.get_writer.connect(selective.get_writer)
    signals.all_generators_finalized.connect(selective.choose)
    signals.initialized.connect(initialized)
    signals.generator_init.connect(generator_init)
    signals.finalized.connect(finalized)
