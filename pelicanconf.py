"""Development settings for the KNN Advies site. publishconf.py builds on these.

One Pelican run builds one language (see plugins/languages): the build task runs one
run per entry of LANGUAGES, in parallel, all writing into the same output tree.
"""

from jinja2 import StrictUndefined

SITENAME = "KNN Advies"
AUTHOR = "KNN Advies"
SITEURL = ""  # root-relative links for local preview; publishconf.py sets the host
PATH = "content"
TIMEZONE = "Europe/Amsterdam"

# --- languages -------------------------------------------------------------------------
# The first language is the default and lives at the site root; every other one lives
# under its prefix. Adding a language = one entry here + theme/translations/<code>/messages.po.
# "words" are the URL path words in that language.
DEFAULT_LANG = "nl"
LANGUAGES = {
    "nl": {
        "name": "Nederlands",
        "prefix": "",
        "words": {"blog": "blog", "tag": "tag", "author": "auteur", "category": "categorie",
                  "page": "pagina", "networks": "netwerken", "archive": "archief"},
    },
    "en": {
        "name": "English",
        "prefix": "en",
        "words": {"blog": "blog", "tag": "tag", "author": "author", "category": "category",
                  "page": "page", "networks": "networks", "archive": "archive"},
    },
}

# --- content ---------------------------------------------------------------------------
ARTICLE_PATHS = ["blog"]
PAGE_PATHS = ["pages"]
STATIC_PATHS = ["images"]
SLUGIFY_SOURCE = "title"
WITH_FUTURE_DATES = False  # a post dated in the future is a draft until its date
DEFAULT_PAGINATION = 10
SUMMARY_MAX_LENGTH = 40
DEFAULT_CATEGORY = "blog"
DEFAULT_DATE_FORMAT = "long"  # a Babel date format, applied by the languages plugin

# --- theme -----------------------------------------------------------------------------
THEME = "theme"
THEME_STATIC_DIR = "theme"
DIRECT_TEMPLATES = ["index", "tags", "authors", "categories", "archives"]
PAGINATED_TEMPLATES = {"index": None, "tag": None, "category": None, "author": None}
MENU_PAGES = ["over-ons", "contact"]  # page translation keys shown in the main navigation
MARKDOWN = {
    "extension_configs": {
        "markdown.extensions.extra": {},
        "markdown.extensions.toc": {"permalink": False},
        # Quotes, dashes and ellipses are made typographic here, while parsing; typogrify's
        # own smartypants pass (below) would do the same again, at a fifth of the build time.
        "markdown.extensions.smarty": {},
    },
    "output_format": "html5",
}
JINJA_ENVIRONMENT = {
    "trim_blocks": True,
    "lstrip_blocks": True,
    "extensions": ["jinja2.ext.i18n"],
    # A misspelt variable is an error, not an empty string.
    "undefined": StrictUndefined,
}
# typogrify, applied by our Markdown reader (plugins/buildcheck) so that Pelican's content
# cache keeps its result; Pelican's own pass (TYPOGRIFY) runs after the cache, on every build.
# Without "caps": it wraps SUSPACC/BERNN in <span class="caps">, which leaks into <title>.
TYPOGRIFY = False
BUILDCHECK_TYPOGRIFY = True
TYPOGRIFY_OMIT_FILTERS = ["caps", "smartypants"]
TYPOGRIFY_IGNORE_TAGS = ["pre", "code", "script", "title"]

# --- feeds (written per language by the languages plugin) ------------------------------
FEED_ALL_ATOM = None
FEED_ALL_RSS = None
CATEGORY_FEED_ATOM = None
TRANSLATION_FEED_ATOM = None
AUTHOR_FEED_ATOM = None
AUTHOR_FEED_RSS = None
LANGUAGES_FEED_ATOM = "feeds/atom.xml"  # relative to each language's prefix

# --- plugins ---------------------------------------------------------------------------
PLUGIN_PATHS = ["plugins"]
PLUGINS = ["buildcheck", "languages", "publishing", "network_pages", "decap", "images", "pelican.plugins.neighbors"]

# network pages plugin (plugins/network_pages; the model is networks/): one YAML file per network under PATH/NETWORKS_PATH.
NETWORKS_PATH = "networks"  # under PATH
PUBLISHING_FINGERPRINT = True  # css/main.<hash>.css
PUBLISHING_SHOW_DRAFTS = True  # drafts are written, with a banner, in development builds
NETWORKS_LATEST_POSTS = 3  # posts listed on a network's page
NETWORKS_JSON_SAVE_AS = "networks.json"  # machine-readable list, written once at the site root
NETWORKS_THANK_YOU_PAGE = "thank-you"  # translation_key of the page the join form returns to
NETWORKS_PRIVACY_PAGE = "privacy"  # translation_key of the page the consent box links to
FORM_ENDPOINT = "http://127.0.0.1:8080/join/{slug}"
CONTACT_EMAIL = "info@knnadvies.nl"

# decap plugin (plugins/decap): Decap CMS at /admin/, self-hosted from npm's decap-cms.
DECAP_BUNDLE = "node_modules/decap-cms/dist"  # installed by `make build`/`make serve` (npm ci)
# Production: GitHub, with the OAuth handshake served by the form service (README, "Editing in
# the browser"); publishconf.py sets the real repository and form service address.
DECAP_BACKEND = {"name": "github", "repo": "knnadvies/website", "branch": "main",
                 "base_url": "http://127.0.0.1:8080", "auth_endpoint": "auth"}
# Development: decap-server (npm), started beside the site, edits the working tree without a login.
DECAP_LOCAL_BACKEND = "http://127.0.0.1:8081/api/v1"

# images plugin (plugins/images): every JPEG/PNG/WebP/AVIF/HEIC under content/ is published upright,
# without metadata, in these widths as AVIF, WebP and JPEG (PNG with transparency), as <picture>.
IMAGES_WIDTHS = [480, 800, 1200, 1600]  # never wider than the original
IMAGES_FORMATS = ["avif", "webp"]  # besides the JPEG/PNG every browser shows
IMAGES_QUALITY = {"avif": 55, "webp": 75, "jpeg": 80}
IMAGES_SIZES = "(min-width: 44rem) 42rem, calc(100vw - 2rem)"  # the text column (.prose)
IMAGES_CACHE_PATH = "cache-images"  # by content hash; kept apart from cache/, which a settings change empties
IMAGES_MAX_MEGAPIXELS = 40  # larger originals are refused with a one-line message
IMAGES_MAX_MEGABYTES = 30
IMAGES_OG_SIZE = [1200, 630]  # the crop shared as og:image
IMAGES_OG_DEFAULT = None  # e.g. "images/share.jpg": og:image of pages without a picture of their own

# --- build -----------------------------------------------------------------------------
CACHE_CONTENT = True
LOAD_CONTENT_CACHE = True
CACHE_PATH = "cache"  # the languages plugin keeps one cache per language below it
GZIP_CACHE = False  # a few MB more on disk; each build spares compressing it all again
DELETE_OUTPUT_DIRECTORY = False  # the build task writes into a fresh directory, then swaps
RELATIVE_URLS = False

# The public address of the site: share links point here even in a local preview.
SITE_ORIGIN = "https://www.knnadvies.nl"
