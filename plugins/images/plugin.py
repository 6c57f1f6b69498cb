import functools
import html
import logging
import os
import posixpath
import re
import shutil
import unicodedata
from pathlib import Path
from urllib.parse import unquote, urljoin, urlsplit

from markupsafe import Markup
from pelican import signals

from buildcheck import report
from buildcheck.links import content_items
from core.problem import Problem

from . import cards
from . import process as P

log = logging.getLogger(__name__)

DEFAULTS = {
    "IMAGES_WIDTHS": [480, 800, 1200, 1600],
    "IMAGES_FORMATS": ["avif", "webp"],
    "IMAGES_QUALITY": {"avif": 55, "webp": 75, "jpeg": 80},
    # The text column (.prose, 42rem) inside the page's 1rem margins.
    "IMAGES_SIZES": "(min-width: 44rem) 42rem, calc(100vw - 2rem)",
    "IMAGES_CACHE_PATH": "cache-images",
    "IMAGES_CACHE_DAYS": 30,  # an entry no build used for this long is removed
    "IMAGES_MAX_MEGAPIXELS": 40,
    "IMAGES_MAX_MEGABYTES": 30,
    "IMAGES_OG_SIZE": [1200, 630],
    "IMAGES_OG_DEFAULT": None,
    "IMAGES_EAGER": 1,
    # Share cards (cards.py) for the pages without a picture of their own; None switches them off.
    "IMAGES_CARD_STYLE": {"background": "#fdfcf8", "text": "#1d2420", "accent": "#1f6b3a", "muted": "#4d5a52",
                          "logo": "theme/static/images/logo.svg",
                          "bold": "node_modules/@fontsource/inter/files/inter-latin-700-normal.woff",
                          "regular": "node_modules/@fontsource/inter/files/inter-latin-400-normal.woff"},
}
CARD_KEYS = ("background", "text", "accent", "muted", "logo", "bold", "regular")

IMG = re.compile(r"<img\b[^>]*>", re.I)
LINK = re.compile(r"(<a\b[^>]*?\bhref\s*=\s*)([\"'])([^\"']*)\2", re.I)
ATTR = re.compile(r"([a-zA-Z_:][-\w:.]*)(?:\s*=\s*(?:\"([^\"]*)\"|'([^']*)'|([^\s\"'=<>`]+)))?")


class ImagesSettingsError(ValueError):
    """A setting of this plugin is wrong; raised at start-up."""


def _fail(message):
    raise ImagesSettingsError(f"images: {message}")


def _validate_cards(s):
    style = s["IMAGES_CARD_STYLE"]
    if style is None:
        return
    if not (isinstance(style, dict) and set(style) == set(CARD_KEYS)):
        _fail(f"IMAGES_CARD_STYLE must be None or a mapping of {', '.join(CARD_KEYS)}, not {style!r}")
    for key in ("background", "text", "accent", "muted"):
        if not re.fullmatch(r"#[0-9a-fA-F]{6}", str(style[key])):
            _fail(f"IMAGES_CARD_STYLE[{key!r}] must be a colour such as '#1f6b3a', not {style[key]!r}")
    for key in ("logo", "bold", "regular"):
        if not os.path.isfile(style[key]):
            hint = " (npm ci installs it: make build does)" if "node_modules" in str(style[key]) else ""
            _fail(f"IMAGES_CARD_STYLE[{key!r}]: there is no file {style[key]}{hint}")


