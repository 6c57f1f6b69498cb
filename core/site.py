"""The site's facts, read once from its settings file: its languages, their URL prefixes and
words, the addresses of the pages a visitor is sent to, and its message catalogues.

The build (plugins/languages), the editors' tools and the form service all take them from
here, so a language added to ``LANGUAGES`` in pelicanconf.py (with its catalogue and its
pages) is known to every part at once, and no other part spells a language code or a page
address. No Pelican import: the form service reads the facts without Pelican.

    facts = SiteFacts.load("pelicanconf.py")
    facts.codes                      # ("nl", "en"): the first is the default
    facts.network_page("en", "bernn")  # "/en/networks/bernn/"
    facts.thank_you_page("nl")       # "/bedankt/" (from the thank-you page's own header)
    facts.catalogue("de")            # theme/translations/de/LC_MESSAGES/messages.po
"""

from __future__ import annotations

import os
import runpy
from dataclasses import dataclass
from pathlib import Path

from babel import Locale, UnknownLocaleError

from core.source import normalize, parse_header

#: The URL words every language must give (``LANGUAGES[code]["words"]``).
REQUIRED_WORDS = ("blog", "tag", "author", "category", "page", "networks", "archive")
#: The page the join form returns to, and the page its consent box links to (translation keys).
DEFAULT_THANK_YOU_KEY = "thank-you"


class SiteSettingsError(ValueError):
    """LANGUAGES or DEFAULT_LANG cannot be used; the message starts with ``languages:``."""


def url_settings(cfg):
    """The URL settings (Pelican's names) of one language, from its prefix and URL words."""
    w = cfg["words"]
    p = f"{cfg['prefix']}/" if cfg["prefix"] else ""
    blog = f"{p}{w['blog']}/"
    s = {
        "ARTICLE_URL": blog + "{slug}/",
        "DRAFT_URL": blog + "drafts/{slug}/",
        "PAGE_URL": p + "{slug}/",
        "DRAFT_PAGE_URL": p + "drafts/{slug}/",
        "INDEX_URL": blog,
        "ARCHIVES_URL": f"{blog}{w['archive']}/",
        "TAG_URL": f"{blog}{w['tag']}/{{slug}}/",
        "TAGS_URL": f"{blog}{w['tag']}/",
        "AUTHOR_URL": f"{blog}{w['author']}/{{slug}}/",
        "AUTHORS_URL": f"{blog}{w['author']}/",
        "CATEGORY_URL": f"{blog}{w['category']}/{{slug}}/",
        "CATEGORIES_URL": f"{blog}{w['category']}/",
        "NETWORKS_URL": f"{p}{w['networks']}/",
        "NETWORK_URL": f"{p}{w['networks']}/{{slug}}/",
        "HOME_URL": p,
        "FEED_URL": f"{p}feeds/atom.xml",
    }
    for key in [k for k in s if k.endswith("_URL") and k not in ("HOME_URL", "FEED_URL")]:
        s[key[:-4] + "_SAVE_AS"] = s[key] + "index.html"
    s["FEED_SAVE_AS"] = s["FEED_URL"]
    return s


def validate_languages(settings):
    """Check LANGUAGES and DEFAULT_LANG of a settings mapping; raise SiteSettingsError."""
    langs = settings.get("LANGUAGES")
    if not isinstance(langs, dict) or not langs:
        raise SiteSettingsError("languages: LANGUAGES must be a non-empty mapping")
    prefixes = set()
    for code, cfg in langs.items():
        try:
            Locale.parse(code)
        except (UnknownLocaleError, ValueError, TypeError):
            raise SiteSettingsError(f"languages: LANGUAGES[{code!r}]: Babel knows no such locale") from None
        if not isinstance(cfg, dict):
            raise SiteSettingsError(f"languages: LANGUAGES[{code!r}] must be a mapping")
        for key in ("name", "prefix", "words"):
            if key not in cfg:
                raise SiteSettingsError(f"languages: LANGUAGES[{code!r}] lacks {key!r}")
        missing = [w for w in REQUIRED_WORDS if w not in cfg["words"]]
        if missing:
            raise SiteSettingsError(f"languages: LANGUAGES[{code!r}]['words'] lacks {', '.join(missing)}")
        if cfg["prefix"] in prefixes:
            raise SiteSettingsError(f"languages: LANGUAGES[{code!r}]: prefix {cfg['prefix']!r} is used twice")
        prefixes.add(cfg["prefix"])
    primary = next(iter(langs))
    if langs[primary]["prefix"]:
        raise SiteSettingsError(f"languages: the primary language {primary!r} must have the empty prefix")
    default = settings.get("DEFAULT_LANG", primary)
    if default not in langs:
        raise SiteSettingsError(f"languages: DEFAULT_LANG {default!r} is not in LANGUAGES ({', '.join(langs)})")


