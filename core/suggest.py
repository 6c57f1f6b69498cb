"""The one "did you mean": the closest known word to a mistyped one."""

import difflib


def closest(word, choices, cutoff=0.6):
    """The known choice closest to `word`, or None when none is close enough."""
    close = difflib.get_close_matches(str(word), sorted(map(str, choices)), n=1, cutoff=cutoff)
    return close[0] if close else None


def did_you_mean(word, choices, cutoff=0.6):
    """`` (did you mean 'x'?)`` to append to a message, or "" when nothing is close."""
    match = closest(word, choices, cutoff)
    return f" (did you mean {match!r}?)" if match is not None else ""
