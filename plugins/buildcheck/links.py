"""The checks made once every file of a run is read: links and images against what the
build makes, and two files written to one address.

Called by buildcheck's all_generators_finalized handler, before anything is written;
``invoke check`` runs the same handler in a Pelican run that stops there.
"""

import os
import posixpath
from urllib.parse import unquote, urljoin, urlsplit

from core.networks import is_email
from core.problem import Problem
from core.source import SITE_LINK
from core.suggest import closest, did_you_mean

ARTICLE_LISTS = ("articles", "translations", "drafts", "drafts_translations", "hidden_articles",
                 "hidden_translations")
PAGE_LISTS = ("pages", "hidden_pages", "draft_pages")
PER_LANGUAGE_PAGES = ("HOME_URL", "INDEX_URL", "ARCHIVES_URL", "TAGS_URL", "AUTHORS_URL", "CATEGORIES_URL",
                      "NETWORKS_URL", "FEED_URL")
LANGUAGE_LABELS = {"nl": "Dutch", "en": "English", "de": "German", "fr": "French"}


def _shown(path):
    try:
        rel = os.path.relpath(path)
    except ValueError:
        return path
    return path if rel.startswith("..") else rel


def content_items(generators_or_context):
    """Every article and page the run knows (every language; drafts included), once."""
    context = generators_or_context
    seen, items = set(), []
    pages = [p for p in context.get("pages", [])] + list(context.get("hidden_pages", [])) \
        + list(context.get("draft_pages", []))
    # The pages' translations are not in the context; the languages plugin links them.
    extra = [t for p in pages for t in getattr(p, "translations", [])]
    for item in [*(i for name in ARTICLE_LISTS for i in context.get(name, [])), *pages, *extra]:
        if id(item) not in seen:
            seen.add(id(item))
            items.append(item)
    for item in list(items):
        for t in getattr(item, "translations", []):
            if id(t) not in seen:
                seen.add(id(t))
                items.append(t)
    return items


def _position(item, *keys):
    where = getattr(item, "buildcheck_where", None) or {}
    for key in keys:
        if key in where:
            return key, tuple(where[key])
    return keys[-1], (1, 1)


def _lang_name(code):
    return LANGUAGE_LABELS.get(code, code)


class Addresses:
    """Every address the build makes: path (no leading slash) -> (lang or None, group or None)."""

    def __init__(self, context, settings, items):
        self.by_path = {}
        self.groups = {}  # group -> {lang: path}
        self.prefixes = []  # paths under these exist (pages of other languages' taxonomies)
        self.homes = set()  # each language's home: a link to another language's home is a choice
        show_drafts = settings.get("PUBLISHING_SHOW_DRAFTS", True)
        for item in items:
            if getattr(item, "status", "published") == "draft" and not show_drafts:
                continue
            key = getattr(item, "translation_key", None) or item.source_path
            self.add(item.url, item.lang, ("content", type(item).__name__, key))
        languages = settings.get("LANGUAGE_URLS") or {settings.get("LANG", settings["DEFAULT_LANG"]): settings}
        slugs = list(context.get("network_slugs") or (context.get("networks_by_slug") or {}).keys())
        run_lang = settings.get("LANG", settings["DEFAULT_LANG"])
        for code, urls in languages.items():
            self.homes.add((urls.get("HOME_URL") or "").lstrip("/"))
            for key in PER_LANGUAGE_PAGES:
                if urls.get(key) is not None:
                    self.add(urls[key], code, ("page", key))
            for slug in slugs:
                if "NETWORK_URL" in urls:
                    self.add(urls["NETWORK_URL"].format(slug=slug), code, ("network", slug))
            if code != run_lang:
                self.prefixes += [urls[k] for k in ("TAGS_URL", "CATEGORIES_URL", "AUTHORS_URL") if urls.get(k)]
        for name in ("tags", "categories", "authors"):
            found = context.get(name) or []
            for entry in (found.items() if isinstance(found, dict) else found):
                self.add(entry[0].url, run_lang, None)
        for static in (context.get("static_content") or {}).values():
            self.add(static.url, None, None)
        for fixed in (settings.get("NETWORKS_JSON_SAVE_AS"), "sitemap.xml", "robots.txt"):
            if fixed:
                self.add(fixed, None, None)
        self.prefixes += [f"{settings.get('THEME_STATIC_DIR', 'theme')}/", "pagefind/"]

    def add(self, url, lang, group):
        path = (url or "").lstrip("/")
        self.by_path.setdefault(path, (lang, group))
        if group is not None and lang is not None:
            self.groups.setdefault(group, {}).setdefault(lang, path)

    def find(self, path):
        """The known path for a site path as written (with or without /, index.html), or None."""
        path = path.lstrip("/")
        candidates = [path]
        if path.endswith("index.html"):
            candidates.append(path[: -len("index.html")])
        elif not path.endswith("/") and path:
            candidates.append(path + "/")
        for c in candidates:
            if c in self.by_path:
                return c
        if any(path.startswith(p) for p in self.prefixes):
            return path
        return None

    def close(self, path):
        close = closest(path.lstrip("/"), self.by_path, 0.75)
        return f" (did you mean /{close}?)" if close else ""


