"""The README is a door and docs/ holds the rest, one file per reader, true to the code: every
command the docs give names a real make target, invoke task (with its real options) or form
service command and flag. (The commands themselves are started by the entry-point tests,
the editors' tools tests and tests/test_add_language.py.)"""

import re

import pytest

from formservice.cli import build_parser
from tests.support import ROOT

README = ROOT / "README.md"
DOCS = sorted((ROOT / "docs").glob("*.md"))
ALL = [README, *DOCS]
COMMAND = re.compile(r"(?:^|[\s`(])(?P<tool>make|(?:\.venv/bin/)?invoke|(?:\.venv/bin/)?formservice)"
                     r" (?P<args>[^`\n|#]*)")


def make_targets():
    text = (ROOT / "Makefile").read_text(encoding="utf-8")
    return set(re.findall(r"^([a-z][a-z-]*):", text, re.M))


def invoke_tasks():
    from invoke import Collection

    import tasks

    collection = Collection.from_module(tasks)
    return {name: {f"--{a.name.replace('_', '-')}" for a in collection[name].get_arguments()}
            for name in collection.task_names}


def formservice_commands():
    parser = build_parser()
    sub = next(a for a in parser._actions if a.dest == "command")
    return {name: {o for a in p._actions for o in a.option_strings} for name, p in sub.choices.items()}


def code(path):
    """(line number, code) of a Markdown file: fenced and indented blocks, and `spans`."""
    fenced = False
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if line.lstrip().startswith("```"):
            fenced = not fenced
        elif fenced or line.startswith("    "):
            yield number, line
        else:
            for span in re.findall(r"`([^`]+)`", line):
                yield number, span


def commands(path):
    for number, line in code(path):
        for m in COMMAND.finditer(line):
            words = m.group("args").split()
            if words and re.fullmatch(r"[a-z][a-z-]*", words[0]):
                yield number, m.group("tool").rsplit("/", 1)[-1], words


def test_the_readme_is_a_door():
    lines = README.read_text(encoding="utf-8").splitlines()
    assert len(lines) <= 200, f"README.md has {len(lines)} lines"
    linked = set(re.findall(r"\]\((docs/[^)]+\.md)\)", README.read_text(encoding="utf-8")))
    assert linked == {f"docs/{p.name}" for p in DOCS}, "every file in docs/ is linked from the README, and exists"


@pytest.mark.parametrize("path", ALL, ids=lambda p: p.name)
def test_no_issue_numbers_or_history_in_the_docs(path):
    text = path.read_text(encoding="utf-8")
    assert not re.search(r"\bissues? #?\d+", text, re.I), "the docs describe the project as it is"


def test_the_editors_guide_is_in_dutch():
    text = (ROOT / "docs" / "redacteuren.md").read_text(encoding="utf-8")
    assert text.startswith("# Handleiding voor redacteuren")
    for word in ("bericht", "vertalen", "netwerk", "afbeelding", "browser", "teksteditor"):
        assert word in text.lower()


@pytest.mark.parametrize("path", ALL, ids=lambda p: p.name)
def test_every_command_in_the_docs_exists_with_its_options(path):
    targets, tasks, service = make_targets(), invoke_tasks(), formservice_commands()
    wrong = []
    for number, tool, words in commands(path):
        name, options = words[0], [w.split("=")[0] for w in words[1:] if w.startswith("--")]
        known = {"make": dict.fromkeys(targets, set()), "invoke": tasks, "formservice": service}[tool]
        if name not in known:
            wrong.append(f"{path.name}:{number}: {tool} {name}: no such command")
        else:
            wrong += [f"{path.name}:{number}: {tool} {name} {o}: no such option" for o in options
                      if o not in known[name] and o not in ("--help", "--list")]
    assert not wrong, "\n".join(wrong)


def test_the_command_check_finds_a_wrong_command(tmp_path):
    planted = tmp_path / "x.md"
    planted.write_text("Run `.venv/bin/invoke nieuw-bericht --taal de` and `make sreve`.\n", encoding="utf-8")
    found = list(commands(planted))
    assert [(t, w[0]) for _, t, w in found] == [("invoke", "nieuw-bericht"), ("make", "sreve")]
    assert "nieuw-bericht" not in invoke_tasks() and "sreve" not in make_targets()
