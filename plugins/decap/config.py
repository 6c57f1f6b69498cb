"""Decap CMS's config.yml, made from the site's settings and the network JSON Schema.

No Pelican import: :func:`admin_policy` also serves the ``_headers`` writer, which runs
after the Pelican runs (publishing.sitewide).

* i18n over the site's LANGUAGES (``multiple_files``: ``<translation_key>.<lang>.md``,
  one file name per entry across languages, as Decap's i18n wants);
* the blog (ARTICLE_PATHS) and the pages (PAGE_PATHS): Markdown with YAML front matter
  (a ``---`` block, the keys of a Pelican header; tags and networks as YAML lists), as
  plugins/buildcheck reads it;
* the networks (NETWORKS_PATH): every field from network.schema.json (required, enums as
  select, e-mail and URL patterns, localized texts as one field per language), so the
  editor refuses what the build refuses.
"""

import os
import re
from urllib.parse import urlsplit

from core.networks import _EMAIL_DOMAIN, _EMAIL_LOCAL
from core.networks import schema as network_schema
from core.suggest import did_you_mean

#: The plugin's settings and their defaults (pelicanconf.py may override each).
DEFAULTS = {
    "DECAP_BUNDLE": "node_modules/decap-cms/dist",  # npm's decap-cms; relative to the working directory
    "DECAP_PATH": "admin",                          # where in the output the editor lives
    "DECAP_BACKEND": None,                          # Decap's `backend` mapping (github: repo, branch, base_url...)
    "DECAP_LOCAL_BACKEND": None,                    # decap-server's API URL, development builds only
    "DECAP_LOCALE": None,                           # the editor's own language; None: the primary language
    "DECAP_MEDIA_PATH": "images",                   # uploads, under PATH (and in STATIC_PATHS)
}
#: Languages Decap's user interface is translated into (decap-cms-locales).
UI_LOCALES = {"bg", "ca", "cs", "da", "de", "en", "es", "fa", "fr", "he", "hr", "hu", "it", "ja", "ko", "lt",
              "nb_no", "nl", "nn_no", "pl", "pt", "ro", "ru", "sv", "th", "tr", "ua", "vi", "zh_Hans", "zh_Hant"}
SLUG = r"^[a-z0-9]+(-[a-z0-9]+)*$"
#: Labels and hints of the editor, in the editor's language (DECAP_LOCALE); English otherwise.
TEXT = {
    "nl": {
        "blog": "Blog", "post": "Bericht", "pages": "Pagina's", "page": "Pagina", "networks": "Netwerken",
        "network": "Netwerk", "title": "Titel", "slug": "Adres", "translation_key": "Vertaalsleutel",
        "lang": "Taal", "date": "Datum", "author": "Auteur", "category": "Categorie", "tags": "Tags",
        "post_networks": "Netwerken", "summary": "Samenvatting", "status": "Status", "body": "Tekst",
        "slug_hint": "Het laatste deel van het webadres: kleine letters, cijfers en streepjes. Niet meer "
                     "veranderen na publicatie.",
        "key_hint": "Verbindt de taalversies en is de bestandsnaam: kleine letters, cijfers en streepjes, "
                    "in elke taal dezelfde.",
        "tags_hint": "Gescheiden door komma's.",
        "networks_hint": "De netwerken waarover het bericht gaat.",
        "summary_hint": "Een of twee zinnen voor overzichten, feeds en zoekmachines.",
        "slug_message": "kleine letters a-z, cijfers en losse streepjes, bijv. 'de-kracht-van-samenwerken'",
        "published": "Gepubliceerd", "draft": "Concept",
        "image": "Deelafbeelding", "image_alt": "Beschrijving van de deelafbeelding",
        "image_hint": "De foto die verschijnt als de pagina wordt gedeeld (sociale media, chat). Leeg: de "
                      "eerste foto in de tekst. Uploaden zet hem in content/images/; de site maakt hem zelf "
                      "licht en in de goede maten.",
        "image_alt_hint": "Wat er op de deelafbeelding te zien is, in de taal van deze versie. Nodig als er "
                          "een deelafbeelding is gekozen.",
        # (admin.js's message, as window.SITE_TEXT)
        "image_alt_message": "Beschrijf de deelafbeelding: wat is erop te zien?",
        "framed": "De beheeromgeving opent alleen in een eigen venster, niet ingebed in een andere pagina.",
        "date_hint": "Dag-maand-jaar, zoals u een datum schrijft: 3-5-2025 (of 03052025).",
        "date_message": "Schrijf de datum als dag-maand-jaar, bijvoorbeeld 3-5-2025.",
        "date_placeholder": "d-m-jjjj",
        "component_image": "Afbeelding", "component_image_alt": "Wat is erop te zien?",
        "component_image_title": "Titel (bij aanwijzen)", "code_block": "Codeblok",
    },
    "en": {
        "blog": "Blog", "post": "Post", "pages": "Pages", "page": "Page", "networks": "Networks",
        "network": "Network", "title": "Title", "slug": "Address", "translation_key": "Translation key",
        "lang": "Language", "date": "Date", "author": "Author", "category": "Category", "tags": "Tags",
        "post_networks": "Networks", "summary": "Summary", "status": "Status", "body": "Text",
        "slug_hint": "The last part of the web address: lowercase letters, digits and hyphens. Do not change "
                     "it once published.",
        "key_hint": "Links the language versions and is the file name: lowercase letters, digits and hyphens, "
                    "the same in every language.",
        "tags_hint": "Separated by commas.",
        "networks_hint": "The networks the post is about.",
        "summary_hint": "One or two sentences for listings, feeds and search engines.",
        "slug_message": "lowercase letters a-z, digits and single hyphens, e.g. 'the-power-of-collaboration'",
        "published": "Published", "draft": "Draft",
        "image": "Share picture", "image_alt": "Description of the share picture",
        "image_hint": "The picture shown when the page is shared (social media, chat). Empty: the first "
                      "picture in the text. Uploading puts it in content/images/; the site makes it light "
                      "and in the right sizes itself.",
        "image_alt_hint": "What the share picture shows, in this version's language. Needed when a share "
                          "picture is chosen.",
        "image_alt_message": "Describe the share picture: what does it show?",
        "framed": "The editor opens only in a window of its own, not inside another page.",
        "date_hint": "Day-month-year, as the site shows dates: 3-5-2025 (or 03052025).",
        "date_message": "Write the date as day-month-year, for example 3-5-2025.",
        "date_placeholder": "d-m-yyyy",
        "component_image": "Image", "component_image_alt": "What does it show?",
        "component_image_title": "Title (on hover)", "code_block": "Code block",
    },
}