def _wrong_language(item, addresses, path, written):
    """A message when ``path`` is another language's version of a page that exists in the
    item's language; else None."""
    lang, group = addresses.by_path.get(path, (None, None))
    if path in addresses.homes or group is None or group[0] == "page" or lang is None or lang == item.lang:
        return None
    own = addresses.groups.get(group, {}).get(item.lang)
    if own is None:
        return None
    return (f"{written} is the {_lang_name(lang)} page; this {_lang_name(item.lang)} text should link to "
            f"the {_lang_name(item.lang)} one, /{own}")


def _linked_content(item, context, what, path):
    """Pelican's own lookup of a {filename}/{static} link: (content or None, key)."""
    key = "generated_content" if what == "filename" else "static_content"

    def find(p, key):
        p = p[1:] if p.startswith("/") else item.get_relative_source_path(os.path.join(item.relative_dir, p))
        return context.get(key, {}).get(p)

    for candidate in (path, unquote(path)):
        found = find(candidate, key)
        if found is not None:
            return found, key
    other = "static_content" if key == "generated_content" else "generated_content"
    for candidate in (path, unquote(path)):
        found = find(candidate, other)
        if found is not None:
            return found, other
    return None, key


def link_problems(item, context, settings, addresses):
    problems = []

    def problem(line, col, kind, message):  # the path shown is worked out only for a problem (relpath is costly)
        return Problem(_shown(item.source_path), line, col, kind, message)

    is_draft = getattr(item, "status", "published") == "draft"
    origins = {o.rstrip("/") for o in (settings.get("SITE_ORIGIN"), settings.get("SITEURL")) if o
               and "://" in o}
    for kind, target, line, col in getattr(item, "buildcheck_links", None) or []:
        target = target.strip()
        m = SITE_LINK.match(target)
        if m:
            what, value = m.group("what"), m.group("value")
            if what not in ("filename", "static", "attach"):
                continue  # {network}: the networks plugin checks those
            path = urlsplit(value).path
            if not path:
                problems.append(problem(line, col, kind, f"{{{what}}} without a file name"))
                continue
            found, key = _linked_content(item, context, what, path)
            if found is None:
                base = settings["PATH"]
                resolved = os.path.normpath(os.path.join(base, path.lstrip("/")) if path.startswith("/")
                                            else os.path.join(os.path.dirname(item.source_path), path))
                folder = os.path.dirname(resolved)
                names = os.listdir(folder) if os.path.isdir(folder) else []
                hint = did_you_mean(os.path.basename(resolved), names, 0.75)
                problems.append(problem(line, col, kind,
                                        f"{{{what}}}{value}: there is no file {_shown(resolved)}{hint}"))
            elif what == "filename" and key == "static_content":
                problems.append(problem(line, col, kind,
                                        f"{{filename}}{value} is a file, not a post or page: write {{static}}{value}"))
            elif what != "filename" and key == "generated_content":
                problems.append(problem(line, col, kind,
                                        f"{{{what}}}{value} is a post or page: write {{filename}}{value}"))
            elif not is_draft and what == "filename":
                message = _wrong_language(item, addresses, found.url.lstrip("/"), f"{{filename}}{value}")
                if message:
                    own = next((t for t in getattr(found, "translations", []) if t.lang == item.lang), None)
                    if own is not None:
                        rel = os.path.relpath(own.source_path, settings["PATH"]).replace(os.sep, "/")
                        message = (f"{{filename}}{value} is the {_lang_name(found.lang)} version; this "
                                   f"{_lang_name(item.lang)} text should link to {{filename}}/{rel}")
                    problems.append(problem(line, col, kind, message))
            continue
        parts = urlsplit(target)
        if parts.scheme or parts.netloc:
            origin = f"{parts.scheme}://{parts.netloc}"
            if origin.rstrip("/") not in origins:
                continue  # another site: not fetched
            written, path = target, parts.path or "/"
        elif not parts.path:
            continue  # #anchor on the same page, or empty
        elif parts.path.startswith("/"):
            written, path = parts.path, parts.path
        else:
            written = target
            path = urlsplit(urljoin("/" + item.url, target)).path
        path = posixpath.normpath(unquote(path)) + ("/" if path.endswith("/") and path != "/" else "")
        found = addresses.find(path)
        if found is None:
            hint = addresses.close(path) if parts.path.startswith("/") else ""
            if not parts.path.startswith("/") and not parts.scheme:
                where = f"; it is read relative to this page's address, /{item.url}, so it points at {path}"
                if kind == "image":
                    hint += f"{where}: for a picture in content/images/ write /images/{posixpath.basename(path)}"
                elif parts.path.endswith((".md", ".markdown")):
                    hint += f"{where}: to link to a post or page, write {{filename}}/blog/name.md"
                elif is_email(target):
                    hint = (f": an e-mail address as a link needs mailto: in front, so it opens a new mail: "
                            f"write ({'mailto:' + target})")
                else:
                    hint += where
            what = "picture or file" if kind == "image" else "page or file"
            problems.append(problem(line, col, kind,
                                    f"{written}: this site has no such {what}{hint}"))
        elif not is_draft:
            message = _wrong_language(item, addresses, found, written)
            if message:
                problems.append(problem(line, col, kind, message))
    return problems


