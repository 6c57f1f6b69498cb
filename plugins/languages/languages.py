import logging
import os
from functools import lru_cache
from io import BytesIO
from itertools import chain

from babel import Locale
from babel.dates import format_date
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import Translations
from markupsafe import Markup

from pelican import signals
from pelican.generators import ArticlesGenerator
from pelican.paginator import PaginationRule
from pelican.utils import order_content

from buildcheck import Problem, finish_fields, relpath, report
from core.site import SiteSettingsError, validate_languages
from core.site import catalogue_path as core_catalogue_path
from core.site import url_settings as core_url_settings

log = logging.getLogger(__name__)

class LanguagesSettingsError(ValueError):
    pass


def url_settings(cfg):
    """The Pelican URL settings of one language (core.site's), with its pagination."""
    s = core_url_settings(cfg)
    # Content in another language is given its own language's URL by this plugin.
    for kind in ("ARTICLE", "PAGE", "DRAFT", "DRAFT_PAGE"):
        s[f"{kind}_LANG_URL"] = s[f"{kind}_URL"]
        s[f"{kind}_LANG_SAVE_AS"] = s[f"{kind}_SAVE_AS"]
    page = cfg["words"]["page"]
    s["PAGINATION_PATTERNS"] = [
        PaginationRule(1, "{url}", "{save_as}"),
        PaginationRule(2, f"{{base_name}}/{page}/{{number}}/", f"{{base_name}}/{page}/{{number}}/index.html"),
    ]
    return s


def validate(settings):
    """Check LANGUAGES and DEFAULT_LANG (core.site); raise with a plugin-prefixed message."""
    try:
        validate_languages(settings)
    except SiteSettingsError as e:
        raise LanguagesSettingsError(str(e)) from None
    catalogue = catalogue_path(settings, settings["DEFAULT_LANG"])
    if not os.path.isfile(catalogue):
        raise LanguagesSettingsError(f"languages: no catalogue for {settings['DEFAULT_LANG']!r}: {catalogue} is missing")


def catalogue_path(settings, lang):
    return str(core_catalogue_path(settings["THEME"], lang))


def load_translations(path, lang):
    """Compile a .po catalogue in memory; the build never depends on a stale .mo file. Once per
    process for each version of the file (each generator of a run asks for it)."""
    st = os.stat(path)
    return _translations(path, lang, st.st_mtime_ns, st.st_size)


@lru_cache(maxsize=32)
def _translations(path, lang, mtime_ns, size):
    with open(path, "rb") as f:
        catalog = read_po(f, locale=lang)
    buf = BytesIO()
    write_mo(buf, catalog)
    buf.seek(0)
    return Translations(buf, domain="messages")


def initialized(pelican):
    s = pelican.settings
    validate(s)
    lang = s["DEFAULT_LANG"]
    langs = s["LANGUAGES"]
    primary = next(iter(langs))
    all_urls = {code: url_settings(cfg) for code, cfg in langs.items()}
    s.update(all_urls[lang])
    s["LANGUAGE_URLS"] = all_urls
    s["LANG"] = lang
    s["PRIMARY_LANG"] = primary
    s["CACHE_PATH"] = os.path.join(s["CACHE_PATH"], lang)
    # Language versions are linked by translation_key by this plugin (see regroup).
    s["ARTICLE_TRANSLATION_ID"] = s["PAGE_TRANSLATION_ID"] = None
    if lang != primary:
        # Theme and content static files are copied once, by the primary language's run.
        s["THEME_STATIC_PATHS"] = []


def _url_in_own_language(settings, item, kind):
    pattern = settings["LANGUAGE_URLS"][item.lang][f"{kind}_URL"]
    return pattern.format(**item.url_format)


def _adopt_foreign(generator, items, kind):
    """Items in another language: link to their own language's page, never write them."""
    lang = generator.settings["LANG"]
    for item in items:
        if item.lang not in generator.settings["LANGUAGES"]:
            raise LanguagesSettingsError(
                f"{item.source_path}: lang: {item.lang!r} is not one of {', '.join(generator.settings['LANGUAGES'])}")
        item.foreign = item.lang != lang
        if item.foreign:
            if "url" not in item.metadata:  # an explicit url (home, 404) is already right
                item.override_url = _url_in_own_language(generator.settings, item, kind)
            item.override_save_as = ""


