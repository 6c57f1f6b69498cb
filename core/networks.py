"""The network model: the one loader of content/networks/*.yaml, for the site and the form service.

No Pelican import here: the form service imports this module too.

    from core.networks import load_networks, NetworkErrors
    networks = load_networks(Path("content/networks"), ["nl", "en"])

Every problem of every file is collected before anything is raised: ``NetworkErrors``
carries them all, each a :class:`core.problem.Problem` printed as
``file:line:col: field: message`` (line and column 1-based; the field is a path such as
``members[2].url`` or ``name.en``).

What is checked: YAML syntax, duplicate keys, the JSON Schema in network.schema.json
(Draft 2020-12: types, required fields, enums, unknown keys with a "did you mean" hint,
URL and e-mail syntax, one text per site language), and what a schema cannot express:
duplicate slugs and names across files, ``related`` and ``{network}`` references to
slugs that do not exist, duplicate question ids and option values, logo files.
"""

from __future__ import annotations

import json
import os
import re
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

import yaml
from jsonschema import Draft202012Validator, FormatChecker

from core import yamltext
from core.problem import Problem
from core.suggest import did_you_mean

__all__ = [
    "QUESTION_FIELD_PREFIX", "SCHEMA_PATH", "Contact", "Join", "Localized", "Member", "Network", "NetworkErrors",
    "Option", "Problem", "Question", "field_path", "is_email", "is_http_url",
    "load_networks", "network_files", "network_links", "normalized_name", "schema", "shown_path",
]

SCHEMA_PATH = Path(__file__).with_name("network.schema.json")

#: ``{network}slug`` (or ``|network|slug``) in Markdown text; the same syntax as
#: Pelican's ``{filename}`` links.
NETWORK_LINK = re.compile(r"[{|]network[|}](?P<slug>[^\s\"'()<>#?]*)")

#: The join form posts an extra question's answer as QUESTION_FIELD_PREFIX + question id
#: (``q_sector``), so it can never clash with the form's own fields (name, email, ...).
QUESTION_FIELD_PREFIX = "q_"

LOGO_SUFFIXES = (".svg", ".png", ".jpg", ".jpeg", ".webp", ".gif", ".avif")
_MAP_TAG = "tag:yaml.org,2002:map"
_SEQ_TAG = "tag:yaml.org,2002:seq"


# --- the model -----------------------------------------------------------------------------

class Localized(Mapping):
    """One text per language; read-only. ``name["nl"]``, ``dict(name)``, ``name == {...}``."""

    __slots__ = ("_texts",)

    def __init__(self, texts):
        self._texts = dict(texts)

    def __getitem__(self, lang):
        return self._texts[lang]

    def __iter__(self):
        return iter(self._texts)

    def __len__(self):
        return len(self._texts)

    def __hash__(self):
        return hash(tuple(self._texts.items()))

    def __repr__(self):
        return f"Localized({self._texts!r})"

    def __reduce__(self):
        return (Localized, (self._texts,))


@dataclass(frozen=True)
class Contact:
    """The coordinator: join requests go to ``email``. Never published."""

    name: str
    email: str


@dataclass(frozen=True)
class Member:
    name: str
    url: str | None = None
    kind: str | None = None


@dataclass(frozen=True)
class Option:
    value: str
    label: Localized


@dataclass(frozen=True)
class Question:
    id: str
    type: str
    label: Localized
    required: bool = False
    options: tuple[Option, ...] = ()

    @property
    def field_name(self):
        """The name of the form field that carries the answer: ``q_<id>``."""
        return QUESTION_FIELD_PREFIX + self.id


@dataclass(frozen=True)
class Join:
    open: bool
    questions: tuple[Question, ...] = ()