def validate(s):
    for key, value in DEFAULTS.items():
        s.setdefault(key, value)
    _validate_cards(s)
    widths = s["IMAGES_WIDTHS"]
    if not (isinstance(widths, (list, tuple)) and widths and all(isinstance(w, int) and 16 <= w <= 8192 for w in widths)):
        _fail(f"IMAGES_WIDTHS must be a list of widths in pixels (16 to 8192), such as [480, 800, 1200, 1600], not {widths!r}")
    formats = s["IMAGES_FORMATS"]
    if not (isinstance(formats, (list, tuple)) and set(formats) <= {"avif", "webp"}):
        _fail(f"IMAGES_FORMATS must list 'avif' and/or 'webp' (JPEG or PNG is always made too), not {formats!r}")
    quality = s["IMAGES_QUALITY"]
    if not (isinstance(quality, dict) and all(isinstance(quality.get(f), int) and 1 <= quality[f] <= 100
                                              for f in [*formats, "jpeg"])):
        _fail(f"IMAGES_QUALITY must give a quality from 1 to 100 for jpeg and each of {list(formats)}, not {quality!r}")
    for key in ("IMAGES_SIZES", "IMAGES_CACHE_PATH"):
        if not isinstance(s[key], str) or not s[key]:
            _fail(f"{key} must be a non-empty string, not {s[key]!r}")
    for key in ("IMAGES_MAX_MEGAPIXELS", "IMAGES_MAX_MEGABYTES"):
        if not isinstance(s[key], (int, float)) or isinstance(s[key], bool) or s[key] <= 0:
            _fail(f"{key} must be a positive number, not {s[key]!r}")
    og = s["IMAGES_OG_SIZE"]
    if og is not None and not (isinstance(og, (list, tuple)) and len(og) == 2 and all(isinstance(n, int) and n > 0 for n in og)):
        _fail(f"IMAGES_OG_SIZE must be [width, height] in pixels (1200, 630 for Open Graph) or None, not {og!r}")
    default = s["IMAGES_OG_DEFAULT"]
    if default is not None:
        if not isinstance(default, str) or not default.lower().endswith(P.RASTER_SUFFIXES):
            _fail(f"IMAGES_OG_DEFAULT must be None or a picture under PATH such as 'images/share.jpg', not {default!r}")
        if not os.path.isfile(os.path.join(s["PATH"], default)):
            _fail(f"IMAGES_OG_DEFAULT is {default!r}, but there is no file {os.path.join(s['PATH'], default)}")
    days = s["IMAGES_CACHE_DAYS"]
    if not isinstance(days, int) or isinstance(days, bool) or days < 1:
        _fail(f"IMAGES_CACHE_DAYS must be a number of days (1 or more) after which an unused cached picture is removed, not {days!r}")
    if not isinstance(s["IMAGES_EAGER"], int) or s["IMAGES_EAGER"] < 0:
        _fail(f"IMAGES_EAGER must be the number of pictures at the top of a page loaded at once (0, 1...), not {s['IMAGES_EAGER']!r}")


def params(s):
    return {"widths": sorted(s["IMAGES_WIDTHS"]), "formats": list(s["IMAGES_FORMATS"]),
            "quality": {f: s["IMAGES_QUALITY"][f] for f in [*s["IMAGES_FORMATS"], "jpeg"]} | {"png": 0},
            "og_size": list(s["IMAGES_OG_SIZE"]) if s["IMAGES_OG_SIZE"] else None}


def initialized(pelican):
    validate(pelican.settings)
    pelican.settings["IMAGES_OG_DEFAULT_META"] = None  # the site's default share picture, once made


def _shown(path):
    rel = os.path.relpath(path)
    return path if rel.startswith("..") else rel


def _report(settings, problems):

    report(settings, problems)


def safe_name(name):
    """A file or folder name as published: lower-case ASCII letters, digits and dashes (accents
    dropped, anything else a dash), so that no URL needs encoding; "picture" if nothing is left."""
    ascii_name = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode("ascii").lower()
    return re.sub(r"[^a-z0-9]+", "-", ascii_name).strip("-") or "picture"