def regroup(settings, items, order_by):
    """Link the language versions of each item by translation_key and pick, per group, the
    version this run lists: its own language's, else the primary language's, else the
    first in LANGUAGES order. Returns (listed, other versions); a listed version in another
    language has its title and summary finished (buildcheck's finish_fields).

    Pelican's own grouping (ARTICLE_TRANSLATION_ID) warns when a group has no version in
    the run's language, which every run of a language with untranslated content meets.
    """
    lang, order = settings["LANG"], list(settings["LANGUAGES"])
    groups = {}
    for item in items:
        groups.setdefault(getattr(item, "translation_key", None) or item.source_path, []).append(item)
    listed, others, problems = [], [], []
    for key, group in groups.items():
        by_lang = {}
        for item in sorted(group, key=lambda i: i.source_path):
            if item.lang in by_lang:
                where = (getattr(item, "buildcheck_where", None) or {}).get("translation_key", (1, 1))
                problems.append(Problem(relpath(item.source_path), *where, "translation_key",
                                        f"{relpath(by_lang[item.lang].source_path)} already has translation_key "
                                        f"{key!r} in {item.lang!r}: give this file its own translation_key, "
                                        "or another lang"))
                continue
            by_lang[item.lang] = item
        chosen_lang = next(code for code in [lang, order[0], *order] if code in by_lang)
        for item in group:
            item.translations = [o for o in by_lang.values() if o is not item]
        listed.append(by_lang[chosen_lang])
        others.extend(o for o in by_lang.values() if o is not by_lang[chosen_lang])
    if problems:
        report(settings, problems)
    # The reader left the title and summary of a file in another language as written: the
    # ones listed here are shown, so they are finished (before the order, which may be by title).
    finish_fields(settings, [item for item in listed if item.lang != lang])
    return order_content(listed, order_by), others


ARTICLE_LISTS = (("articles", "translations"), ("drafts", "drafts_translations"),
                 ("hidden_articles", "hidden_translations"))
PAGE_LISTS = (("pages", "translations"), ("hidden_pages", "hidden_translations"),
              ("draft_pages", "draft_translations"))


def _regroup_lists(generator, lists, kind):
    """Regroup each (listed, translations) pair of a generator's lists, then adopt the
    items in other languages."""
    s = generator.settings
    for listed, others in lists:
        items = getattr(generator, listed) + getattr(generator, others)
        grouped = regroup(s, items, s[f"{kind}_ORDER_BY"])
        setattr(generator, listed, grouped[0])
        setattr(generator, others, grouped[1])
    _adopt_foreign(generator, chain.from_iterable(getattr(generator, name) for pair in lists for name in pair), kind)


def article_pretaxonomy(generator):
    _regroup_lists(generator, ARTICLE_LISTS, "ARTICLE")


def page_finalized(generator):
    _regroup_lists(generator, PAGE_LISTS, "PAGE")
    generator.context["pages_by_key"] = {
        getattr(p, "translation_key", p.slug): p
        for p in chain(generator.pages, generator.hidden_pages)
    }
    lang = generator.settings["LANG"]
    home = generator.context["pages_by_key"].get("home")
    if home is None or home.lang != lang:
        # Every language needs its own home page: the language switcher falls back to it.
        # A content problem (a deleted home page), reported like one: the run fails before writing.
        where = relpath(os.path.join(generator.settings["PATH"], generator.settings["PAGE_PATHS"][0], f"home.{lang}.md"))
        report(generator.settings, [Problem(
            where, 1, 1, "home",
            f"there is no home page in {lang!r}: add this file with translation_key: home, lang: {lang}, "
            f"save_as: {generator.settings['HOME_URL']}index.html, url: {generator.settings['HOME_URL']}")])
    freeze_urls(generator)  # here, not in a receiver of its own: blinker calls a signal's receivers in no set order


def _pair(table, slug, code, other):
    """Record that listing `slug` is `other` in language `code`; a slug found with two different
    counterparts has none (None): no guess is published."""
    known = table.setdefault(slug, {})
    known[code] = other if known.get(code, other) == other else None


def listing_counterparts(generator):
    """What each tag and category page of this language is called in the others, from the posts
    and their translations: a post's category and its translation's; its tags and its
    translation's, in the same order (as `invoke translate` keeps them); one with two different
    counterparts has none. Kept in the run's settings for listing_alternates()."""
    s = generator.settings
    lang = s["LANG"]
    tags, categories = {}, {}
    for article in generator.articles:
        if article.lang != lang:
            continue  # a post shown here untranslated: its tags name no page of another language
        for other in getattr(article, "translations", []):
            if other.lang == lang:
                continue
            if getattr(article, "category", None) and getattr(other, "category", None):
                _pair(categories, article.category.slug, other.lang, other.category.slug)
            own, theirs = getattr(article, "tags", None) or [], getattr(other, "tags", None) or []
            if len(own) == len(theirs):
                for tag, translated in zip(own, theirs):
                    _pair(tags, tag.slug, other.lang, translated.slug)
    s["LANGUAGES_COUNTERPARTS"] = {"TAG": tags, "CATEGORY": categories}


def listing_alternates(settings, kind, slug=None, number=1):
    """(lang, url) of a listing page in every language that has it: the blog's index and its
    numbered pages (every language lists every post, so the numbers agree), an author's page (the
    same author everywhere), a tag's or a category's first page (its counterpart, see
    listing_counterparts). [] when no other language has it."""
    kind = kind.upper()
    own = settings["LANG"]
    found = []
    for code in settings["LANGUAGES"]:
        target = slug
        if code != own and kind in ("TAG", "CATEGORY"):
            if number > 1:
                continue
            target = settings.get("LANGUAGES_COUNTERPARTS", {}).get(kind, {}).get(slug, {}).get(code)
            if target is None:
                continue
        address = settings["LANGUAGE_URLS"][code][f"{kind}_URL"].format(slug=target)
        if number > 1:
            if kind != "INDEX" and code != own:
                continue
            address = f"{address.rstrip('/')}/{settings['LANGUAGES'][code]['words']['page']}/{number}/"
        found.append((code, f"{settings['SITEURL']}/{address}"))
    return found if len(found) > 1 else []


