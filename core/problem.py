"""The one shape of a content problem, for the build, `invoke check`, the network model and the
form service (which reads the network files with the model). Imports nothing."""

from dataclasses import dataclass

ERROR, WARNING = "error", "warning"


@dataclass(frozen=True, order=True)
class Problem:
    """One problem, printed as ``file:line:col: field: message`` (line and col 1-based).

    A warning (``level=WARNING``, only from `invoke check`'s editors' checks) is printed with
    ``warning:`` before its message and does not fail the check."""

    path: str
    line: int
    col: int
    field: str
    message: str
    level: str = ERROR

    def __str__(self):
        warning = "warning: " if self.level == WARNING else ""
        return f"{self.path}:{self.line}:{self.col}: {self.field}: {warning}{self.message}"