class Published:
    """One processed picture and the addresses of its files in the output."""

    def __init__(self, save_as, processed, siteurl):
        self.p = processed
        self.original_save_as = save_as  # where Pelican would have copied the original
        folder = posixpath.dirname(save_as)
        stem = posixpath.splitext(posixpath.basename(save_as))[0]
        # Names safe in every URL as they are (srcset splits at spaces; og:image must be one URL):
        # "Kick-off Emmen.JPG" is published as kick-off-emmen.<hash>.<width>.<format>.
        self.base = posixpath.join(*map(safe_name, folder.split("/")), f"{safe_name(stem)}.{processed.key[:10]}") \
            if folder else f"{safe_name(stem)}.{processed.key[:10]}"
        self.siteurl = siteurl

    def save_as(self, variant):
        return f"{self.base}.{'og' if variant.file == 'og.jpg' else variant.width}.{P.SUFFIX[variant.format]}"

    def url(self, variant):
        return f"{self.siteurl}/{self.save_as(variant)}"

    def files(self):
        return [*self.p.variants, *([self.p.og] if self.p.og else [])]

    def srcset(self, fmt):
        return ", ".join(f"{self.url(v)} {v.width}w" for v in self.p.of_format(fmt))

    def fallback(self, near=800):
        choices = self.p.of_format(self.p.fallback)
        return min(choices, key=lambda v: (abs(v.width - near), v.width))

    def largest(self):
        return self.p.of_format(self.p.fallback)[-1]

    def picture(self, attrs, sizes, eager):
        """<picture> in place of <img>: the other attributes (alt, title, class) are kept."""
        big = self.largest()
        keep = "".join(f' {k}="{v}"' for k, v in attrs.items()
                       if k not in ("src", "srcset", "sizes", "width", "height", "loading", "decoding"))
        sources = "".join(f'<source type="{P.MIME[f]}" srcset="{self.srcset(f)}" sizes="{sizes}">'
                          for f in dict.fromkeys(v.format for v in self.p.variants) if f != self.p.fallback)
        lazy = "" if eager else ' loading="lazy"'
        return (f'<picture>{sources}<img src="{self.url(self.fallback())}" srcset="{self.srcset(self.p.fallback)}" '
                f'sizes="{sizes}"{keep} width="{big.width}" height="{big.height}"{lazy} decoding="async"></picture>')


def _memo(settings):
    return settings.setdefault("_images_published", {})  # this run's pictures, on its own settings


def published(settings, rel, save_as=None):
    """The picture at `rel` (a path under PATH) as published: made now or found in the cache.
    None for a file that is not a raster picture, does not exist, or cannot be made (the
    static files' pass, process_pictures, reports why). Other plugins call this for pictures
    they link outside the text (the networks' logos)."""
    memo = _memo(settings)
    if rel in memo:
        return memo[rel]
    source = os.path.join(settings["PATH"], rel)
    if settings.get("BUILDCHECK_DRY_RUN") or not rel.lower().endswith(P.RASTER_SUFFIXES) or not os.path.isfile(source):
        return None
    P.inspect(source, settings["IMAGES_MAX_MEGAPIXELS"] * 1e6, settings["IMAGES_MAX_MEGABYTES"] * 1e6)
    result = P.process(source, params(settings), os.path.abspath(settings["IMAGES_CACHE_PATH"]))
    save_as = save_as or settings.get("STATIC_SAVE_AS", "{path}").format(path=rel)
    memo[rel] = Published(save_as, result, settings.get("SITEURL", ""))
    return memo[rel]


def published_or_none(settings, rel):
    try:
        return published(settings, rel)
    except (P.PictureError, OSError, SyntaxError, ValueError):
        return None  # reported, on the picture's own file, by process_pictures


def picture_markup(settings, url, alt, css_class=None, sizes=None, eager=False):
    """The Jinja function picture(url, alt, css_class): <picture> for a picture this plugin made
    (its original's address, as other plugins know it), else a plain <img>."""
    siteurl = settings.get("SITEURL", "")
    path = url[len(siteurl):] if siteurl and url.startswith(siteurl) else url
    path = unquote(urlsplit(path).path).lstrip("/")
    attrs = {"alt": html.escape(str(alt), quote=True)}
    if css_class:
        attrs["class"] = html.escape(css_class, quote=True)
    for pub in _memo(settings).values():
        if pub is not None and path in (pub.original_save_as, *(pub.save_as(v) for v in pub.files())):
            return Markup(pub.picture(attrs, sizes or settings["IMAGES_SIZES"], eager))
    extra = "".join(f' {k}="{v}"' for k, v in attrs.items())
    return Markup(f'<img src="{html.escape(url, quote=True)}"{extra}>')


