"""Exports of a network's requests for its coordinator: CSV (spreadsheet-safe) and JSON.

`rows` are the join_requests rows of one network (store.requests_of).
"""

import csv
import io
import json
import unicodedata

from formservice.validation import QUESTION_PREFIX

FORMULA_CHARS = frozenset("=+-@")
CONTROL_STARTS = ("\t", "\r", "\n")
# Minus and plus signs that NFKC does not fold to ASCII but spreadsheets may still read as one.
MINUS_PLUS = frozenset("\u2212\u2796\u2795\u2010\u2011\u2012\u2013\u2014\u2015\ufe58")
BASE_COLUMNS = ["id", "created_at", "lang", "name", "email", "organisation", "message", "consent_at", "repeat_of"]


def _dangerous(text):
    """Starts with a tab/CR/LF, or - after whitespace and invisible format characters (zero-width
    spaces and joiners, BOM, directional marks: category Cf) - with = + - @ in any Unicode form."""
    if text.startswith(CONTROL_STARTS):
        return True
    for c in text:
        if c.isspace() or unicodedata.category(c) == "Cf":
            continue
        return unicodedata.normalize("NFKC", c)[:1] in FORMULA_CHARS or c in MINUS_PLUS
    return False


def neutralise(cell):
    """A cell a spreadsheet will not run as a formula (CSV injection): prefix with '."""
    text = "" if cell is None else str(cell)
    return "'" + text if _dangerous(text) else text


def _iso(dt):
    return dt.isoformat(timespec="seconds") + "Z" if dt else None


def _records(rows):
    return [{"id": r["id"], "created_at": _iso(r["created_at"]), "lang": r["lang"], "name": r["name"],
             "email": r["email"], "organisation": r["organisation"], "message": r["message"],
             "consent_at": _iso(r["consent_at"]), "repeat_of": r.get("repeat_of"), "answers": r["answers"] or {}}
            for r in rows]


def question_ids(network, records):
    ids = [q.id for q in network.join.questions] if network else []
    for r in records:  # answers to questions that have since been removed
        ids += [k for k in r["answers"] if k not in ids]
    return ids


def as_json(rows, slug, network):
    records = _records(rows)
    return json.dumps({"network": slug, "count": len(records), "requests": records},
                      ensure_ascii=False, indent=1) + "\n"


def as_csv(rows, slug, network):
    records = _records(rows)
    qids = question_ids(network, records)
    out = io.StringIO()
    out.write("\ufeff")  # so that spreadsheet programs read the file as UTF-8
    w = csv.writer(out, lineterminator="\r\n")
    w.writerow([neutralise(c) for c in BASE_COLUMNS + [QUESTION_PREFIX + q for q in qids]])
    for r in records:
        answers = r["answers"]
        w.writerow([neutralise(r[c]) for c in BASE_COLUMNS] + [neutralise(_cell(answers.get(q))) for q in qids])
    return out.getvalue()


def _cell(value):
    if value is True:
        return "yes"
    if value is False:
        return "no"
    return value


def render(fmt, rows, slug, network):
    return as_csv(rows, slug, network) if fmt == "csv" else as_json(rows, slug, network)
