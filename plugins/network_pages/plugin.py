"""networks: the network pages, networks.json, JSON-LD and ``{network}`` links.

Each Pelican run (one per language, see the languages plugin) loads content/networks/
with :func:`core.networks.load_networks`, then writes, for its own language only:

* the overview at NETWORKS_SAVE_AS (template NETWORKS_INDEX_TEMPLATE),
* one page per network at NETWORK_SAVE_AS (template NETWORKS_PAGE_TEMPLATE), with
  schema.org Organization JSON-LD and, when ``join.open``, the join form,
* and, in the primary language's run only, NETWORKS_JSON_SAVE_AS (networks.json).

Posts name the networks they are about in their header (``networks: a, b``) and can
link to one with ``[text]({network}slug)``. An unknown slug, in a post or a network
file, is a build problem reported through buildcheck: one ``file:line:col: field:
message`` line each, and the run fails before anything is written.
"""

import json
import logging
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlparse, urlunparse

from markdown import Markdown
from markupsafe import Markup

from pelican import signals
from pelican.generators import Generator

from buildcheck import report
from buildcheck.check import typogrifier
from buildcheck.typography import csp_safe_tables, speed_up_markdown
from core.networks import NetworkErrors, is_http_url, load_networks, network_files, shown_path
from core.problem import Problem
from core.suggest import did_you_mean
from images.plugin import published_or_none

log = logging.getLogger(__name__)

#: The plugin's settings and their defaults.
DEFAULTS = {
    "NETWORKS_PATH": "networks",             # the YAML files, relative to PATH
    "NETWORKS_LATEST_POSTS": 3,              # posts listed on a network's page (0: none)
    "NETWORKS_INDEX_TEMPLATE": "networks",   # the overview
    "NETWORKS_PAGE_TEMPLATE": "network",     # one network
    "NETWORKS_JSON_SAVE_AS": "networks.json",  # written by the primary language's run; "" = none
    "NETWORKS_THANK_YOU_PAGE": "thank-you",  # translation_key of the page the form returns to
    "NETWORKS_PRIVACY_PAGE": "privacy",      # translation_key of the page the consent box links
}
#: Set per language by the languages plugin; these defaults serve a site without it.
URL_DEFAULTS = {
    "NETWORKS_URL": "networks/",
    "NETWORKS_SAVE_AS": "networks/index.html",
    "NETWORK_URL": "networks/{slug}/",
    "NETWORK_SAVE_AS": "networks/{slug}/index.html",
}
CONTENT_LISTS = ("articles", "drafts", "hidden_articles", "pages", "hidden_pages", "draft_pages")


class NetworksSettingsError(ValueError):
    """A setting of this plugin is wrong; Pelican stops with this message."""


class MissingPageError(NetworksSettingsError):
    """A page the join form links to is not in the content (reported as a content problem)."""

    def __init__(self, key, message):
        super().__init__(message)
        self.key = key


# --- settings -----------------------------------------------------------------------------

def validate_settings(settings):
    """Check the NETWORKS_* settings and FORM_ENDPOINT; raise with a ``networks:`` message."""
    known = set(DEFAULTS) | set(URL_DEFAULTS)
    for key in settings:
        if key.startswith("NETWORKS_") and key not in known:
            raise NetworksSettingsError(f"networks: unknown setting {key}{did_you_mean(key, known)}")
    path = settings["NETWORKS_PATH"]
    if not isinstance(path, str) or not path or os.path.isabs(path) or ".." in Path(path).parts:
        raise NetworksSettingsError(
            f"networks: NETWORKS_PATH must be a directory relative to PATH, such as 'networks' (got {path!r})")
    latest = settings["NETWORKS_LATEST_POSTS"]
    if isinstance(latest, bool) or not isinstance(latest, int) or latest < 0:
        raise NetworksSettingsError(
            f"networks: NETWORKS_LATEST_POSTS must be a whole number of 0 or more (got {latest!r})")
    for key in ("NETWORKS_INDEX_TEMPLATE", "NETWORKS_PAGE_TEMPLATE", "NETWORKS_THANK_YOU_PAGE",
                "NETWORKS_PRIVACY_PAGE"):
        if not isinstance(settings[key], str) or not settings[key]:
            raise NetworksSettingsError(f"networks: {key} must be a non-empty string (got {settings[key]!r})")
    save_as = settings["NETWORKS_JSON_SAVE_AS"]
    if save_as and (not isinstance(save_as, str) or not save_as.endswith(".json") or os.path.isabs(save_as)):
        raise NetworksSettingsError(
            f"networks: NETWORKS_JSON_SAVE_AS must be a relative path ending in .json, or empty (got {save_as!r})")
    endpoint = settings.get("FORM_ENDPOINT")
    try:
        example = endpoint.format(slug="example") if isinstance(endpoint, str) and "{slug}" in endpoint else None
    except (KeyError, IndexError, ValueError):
        example = None
    if not example or not is_http_url(example):
        raise NetworksSettingsError(
            "networks: FORM_ENDPOINT must be an http(s) URL with {slug} in it, such as "
            f"'https://forms.example.org/join/{{slug}}' (got {endpoint!r})")


