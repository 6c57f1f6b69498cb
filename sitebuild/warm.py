"""A warm Pelican: a process that has imported Pelican and the site's plugins once, and forks a
fresh run from itself for each request (the editing loop's first step, build.show_changes_first).

A run in a fresh process spends a third of a second importing Pelican, Markdown, Jinja, Babel,
lxml, Pillow and the plugins before it reads a file. The development server keeps one of these
ready; each run is a fork of it, so it starts with every module loaded and nothing else: the
plugins register their signals, read the settings and keep their state in the forked child only,
as in a fresh process. The warm process is only trusted for the code it imported: `fingerprint`
is the hash of the settings, requirements and plugins at its start (freshness.code_fingerprint);
the caller starts a new one when that changed.

    warm = WarmPelican(settings_file, fingerprint)   # starts it, returns at once
    warm.run_many([(cmd, cwd), ...])                  # [(returncode, stdout, stderr)], runs side by side
    warm.close()

    python -m sitebuild.warm <plugin path>...        # the warm process: JSON requests on stdin
"""

import gc
import json
import os
import subprocess
import sys
import tempfile
import threading


class WarmPelican:
    def __init__(self, settings_file, fingerprint, plugin_paths=()):
        self.fingerprint = fingerprint
        self._lock = threading.Lock()
        self.proc = subprocess.Popen([sys.executable, "-m", "sitebuild.warm", *map(str, plugin_paths)],
                                     stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                                     text=True, env=dict(os.environ, COLUMNS="200", TERM="dumb"))

        self._ready = False

    def alive(self):
        return self.proc.poll() is None

    def wait_ready(self):
        """Wait until the warm process has imported everything (it says "ready")."""
        with self._lock:
            self._read_ready()

    def _read_ready(self):
        if not self._ready:
            if self.proc.stdout.readline().strip() != "ready":
                raise OSError("the warm Pelican process did not start")
            self._ready = True

    def run_many(self, jobs):
        """Run each (pelican command, cwd) in a fork of the warm process, side by side;
        [(returncode, stdout, stderr)] in the same order. Raises OSError if the warm process died."""
        with self._lock, tempfile.TemporaryDirectory(prefix="warm-") as tmp:
            requests = []
            for n, (cmd, cwd) in enumerate(jobs):
                requests.append({"argv": list(map(str, cmd[3:])), "cwd": str(cwd),
                                 "out": os.path.join(tmp, f"{n}.out"), "err": os.path.join(tmp, f"{n}.err")})
            try:
                self._read_ready()
                self.proc.stdin.write(json.dumps(requests) + "\n")
                self.proc.stdin.flush()
                line = self.proc.stdout.readline()
            except (BrokenPipeError, ValueError) as e:
                raise OSError(f"the warm Pelican process is gone: {e}") from e
            if not line:
                raise OSError("the warm Pelican process is gone")
            codes = json.loads(line)
            results = []
            for request, code in zip(requests, codes):
                with open(request["out"], encoding="utf-8", errors="replace") as out, \
                        open(request["err"], encoding="utf-8", errors="replace") as err:
                    results.append((code, out.read(), err.read()))
            return results

    def close(self):
        if self.proc.poll() is None:
            try:
                self.proc.stdin.close()
            except OSError:
                pass
            try:
                self.proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


def _child(request):
    """In the forked child: one Pelican run, its output into the request's files."""
    for fd, path in ((1, request["out"]), (2, request["err"])):
        target = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        os.dup2(target, fd)
        os.close(target)
    sys.stdout = open(1, "w", encoding="utf-8", closefd=False)  # noqa: SIM115
    sys.stderr = open(2, "w", encoding="utf-8", closefd=False)  # noqa: SIM115
    # A run is short and its process ends with it: no collection during it (the garbage of its
    # reference cycles, a few megabytes at 1,000 posts, goes when it exits). Each collection
    # would walk every object the run made, the content cache's among them.
    gc.disable()
    code = 0
    try:
        os.chdir(request["cwd"])
        import pelican  # noqa: PLC0415  (imported already, in the warm process)

        pelican.main(request["argv"])
    except SystemExit as e:
        code = e.code if isinstance(e.code, int) else (0 if e.code is None else 1)
    except BaseException:  # noqa: BLE001
        import traceback  # noqa: PLC0415

        traceback.print_exc()
        code = 1
    finally:
        try:
            sys.stdout.flush()
            sys.stderr.flush()
        finally:
            os._exit(code)


def main(plugin_paths):
    for path in reversed(plugin_paths):
        sys.path.insert(0, path)
    # What every run imports (Pelican loads the plugins by name: these are the same modules).
    import markdown  # noqa: F401, PLC0415
    import pelican  # noqa: F401, PLC0415
    import pelican.generators  # noqa: F401, PLC0415
    import pelican.writers  # noqa: F401, PLC0415

    for path in plugin_paths:
        for name in sorted(os.listdir(path)):
            if os.path.isfile(os.path.join(path, name, "__init__.py")):
                try:
                    __import__(name)
                    for sub in sorted(os.listdir(os.path.join(path, name))):
                        if sub.endswith(".py") and sub != "__init__.py":
                            __import__(f"{name}.{sub[:-3]}")
                except Exception:  # noqa: BLE001 (a broken plugin fails in the run itself, as usual)
                    pass
    # What is imported stays out of every collection (the permanent generation): a forked run
    # neither walks it nor writes to its memory, which stays shared with this process.
    gc.freeze()
    sys.stdout.write("ready\n")
    sys.stdout.flush()
    for line in sys.stdin:
        requests = json.loads(line)
        pids = []
        for request in requests:
            pid = os.fork()
            if pid == 0:
                _child(request)
            pids.append(pid)
        codes = []
        for pid in pids:
            _, status = os.waitpid(pid, 0)
            codes.append(os.waitstatus_to_exitcode(status))
        sys.stdout.write(json.dumps(codes) + "\n")
        sys.stdout.flush()


if __name__ == "__main__":
    main(sys.argv[1:])
