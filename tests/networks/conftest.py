"""Helpers for the networks plugin tests: fixture networks, malformed files, site copies."""

import re
import shutil
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
FIXTURES = HERE / "fixtures" / "content"  # a small content tree: networks/, images/, blog/
MALFORMED = HERE / "malformed"
LANGS = ["nl", "en"]
EXPECT = re.compile(r"^# expect: (?P<line>\d+):(?P<col>\d+): (?P<field>\S+): (?P<message>.+)$")


def expectations(path):
    """The ``# expect: line:col: field: message-start`` lines at the top of a malformed file."""
    found = []
    for line in path.read_text(encoding="utf-8").splitlines():
        m = EXPECT.match(line)
        if not m:
            break
        found.append(m.groupdict())
    assert found, f"{path.name} has no '# expect:' line"
    return found


def content_tree(dest, *extra_network_files):
    """dest/content with the fixture networks, their images and the given extra network files."""
    content = Path(dest) / "content"
    shutil.copytree(FIXTURES / "networks", content / "networks")
    shutil.copytree(FIXTURES / "images", content / "images")
    for f in extra_network_files:
        shutil.copy2(f, content / "networks" / Path(f).name)
    return content


@pytest.fixture
def in_tmp(tmp_path, monkeypatch):
    """Work in tmp_path, so that problems name files as content/networks/<file>."""
    monkeypatch.chdir(tmp_path)
    return tmp_path