def initialized(pelican):
    settings = pelican.settings
    for key, value in DEFAULTS.items():
        settings.setdefault(key, value)
    for key, value in URL_DEFAULTS.items():
        settings.setdefault(key, value)
    validate_settings(settings)


def _check_url_settings(settings):
    for key in ("NETWORK_URL", "NETWORK_SAVE_AS"):
        if "{slug}" not in str(settings.get(key, "")):
            raise NetworksSettingsError(f"networks: {key} must contain {{slug}} (got {settings.get(key)!r})")


# --- rendering helpers --------------------------------------------------------------------

def markdown_renderer(settings):
    """Markdown -> Markup, with the site's Markdown settings and typogrify (never "caps")."""
    config = dict(settings["MARKDOWN"])
    extensions = list(config.get("extensions", []))
    extensions += [e for e in config.get("extension_configs", {}) if e not in extensions]
    # The meta extension would eat a first line such as "Doel: ..." as metadata.
    config["extensions"] = [e for e in extensions if e not in ("markdown.extensions.meta", "meta")]
    md = csp_safe_tables(speed_up_markdown(Markdown(**config)))
    typogrify = typogrifier(settings, omit=["caps"])

    def render(text):
        md.reset()
        html = md.convert(text)
        return Markup(typogrify(html) if typogrify else html)

    return render


def json_for_script(data):
    """JSON safe inside <script type="application/ld+json">: no '<', '>' or '&' in it."""
    text = json.dumps(data, ensure_ascii=False, separators=(",", ":"))
    return Markup(text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
                  .replace("\u2028", "\\u2028").replace("\u2029", "\\u2029"))


def site_languages(settings):
    return list(settings.get("LANGUAGES") or [settings["DEFAULT_LANG"]])


def run_language(settings):
    return settings.get("LANG") or settings["DEFAULT_LANG"]


def network_url(settings, slug, lang=None):
    """The URL path (no SITEURL) of a network's page in a language."""
    lang = lang or run_language(settings)
    urls = settings.get("LANGUAGE_URLS", {}).get(lang, settings)
    return urls["NETWORK_URL"].format(slug=slug)


def absolute_base(settings):
    """SITEURL when it is absolute, else the public SITE_ORIGIN (for JSON-LD), else ''."""
    siteurl = settings.get("SITEURL", "")
    if siteurl.startswith(("http://", "https://")):
        return siteurl
    return settings.get("SITE_ORIGIN", "") or siteurl


# --- what templates see -------------------------------------------------------------------

@dataclass
class QuestionView:
    id: str
    field_name: str  # what the form posts: q_<id>
    type: str
    label: str
    required: bool
    options: list  # [(value, label)]
    control_id: str


@dataclass
class JoinView:
    open: bool
    action: str
    questions: list
    next_url: str
    privacy_page: object
    thank_you_page: object


@dataclass
class LinkView:
    slug: str
    name: str
    url: str


@dataclass
class NetworkView:
    """One network in the run's language. Deliberately without the coordinator's contact."""

    slug: str
    lang: str
    name: str
    short_name: str | None
    kind: str
    region: str
    founded: int | None
    themes: list
    summary: Markup
    description: Markup
    members: list
    website: str | None
    logo_url: str | None
    url: str
    save_as: str
    join: JoinView
    related: list = field(default_factory=list)
    posts: list = field(default_factory=list)
    alternates: list = field(default_factory=list)
    jsonld: Markup = Markup("")


def _page_by_key(context, key):
    pages = context.get("pages_by_key")
    if pages is None:  # without the languages plugin
        pages = {getattr(p, "translation_key", p.slug): p
                 for p in list(context.get("pages", [])) + list(context.get("hidden_pages", []))}
    return pages.get(key)


