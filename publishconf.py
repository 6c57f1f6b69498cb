"""Production settings: everything from pelicanconf.py beside this file, with absolute URLs."""

import os
from importlib.util import module_from_spec, spec_from_file_location

# Load the pelicanconf.py next to this file by path: a plain `from pelicanconf import *`
# could pick up another site's settings module already imported in the same process.
_spec = spec_from_file_location("_knn_pelicanconf", os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                                                 "pelicanconf.py"))
_base = module_from_spec(_spec)
_spec.loader.exec_module(_base)
globals().update({k: v for k, v in vars(_base).items() if k.isupper()})

SITEURL = os.environ.get("SITEURL", _base.SITE_ORIGIN)
RELATIVE_URLS = False
FORM_ENDPOINT = os.environ.get("FORM_ENDPOINT", "https://forms.knnadvies.nl/join/{slug}")
# A published build is always built from the sources, and leaves the development cache alone.
CACHE_CONTENT = LOAD_CONTENT_CACHE = False
PUBLISHING_SHOW_DRAFTS = False  # drafts and future-dated posts are not published
# The editor at /admin/ saves to GitHub (GITHUB_REPOSITORY is set in GitHub Actions); the form
# service serves the OAuth login. No local backend in a published build.
DECAP_BACKEND = {"name": "github", "repo": os.environ.get("GITHUB_REPOSITORY", "knnadvies/website"),
                 "branch": os.environ.get("DECAP_BRANCH", "main"),
                 "base_url": os.environ.get("DECAP_AUTH_ORIGIN", "https://forms.knnadvies.nl"),
                 "auth_endpoint": "auth"}
DECAP_LOCAL_BACKEND = None
