"""decap: editing in the browser with Decap CMS at /admin/ (see decap.plugin).

* :mod:`decap.config` builds Decap's config.yml from the site's settings and the network
  JSON Schema, and the Content-Security-Policy of /admin/ (no Pelican import: the
  publishing plugin's ``_headers`` writer uses it after the runs);
* :mod:`decap.plugin` is the Pelican plugin: it validates the DECAP_* settings at start-up
  and, in the primary language's run, writes admin/index.html, admin/config.yml, admin.js
  and the self-hosted Decap bundle (from npm's decap-cms) into the output.

Settings (prefix DECAP_, see decap.config.DEFAULTS): DECAP_BUNDLE, DECAP_PATH,
DECAP_BACKEND, DECAP_LOCAL_BACKEND, DECAP_LOCALE, DECAP_MEDIA_PATH.
"""


def register():
    from .plugin import register as _register

    _register()