def build_views(networks, settings, context, posts_by_slug):
    """The NetworkView of every network in the run's language, sorted by name."""
    lang = run_language(settings)
    siteurl = settings.get("SITEURL", "")
    render = markdown_renderer(settings)
    base = absolute_base(settings)
    by_slug = {n.slug: n for n in networks}

    def link_networks(html):
        # {network}slug inside a description or summary (checked by the loader).
        return Markup(re.sub(r'(href=["\'])[{|]network[|}]([^"\'#?]*)',
                             lambda m: f"{m.group(1)}{siteurl}/{network_url(settings, m.group(2))}", str(html)))

    thank_you = privacy = None
    if any(n.join.open for n in networks):
        thank_you = _page_by_key(context, settings["NETWORKS_THANK_YOU_PAGE"])
        privacy = _page_by_key(context, settings["NETWORKS_PRIVACY_PAGE"])
        for key, page in (("NETWORKS_THANK_YOU_PAGE", thank_you), ("NETWORKS_PRIVACY_PAGE", privacy)):
            if page is None:
                raise MissingPageError(
                    key, f"the join form needs a page with translation_key {settings[key]!r} ({key}): "
                         "add it, or give an existing page that translation_key")

    views = []
    for n in networks:
        url = network_url(settings, n.slug)
        questions = [QuestionView(id=q.id, field_name=q.field_name, type=q.type, label=q.label[lang], required=q.required,
                                  options=[(o.value, o.label[lang]) for o in q.options],
                                  control_id=f"join-q-{q.id}")
                     for q in n.join.questions]
        join = JoinView(open=n.join.open, action=settings["FORM_ENDPOINT"].format(slug=n.slug),
                        questions=questions,
                        next_url=f"{siteurl}/{thank_you.url}" if thank_you else "",
                        privacy_page=privacy, thank_you_page=thank_you)
        logo_url = logo_address(settings, n.logo, siteurl) if n.logo else None
        if "LANGUAGE_URLS" in settings:
            alternates = [(code, f"{siteurl}/{network_url(settings, n.slug, code)}")
                          for code in site_languages(settings)]
        else:
            alternates = []
        view = NetworkView(
            slug=n.slug, lang=lang, name=n.name[lang],
            short_name=n.short_name[lang] if n.short_name else None,
            kind=n.kind, region=n.region[lang], founded=n.founded,
            themes=n.text("themes", lang), summary=link_networks(render(n.summary[lang])),
            description=link_networks(render(n.description[lang])),
            members=list(n.members), website=n.website, logo_url=logo_url,
            url=url, save_as=settings["NETWORK_SAVE_AS"].format(slug=n.slug), join=join,
            related=[LinkView(s, by_slug[s].name[lang], network_url(settings, s)) for s in n.related],
            posts=posts_by_slug.get(n.slug, [])[: settings["NETWORKS_LATEST_POSTS"]],
            alternates=alternates,
        )
        view.jsonld = json_for_script(organization_jsonld(n, view, base, settings))
        views.append(view)
    views.sort(key=lambda v: (v.name.casefold(), v.slug))
    return views


def logo_address(settings, logo, base):
    """The address of a network's logo: an SVG as copied; a raster logo as the images plugin
    publishes it (its largest JPEG or PNG: the original is not published), when that plugin runs."""
    if not logo.lower().endswith(".svg") and "images" in settings.get("PLUGINS", []):

        pub = published_or_none(settings, logo)
        if pub is not None:
            return f"{base}/{pub.save_as(pub.largest())}"
    return f"{base}/{settings.get('STATIC_URL', '{path}').format(path=logo)}"


def organization_jsonld(network, view, base, settings):
    """schema.org Organization for one network's page (no e-mail address: never)."""
    page = f"{base}/{view.url}"
    data = {
        "@context": "https://schema.org",
        "@type": "Organization",
        "@id": f"{page}#organization",
        "name": view.name,
        "url": network.website or page,
        "mainEntityOfPage": page,
        "description": view.summary.striptags(),
        "areaServed": view.region,
    }
    if view.short_name and view.short_name != view.name:
        data["alternateName"] = view.short_name
    if network.founded:
        data["foundingDate"] = str(network.founded)
    if view.themes:
        data["knowsAbout"] = view.themes
    if view.logo_url:
        data["logo"] = logo_address(settings, network.logo, base)
    if network.members:
        data["member"] = [{"@type": "Organization", "name": m.name, **({"url": m.url} if m.url else {})}
                          for m in network.members]
    return data