@dataclass(frozen=True)
class Network:
    slug: str
    name: Localized
    short_name: Localized | None
    kind: str
    region: Localized
    founded: int | None
    themes: tuple[Localized, ...]
    summary: Localized
    description: Localized
    members: tuple[Member, ...]
    website: str | None
    logo: str | None
    contact: Contact = field(repr=False)  # kept out of repr(): it must never end up in output
    join: Join
    related: tuple[str, ...]
    source_path: Path

    def text(self, field_name, lang):
        """A localized field in one language: a str (a list of str for ``themes``), or None."""
        value = getattr(self, field_name)
        if value is None:
            return None
        if isinstance(value, Localized):
            return value[lang]
        if isinstance(value, tuple) and all(isinstance(v, Localized) for v in value):
            return [v[lang] for v in value]
        raise ValueError(f"{field_name!r} is not a localized field")


class NetworkErrors(Exception):
    """All problems found in the network files, sorted by file, line and column."""

    def __init__(self, problems):
        self.problems = sorted(set(problems))
        super().__init__("\n".join(str(p) for p in self.problems))


# --- checks usable on their own -----------------------------------------------------------

_LABEL = re.compile(r"^(?!-)[^\W_](?:[\w-]{0,61}[^\W_])?$")
_EMAIL_LOCAL = re.compile(r"^[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*$")
_EMAIL_DOMAIN = re.compile(r"^([A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z]{2,63}$")


def is_http_url(value):
    """An absolute http(s) URL with a host name (or IP address) and nothing odd in it."""
    if not isinstance(value, str) or not value or any(c.isspace() or ord(c) < 32 for c in value):
        return False
    try:
        parts = urlsplit(value)
        parts.port  # noqa: B018  (raises ValueError for a bad port)
    except ValueError:
        return False
    if parts.scheme not in ("http", "https") or not parts.hostname or "\\" in value:
        return False
    host = parts.hostname
    if host.startswith("[") or ":" in host:  # IPv6 literal
        return True
    labels = host.rstrip(".").split(".")
    return len(labels) >= 2 and all(_LABEL.match(label) for label in labels)


def is_email(value):
    """A plain address: local@domain.tld (ASCII; no display name, no comments)."""
    if not isinstance(value, str) or len(value) > 254 or value.count("@") != 1:
        return False
    local, domain = value.split("@")
    return bool(len(local) <= 64 and _EMAIL_LOCAL.match(local) and _EMAIL_DOMAIN.match(domain))


def normalized_name(name):
    """A name reduced for comparison: no accents, case, spaces or punctuation."""
    decomposed = unicodedata.normalize("NFKD", name)
    return "".join(c for c in decomposed if c.isalnum() and not unicodedata.combining(c)).casefold()


def network_links(text):
    """The slugs of the ``{network}slug`` links in a Markdown text."""
    return [m.group("slug") for m in NETWORK_LINK.finditer(text)]


def schema(languages):
    """The JSON Schema, with the site's languages filled in for localized texts."""
    s = json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))
    localized = s["$defs"]["localized"]
    localized["required"] = list(languages)
    localized["propertyNames"] = {"enum": list(languages)}
    return s


_FORMATS = FormatChecker(formats=())
_FORMATS.checks("http-url")(is_http_url)
_FORMATS.checks("email")(is_email)


# --- reading YAML with positions ----------------------------------------------------------

class _Doc:
    """One parsed file: data plus the position of every key and value."""

    def __init__(self, path, shown):
        self.path = path
        self.shown = shown
        self.data = None
        self.keys = {}    # path tuple -> mark of the key (mapping entries only)
        self.values = {}  # path tuple -> mark of the value
        self.reported = set()  # paths already reported while reading: no schema errors below them
        self.nodes = 0  # nodes constructed: aliases must not blow a small file up
        self.lines = []  # the file's lines: what a value's line says beyond the value

    def at(self, path, key=False):
        """(line, col), 1-based, of the value (or key) at ``path``, else of its nearest parent."""
        path = tuple(path)
        while True:
            mark = (self.keys.get(path) if key else None) or self.values.get(path)
            if mark is not None:
                return mark.line + 1, mark.column + 1
            if not path:
                return 1, 1
            path = path[:-1]

    def problem(self, path, message, key=False, line_col=None):
        line, col = line_col or self.at(path, key=key)
        return Problem(self.shown, line, col, field_path(path), message)


