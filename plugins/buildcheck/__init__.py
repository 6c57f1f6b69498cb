"""buildcheck: content errors stop the build, each reported on one line.

Every problem is printed to standard error as ``file:line:col: field: message`` (one
line, never wrapped by the logger), all problems of a run are reported together, and
the run then fails. Other plugins report through :func:`report`.

It also replaces Pelican's Markdown reader by one that checks the metadata header
first: unknown keys (with a "did you mean" hint), a missing title, an unparsable date,
an unknown status or language.
"""

from sitebuild.problem import Problem  # noqa: F401  (the one shape of a problem; imports no Pelican)


def register():
    from .check import register as _register

    _register()


def __getattr__(name):
    # BuildError, report...: loaded on first use, so that `from buildcheck import Problem`
    # (the form service, the network loader) does not import Pelican.
    if name in ("BuildError", "report", "relpath", "did_you_mean"):
        from . import check

        return getattr(check, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