def freeze_urls(generator):
    """Compute each article's or page's url and save_as once, when its generator is done.
    Pelican formats them from the settings on every access, and the checks, the pictures and
    the templates after it ask for them thousands of times (a sixth of a rendering run, and of
    the editing loop's run); nothing after a generator's own run changes them (the items of
    other languages were given their own language's address when they were read)."""
    lists = ARTICLE_LISTS if isinstance(generator, ArticlesGenerator) else PAGE_LISTS
    for item in chain.from_iterable(getattr(generator, name) for pair in lists for name in pair):
        for key in ("url", "save_as"):
            if not hasattr(item, f"override_{key}"):
                setattr(item, f"override_{key}", getattr(item, key))


def article_finalized(generator):
    listing_counterparts(generator)
    freeze_urls(generator)


def static_finalized(generator):
    if generator.settings["LANG"] != generator.settings["PRIMARY_LANG"]:
        # Keep the files known for {static} links, but let the primary run copy them.
        generator.staticfiles = []


def generator_init(generator):
    s = generator.settings
    lang = s["LANG"]
    env = generator.env
    # Loaded per generator (it is tiny): Pelican pickles settings into its cache.
    env.install_gettext_translations(load_translations(catalogue_path(s, lang), lang), newstyle=True)
    locale = Locale.parse(lang)  # parsed once: Babel's parse is slow enough to show in builds
    labels = {code: Locale.parse(code).get_display_name(locale) for code in s["LANGUAGES"]}
    # Babel takes a third of a millisecond per date, and list pages show the same dates again and again.
    env.filters["format_date"] = lru_cache(maxsize=4096)(
        lambda d, fmt=None: format_date(d, fmt or s["DEFAULT_DATE_FORMAT"], locale=locale))
    env.filters["isodate"] = lambda d: d.isoformat()
    env.filters["language_name"] = lambda code: s["LANGUAGES"][code]["name"]  # its own name
    env.filters["language_label"] = labels.__getitem__  # a language's name in this page's language
    env.globals["alternates"] = lambda obj=None, key=None: alternates(s, obj, key)
    env.globals["listing_alternates"] = lambda kind, slug=None, number=1: listing_alternates(s, kind, slug, number)
    env.globals["lang_url"] = lambda key, code=lang: url(s, key, code)


def url(settings, key, code):
    """The URL of a per-language page such as HOME or INDEX (``key`` without _URL)."""
    return f"{settings['SITEURL']}/{settings['LANGUAGE_URLS'][code][key + '_URL']}"


def alternates(settings, obj=None, key=None):
    """(lang, url) of every language version of a page, primary language first.

    ``obj`` is an article, page or other object with ``lang``, ``url`` and
    ``translations``; ``key`` names a page that exists in every language (INDEX, HOME,
    NETWORKS...). With neither, the page has no known translations.
    """
    siteurl = settings["SITEURL"]
    if key is not None:
        return [(code, url(settings, key, code)) for code in settings["LANGUAGES"]]
    if obj is None:
        return []
    versions = {obj.lang: obj}
    for t in getattr(obj, "translations", []):
        versions.setdefault(t.lang, t)
    return [(code, f"{siteurl}/{versions[code].url}") for code in settings["LANGUAGES"] if code in versions]


def write_feed(generator, writer):
    s = generator.settings
    own = [a for a in generator.articles if a.lang == s["LANG"]]
    order_content(own, s["ARTICLE_ORDER_BY"])
    # No feed_title: Pelican would write "KNN Advies - KNN Advies"; the site's name is the title.
    writer.write_feed(own, generator.context, s["FEED_SAVE_AS"], s["FEED_URL"])


def feed_generated(context, feed):
    """Each language's feed is its own: its id is its own address, its alternate link is its
    language's home page, and it says its language (xml:lang); Pelican gives every feed the
    site's root for both."""
    home = f"{context['SITEURL']}/{context['HOME_URL']}"
    feed.feed.update(link=home, language=context["LANG"], id=feed.feed["feed_url"] or home)


def register():
    signals.initialized.connect(initialized)
    signals.generator_init.connect(generator_init)
    signals.article_generator_pretaxonomy.connect(article_pretaxonomy)
    signals.article_generator_finalized.connect(article_finalized)
    signals.page_generator_finalized.connect(page_finalized)
    signals.static_generator_finalized.connect(static_finalized)
    signals.article_writer_finalized.connect(write_feed)
    signals.feed_generated.connect(feed_generated)