class DecapSettingsError(ValueError):
    """A DECAP_* setting is wrong; the build stops with this message."""


def with_defaults(settings):
    return {**DEFAULTS, **{k: v for k, v in settings.items() if k.startswith("DECAP_")}}


def is_loopback_url(url):
    parts = urlsplit(url) if isinstance(url, str) else None
    return bool(parts and parts.scheme == "http" and parts.hostname in ("127.0.0.1", "localhost"))


def validate(settings, cwd=None):
    """Check the DECAP_* settings; return them with defaults. Raises DecapSettingsError."""
    s = with_defaults(settings)
    for key in s:
        if key not in DEFAULTS:
            raise DecapSettingsError(f"decap: unknown setting {key}{did_you_mean(key, DEFAULTS)}")
    bundle = os.path.join(cwd or os.getcwd(), s["DECAP_BUNDLE"])
    if not os.path.isfile(os.path.join(bundle, "decap-cms.js")):
        raise DecapSettingsError(
            f"decap: DECAP_BUNDLE: {bundle}/decap-cms.js is missing: install the editor with "
            "`npm ci --ignore-scripts` (make build and make serve do)")
    path = s["DECAP_PATH"]
    if not isinstance(path, str) or not re.fullmatch(r"[a-z0-9-]+", path):
        raise DecapSettingsError(f"decap: DECAP_PATH must be one directory name such as 'admin' (got {path!r})")
    backend = s["DECAP_BACKEND"]
    if not isinstance(backend, dict) or not isinstance(backend.get("name"), str):
        raise DecapSettingsError("decap: DECAP_BACKEND must be Decap's backend mapping, e.g. "
                                 "{'name': 'github', 'repo': 'owner/site', 'branch': 'main', "
                                 "'base_url': 'https://forms.example.org', 'auth_endpoint': 'auth'}")
    if backend["name"] == "github":
        if not re.fullmatch(r"[\w.-]+/[\w.-]+", str(backend.get("repo", ""))):
            raise DecapSettingsError(f"decap: DECAP_BACKEND['repo'] must be 'owner/name' (got {backend.get('repo')!r})")
        base = backend.get("base_url")
        if base is not None and not re.fullmatch(r"https?://[^/\s]+", str(base)):
            raise DecapSettingsError(
                f"decap: DECAP_BACKEND['base_url'] must be the form service's origin, e.g. "
                f"'https://forms.example.org' (got {base!r})")
    local = s["DECAP_LOCAL_BACKEND"]
    if local is not None and not is_loopback_url(local):
        raise DecapSettingsError(
            "decap: DECAP_LOCAL_BACKEND must be None or decap-server's URL on loopback, e.g. "
            f"'http://127.0.0.1:8081/api/v1' (got {local!r})")
    locale = s["DECAP_LOCALE"]
    if locale is not None and locale not in UI_LOCALES:
        raise DecapSettingsError(f"decap: DECAP_LOCALE {locale!r} is not a language of Decap's interface "
                                 f"({', '.join(sorted(UI_LOCALES))})")
    media = s["DECAP_MEDIA_PATH"]
    if not isinstance(media, str) or not media or os.path.isabs(media) or ".." in media.split("/"):
        raise DecapSettingsError(
            f"decap: DECAP_MEDIA_PATH must be a directory under PATH, one of STATIC_PATHS such as 'images' (got {media!r})")
    return s