def field_path(path):
    """('members', 2, 'url') -> 'members[2].url'."""
    out = ""
    for part in path:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else str(part)
    return out or "(file)"


def shown_path(path):
    """The path as shown in messages: relative to the working directory when inside it."""
    try:
        rel = os.path.relpath(path)
    except ValueError:
        return str(path)
    return str(path) if rel.startswith("..") else rel


def _construct(loader, node, doc, path, problems, depth=0):
    """Python data from a composed node; records marks, reports duplicate keys."""
    doc.values[path] = node.start_mark
    doc.nodes += 1
    if depth > 50 or doc.nodes > 100_000:
        if not doc.reported:
            problems.append(doc.problem(path, "nested too deeply or too big (a recursive alias?)"))
        doc.reported.add(path)
        return None
    expected_tag = {yaml.MappingNode: _MAP_TAG, yaml.SequenceNode: _SEQ_TAG}.get(type(node))
    if (node.tag != expected_tag) if expected_tag else (node.tag not in loader.yaml_constructors):
        # Only plain YAML: no !!python/..., !!set or custom tags.
        problems.append(doc.problem(path, f"unsupported YAML tag {node.tag!r}"))
        doc.reported.add(path)
        return None
    if isinstance(node, yaml.MappingNode):
        result, first_line = {}, {}
        for key_node, value_node in node.value:
            if not isinstance(key_node, yaml.ScalarNode):
                problems.append(Problem(doc.shown, key_node.start_mark.line + 1, key_node.start_mark.column + 1,
                                        field_path(path), "a key must be plain text"))
                continue
            # Keys are always text: "no:" or "on:" must not turn into booleans.
            key = key_node.value
            if key in result:
                problems.append(Problem(doc.shown, key_node.start_mark.line + 1, key_node.start_mark.column + 1,
                                        field_path(path + (key,)),
                                        f"key given twice (first on line {first_line[key]})"))
            else:
                first_line[key] = key_node.start_mark.line + 1
            doc.keys[path + (key,)] = key_node.start_mark
            result[key] = _construct(loader, value_node, doc, path + (key,), problems, depth + 1)
        return result
    if isinstance(node, yaml.SequenceNode):
        return [_construct(loader, item, doc, path + (i,), problems, depth + 1)
                for i, item in enumerate(node.value)]
    if not node.style and node.start_mark.line == node.end_mark.line < len(doc.lines):  # plain ("" in libyaml)
        comment = yamltext.cut_comment(doc.lines[node.end_mark.line], node.end_mark.column)
        if comment is not None:  # `summary: Bijeenkomst #3` would lose "#3"
            key = path[-1] if path and isinstance(path[-1], str) else "value"
            problems.append(doc.problem(path, yamltext.comment_problem(key, node.value, comment)))
            doc.reported.add(path)
    return loader.construct_object(node, deep=True)


_FAST_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
_EMPTY = object()


def _parse(text, doc, loader_class):
    """(data, problems) of one YAML document; raises yaml.YAMLError."""
    loader = loader_class(text)
    doc.lines = text.split("\n")
    problems = []
    try:
        node = loader.get_single_node()
        if node is None:
            return _EMPTY, []
        return _construct(loader, node, doc, (), problems), problems
    finally:
        loader.dispose()


