"""A failed build: the exception that carries its log, and that log as one line per problem."""

import os
import re


class BuildFailed(Exception):
    """A build stopped; ``errors`` is the log of the runs that failed (every problem once)."""

    def __init__(self, errors):
        super().__init__(errors)
        self.errors = errors


_PROBLEM = re.compile(r"^\S+:\d+:\d+: \S+: ")
_LOG_LINE = re.compile(r"^(?:\[[\d:]+\]\s+)?(?P<level>WARNING|ERROR|CRITICAL)\s+(?P<message>.*?)(?:\s{2,}\S+\.py:\d+)?$")
_FRAME = re.compile(r'^File "(?P<file>[^"]+)", line (?P<line>\d+), in ')
_FATAL_WARNING = "RuntimeError: Warning or error encountered"  # Pelican's --fatal warnings


def one_line_errors(text, root):
    """A failed build's log, one line per problem: buildcheck's ``file:line:col: field:
    message`` lines as they are, Pelican's warnings and errors without their time stamps and
    tracebacks, a template error as ``theme/templates/x.html:line:1: template: message``."""
    out, template = [], None
    for raw in text.splitlines():  # the innermost template in the traceback
        m = _FRAME.match(raw.strip())
        if m and m.group("file").endswith((".html", ".xml", ".j2")):
            template = (m.group("file"), m.group("line"))
    for raw in text.splitlines():
        line = raw.strip()
        if _PROBLEM.match(line) or line.startswith("buildcheck:"):
            out.append(line)
        elif m := _LOG_LINE.match(line):
            message = m.group("message").strip()
            if message == _FATAL_WARNING and out:
                continue
            if m.group("level") == "CRITICAL" and template and message.split(":")[0].endswith(
                    ("UndefinedError", "TemplateSyntaxError", "TemplateNotFound", "TemplateError")):
                out.append(f"{os.path.relpath(template[0], root)}:{template[1]}:1: template: {message}")
            else:
                out.append(f"pelican: {m.group('level').lower()}: {message}")
    if not out:
        out = [line.strip() for line in text.splitlines() if line.strip()][-1:] or ["the build failed"]
    return list(dict.fromkeys(out))
