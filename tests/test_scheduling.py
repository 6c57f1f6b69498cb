"""How `make test` spreads the suite over its two workers (`invoke test`: pytest-xdist, `--dist loadfile`)."""

import json
import os
import subprocess
import sys

from tests.support import ROOT

RECORD = """import json, os
from pathlib import Path

def test_where(request):
    with open(Path(__file__).parents[{up}] / "ran.jsonl", "a") as f:
        f.write(json.dumps([request.node.nodeid, os.environ["PYTEST_XDIST_WORKER"]]) + "\\n")
"""


def test_the_entry_point_tests_run_on_one_worker_and_other_files_spread(tmp_path):
    """The README's entry points share one clean copy of the tree per worker, set up from scratch
    (pip, npm: about a minute): all of tests/entrypoints/ goes to one worker, so it is set up
    once; every other file stays a unit of its own. A real pytest-xdist run of a small suite
    with the suite's own scheduling hook."""
    (tmp_path / "tests" / "entrypoints").mkdir(parents=True)
    (tmp_path / "tests" / "conftest.py").write_text("from tests.conftest import pytest_xdist_make_scheduler  # noqa: F401\n",
                                                    encoding="utf-8")
    for name in ("test_make_serve.py", "test_publish_nginx.py", "test_deploy_rsync.py"):
        (tmp_path / "tests" / "entrypoints" / name).write_text(RECORD.format(up=2), encoding="utf-8")
    others = [f"test_other_{n}.py" for n in range(6)]
    for name in others:
        (tmp_path / "tests" / name).write_text(RECORD.format(up=1), encoding="utf-8")
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    p = subprocess.run([sys.executable, "-m", "pytest", "-n", "2", "--dist", "loadfile", "-p", "no:cacheprovider",
                        "-q", "--rootdir", str(tmp_path), "--confcutdir", str(tmp_path), str(tmp_path / "tests")],
                       cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120)
    assert p.returncode == 0, p.stdout + p.stderr
    ran = dict(json.loads(line) for line in (tmp_path / "ran.jsonl").read_text(encoding="utf-8").splitlines())
    assert len(ran) == 9, ran
    entry_workers = {w for nodeid, w in ran.items() if "entrypoints/" in nodeid}
    assert len(entry_workers) == 1, ran
    assert len(set(ran.values())) == 2, ran  # the other files went to both workers
