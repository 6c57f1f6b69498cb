"""publishing: what a production site needs beyond its pages.

* fingerprinted (cache-busting) file names for the theme's CSS and JS, through the
  Jinja function ``asset('css/main.css')``;
* one Content-Security-Policy, derived from the settings, for ``<meta>`` and ``_headers``;
* drafts: written with a banner when ``PUBLISHING_SHOW_DRAFTS`` is on (development),
  not written at all when it is off (production);
* after every language's run: sitemap.xml (with hreflang alternates), robots.txt and the
  ``_headers`` file for static hosts (see :mod:`publishing.sitewide`).

* ``PUBLISHING_WRITE_ONLY`` (the saved files, set by the development server's first step after
  a save): only the pages that show those posts are written (:mod:`publishing.selective`).

Settings (prefix PUBLISHING_): PUBLISHING_FINGERPRINT (bool), PUBLISHING_SHOW_DRAFTS (bool),
PUBLISHING_CSP_EXTRA (mapping of directive -> extra sources).
"""

from .plugin import register  # noqa: F401