def _repo_path(settings, path, cwd):
    """A path below PATH as Decap wants it: relative to the repository (the working directory)."""
    # (A PATH outside the repository, as in some tests, gives a path decap-server refuses.)
    return os.path.relpath(os.path.join(settings["PATH"], path), cwd or os.getcwd()).replace(os.sep, "/")


# --- network fields from the JSON Schema ---------------------------------------------------

def _email_pattern():
    return "^" + _EMAIL_LOCAL.pattern.strip("^$") + "@" + _EMAIL_DOMAIN.pattern.strip("^$") + "$"


# The networks loader's is_http_url, as a JavaScript regular expression (ASCII host names).
_LABEL = r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
HTTP_URL = rf"^https?://(?:{_LABEL}\.)+{_LABEL}\.?(?::[0-9]{{1,5}})?(?:[/?#][^\s\\]*)?$"


def _message(node, keyword, fallback):
    text = node.get("x-messages", {}).get(keyword, fallback)
    return text.replace("{value} ", "").replace("{value}", "the value")


class SchemaFields:
    """Decap fields for the properties of a JSON Schema object."""

    def __init__(self, schema, languages, labels):
        self.schema, self.languages, self.labels = schema, languages, labels

    def resolve(self, node):
        while "$ref" in node:
            ref = node["$ref"]
            target = self.schema["$defs"][ref.split("/")[-1]]
            node = {**target, **{k: v for k, v in node.items() if k != "$ref"}}
        return node

    def fields(self, node):
        node = self.resolve(node)
        required = set(node.get("required", []))
        return [self.field(name, prop, name in required) for name, prop in node.get("properties", {}).items()]

    def field(self, name, node, required):
        node = self.resolve(node)
        f = {"name": name, "label": name.replace("_", " ").capitalize(), "required": required}
        if node.get("description"):
            f["hint"] = node["description"]
        if node.get("x-localized"):
            text = node.get("additionalProperties", {})
            inner = self.field("_", text, True)
            widget = "markdown" if name == "description" else "text" if name == "summary" else "string"
            # An optional text's languages are optional in the editor (Decap checks the fields of
            # an empty object too); giving one but not the other is refused by the build.
            f.update(widget="object", collapsed=False,
                     fields=[{**inner, "name": code, "label": self.labels[code], "widget": widget,
                              "required": required} for code in self.languages])
            f["fields"] = [{k: v for k, v in sub.items() if k != "hint"} for sub in f["fields"]]
            return f
        if "enum" in node:
            f.update(widget="select", options=list(node["enum"]))
            return f
        kind = node.get("type")
        if kind == "object":
            f.update(widget="object", collapsed=False, fields=self.fields(node))
        elif kind == "array":
            items = self.resolve(node["items"])
            if items.get("type") == "object" or items.get("x-localized"):
                sub = self.field("item", items, True)
                f.update(widget="list", fields=sub["fields"], collapsed=False)
            else:
                f.update(widget="list", field={**self.field(name, items, True), "label": f["label"]})
            if "minItems" in node:
                f["min"] = node["minItems"]
        elif kind == "integer":
            f.update(widget="number", value_type="int")
            if "minimum" in node:
                f["min"] = node["minimum"]
            if "maximum" in node:
                f["max"] = node["maximum"]
        elif kind == "boolean":
            f.update(widget="boolean", default=node.get("default", False))
        else:
            f["widget"] = "string"
            pattern = self.pattern(node)
            if pattern:
                f["pattern"] = pattern
        return f

    def pattern(self, node):
        """One JavaScript pattern for a string's pattern, format and forbidden values."""
        if node.get("format") == "email":
            return [_email_pattern(), "not a valid e-mail address (name@domain.tld)"]
        if node.get("format") == "http-url":
            return [HTTP_URL, "not a valid URL (http:// or https://, then a host name)"]
        parts, messages = [], []
        for sub in [node, *node.get("allOf", [])]:
            if "pattern" in sub:
                parts.append(sub["pattern"])
                messages.append(_message(sub, "pattern", f"must match {sub['pattern']}"))
            if "not" in sub and "enum" in sub["not"]:
                words = "|".join(re.escape(str(v)) for v in sub["not"]["enum"])
                parts.append(f"^(?!(?:{words})$)")
                messages.append(_message(sub, "not", f"must not be one of {', '.join(sub['not']['enum'])}"))
        if node.get("minLength"):
            parts.append(f"^[\\s\\S]{{{node['minLength']},}}")
            messages.append(_message(node, "minLength", f"at least {node['minLength']} characters"))
        if not parts:
            return None
        # Lookaheads from the start make every part apply at once.
        anywhere = r"[\s\S]*"
        joined = "".join("(?=" + (p[1:] if p.startswith("^") else anywhere + p) + ")" for p in parts)
        return ["^" + joined, "; ".join(messages)]


