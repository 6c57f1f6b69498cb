"""The service's texts, in the visitor's language, from the site's own message catalogues.

The service speaks the site's languages (core.site: LANGUAGES in the site's settings) and
takes its texts from the site's catalogue of each language
(theme/translations/<lang>/LC_MESSAGES/messages.po), where `pybabel extract` puts the
messages marked N_() here beside the templates' texts: a language added to the site, with
its catalogue, is a language of the service. Compiled in memory with Babel when first needed
(as plugins/languages does), so a stale .mo file is never used.

The service serves one site: create_app() names it (`use(config.site)`); code that runs
before that (a mail rendered in a test, the CLI) reads the settings of the working directory.
"""

from functools import lru_cache
from io import BytesIO
from pathlib import Path

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import Translations

from core.site import SiteFacts

DEFAULT_SETTINGS = Path("pelicanconf.py")
_current = []  # the site this process serves: [SiteFacts]


def use(site: SiteFacts):
    """Serve `site`: its languages and catalogues from now on."""
    if _current != [site]:
        _current[:] = [site]
        translations.cache_clear()


def site() -> SiteFacts:
    if not _current:
        use(SiteFacts.load(DEFAULT_SETTINGS))
    return _current[0]


def languages():
    """The site's language codes, the default first."""
    return site().codes


def N_(message):
    """Mark a message for extraction; it is translated later, in the visitor's language."""
    return message


def read_catalogue(lang):
    with open(site().catalogue(lang), "rb") as f:
        return read_po(f, locale=lang)


@lru_cache(maxsize=None)
def translations(lang) -> Translations:
    if lang not in site().languages:
        raise ValueError(f"{lang!r} is not a language of the site ({', '.join(languages())})")
    buf = BytesIO()
    write_mo(buf, read_catalogue(lang))
    buf.seek(0)
    return Translations(buf)


def gettext(lang, message, **params):
    text = translations(lang).gettext(message)
    return text % params if params else text


def parse_accept_language(header):
    """The language tags of an Accept-Language header, most preferred first."""
    tags = []
    for pos, part in enumerate((header or "").split(",")):
        tag, _, params = part.strip().partition(";")
        tag = tag.strip().lower()
        if not tag:
            continue
        q = 1.0
        for p in params.split(";"):
            key, _, value = p.strip().partition("=")
            if key.strip() == "q":
                try:
                    q = float(value)
                except ValueError:
                    q = 0.0
        if q > 0:
            tags.append((-q, pos, tag))
    return [t for _, _, t in sorted(tags)]


def negotiate(header, default=None):
    """The site language that best matches an Accept-Language header (else the default)."""
    for tag in parse_accept_language(header):
        primary = tag.split("-")[0]
        if primary in site().languages:
            return primary
    return default or site().default