def catalogue_path(theme, lang):
    """The message catalogue of `lang`: the site's and the form service's texts alike."""
    return Path(theme) / "translations" / lang / "LC_MESSAGES" / "messages.po"


def _page_headers(page_dirs, languages):
    for folder in page_dirs:
        for path in sorted(Path(folder).rglob("*.md")):
            try:
                text = normalize(path.read_text(encoding="utf-8"))
            except (OSError, UnicodeDecodeError):
                continue  # the build names an unreadable file; the facts take what they can read
            yield path, parse_header(str(path), text, languages, is_article=False).meta


@dataclass(frozen=True)
class SiteFacts:
    """What every part of the project knows of the site; see the module's docstring."""

    languages: dict  # code -> {"name", "prefix", "words"}, in LANGUAGES' order
    default: str  # DEFAULT_LANG (the primary language: the first of LANGUAGES)
    theme: Path
    content: Path
    networks_dir: Path
    pages: dict  # translation key -> {lang: site path}, for the pages the service sends people to
    thank_you_key: str = DEFAULT_THANK_YOU_KEY

    @classmethod
    def from_settings(cls, settings, base=None):
        """From a settings mapping (pelicanconf.py's upper-case names); relative paths are taken
        from `base`, the settings file's folder (as Pelican takes them)."""
        validate_languages(settings)
        base = Path(base or os.getcwd())
        content = base / settings.get("PATH", "content")
        theme = base / settings.get("THEME", "theme")
        key = settings.get("NETWORKS_THANK_YOU_PAGE", DEFAULT_THANK_YOU_KEY)
        langs = {code: dict(cfg) for code, cfg in settings["LANGUAGES"].items()}
        pages = {}
        page_dirs = [content / p for p in settings.get("PAGE_PATHS", ["pages"])]
        for _, meta in _page_headers(page_dirs, list(langs)):
            lang, tkey = meta.get("lang"), meta.get("translation_key")
            if lang not in langs or tkey != key:
                continue
            url = meta.get("url") or (url_settings(langs[lang])["PAGE_URL"].format(slug=meta["slug"])
                                      if meta.get("slug") else None)
            if url is not None:
                pages.setdefault(tkey, {})[lang] = "/" + url.lstrip("/")
        return cls(languages=langs, default=settings.get("DEFAULT_LANG", next(iter(langs))), theme=theme,
                   content=content, networks_dir=content / settings.get("NETWORKS_PATH", "networks"),
                   pages=pages, thank_you_key=key)

    @classmethod
    def load(cls, settings_file):
        """From a settings file (pelicanconf.py), read as Pelican reads it: run as Python."""
        settings_file = Path(settings_file).resolve()
        values = runpy.run_path(str(settings_file), run_name="_site_settings")
        return cls.from_settings({k: v for k, v in values.items() if k.isupper()}, settings_file.parent)

    # --- languages --------------------------------------------------------------------------

    @property
    def codes(self):
        """The language codes, the default first."""
        return (self.default, *(c for c in self.languages if c != self.default))

    def language(self, code):
        """`code` if it is a site language, else the default language (never an error)."""
        return code if code in self.languages else self.default

    def urls(self, lang):
        return url_settings(self.languages[lang])

    def catalogue(self, lang):
        return catalogue_path(self.theme, lang)

    # --- the pages a visitor is sent to -----------------------------------------------------

    def home(self, lang):
        return "/" + self.urls(lang)["HOME_URL"]

    def networks_page(self, lang):
        return "/" + self.urls(lang)["NETWORKS_URL"]

    def network_page(self, lang, slug):
        return "/" + self.urls(lang)["NETWORK_URL"].format(slug=slug)

    def thank_you_page(self, lang):
        """The thank-you page of `lang`, else that of the default language, else the home page."""
        found = self.pages.get(self.thank_you_key, {})
        return found.get(lang) or found.get(self.default) or self.home(lang)