def _attrs(tag):
    inner = tag[4:].rstrip(">").rstrip("/")
    return {m.group(1).lower(): (m.group(2) if m.group(2) is not None else m.group(3) if m.group(3) is not None
                                 else m.group(4) or "") for m in ATTR.finditer(inner)}


def _static_path(item, target, settings, by_url):
    """The content-relative path of the static file `target` (as written in the page) means, or None."""
    target = html.unescape(target.strip())
    m = re.match(r"^\{(static|attach)\}(.*)$", target)
    if m:
        path = urlsplit(m.group(2)).path
        if path.startswith("/"):
            return unquote(path[1:])
        return item.get_relative_source_path(os.path.join(item.relative_dir, unquote(path)))
    parts = urlsplit(target)
    origins = {o.rstrip("/") for o in (settings.get("SITEURL"), settings.get("SITE_ORIGIN")) if o and "://" in o}
    if parts.scheme or parts.netloc:
        if f"{parts.scheme}://{parts.netloc}" not in origins:
            return None
    elif not parts.path:
        return None
    path = parts.path if parts.path.startswith("/") else urlsplit(urljoin("/" + item.url, parts.path)).path
    return by_url.get(posixpath.normpath(unquote(path)).lstrip("/"))


def _items(context):

    return content_items(context)


def process_pictures(generator):
    """Every raster picture among the static files: checked (readable, not too large), then
    made (or found in the cache); the originals are not copied. Then each page's <img> of such
    a picture becomes a <picture>, and each page gets its share picture (og_image)."""
    s = generator.settings
    context = generator.context
    root = s["PATH"]
    dry = s.get("BUILDCHECK_DRY_RUN", False)
    rasters = {rel: sc for rel, sc in (context.get("static_content") or {}).items()
               if rel.lower().endswith(P.RASTER_SUFFIXES)}
    for files in {id(f): f for f in (generator.staticfiles, context.get("staticfiles")) if f is not None}.values():
        files[:] = [sc for sc in files if sc.relative_source_path not in rasters]  # in place: Pelican copies these
    order = sorted(rasters)
    if s.get("LANG") != s.get("PRIMARY_LANG", s.get("LANG")):
        order.reverse()  # the other run meets the first run half-way on a cold cache
    problems, found = [], {}
    encoded = 0
    for rel in order:
        source = os.path.join(root, rel)
        try:
            P.inspect(source, s["IMAGES_MAX_MEGAPIXELS"] * 1e6, s["IMAGES_MAX_MEGABYTES"] * 1e6)
        except P.PictureError as exc:
            problems.append(Problem(_shown(source), 1, 1, "image", str(exc)))
            continue
        if dry:
            continue
        try:
            pub = published(s, rel, rasters[rel].save_as)
        except (OSError, SyntaxError, ValueError) as exc:
            problems.append(Problem(_shown(source), 1, 1, "image",
                                    f"cannot be read as a picture ({exc}): save it again as JPEG, PNG or HEIC"))
            continue
        encoded += pub.p.encoded
        found[rel] = pub
    if encoded:
        log.info("images: %d picture(s) made, %d from the cache", encoded, len(found) - encoded)
    by_url = {sc.url.lstrip("/"): rel for rel, sc in rasters.items()}
    run_lang = s.get("LANG", s["DEFAULT_LANG"])
    names = {posixpath.basename(p) for p in [*found, *(url for url, rel in by_url.items() if rel in found)]}
    for item in _items(context):
        problems += _share_picture(item, s, by_url, rasters, found)
        if getattr(item, "lang", run_lang) == run_lang and not dry:
            _rewrite(item, s, by_url, found, names)
    default = published_or_none(s, s["IMAGES_OG_DEFAULT"]) if s["IMAGES_OG_DEFAULT"] else None
    context["IMAGES_OG_DEFAULT_META"] = _og(default, "", s)
    _report(s, problems)


