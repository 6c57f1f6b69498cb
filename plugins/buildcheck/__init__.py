"""buildcheck: content errors stop the build, each reported on one line.

Every problem is printed to standard error as ``file:line:col: field: message`` (one
line, never wrapped by the logger), all problems of a run are reported together, and
the run then fails. Other plugins report through :func:`report`.

It is the one validation of content, for the build and ``invoke check`` alike:

* source.py reads a file as both read it (UTF-8, a byte-order mark and CRLF accepted;
  Pelican's ``key: value`` header or YAML front matter; dates day first, dates.py) and
  checks the header and the text (HTML the Content-Security-Policy would block or that
  runs script, half-written links, images without a description);
* check.py replaces Pelican's Markdown reader by one that uses it, and fails the run once
  every file is read (all problems at once), before anything is written;
* links.py then checks every link and image to the site itself against what the build
  makes, and two files written to one address;
"""

from core.problem import Problem  # noqa: F401  (the one shape of a problem; imports no Pelican)


def register():
    from .check import register as _register

    _register()


def __getattr__(name):
    # BuildError, report...: loaded on first use, so that `from buildcheck import Problem`
    # (the form service, the network loader) does not import Pelican.
    if name in ("BuildError", "report", "relpath", "finish_fields"):
        from . import check

        return getattr(check, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