# --- the whole config ----------------------------------------------------------------------

def decap_config(settings, cwd=None):
    """Decap's config.yml (a dict) for this site. ``settings`` as Pelican has them (PATH
    absolute); ``cwd`` the repository root (default: the working directory)."""
    s = validate(settings, cwd)
    languages = list(settings["LANGUAGES"])
    primary = languages[0]
    locale = s["DECAP_LOCALE"] or (primary if primary in UI_LOCALES else "en")
    t = TEXT.get(locale, TEXT["en"])
    labels = {code: settings["LANGUAGES"][code]["name"] for code in languages}
    slug_pattern = [SLUG, t["slug_message"]]

    def shared(field):
        # The same value in every language version, copied by Decap (the empty versions it
        # would then write are left out by admin.js).
        return {**field, "i18n": "duplicate"}

    def lang_field():
        # Custom widget (admin.js): the language of the pane it is in, written as `lang:`.
        return {"name": "lang", "label": t["lang"], "widget": "site-language", "i18n": True}

    def common(kind):
        return [
            {"name": "title", "label": t["title"], "widget": "string", "i18n": True},
            {"name": "slug", "label": t["slug"], "widget": "string", "i18n": True, "pattern": slug_pattern,
             "hint": t["slug_hint"]},
            shared({"name": "translation_key", "label": t["translation_key"], "widget": "string",
                    "pattern": slug_pattern, "hint": t["key_hint"]}),
            lang_field(),
        ]

    status = {"name": "status", "label": t["status"], "widget": "select", "i18n": True, "required": False,
              "options": [{"label": t["published"], "value": "published"}, {"label": t["draft"], "value": "draft"}]}
    summary = {"name": "summary", "label": t["summary"], "widget": "text", "i18n": True, "hint": t["summary_hint"]}
    body = {"name": "body", "label": t["body"], "widget": "markdown", "i18n": True}
    # The share picture: `image: {static}/images/name.jpg` (what Decap writes, see public_folder),
    # the same in every language; its description per
    # language (`image_alt`, which the build wants beside an image: "site-image-alt" in admin.js
    # refuses an empty one when a picture is chosen). Only uploads or pictures of the site: no URL.
    share_picture = [
        shared({"name": "image", "label": t["image"], "widget": "image", "required": False,
                "choose_url": False, "hint": t["image_hint"]}),
        {"name": "image_alt", "label": t["image_alt"], "widget": "site-image-alt", "i18n": True,
         "required": False, "hint": t["image_alt_hint"]},
    ]
    folder_collection = {"create": True, "format": "frontmatter", "extension": "md",
                         "slug": "{{fields.translation_key}}", "identifier_field": "title", "i18n": True}
    blog = {
        "name": "blog", "label": t["blog"], "label_singular": t["post"],
        "folder": _repo_path(settings, settings["ARTICLE_PATHS"][0], cwd), **folder_collection,
        "summary": "{{title}} ({{date}})", "sortable_fields": ["date", "title"],
        "fields": [
            *common("post"),
            # Day first, whatever the browser's language (admin.js: site-date); stored as 2025-05-03.
            shared({"name": "date", "label": t["date"], "widget": "site-date", "hint": t["date_hint"]}),
            shared({"name": "author", "label": t["author"], "widget": "string", "required": False}),
            {"name": "category", "label": t["category"], "widget": "string", "i18n": True, "required": False},
            # Lists in the YAML front matter (tags: [a, b]), as the build reads them (plugins/buildcheck).
            {"name": "tags", "label": t["tags"], "widget": "list", "i18n": True, "required": False,
             "hint": t["tags_hint"]},
            # Only networks that exist can be chosen (the build refuses an unknown slug).
            shared({"name": "networks", "label": t["post_networks"], "widget": "relation",
                    "required": False, "multiple": True, "collection": "networks", "value_field": "slug",
                    "search_fields": ["slug", f"name.{primary}"], "display_fields": [f"name.{primary}"],
                    "hint": t["networks_hint"]}),
            summary, *share_picture, status, body,
        ],
    }
    pages = {
        "name": "pages", "label": t["pages"], "label_singular": t["page"],
        "folder": _repo_path(settings, settings["PAGE_PATHS"][0], cwd), **folder_collection,
        "fields": [*common("page"), {**summary, "required": False}, *share_picture, body],
    }
    nschema = network_schema(languages)
    network_fields = SchemaFields(nschema, languages, labels).fields(nschema)
    networks = {
        "name": "networks", "label": t["networks"], "label_singular": t["network"],
        "folder": _repo_path(settings, settings.get("NETWORKS_PATH", "networks"), cwd),
        "create": True, "format": "yml", "extension": "yaml", "slug": "{{fields.slug}}",
        "identifier_field": "slug", "summary": "{{fields.name." + primary + "}}",
        "fields": network_fields,
    }
    config = {
        "backend": dict(s["DECAP_BACKEND"]),
        "locale": locale,
        "publish_mode": "simple",
        "media_folder": _repo_path(settings, s["DECAP_MEDIA_PATH"], cwd),
        # What Decap writes for an upload: `{static}/images/name.jpg`, Pelican's own link to
        # content/images/name.jpg (header image: and text alike). Not "/images": Decap would
        # show such a path from the site itself, where no original is published (the build
        # serves only the pictures it made), so the editor's preview would stay empty.
        "public_folder": f"{{static}}/{s['DECAP_MEDIA_PATH']}",
        "i18n": {"structure": "multiple_files", "locales": languages, "default_locale": primary},
        "collections": [blog, pages, networks],
    }
    if s["DECAP_LOCAL_BACKEND"]:
        host = urlsplit(s["DECAP_LOCAL_BACKEND"]).hostname
        config["local_backend"] = {"url": s["DECAP_LOCAL_BACKEND"], "allowed_hosts": sorted({host, "127.0.0.1", "localhost"})}
    return config