def _read(path, shown):
    """(doc or None, problems) for one file: YAML syntax and duplicate keys."""
    doc = _Doc(path, shown)
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as e:
        return None, [Problem(shown, 1, 1, "file", f"not UTF-8 text ({e.reason} at byte {e.start})")]
    except OSError as e:
        return None, [Problem(shown, 1, 1, "file", f"cannot be read: {e.strerror}")]
    try:
        # libyaml parses about ten times faster; a file it rejects is parsed again by the
        # pure-Python parser, whose messages the editors see (one wording everywhere).
        doc.data, problems = _parse(text, doc, _FAST_LOADER)
    except yaml.YAMLError:
        doc = _Doc(path, shown)
        try:
            doc.data, problems = _parse(text, doc, yaml.SafeLoader)
        except yaml.MarkedYAMLError as e:
            mark = e.problem_mark or e.context_mark
            message = e.problem or "invalid YAML"
            if e.context:  # "while parsing a block mapping (line 3), expected <block end>, but found ..."
                where = ""
                if e.context_mark and mark and e.context_mark.line != mark.line:
                    where = f" (line {e.context_mark.line + 1})"
                message = f"{e.context}{where}, {message}"
            lines = text.split("\n")
            what = yamltext.advice(e.problem or "", e.context or "",
                                   lines[mark.line] if mark and mark.line < len(lines) else None,
                                   mark.column if mark else None)
            message = f"{what} ({message})" if what else message
            line, col = (mark.line + 1, mark.column + 1) if mark else (1, 1)
            return None, [Problem(shown, line, col, "yaml", message)]
        except yaml.YAMLError as e:
            return None, [Problem(shown, 1, 1, "yaml", str(e))]
    if doc.data is _EMPTY:
        return None, [Problem(shown, 1, 1, "(file)", "the file is empty")]
    if not isinstance(doc.data, dict):
        line, col = doc.at(())
        return None, problems + [Problem(shown, line, col, "(file)",
                                         f"expected the fields of one network (slug: ..., name: ...), got {_kind_of(doc.data)}")]
    return doc, problems


# --- schema errors as problems ------------------------------------------------------------

_TYPE_NAMES = {
    "string": "text", "integer": "a whole number", "number": "a number", "boolean": "true or false",
    "array": "a list", "object": "a mapping (key: value lines)", "null": "nothing",
}


def _show(value):
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _kind_of(value):
    if isinstance(value, bool):
        return f"{str(value).lower()} (a YAML boolean; put quotes around text such as 'yes', 'no' or 'on')"
    if isinstance(value, (int, float)):
        return f"a number ({value})"
    if isinstance(value, str):
        return f"text ({_show(value)})"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "a mapping"
    if value is None:
        return "nothing (an empty value)"
    return f"{type(value).__name__} ({value}; put quotes around it if it is text)"


def _schema_problems(doc, validator, languages):
    langs = ", ".join(languages)
    for error in validator.iter_errors(doc.data):
        path = tuple(error.absolute_path)
        if any(path[:len(done)] == done for done in doc.reported):
            continue
        sub = error.schema if isinstance(error.schema, dict) else {}
        custom = sub.get("x-messages", {}).get(error.validator)
        value = error.instance
        if "propertyNames" in error.relative_schema_path:
            # A key of a localized text that is not a site language.
            yield doc.problem(path + (value,), f"{value!r} is not a site language ({langs})"
                              f"{did_you_mean(value, languages)}", key=True)
        elif error.validator == "required":
            missing = [p for p in error.validator_value if p not in value]
            for prop in missing:
                if custom:
                    message = custom
                elif sub.get("x-localized"):
                    message = f"missing the {prop!r} translation (each text needs one per site language: {langs})"
                else:
                    message = "required field is missing"
                line_col = doc.at(path, key=True) if path else doc.at(())
                yield doc.problem(path + (prop,), message, line_col=line_col)
        elif error.validator == "additionalProperties" and error.validator_value is False:
            known = sub.get("properties", {})
            for key in value:
                if key not in known:
                    yield doc.problem(path + (key,), f"unknown key{did_you_mean(key, known)}", key=True)
        elif sub.get("x-field"):
            yield doc.problem(path + (sub["x-field"],), custom or error.message, key=True)
        elif custom:
            yield doc.problem(path, custom.format(value=_show(value), languages=langs, got=_kind_of(value)))
        else:
            yield doc.problem(path, _message(error, value))