def _site_origin(s):
    """Where shared pictures are addressed from: SITEURL when absolute, else SITE_ORIGIN (a
    shared link must work from anywhere, even in a local preview)."""
    siteurl = s.get("SITEURL", "")
    return siteurl if "://" in siteurl else (s.get("SITE_ORIGIN") or "").rstrip("/")


def _og(pub, alt, s):
    if pub is None or pub.p.og is None:
        return None
    origin = _site_origin(s)
    return {"url": f"{origin}/{pub.save_as(pub.p.og)}", "width": pub.p.og.width, "height": pub.p.og.height,
            "alt": alt}


def _share_picture(item, s, by_url, rasters, found):
    """item.og_image: the header's image:, else the first picture of the text (else None, and the
    template uses the site's default). Problems: an image: that is not a picture of the site."""
    item.og_image = None
    value = getattr(item, "image", None)
    if value:
        where = (getattr(item, "buildcheck_where", None) or {}).get("image", (1, 1))
        target = value if re.match(r"^(\{(static|attach)\}|/|https?://)", value) else "/" + value
        rel = _static_path(item, target, s, by_url)
        if rel is None and target.startswith("/"):
            rel = target.lstrip("/") if target.lstrip("/") in rasters else None
        if rel is not None and rel not in rasters and not os.path.isfile(os.path.join(s["PATH"], rel)):
            rel = None  # {static}/images/name.jpg (as the browser editor writes it) for a file not there
        if rel is None:
            return [Problem(_shown(item.source_path), *where, "image",
                            f"{value}: there is no such picture in content/ (write image: {{static}}/images/name.jpg "
                            "for a file in content/images/)")]
        item.og_image = _og(found.get(rel), getattr(item, "image_alt", "") or "", s)
        return []
    content = getattr(item, "_content", "") or ""
    for m in IMG.finditer(content):
        attrs = _attrs(m.group(0))
        rel = _static_path(item, attrs.get("src", ""), s, by_url)
        if rel in found:
            item.og_image = _og(found[rel], html.unescape(attrs.get("alt", "")), s)
            break
    return []


def _file_name(target):
    """The last part of the path a link names (`{static}/images/x.jpg` too), unquoted."""
    return posixpath.basename(unquote(urlsplit(html.unescape(target.strip())).path))


def _rewrite(item, s, by_url, found, names):
    """`names`: the file names (_file_name) of the pictures in `found`, under their source and their URL."""
    content = getattr(item, "_content", None)
    if not content or not found:
        return
    count = [0]

    def picture(m):
        attrs = _attrs(m.group(0))
        rel = _static_path(item, attrs.get("src", ""), s, by_url)
        if rel not in found:
            return m.group(0)
        count[0] += 1
        return found[rel].picture(attrs, s["IMAGES_SIZES"], eager=count[0] <= s["IMAGES_EAGER"])

    def link(m):
        if _file_name(m.group(3)) not in names:
            return m.group(0)  # not a picture's file: most links, spared resolving them against the page
        rel = _static_path(item, m.group(3), s, by_url)
        if rel not in found:
            return m.group(0)
        pub = found[rel]
        return f"{m.group(1)}{m.group(2)}{pub.url(pub.largest())}{m.group(2)}"

    item._content = LINK.sub(link, IMG.sub(picture, content))


