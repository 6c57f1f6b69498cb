"""The one shape of a content problem, for the build, `invoke check`, the network model and the
form service (which reads the network files with the model). Imports nothing."""

from dataclasses import dataclass


@dataclass(frozen=True, order=True)
class Problem:
    """One problem, printed as ``file:line:col: field: message`` (line and col 1-based)."""

    path: str
    line: int
    col: int
    field: str
    message: str

    def __str__(self):
        return f"{self.path}:{self.line}:{self.col}: {self.field}: {self.message}"
