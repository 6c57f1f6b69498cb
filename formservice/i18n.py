"""The service's own message catalogue: formservice/locale/<lang>/LC_MESSAGES/formservice.po.

Compiled in memory with Babel when first needed (like plugins/languages does), so a
stale .mo file can never be used. Every message the service shows is in it, in every
language of formservice.LANGUAGES.
"""

from functools import lru_cache
from io import BytesIO
from pathlib import Path

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import Translations

from formservice import LANGUAGES

LOCALE_DIR = Path(__file__).resolve().parent / "locale"
DOMAIN = "formservice"


def N_(message):
    """Mark a message for extraction; it is translated later, in the visitor's language."""
    return message


def catalogue_path(lang):
    return LOCALE_DIR / lang / "LC_MESSAGES" / f"{DOMAIN}.po"


def read_catalogue(lang):
    with open(catalogue_path(lang), "rb") as f:
        return read_po(f, locale=lang, domain=DOMAIN)


@lru_cache(maxsize=None)
def translations(lang) -> Translations:
    if lang not in LANGUAGES:
        raise ValueError(f"no catalogue for language {lang!r}")
    buf = BytesIO()
    write_mo(buf, read_catalogue(lang))
    buf.seek(0)
    return Translations(buf, domain=DOMAIN)


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


def negotiate(header, default=LANGUAGES[0]):
    """The service language that best matches an Accept-Language header."""
    for tag in parse_accept_language(header):
        primary = tag.split("-")[0]
        if primary in LANGUAGES:
            return primary
    return default