def _message(error, value):
    v, expected = error.validator, error.validator_value
    if v == "type":
        names = [expected] if isinstance(expected, str) else expected
        return f"expected {' or '.join(_TYPE_NAMES.get(n, n) for n in names)}, got {_kind_of(value)}"
    if v == "enum":
        return f"{_show(value)} is not one of: {', '.join(map(str, expected))}{did_you_mean(value, expected)}"
    if v == "const":
        return f"must be {expected!r}"
    if v == "minItems":
        return "must not be an empty list" if expected == 1 else f"needs at least {expected} items"
    if v == "uniqueItems":
        seen = []
        for item in value:
            if item in seen:
                return f"lists {_show(item)} more than once"
            seen.append(item)
    if v == "minLength":
        return "must not be empty"
    if v == "format":
        if expected == "http-url":
            return f"{_show(value)} is not a valid URL (http:// or https://, then a host name)"
        if expected == "email":
            return f"{_show(value)} is not a valid e-mail address"
    if v == "minimum":
        return f"must be at least {expected}"
    if v == "maximum":
        return f"must be at most {expected}"
    return error.message


# --- checks across fields and files -------------------------------------------------------

def _get(data, *path):
    """data[path...] if every step exists with the right container type, else None."""
    for part in path:
        if isinstance(part, int):
            if not isinstance(data, list) or part >= len(data):
                return None
        elif not isinstance(data, dict) or part not in data:
            return None
        data = data[part]
    return data


def _list(data, *path):
    value = _get(data, *path)
    return value if isinstance(value, list) else []


def _file_problems(doc, languages, content_root):
    """Checks within one file that the schema cannot express."""
    data = doc.data
    seen_ids = {}
    for i, q in enumerate(_list(data, "join", "questions")):
        qid = _get(q, "id")
        if isinstance(qid, str):
            if qid in seen_ids:
                yield doc.problem(("join", "questions", i, "id"),
                                  f"question id {qid!r} is used twice (first on line {seen_ids[qid]})")
            else:
                seen_ids[qid] = doc.at(("join", "questions", i, "id"))[0]
        seen_values = {}
        for j, option in enumerate(_list(q, "options")):
            value = _get(option, "value")
            if isinstance(value, str):
                where = ("join", "questions", i, "options", j, "value")
                if value in seen_values:
                    yield doc.problem(where, f"option value {value!r} is used twice (first on line {seen_values[value]})")
                else:
                    seen_values[value] = doc.at(where)[0]
    logo = _get(data, "logo")
    if isinstance(logo, str) and logo:
        parts = Path(logo).parts
        if Path(logo).is_absolute() or ".." in parts or "\\" in logo:
            yield doc.problem(("logo",), f"{logo!r} must be a path inside the content directory, e.g. images/logo.svg")
        elif not logo.lower().endswith(LOGO_SUFFIXES):
            yield doc.problem(("logo",), f"{logo!r} is not an image ({', '.join(LOGO_SUFFIXES)})")
        elif not (Path(content_root) / logo).is_file():
            yield doc.problem(("logo",), f"{logo!r} does not exist in {shown_path(content_root)}/")


def _localized_texts(doc, field_name):
    value = _get(doc.data, field_name)
    if isinstance(value, dict):
        for lang, text in value.items():
            if isinstance(text, str):
                yield (field_name, lang), text