def networks_document(networks, settings):
    """networks.json: every network, texts as language maps. Built field by field, so the
    coordinator's contact can never slip in."""
    siteurl = settings.get("SITEURL", "")
    languages = site_languages(settings)

    def texts(localized):
        return dict(localized) if localized is not None else None

    items = []
    for n in networks:
        item = {
            "slug": n.slug,
            "name": texts(n.name),
            "short_name": texts(n.short_name),
            "kind": n.kind,
            "region": texts(n.region),
            "founded": n.founded,
            "themes": [texts(t) for t in n.themes],
            "summary": texts(n.summary),
            "description": texts(n.description),
            "members": [{"name": m.name, "url": m.url, "kind": m.kind} for m in n.members],
            "website": n.website,
            "logo": logo_address(settings, n.logo, siteurl) if n.logo else None,
            "related": list(n.related),
            "urls": {code: f"{siteurl}/{network_url(settings, n.slug, code)}" for code in languages},
            "join": {
                "open": n.join.open,
                "endpoint": settings["FORM_ENDPOINT"].format(slug=n.slug),
                "questions": [{"id": q.id, "field": q.field_name, "type": q.type, "label": texts(q.label), "required": q.required,
                               "options": [{"value": o.value, "label": texts(o.label)} for o in q.options]}
                              for q in n.join.questions],
            },
        }
        items.append({k: v for k, v in item.items() if v is not None})
    return {"languages": languages, "networks": items}


# --- posts: networks metadata and {network} links -----------------------------------------

def declared_networks(item):
    """The slugs in a post's ``networks:`` header."""
    value = item.metadata.get("networks")
    if value is None:
        return []
    if isinstance(value, (list, tuple)):
        value = ",".join(map(str, value))
    return [s.strip() for s in str(value).split(",") if s.strip()]


