"""core.source and core.dates: the one reading of a source file that check and
build share (the planted-mistake tests in test_editor_mistakes.py run it end to end)."""

import pytest

from core.dates import parse_date
from core.source import check_body, normalize, parse_header

LANGS = ["nl", "en"]


@pytest.mark.parametrize("written", [
    "2019-05-03", "03-05-2019", "3-5-2019", "03/05/2019", "3/5/2019", "03.05.2019", "3.5.2019", "3 mei 2019",
    "3 Mei 2019", "03 mei 2019", "3 mei, 2019", "vrijdag 3 mei 2019", "vr 3 mei 2019", "3 May 2019", "May 3, 2019",
    "Friday, 3 May 2019", "3rd May 2019", "3 mei. 2019", "2019/05/03", "2019/5/3", " 3-5-2019 ",
])
def test_every_common_way_of_writing_3_may_2019(written):
    assert parse_date(written) == ("2019-05-03", None)


@pytest.mark.parametrize("written, iso", [
    ("3-5-2019 14:30", "2019-05-03 14:30"), ("3-5-2019 9.05", "2019-05-03 09:05"),
    ("2019-05-03 14:30:15", "2019-05-03 14:30:15"), ("2019-05-03T14:30", "2019-05-03 14:30"),
    ("2019-05-03T10:00:00Z", "2019-05-03T10:00:00+00:00"), ("12-1-2020", "2020-01-12"),
    ("2019-05-03T10:00:00.000Z", "2019-05-03T10:00:00+00:00"),  # as browser-based editors write it
    ("1 maart 2020", "2020-03-01"), ("1 mrt 2020", "2020-03-01"), ("29-2-2020", "2020-02-29"),
])
def test_more_dates(written, iso):
    assert parse_date(written) == (iso, None)


@pytest.mark.parametrize("written, message", [
    ("03-05-19", "is ambiguous (day 3, month 5, but which century?)"),
    ("3 mei '19", "write the year in full"),
    ("31-02-2019", "read as day 31 of februari 2019, and that month has no day 31"),
    ("29-2-2019", "that month has no day 29"),
    ("05-13-2019", "read day first, as day, month, year, there is no month 13"),
    ("2019-13-01", "there is no month 13"),
    ("maandag 3 mei 2019", "3 mei 2019 is a vrijdag, not a maandag"),
    ("3 mij 2019", "is not a date"),
    ("3-5", "has no year"),
    ("gisteren", "is not a date; write it as 3-5-2019, 3 mei 2019 or 2019-05-03"),
    ("3-5-2019 25:00", "the time 25:00 does not exist"),
    ("", "no date given"),
])
def test_ambiguous_or_impossible_dates_are_errors_naming_what_was_understood(written, message):
    iso, problem = parse_date(written)
    assert iso is None and message in problem


def header(text, article=True):
    return parse_header("x.md", normalize(text), LANGS, article)


def test_yaml_front_matter_lists_quotes_and_dates():
    h = header("---\ntitle: \"Samen: sterker\"\nlang: nl\ntranslation_key: k\ndate: 03-05-2019\n"
               "tags: [samenwerking, 'netwerken, regio']\nnetworks:\n  - suspacc\n  - bernn\n"
               "summary: >\n  Twee\n  regels.\n---\n\nTekst.\n")
    assert [str(p) for p in h.problems] == ["x.md:6:22: tags: each item of the list must be one plain text, without commas"]
    h = header("---\ntitle: \"Samen: sterker\"\nlang: nl\ntranslation_key: k\ndate: 03-05-2019\n"
               "tags: [samenwerking, netwerken]\nnetworks:\n  - suspacc\n  - bernn\n"
               "summary: >\n  Twee\n  regels.\n---\n\nTekst.\n")
    assert h.problems == []
    assert h.format == "yaml"
    assert h.meta == {"title": "Samen: sterker", "lang": "nl", "translation_key": "k", "date": "2019-05-03",
                      "tags": ["samenwerking", "netwerken"], "networks": ["suspacc", "bernn"],
                      "summary": "Twee regels."}
    assert h.items["networks"] == [("suspacc", 8, 5), ("bernn", 9, 5)]
    assert h.where["date"] == (5, 7)
    assert h.body_line == 14  # the line after the closing ---


def test_a_date_yaml_reads_itself_is_kept_as_written():
    h = header("---\ntitle: T\nlang: nl\ntranslation_key: k\ndate: 2019-05-03\nsummary: S\n---\n\nTekst.\n")
    assert h.meta["date"] == "2019-05-03" and h.problems == []


@pytest.mark.parametrize("text, expected", [
    ("---\ntitle: [a, b]\nlang: nl\ntranslation_key: k\ndate: 2019-05-03\nsummary: S\n---\n",
     "x.md:2:8: title: expected one text, not a list"),
    ("---\ntitle: T\ntitle: U\nlang: nl\ntranslation_key: k\ndate: 2019-05-03\nsummary: S\n---\n",
     "x.md:3:1: title: given twice (first on line 2)"),
    ("---\ntitle: {nl: T}\nlang: nl\ntranslation_key: k\ndate: 2019-05-03\nsummary: S\n---\n",
     "x.md:2:8: title: expected a text, not 'key: value' pairs"),
    ("---\n- title\n---\n", "x.md:2:1: metadata: the front matter must be 'key: value' lines"),
    ("---\ntitle: \"T\nlang: nl\n---\n", "x.md:3:9: metadata: not valid YAML: found unexpected end of stream"),
    ("---\ntitle: T\nlang: fr\ntranslation_key: k\ndate: 2019-05-03\nsummary: S\n---\n",
     "x.md:3:7: lang: 'fr' is not a site language (nl, en)"),
    ("title: T\nlang: nl\ntranslation_key: k\ndate: 2019-05-03\nsummary: S\n---\n",
     "x.md:6:1: metadata: expected 'key: value', got '---' (a YAML front matter block starts with --- on the "
     "very first line)"),
    ("title: T\nlang: nl\ntranslation_key: k\ndate: 2019-05-03\nsummary: S\nstatus: klaar\n",
     "x.md:6:9: status: 'klaar' is not one of draft, hidden, published, skip"),
])
def test_what_is_not_understood_is_an_error(text, expected):
    printed = [str(p) for p in header(text).problems]
    assert printed and printed[0].startswith(expected), printed


