"""What an editor should do about YAML that is wrong, or that YAML reads otherwise than it looks:
one wording for the posts' front matter (core.source) and the network files (core.networks)."""

import re

# PyYAML's scanner and parser problems, and what to write instead.
_ADVICE = (
    ("found character '\\t' that cannot start any token",
     "a tab: YAML indents with spaces only, so replace the tab by spaces"),
    ("mapping values are not allowed here",
     "a value with ': ' in it needs quotes around it: title: \"Samen: sterker\""),
    ("found unexpected end of stream",
     "a quote is not closed: end the text with the same quote it starts with (\" or ')"),
    ("found unknown escape character",
     "a backslash in double quotes starts an escape: use single quotes, or write \\\\"),
    ("did not find expected key", None),
    ("expected <block end>, but found", None),
    ("did not find expected '-' indicator",
     "the indentation is off: each item of a list starts with '- ', lined up with the others"),
    ("could not find expected ':'",
     "a line that is not 'key: value': add the colon, or put quotes around a text that runs on"),
)


INDENTATION = "the indentation is off: line this line up with the other lines of the same level (spaces only)"


def advice(problem, context="", line_text=None, column=None):
    """What to do about a YAML error (its `problem` and `context` texts, and the line and column
    it names), or ""."""
    text = f"{context} {problem}"
    if "mapping values are not allowed here" in text and line_text is not None and column is not None \
            and re.fullmatch(r"\s+[\w-]+", line_text[:column]):
        return INDENTATION  # `   en: Out` indented under a value: a key where YAML expects more text
    for found, what in _ADVICE:
        if found in text:
            return what or INDENTATION
    return ""


def cut_comment(line, end_column):
    """The comment that YAML cut off a plain (unquoted) value ending at `end_column` of `line`,
    or None: `title: Bijeenkomst #3` is read as "Bijeenkomst", the rest as a comment."""
    rest = line[end_column:]
    m = re.match(r"\s+#(.*)$", rest)
    return m.group(0).strip() if m else None


def comment_problem(key, value, comment):
    """The message for a value that a ` #` cut short: what YAML read, and the fix."""
    whole = f"{value} {comment}"
    quoted = '"' + whole.replace("\\", "\\\\").replace('"', '\\"') + '"'
    return (f"YAML reads ' #' as the start of a comment, so this is read as {value!r}, without "
            f"{comment!r}: put the whole text in quotes: {key}: {quoted}")