def duplicate_problems(context, settings, items):
    """Two things written to one address (Pelican would stop with FileOverwriteFailedError)."""
    writes = {}
    problems = []

    def claim(save_as, owner):
        if not save_as:
            return
        save_as = save_as.lstrip("/")
        if save_as in writes:
            first = writes[save_as]
            for this, that in ((owner, first), (first, owner)):
                if isinstance(this, str):
                    continue
                field, (line, col) = _position(this, "save_as", "url", "slug", "title")
                that_text = that if isinstance(that, str) else _shown(that.source_path)
                kind = "post" if type(this).__name__ == "Article" else "page"
                fix = f"change its {field}" if field in ("save_as", "url") else f"give this {kind} another slug"
                problems.append(Problem(_shown(this.source_path), line, col, field,
                                        f"its address /{save_as.removesuffix('index.html')} is also the "
                                        f"address of {that_text}: {fix}"
                                        + ("" if isinstance(that, str) else " (or the other file's)")))
        else:
            writes[save_as] = owner

    run_lang = settings.get("LANG", settings["DEFAULT_LANG"])
    for item in items:
        if item.lang == run_lang and getattr(item, "status", "published") in ("published", "hidden", "draft"):
            claim(item.save_as, item)
    for template in settings.get("DIRECT_TEMPLATES", []):
        claim(settings.get(f"{template.upper()}_SAVE_AS", f"{template}.html"), f"the {template} page")
    for name, label in (("tags", "tag"), ("categories", "category"), ("authors", "author")):
        found = context.get(name) or []
        for entry in (found.items() if isinstance(found, dict) else found):
            claim(entry[0].save_as, f"the page of the {label} {entry[0].name!r}")
    if context.get("networks") is not None and "NETWORKS_SAVE_AS" in settings:
        claim(settings["NETWORKS_SAVE_AS"], "the networks overview")
        for view in context.get("networks") or []:
            claim(view.save_as, f"the page of the network {view.slug!r}")
    return problems


def final_checks(context, settings):
    """Problems found once every file was read: links and images, duplicate addresses."""
    items = content_items(context)
    addresses = Addresses(context, settings, items)
    run_lang = settings.get("LANG", settings["DEFAULT_LANG"])
    problems = []
    for item in items:
        if getattr(item, "lang", run_lang) == run_lang:
            problems += link_problems(item, context, settings, addresses)
    problems += duplicate_problems(context, settings, items)
    return sorted(set(problems))