def test_an_unreadable_front_matter_is_one_problem():
    assert [str(p) for p in header("---\ntitle: \"T\nlang: nl\n---\n").problems] == [
        "x.md:3:9: metadata: not valid YAML: found unexpected end of stream: a quote is not closed: end the text "
        "with the same quote it starts with (\" or ')"]


def test_bom_and_crlf_read_like_plain_lines():
    plain = "title: T\nlang: nl\ntranslation_key: k\ndate: 3 mei 2019\nsummary: S\n\nTekst.\n"
    odd = normalize("\ufeff" + plain.replace("\n", "\r\n"))
    assert odd == plain
    assert header(odd).meta == header(plain).meta


def test_text_checks_skip_code_and_comments():
    text = ("title: T\n\n`<script>` en tekst\n```\n<iframe>\n[half](x\n```\n"
            "<!-- <iframe src=x> [half](y -->\n    <script>\n")
    problems, links = check_body("x.md", text, 3)
    # An indented line is a code block only after an empty line in Markdown; the checker
    # does not guess, so it reports it (a false alarm is safer than a script on the page).
    assert [(p.line, p.field) for p in problems] == [(9, "html")]


def test_an_embed_a_developer_allowed_passes_and_others_name_the_setting():
    body = ('title: T\n\n<iframe src="https://www.openstreetmap.org/export/embed.html"></iframe>\n\n'
            '<video src="/images/film.mp4"></video>\n')
    problems, _ = check_body("x.md", body, 3, {})
    assert [(p.line, p.message.split(":")[0]) for p in problems] == [(3, "<iframe>"), (5, "<video>")]
    assert 'PUBLISHING_CSP_EXTRA = {"frame-src": ["https://www.openstreetmap.org"]}' in problems[0].message
    assert 'PUBLISHING_CSP_EXTRA = {"media-src": ["\'self\'"]}' in problems[1].message
    allowed = {"PUBLISHING_CSP_EXTRA": {"frame-src": ["https://www.openstreetmap.org"], "media-src": ["'self'"]}}
    assert check_body("x.md", body, 3, allowed)[0] == []
    onclick = body.replace("<video ", "<video onplay=\"x()\" ")
    assert [p.line for p in check_body("x.md", onclick, 3, allowed)[0]] == [5]  # script is never allowed


YAML_HEADERS = [
    'title: "Bijeenkomst #3"', "title: Bijeenkomst #3", "tags: [a, b]", "tags:\n  - a\n  - b", "date: 2019-05-03",
    "summary: >\n  folded\n  text", "summary: |\n  kept\n  lines", "title: 'it''s'", "title: Café – “quoted”",
    "title: a: b", "title: [unclosed", "title:\tx", "\ttitle: x", "title: x\n  y: z", "- a\n- b", "title: x\ntitle: y",
    "? complex\n: key", "title: &a x\nslug: *a", "title: !!str 3", "title:", "title: ~", "title: 'unclosed",
    "title: x\n\ttags: a", "title: \"a\tb\"", "title: x # comment", "title: x\n# comment\nslug: y", "title: @x",
    "title: `x", "title: %x", "title: x\r\nslug: y", "title: \"\\u00e9\"", "title: x\n...", "title: x\n---\nslug: y",
]


@pytest.mark.parametrize("text", YAML_HEADERS + [
    p.read_text(encoding="utf-8").split("---")[1].strip("\n")
    for p in sorted(__import__("tests.support", fromlist=["ROOT"]).ROOT.joinpath("content").rglob("*.md"))
    if p.read_text(encoding="utf-8").startswith("---")])
def test_libyaml_reads_a_header_as_pyyaml_does(text):
    """core.source reads front matter with libyaml's parser when it can: the same nodes (kind,
    tag, value, style, where each starts and ends) as PyYAML's own; a text it refuses is PyYAML's
    to explain."""
    import yaml

    from core.source import _compose

    def tree(node):
        if node is None:
            return None
        value = ([(tree(k), tree(v)) for k, v in node.value] if isinstance(node, yaml.MappingNode)
                 else [tree(v) for v in node.value] if isinstance(node, yaml.SequenceNode) else node.value)
        # a plain scalar's style is None in PyYAML, "" in libyaml: core.source reads both as "not style"
        # where a scalar ends tells a one-line value (core.source); a collection's end is not read
        end = (node.end_mark.line, node.end_mark.column) if isinstance(node, yaml.ScalarNode) else None
        return (type(node).__name__, node.tag, getattr(node, "style", None) or None, node.start_mark.line,
                node.start_mark.column, end, value)

    try:
        expected = tree(yaml.compose(text, Loader=yaml.SafeLoader))
    except yaml.YAMLError as e:
        with pytest.raises(yaml.YAMLError) as ours:
            _compose(yaml, text)
        assert str(ours.value) == str(e)
        return
    assert tree(_compose(yaml, text)) == expected