def write_pictures(pelican):
    """The primary language's run writes every picture's files (the other runs only link them)."""
    s = pelican.settings
    if s.get("LANG") != s.get("PRIMARY_LANG", s.get("LANG")) or s.get("BUILDCHECK_DRY_RUN"):
        return
    for pub in _memo(s).values():
        for v in pub.files():
            dest = os.path.join(pelican.output_path, pub.save_as(v))
            os.makedirs(os.path.dirname(dest), exist_ok=True)
            src = os.path.join(pub.p.directory, v.file)
            try:
                os.link(src, dest)
            except OSError:
                shutil.copyfile(src, dest)
    removed = P.prune(os.path.abspath(s["IMAGES_CACHE_PATH"]), {pub.p.key for pub in _memo(s).values()},
                      s["IMAGES_CACHE_DAYS"])
    if removed:
        log.info("images: removed %d cached picture(s) no build used for %d days", len(removed), s["IMAGES_CACHE_DAYS"])


def _card_style(s):
    c = s["IMAGES_CARD_STYLE"]
    return cards.Style(c["background"], c["text"], c["accent"], c["muted"], Path(c["logo"]).resolve(),
                       Path(c["bold"]).resolve(), Path(c["regular"]).resolve(), s["SITENAME"],
                       urlsplit(_site_origin(s)).netloc or s["SITENAME"])


def share_card(s, title, kicker=None):
    """The share card of a page without a picture of its own (og_image's shape): made once per
    title, kicker and language (cached by content hash beside the pictures) and written into
    this run's output as cards/<title>.<hash>.og.jpg (en/cards/... for English). None when cards
    are off."""
    if s["IMAGES_CARD_STYLE"] is None:
        return None
    made = s.setdefault("IMAGES_CARDS_MEMO", {})  # one per run: a post's page asks twice (og:image, JSON-LD)
    if (title, kicker) not in made:
        made[(title, kicker)] = _share_card(s, title, kicker)
    return dict(made[(title, kicker)])


def _share_card(s, title, kicker):
    title = " ".join(str(Markup(title).striptags()).split())
    kicker = " ".join(str(Markup(kicker).striptags()).split()) if kicker else None
    if "IMAGES_CARD_STYLE_MEMO" not in s:  # one per run
        s["IMAGES_CARD_STYLE_MEMO"] = _card_style(s)
    style = s["IMAGES_CARD_STYLE_MEMO"]
    key = cards.key(style, title, kicker, s.get("LANG", ""))
    entry = Path(os.path.abspath(s["IMAGES_CACHE_PATH"])) / f"card-{key}"
    made = entry / "card.jpg"
    if not made.is_file():
        entry.mkdir(parents=True, exist_ok=True)
        tmp = entry / f".tmp-{os.getpid()}.jpg"
        tmp.write_bytes(cards.render(style, title, kicker))
        os.replace(tmp, made)
    os.utime(entry)  # its last use (the cache's pruning)
    # Under the language's own part of the output (cards/, en/cards/...): each language's run
    # writes its own, and a language that is not built again keeps its cards with its pages.
    rel = f"{s.get('HOME_URL', '')}cards/{safe_name(title)[:60].strip('-') or 'card'}.{key[:10]}.og.jpg"
    if not s.get("BUILDCHECK_DRY_RUN"):
        dest = os.path.join(s["OUTPUT_PATH"], rel)
        if not os.path.exists(dest):
            os.makedirs(os.path.dirname(dest), exist_ok=True)
            try:
                os.link(made, dest)
            except OSError:
                shutil.copyfile(made, dest)
    return {"url": f"{_site_origin(s)}/{rel}", "width": cards.SIZE[0], "height": cards.SIZE[1],
            "alt": f"{s['SITENAME']}: {kicker + ': ' if kicker else ''}{title}"}


def generator_init(generator):
    generator.env.globals["picture"] = functools.partial(picture_markup, generator.settings)
    generator.env.globals["share_card"] = functools.partial(share_card, generator.settings)


def register():
    signals.initialized.connect(initialized)
    signals.generator_init.connect(generator_init)
    signals.static_generator_finalized.connect(process_pictures)
    signals.finalized.connect(write_pictures)