def _source_position(source_path, pattern, header_only=False):
    """(line, col) of the first match of ``pattern`` in a source file, else (1, 1)."""
    try:
        text = Path(source_path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return 1, 1
    for number, line in enumerate(text.splitlines(), start=1):
        if header_only and not line.strip():
            break
        m = pattern.search(line)
        if m:
            return number, m.start(m.lastindex or 0) + 1
    return 1, 1


def _forget_memoized(item):
    # Pelican memoizes get_content/get_summary per (item, siteurl): drop what it may hold.
    for name in ("get_content", "get_summary"):
        cache = getattr(getattr(item, name, None), "cache", None)
        if isinstance(cache, dict):
            for key in [k for k in cache if k and k[0] is item]:
                del cache[key]


def link_content(items, settings, slugs):
    """Check ``networks:`` headers and replace ``{network}slug`` links; return the problems.

    Links are replaced in every item (a post in another language may be listed here);
    problems are reported for the run's own language only, so each is reported once.
    """
    lang = run_language(settings)
    siteurl = settings.get("SITEURL", "")
    problems = []
    for item in items:
        own = getattr(item, "lang", lang) == lang
        source = getattr(item, "source_path", None) or "?"
        if own:
            # Where buildcheck's reader found each item of the header (either header form).
            positions = {i[0]: (i[1], i[2]) for i in (getattr(item, "buildcheck_items", None) or {}).get("networks", [])}
            for slug in declared_networks(item):
                if slug not in slugs:
                    line, col = positions.get(slug) or _source_position(
                        source, re.compile(rf"^networks\s*:.*?(?<![\w-])({re.escape(slug)})(?![\w-])", re.I),
                        header_only=True)
                    problems.append(Problem(shown_path(source), line, col, "networks",
                                            f"no network has slug {slug!r}{did_you_mean(slug, slugs)}"))
        regex = item._get_intrasite_link_regex()
        item_lang = getattr(item, "lang", lang)

        def replace(m, item_lang=item_lang, own=own, source=source):
            if m.group("what") != "network":
                return m.group(0)
            value = urlparse(m.group("value"))
            slug = value.path
            if slug not in slugs:
                if own:
                    line, col = _source_position(source, re.compile(re.escape(m.group("path"))))
                    problems.append(Problem(shown_path(source), line, col, "link",
                                            f"{m.group('path')}: no network has slug {slug!r}{did_you_mean(slug, slugs)}"))
                return m.group(0)
            target = f"{siteurl}/{network_url(settings, slug, item_lang)}"
            parts = list(value)
            parts[2] = target
            return "".join((m.group("markup"), m.group("quote"), urlunparse(parts), m.group("quote")))

        changed = False
        for attr in ("_content", "_summary"):
            text = getattr(item, attr, None)
            if isinstance(text, str) and "network" in text:
                new = regex.sub(replace, text)
                if new != text:
                    setattr(item, attr, new)
                    changed = True
        if isinstance(item.metadata.get("summary"), str) and hasattr(item, "_summary"):
            item.metadata["summary"] = item._summary
        if changed:
            _forget_memoized(item)
    return sorted(set(problems))


def _logo_problems(networks, settings):
    """A logo must be a static file Pelican copies (under STATIC_PATHS)."""
    problems = []
    static = [p.strip("/") for p in settings.get("STATIC_PATHS", [])]
    for n in networks:
        if n.logo and not any(p in ("", ".") or n.logo == p or n.logo.startswith(p + "/") for p in static):
            line, col = _source_position(n.source_path, re.compile(r"^logo\s*:\s*(\S)"))
            problems.append(Problem(shown_path(n.source_path), line, col, "logo",
                                    f"{n.logo!r} is not under STATIC_PATHS ({', '.join(static)}), "
                                    "so it would not be published"))
    return problems


def _readable_slugs(directory):
    import yaml  # noqa: PLC0415

    slugs = []
    for path in network_files(directory) if directory.is_dir() else []:
        try:
            data = yaml.safe_load(path.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, yaml.YAMLError):
            continue
        if isinstance(data, dict) and isinstance(data.get("slug"), str):
            slugs.append(data["slug"])
    return sorted(slugs)


# --- the generator ------------------------------------------------------------------------

class NetworksGenerator(Generator):
    """Reads the networks after articles and pages, writes their pages. State lives here,
    per run: nothing module-global."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.networks = None
        self.views = []

    def generate_context(self):

        settings = self.settings
        _check_url_settings(settings)
        directory = Path(self.path) / settings["NETWORKS_PATH"]
        try:
            networks = load_networks(directory, site_languages(settings), content_root=self.path)
        except NetworkErrors as e:
            report(settings, e.problems)
            networks = None
            # The slugs the files name, as far as they can be read: links to the network pages
            # are checked against these, so that one broken file does not make every link look dead.
            self.context["network_slugs"] = _readable_slugs(directory)
        self.context["networks"] = []
        self.context["networks_by_slug"] = {}
        if networks is None:
            return  # the run fails at all_generators_finalized (buildcheck); nothing is written
        problems = _logo_problems(networks, settings)
        slugs = {n.slug for n in networks}
        self.context["network_slugs"] = sorted(slugs)  # for buildcheck's link check, even when this run fails
        items = [item for key in CONTENT_LISTS for item in self.context.get(key, [])]
        problems += link_content(items, settings, slugs)
        if problems:
            report(settings, problems)
            return
        posts_by_slug = {}
        for article in self.context.get("articles", []):  # newest first already
            for slug in declared_networks(article):
                posts_by_slug.setdefault(slug, []).append(article)
        try:
            self.views = build_views(networks, settings, self.context, posts_by_slug)
        except MissingPageError as e:
            # A page the join form needs was deleted or renamed: a content problem, one line.
            first_open = next(n for n in networks if n.join.open)
            line, col = _source_position(first_open.source_path, re.compile(r"^join\s*:"))
            report(settings, [Problem(shown_path(first_open.source_path), line, col, "join", str(e))])
            return
        self.networks = networks
        self.context["networks"] = self.views
        self.context["networks_by_slug"] = {v.slug: v for v in self.views}

    def generate_output(self, writer):
        if self.networks is None:
            return
        s = self.settings
        rurls = s["RELATIVE_URLS"]
        writer.write_file(s["NETWORKS_SAVE_AS"], self.get_template(s["NETWORKS_INDEX_TEMPLATE"]), self.context,
                          rurls, url=s["NETWORKS_URL"])
        template = self.get_template(s["NETWORKS_PAGE_TEMPLATE"])
        for view in self.views:
            writer.write_file(view.save_as, template, self.context, rurls, url=view.url, network=view)
        primary = s.get("PRIMARY_LANG") or next(iter(site_languages(s)))
        if s["NETWORKS_JSON_SAVE_AS"] and run_language(s) == primary:
            path = os.path.join(self.output_path, s["NETWORKS_JSON_SAVE_AS"])
            os.makedirs(os.path.dirname(path), exist_ok=True)
            with open(path, "w", encoding="utf-8") as f:
                json.dump(networks_document(self.networks, s), f, ensure_ascii=False, indent=2)
                f.write("\n")
            log.info('Writing "%s"', path)


def get_generators(pelican):
    return NetworksGenerator


def register():
    signals.initialized.connect(initialized)
    signals.get_generators.connect(get_generators)