# --- the Content-Security-Policy of the editor ---------------------------------------------

def admin_policy(settings, for_meta=False):
    """The CSP of /admin/ alone: what Decap needs beyond the site's own policy. Its
    styles are injected at run time (emotion: 'unsafe-inline'), it compiles its config
    schema (ajv: 'unsafe-eval'), it talks to GitHub's API, or in development to
    decap-server on loopback, reads and shows blobs (uploads) and shows GitHub avatars."""
    s = with_defaults(settings)
    # blob: the pictures an editor uploads are read back from their blob: URL (Decap fetches
    # it) to be shown in the editor and its preview before they are saved.
    connect = ["'self'", "blob:"]
    if s["DECAP_LOCAL_BACKEND"]:
        parts = urlsplit(s["DECAP_LOCAL_BACKEND"])
        connect.append(f"{parts.scheme}://{parts.netloc}")
    backend = s["DECAP_BACKEND"] or {}
    img = ["'self'", "data:", "blob:"]
    if backend.get("name") == "github":
        connect.append(backend.get("api_root", "https://api.github.com"))
        img.append("https://avatars.githubusercontent.com")
    directives = {
        "default-src": ["'none'"],
        "script-src": ["'self'", "'unsafe-eval'"],
        "style-src": ["'self'", "'unsafe-inline'"],
        "img-src": img,
        "font-src": ["'self'", "data:"],
        "connect-src": connect,
        "media-src": ["'self'", "blob:"],
        "form-action": ["'none'"],
        "base-uri": ["'none'"],
    }
    if not for_meta:
        directives["frame-ancestors"] = ["'none'"]
    return "; ".join(f"{d} {' '.join(v)}" for d, v in directives.items())


def admin_headers(settings):
    """(path pattern, headers) for the static host's `_headers`: the editor's own CSP, and an
    opener policy that lets the GitHub login window (on the form service) answer it."""
    s = with_defaults(settings)
    return f"/{s['DECAP_PATH']}/*", {
        "Content-Security-Policy": admin_policy(settings),
        "Cross-Origin-Opener-Policy": "same-origin-allow-popups",
    }
