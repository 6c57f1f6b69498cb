"""Production settings: everything from pelicanconf.py, with absolute URLs."""

import os
import sys

sys.path.append(os.path.dirname(os.path.abspath(__file__)))
from pelicanconf import *  # noqa: E402,F403

SITEURL = os.environ.get("SITEURL", SITE_ORIGIN)  # noqa: F405
RELATIVE_URLS = False
FORM_ENDPOINT = os.environ.get("FORM_ENDPOINT", "https://forms.knnadvies.nl/join/{slug}")
LOAD_CONTENT_CACHE = False