def _cross_problems(docs, languages):
    problems = []
    by_slug = {}
    for doc in docs:
        slug = _get(doc.data, "slug")
        if not isinstance(slug, str):
            continue
        if slug in by_slug:
            problems.append(doc.problem(("slug",), f"slug {slug!r} is already used by {by_slug[slug].shown}"))
        else:
            by_slug[slug] = doc
    names = {}
    for doc in docs:
        name = _get(doc.data, "name")
        if not isinstance(name, dict):
            continue
        reported = False
        for lang, text in name.items():
            if not isinstance(text, str) or not normalized_name(text):
                continue
            other = names.get(normalized_name(text))
            if other is not None and other is not doc and not reported:
                problems.append(doc.problem(("name", lang), f"{text!r} is already the name of the network in "
                                                            f"{other.shown}: two files for the same network?"))
                reported = True
            names.setdefault(normalized_name(text), doc)
    for doc in docs:
        own = _get(doc.data, "slug")
        for i, slug in enumerate(_list(doc.data, "related")):
            if not isinstance(slug, str):
                continue
            if slug == own:
                problems.append(doc.problem(("related", i), "a network cannot be related to itself"))
            elif slug not in by_slug:
                problems.append(doc.problem(("related", i), f"no network has slug {slug!r}{did_you_mean(slug, by_slug)}"))
        for field_name in ("summary", "description"):
            for where, text in _localized_texts(doc, field_name):
                for slug in network_links(text):
                    if slug not in by_slug:
                        problems.append(doc.problem(where, f"{{network}}{slug}: no network has slug {slug!r}"
                                                           f"{did_you_mean(slug, by_slug)}"))
    return problems


# --- building the objects -----------------------------------------------------------------

def _localized(value, languages):
    return Localized({lang: value[lang].strip() for lang in languages}) if value is not None else None


def _network(doc, languages):
    d = doc.data
    join = d["join"]
    questions = tuple(
        Question(id=q["id"], type=q["type"], label=_localized(q["label"], languages),
                 required=bool(q.get("required", False)),
                 options=tuple(Option(value=o["value"], label=_localized(o["label"], languages))
                               for o in q.get("options", [])))
        for q in join.get("questions", []))
    return Network(
        slug=d["slug"],
        name=_localized(d["name"], languages),
        short_name=_localized(d.get("short_name"), languages),
        kind=d["kind"],
        region=_localized(d["region"], languages),
        founded=d.get("founded"),
        themes=tuple(_localized(t, languages) for t in d.get("themes", [])),
        summary=_localized(d["summary"], languages),
        description=_localized(d["description"], languages),
        members=tuple(Member(name=m["name"].strip(), url=m.get("url"), kind=m.get("kind"))
                      for m in d.get("members", [])),
        website=d.get("website"),
        logo=d.get("logo"),
        contact=Contact(name=d["contact"]["name"].strip(), email=d["contact"]["email"]),
        join=Join(open=join["open"], questions=questions),
        related=tuple(d.get("related", [])),
        source_path=doc.path,
    )


def network_files(directory):
    """The network files of a directory, in name order: *.yaml and *.yml, no hidden files."""
    return sorted(p for p in Path(directory).iterdir()
                  if p.suffix in (".yaml", ".yml") and not p.name.startswith(".") and p.is_file())


def load_networks(directory, languages, content_root=None):
    """Every network in ``directory``, in file-name order; raises NetworkErrors with all problems.

    ``languages``: the site's language codes; every localized text needs exactly these.
    ``content_root``: the directory ``logo`` paths are relative to (default: the parent
    of ``directory``, i.e. content/).
    """
    languages = list(languages)
    if not languages or not all(isinstance(code, str) and code for code in languages):
        raise ValueError("languages must be a non-empty list of language codes")
    directory = Path(directory)
    content_root = Path(content_root) if content_root is not None else directory.parent
    if not directory.is_dir():
        raise NetworkErrors([Problem(shown_path(directory), 1, 1, "(directory)", "no such directory")])
    validator = Draft202012Validator(schema(languages), format_checker=_FORMATS)
    docs, problems = [], []
    for path in network_files(directory):
        doc, found = _read(path, shown_path(path))
        problems += found
        if doc is None:
            continue
        problems += _schema_problems(doc, validator, languages)
        problems += _file_problems(doc, languages, content_root)
        docs.append(doc)
    problems += _cross_problems(docs, languages)
    if problems:
        raise NetworkErrors(problems)
    return [_network(doc, languages) for doc in docs]
