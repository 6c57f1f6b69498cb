"""Section 9: from an editor's Publish to a finished production build, as the workflow's build
job does it for a push that changes only content/.

A fresh clone of the repository (its committed HEAD), `.venv` and `node_modules` restored from
archives of what `make` made from the same lock files (as actions/cache restores them), the
stamps touched (as the job does when both caches were hit), then the job's own steps: `make
.venv/.installed node_modules/.site` (nothing to do), `invoke check`, `make publish`. Each step
is timed; the total is the figure against the target. The set-up without caches (pip and npm
from their registries' caches on this machine) is timed once, as the first clone fills them.
"""

import os
import shutil
import subprocess
import tarfile
import time

from bench.report import Target, fmt, log, median
from sitebuild import ROOT

TARGET_SECONDS = 60
REPEATS = 2


def _run(cmd, cwd, what, timeout=1200):
    t = time.monotonic()
    p = subprocess.run(cmd, cwd=cwd, capture_output=True, text=True, timeout=timeout,
                       env={k: v for k, v in os.environ.items() if not k.startswith(("VIRTUAL_ENV", "PYTHON"))})
    if p.returncode != 0:
        raise RuntimeError(f"{what} exited {p.returncode}:\n{(p.stdout + p.stderr)[-1500:]}")
    return time.monotonic() - t


def _clone(target):
    if target.exists():
        shutil.rmtree(target)
    return _run(["git", "clone", "--quiet", str(ROOT), str(target)], target.parent, "git clone")


def _pack(tree, name, archive):
    with tarfile.open(archive, "w") as tar:
        tar.add(tree / name, arcname=name)


def _unpack(archive, tree):
    t = time.monotonic()
    with tarfile.open(archive) as tar:
        tar.extractall(tree, filter="tar")
    return time.monotonic() - t


def content_publish(work, quick, report):
    """A content-only push's build job, from a fresh clone with restored caches."""
    tree = work / "publish" / "knn-site"  # one path for every run: the venv's scripts name it
    tree.parent.mkdir(parents=True, exist_ok=True)
    _clone(tree)
    cold_setup = _run(["make", ".venv/.installed", "node_modules/.site"], tree, "make (set-up without caches)")
    log(f"[publish] set-up without caches: {cold_setup:.1f} s")
    archives = {name: work / "publish" / f"{name}.tar" for name in (".venv", "node_modules")}
    for name, archive in archives.items():
        _pack(tree, name, archive)
    runs = []
    for r in range(1 if quick else REPEATS):
        steps = {"clone": _clone(tree)}
        steps["restore caches"] = sum(_unpack(a, tree) for a in archives.values())
        for stamp in (".venv/.installed", "node_modules/.site"):
            (tree / stamp).touch()
        steps["set-up (make)"] = _run(["make", ".venv/.installed", "node_modules/.site"], tree, "make (set-up)")
        steps["invoke check"] = _run([".venv/bin/invoke", "check"], tree, "invoke check")
        steps["make publish"] = _run(["make", "publish"], tree, "make publish")
        steps["total"] = sum(steps.values())
        log(f"[publish] run {r + 1}: " + ", ".join(f"{k} {v:.1f} s" for k, v in steps.items()))
        runs.append(steps)
    names = list(runs[0])
    rows = [[name, fmt(median([run[name] for run in runs]), ".1f")] for name in names]
    total = median([run["total"] for run in runs])
    report.add("Publishing content (medians, seconds): a fresh clone with .venv and node_modules restored, "
               "to a finished production build",
               ["step", "seconds"], rows + [["(set-up without caches, once)", fmt(cold_setup, ".1f")]],
               [f"{len(runs)} run(s); the steps of the workflow's build job for a push that changes only "
                "content/ (what Publish in the browser editor commits): clone, restore the caches keyed by "
                "the lock files, make (nothing to do), invoke check, make publish (both languages, search "
                "index, sitemap)",
                "on GitHub add the runner's start, the cache download and the Pages deployment; the "
                "workflow's test job does not run for such a push"])
    report.targets.append(Target("publishing content", f"≤ {TARGET_SECONDS} s from a fresh clone with caches "
                                 "restored to a finished production build", f"{total:.1f} s",
                                 total <= TARGET_SECONDS))
