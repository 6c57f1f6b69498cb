"""Imports run one way: core <- plugins <- sitebuild <- tasks.py, tools/, bench/; formservice <- core.

Read from the source with `ast` (every import, at module level or inside a function), so a
cycle cannot hide in a function body.
"""

import ast
import shutil
import tomllib
from pathlib import Path

from tests.support import ROOT

PACKAGES = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["tool"]["setuptools"]["package-dir"]
PLUGINS = {name for name, path in PACKAGES.items() if path.startswith("plugins/")}
# Who may import whom (besides itself). Plugins may use each other as long as no cycle forms.
ALLOWED = {
    "core": set(),
    "formservice": {"core"},
    **{p: {"core"} | PLUGINS for p in PLUGINS},
    "sitebuild": {"core"} | PLUGINS,
    "tools": {"core", "sitebuild"} | PLUGINS,
    "bench": {"core", "sitebuild", "formservice"} | PLUGINS,
}


def imports_of(package, root=ROOT):
    """{imported top-level package: [(file, line, inside a function)]} of one package."""
    found = {}
    for path in sorted((root / PACKAGES[package]).rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        in_function = {id(n) for f in ast.walk(tree) if isinstance(f, (ast.FunctionDef, ast.AsyncFunctionDef))
                       for n in ast.walk(f)}
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names = [node.module]
            else:
                continue
            for name in names:
                top = name.split(".")[0]
                if top in PACKAGES and top != package:
                    found.setdefault(top, []).append((path.relative_to(root), node.lineno, id(node) in in_function))
    return found


GRAPH = {package: imports_of(package) for package in PACKAGES}


def test_every_package_is_placed():
    assert set(ALLOWED) == set(PACKAGES)


def test_each_package_imports_only_what_its_layer_may():
    wrong = [f"{where}:{line}: {package} imports {other}" for package, found in GRAPH.items()
             for other, places in found.items() if other not in ALLOWED[package] for where, line, _ in places]
    assert not wrong, "\n".join(wrong)


def test_no_cycle_between_top_level_packages():
    def reachable(start):
        seen, todo = set(), [start]
        while todo:
            for nxt in GRAPH[todo.pop()]:
                if nxt not in seen:
                    seen.add(nxt)
                    todo.append(nxt)
        return seen

    assert [p for p in PACKAGES if p in reachable(p)] == []


def test_no_project_import_is_hidden_in_a_function_below_the_top_layer():
    # tools/ and bench/ may defer heavy imports; below them a function-level import of the
    # project would only be there to dodge a cycle.
    hidden = [f"{where}:{line}: {package} imports {other} inside a function"
              for package, found in GRAPH.items() if package not in ("tools", "bench")
              for other, places in found.items() for where, line, inside in places if inside]
    assert not hidden, "\n".join(hidden)


def test_the_checker_sees_an_import_planted_in_a_function(tmp_path):
    shutil.copytree(ROOT / "core", tmp_path / "core")
    (tmp_path / "core" / "probe.py").write_text("def f():\n    from buildcheck import report\n", encoding="utf-8")
    assert imports_of("core", tmp_path) == {"buildcheck": [(Path("core/probe.py"), 2, True)]}
