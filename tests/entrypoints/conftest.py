"""The README's commands, started as a newcomer starts them, from a clean copy of the tree.

A clean copy holds the tracked and unignored files of this tree (what a fresh clone of it
would hold, plus uncommitted work), never the developer's .venv, output/ or var/. The first
`make` run in it sets it up from scratch, exactly as on a fresh machine; later tests reset
the copy's files to the tree's (keeping that .venv, whose editable install points at the
copy) instead of paying for a second set-up.

`invoke test` distributes the tests by file (`--dist loadfile`), but this directory is one unit of
work (tests/conftest.py: work_unit): its tests run one after another on one worker, which sets the
clean copy up once. Every test that starts `make serve`, which takes the fixed ports the README
names (8000, 8080, 8025, 8081), is in test_make_serve.py; nothing else binds them.
(Not `--dist loadgroup` with an xdist_group mark: with pytest 9.2 the mark no longer groups,
pytest-xdist issue #1386, and the tests would start two `make serve` at once.)
"""

import os
import shutil
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from tests.support import IN_CI, ROOT, require_executable

KEEP = {".venv", "node_modules"}  # set up by `make` in the copy; everything else is reset


def tree_files(root=ROOT):
    """The tracked and unignored files of `root`, relative paths (what a clone would hold)."""
    out = subprocess.run(["git", "ls-files", "--cached", "--others", "--exclude-standard", "-z"],
                         cwd=root, capture_output=True, check=True).stdout
    return [name for name in out.decode().split("\0") if name and (root / name).is_file()]


class CleanTree:
    def __init__(self, path):
        self.path = Path(path)

    def reset(self):
        """Make the copy hold exactly this tree's files again (.venv and node_modules kept)."""
        self.path.mkdir(parents=True, exist_ok=True)
        for entry in self.path.iterdir():
            if entry.name not in KEEP:
                shutil.rmtree(entry) if entry.is_dir() and not entry.is_symlink() else entry.unlink()
        for name in tree_files():
            (self.path / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(ROOT / name, self.path / name)
        return self

    def run(self, *cmd, timeout=600, env=None, **kw):
        return subprocess.run(list(cmd), cwd=self.path, env=env or clean_env(), capture_output=True, text=True,
                              timeout=timeout, **kw)


def clean_env(**extra):
    """The environment of a newcomer's shell: no virtualenv active, nothing of pytest's, nor of the
    `make test` that started the suite (its job server)."""
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("PYTEST", "VIRTUAL_ENV", "FORMSERVICE_", "PYTHON", "MAKE"))
           and k not in ("COV_CORE_SOURCE", "MFLAGS")}
    venv_bin = str(Path(os.environ.get("VIRTUAL_ENV", ROOT / ".venv")) / "bin")
    env["PATH"] = os.pathsep.join(p for p in env.get("PATH", "").split(os.pathsep) if p != venv_bin)
    env.update(extra)
    return env


@pytest.fixture(scope="session")
def clean_tree(tmp_path_factory):
    require_executable("make")
    require_executable("git")
    return CleanTree(tmp_path_factory.mktemp("clean") / "knn-site").reset()


# --- processes ---------------------------------------------------------------------------------

class Started:
    """A command started in a session of its own (as a terminal starts a job), its output in a file."""

    def __init__(self, cmd, cwd, log_path, env=None):
        self.log_path = Path(log_path)
        self._log = open(self.log_path, "wb")
        self.proc = subprocess.Popen(cmd, cwd=cwd, env=env or clean_env(), stdout=self._log,
                                     stderr=subprocess.STDOUT, start_new_session=True)
        self.session = self.proc.pid

    def output(self):
        self._log.flush()
        return self.log_path.read_text(encoding="utf-8", errors="replace")

    def members(self):
        """The live processes of this job's session (the command and everything it started)."""
        return processes_in_session(self.session)

    def interrupt(self):
        """Ctrl-C in the terminal: SIGINT to the job's whole process group."""
        os.killpg(self.session, signal.SIGINT)

    def stop(self):
        if self.members():
            with_suppressed(lambda: os.killpg(self.session, signal.SIGTERM))
            wait_until(lambda: not self.members(), 15, "the job to stop")
            for pid in self.members():
                with_suppressed(lambda: os.kill(pid, signal.SIGKILL))
        with_suppressed(lambda: self.proc.wait(10))
        self._log.close()


def with_suppressed(fn):
    try:
        fn()
    except (OSError, subprocess.TimeoutExpired, AssertionError):
        pass


def processes_in_session(sid):
    """Pids of live (not zombie) processes whose session id is `sid`, from /proc."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        fields = stat[stat.rindex(")") + 2:].split()  # after "pid (comm) "
        state, session = fields[0], int(fields[3])
        if session == sid and state != "Z":
            found.append(int(entry.name))
    return found


def cmdline(pid):
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
    except OSError:
        return ""


def wait_until(condition, timeout, what):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.2)
    raise AssertionError(f"timed out after {timeout} s waiting for {what}")


def port_free(port):
    with socket.socket() as s:
        # As a server binds: a port whose last connections are in TIME_WAIT is free.
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            return False
        return True


def ports_taken(*ports):
    """'' when every port is free; else what holds them, as `ss` shows the sockets."""
    busy = [p for p in ports if not port_free(p)]
    if not busy:
        return ""
    sockets = subprocess.run(["ss", "-tanp"], capture_output=True, text=True).stdout.splitlines()
    held = [line for line in sockets if any(f"127.0.0.1:{p} " in line for p in busy)]
    return f"ports {busy} are taken:\n" + "\n".join(held)


def require_ports_free(*ports):
    busy = [p for p in ports if not port_free(p)]
    if busy:
        message = f"ports {busy} are in use on 127.0.0.1: stop whatever holds them (your own make serve?)"
        pytest.fail(message) if IN_CI else pytest.skip(message)


def http_get(url, timeout=10, headers=None):
    """(status, headers, body) of a GET, errors included, with no redirect followed."""

    class NoRedirect(urllib.request.HTTPRedirectHandler):
        def redirect_request(self, *args, **kwargs):
            return None

    opener = urllib.request.build_opener(NoRedirect)
    request = urllib.request.Request(url, headers=headers or {})
    try:
        with opener.open(request, timeout=timeout) as r:
            return r.status, r.headers, r.read()
    except urllib.error.HTTPError as e:
        return e.code, e.headers, e.read()


def wait_http(url, job, timeout):
    """Wait until `url` answers 200 while `job` runs; fail with the job's output otherwise."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if job.proc.poll() is not None:
            pytest.fail(f"{url}: the command ended ({job.proc.returncode}) before answering:\n{job.output()[-4000:]}")
        try:
            if http_get(url, timeout=2)[0] == 200:
                return
        except OSError:
            pass
        time.sleep(0.3)
    pytest.fail(f"{url} did not answer 200 within {timeout} s:\n{job.output()[-4000:]}")
