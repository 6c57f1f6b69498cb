"""buildcheck: content errors stop the build, each reported on one line.

Every problem is printed to standard error as ``file:line:col: field: message`` (one
line, never wrapped by the logger), all problems of a run are reported together, and
the run then fails. Other plugins report through :func:`report`.

It also replaces Pelican's Markdown reader by one that checks the metadata header
first: unknown keys (with a "did you mean" hint), a missing title, an unparsable date,
an unknown status or language.
"""

from .check import BuildError, Problem, report, register  # noqa: F401
