"""The build engine and the development server of the KNN Advies site.

    sitebuild.build      one Pelican run per language, the output swap, the sitewide files
    sitebuild.freshness  what a build depends on (fingerprints) and the content cache
    sitebuild.search     the Pagefind index, one per language
    sitebuild.errors     BuildFailed and the one-line rendering of a failed build's log
    sitebuild.devserver  the one development server (`make serve`): serve, watch, rebuild,
                         reload the browser, the form service and a mail sink beside it
    sitebuild.nginx      real nginx as a process on 127.0.0.1 with the shipped deploy/*.conf
                         blocks localized (the tests and the form service benchmark)

tasks.py (invoke) and the benchmark call these; nothing here imports tasks.py.
"""

from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DEV_SETTINGS = ROOT / "pelicanconf.py"
PUBLISH_SETTINGS = ROOT / "publishconf.py"
