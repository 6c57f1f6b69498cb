"""One measured build, in a process of its own: `python -m bench.build_run '<json spec>'`.

The benchmark starts this once per build, so that the figures of one build cannot leak
into the next (ru_maxrss is a high-water mark that never goes down). It prints one JSON
object on its last line of stdout:

    {"ok": true, "seconds": 12.3, "cpu_seconds": 20.1, "pages": 2345, "rss_kib": 123456,
     "rss_processes": [..], "rss_method": "...", "search": "...", "error": null,
     "cpu_processes": [..], "cpu_pagefind": [..], "busy": 0.98}

cpu_processes and cpu_pagefind: each Pelican and Pagefind process's own CPU seconds (os.wait4);
busy: the share of the machine's CPU time that was not idle while the build ran (/proc/stat).

spec["kind"] is
  "site"  -- sitebuild.build.build_site(settings_file, output, cwd): the project's own build, one
             Pelican process per language. Each of those is waited for with os.wait4, so
             its own peak RSS is known; the reported peak is the SUM of the language
             processes' peaks plus this driver's own (an upper bound of the memory the
             build needs at once: the language runs overlap).
             With spec["later"] (the editing loop, as the development server (make serve) builds):
             build_pages_first(), whose end is reported as "page_seconds" (the new
             pages are in place), then finish_build() (sitemap, search index).
  "plain" -- `python -m pelican <content> -o <output> -s <settings>`: a single process;
             its peak RSS is RUSAGE_CHILDREN's ru_maxrss of this wrapper.
"""

import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench.serve import index_text

# A callable in sitebuild.build with one of these names is taken to be the search-index step.
SEARCH_STEP_NAMES = ("start_indexing", "index_for_search", "build_search_index", "search_index", "build_search", "pagefind_index",
                     "index_search", "build_pagefind", "run_pagefind")


def count_pages(output):
    """HTML files written (the benchmark's 'pages')."""
    return sum(1 for _ in Path(output).rglob("*.html"))


def find_search_step(tasks_module):
    """(name, function) of the build engine's search-index step, or (None, None)."""
    for name in SEARCH_STEP_NAMES:
        fn = getattr(tasks_module, name, None)
        if callable(fn) and not hasattr(fn, "body"):  # an invoke Task has .body: not a step
            return name, fn
    for name in dir(tasks_module):
        low = name.lower()
        fn = getattr(tasks_module, name)
        if ("pagefind" in low or "search" in low) and callable(fn) and not hasattr(fn, "body") \
                and not name.startswith("_") and not isinstance(fn, type):
            return name, fn
    return None, None


def _measured_run(rss_list, durations, ends=None, cpu_list=None):
    """A stand-in for sitebuild.build._run that also records each Pelican process's own peak RSS,
    wall time and CPU time."""

    def run(cmd, cwd):
        env = dict(os.environ, COLUMNS="200", TERM="dumb")
        started = time.perf_counter()
        with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
            p = subprocess.Popen(cmd, cwd=cwd, env=env, stdout=out, stderr=err)
            _, status, usage = os.wait4(p.pid, 0)
            p.returncode = os.waitstatus_to_exitcode(status)  # Popen must not wait again
            rss_list.append(usage.ru_maxrss)
            if cpu_list is not None:
                cpu_list.append(usage.ru_utime + usage.ru_stime)
            durations.append(time.perf_counter() - started)
            if ends is not None:
                ends.append(time.perf_counter())
            out.seek(0)
            err.seek(0)
            return (p.returncode, out.read().decode("utf-8", "replace"),
                    err.read().decode("utf-8", "replace"))

    return run


class _MeasuredSubprocess:
    """Stands in for the subprocess module in sitebuild.search: the processes it starts
    (Popen) and runs (run) also record each Pagefind process's own peak RSS and CPU time (os.wait4)."""

    def __init__(self, rss_list, cpu_list):
        self.rss_list = rss_list
        rss, cpu = rss_list, cpu_list

        class Popen(subprocess.Popen):
            def wait(self, timeout=None):
                if self.returncode is None:
                    _, status, usage = os.wait4(self.pid, 0)
                    self.returncode = os.waitstatus_to_exitcode(status)
                    rss.append(usage.ru_maxrss)
                    cpu.append(usage.ru_utime + usage.ru_stime)
                return self.returncode

        self.Popen = Popen

    def __getattr__(self, name):
        return getattr(subprocess, name)

    def run(self, cmd, capture_output=False, text=False, **kwargs):
        with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
            p = self.Popen(cmd, stdout=out, stderr=err, **kwargs)
            p.wait()
            out.seek(0)
            err.seek(0)
            o, e = out.read(), err.read()
            if text:
                o, e = o.decode("utf-8", "replace"), e.decode("utf-8", "replace")
            return subprocess.CompletedProcess(cmd, p.returncode, o, e)


def _cpu():
    """CPU seconds (user + system) of this process and of its children waited for so far."""
    own, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def _machine_ticks():
    """(busy, total) CPU ticks of the whole machine so far (/proc/stat), or None elsewhere."""
    try:
        with open("/proc/stat", encoding="ascii") as f:
            ticks = [int(n) for n in f.readline().split()[1:]]
    except (OSError, ValueError):
        return None
    ticks += [0] * (8 - len(ticks))
    user, nice, system, idle, iowait, irq, softirq, steal = ticks[:8]  # guest time is in user time already
    busy = user + nice + system + irq + softirq
    return busy, busy + idle + iowait + steal


def _busy_share(before, after):
    """The share of the machine's CPU time that was busy between two _machine_ticks()."""
    if before is None or after is None or after[1] <= before[1]:
        return None
    return (after[0] - before[0]) / (after[1] - before[1])


def build_site(spec):
    from sitebuild import build as engine
    from sitebuild import search as search_module

    result = {"search": None}
    rss, durations, ends, cpu_runs = [], [], [], []
    patched = hasattr(engine, "_run")
    if patched:
        engine._run = _measured_run(rss, durations, ends, cpu_runs)
    pagefind_rss, pagefind_cpu = [], []
    if getattr(search_module, "subprocess", None) is subprocess:
        search_module.subprocess = _MeasuredSubprocess(pagefind_rss, pagefind_cpu)
    output = Path(spec["output"])
    search_name, search_fn = find_search_step(engine)
    search_times = []
    if search_fn is not None:  # if build_site calls it, time it there
        def timed(*args, **kwargs):
            t = time.perf_counter()
            answer = search_fn(*args, **kwargs)
            wait = getattr(answer, "wait", None)
            if not callable(wait):
                search_times.append((t, time.perf_counter()))
                return answer

            def waited():  # a step that starts the indexing works until its wait() returns
                try:
                    return wait()
                finally:
                    search_times.append((t, time.perf_counter()))

            answer.wait = waited
            return answer

        setattr(engine, search_name, timed)
    later = bool(spec.get("later"))
    warm = None
    if later and spec.get("changes") and hasattr(engine, "show_changes_first"):
        # The development server keeps a warm Pelican process ready before the editor saves.
        warm = engine.start_warm_pelican(spec["settings"])
        warm.wait_ready()
    start = time.perf_counter()
    cpu_start, ticks_start = _cpu(), _machine_ticks()
    try:
        if warm is not None:  # as the development server rebuilds: the saved post's pages first
            shown = engine.show_changes_first(spec["changes"], settings_file=spec["settings"], output=output,
                                              cwd=spec["cwd"], warm=warm)
            if shown:
                result["page_seconds"] = time.perf_counter() - start
                if spec.get("page"):  # the changed page, served from then on, shows the change
                    page = Path(spec["page"])
                    result["page_shown_first"] = page.is_file() and spec["marker"] in page.read_text(encoding="utf-8")
                engine.finish_build(settings_file=spec["settings"], output=output, prepared=shown)  # as the server
                result["index_seconds"] = time.perf_counter() - start
                if spec.get("marker"):  # the search index has the changed page's new words
                    result["index_has_change"] = spec["marker"].encode() in index_text(output)
        build = engine.build_pages_first if later else engine.build_site
        build(settings_file=spec["settings"], output=output, cwd=spec["cwd"], capture=True,
              force=spec.get("force", False))
        build_seconds = time.perf_counter() - start
        if later:  # the editing loop: the page is there now; then the search index and sitemap
            result.setdefault("page_seconds", build_seconds)
            engine.finish_build(settings_file=spec["settings"], output=output)
            build_seconds = time.perf_counter() - start
    except engine.BuildFailed as e:
        return dict(result, ok=False, error=e.errors[-4000:], seconds=time.perf_counter() - start)
    finally:
        if warm is not None:
            warm.close()
    result["build_seconds"] = build_seconds
    if search_times:
        result["search"] = f"included: build_site runs {search_name}()"
        # Each language's index is made as soon as its run is done, beside the other runs: what
        # Pagefind adds to the wall time is from the end of the last run to the end of the last index.
        last_run = max(ends) if ends else min(start for start, _ in search_times)
        result["search_seconds"] = max(0.0, max(end for _, end in search_times) - last_run)
        result["search_total_seconds"] = sum(end - start for start, end in search_times)
    elif (output / "pagefind").is_dir():
        result["search"] = "included: build_site wrote output/pagefind/"
    elif search_fn is None:
        result["search"] = "not measured: the build has no search-index step"
    else:
        t = time.perf_counter()
        try:
            search_fn(output)
            result["search"] = f"separate step {search_name}(output), timed and included"
            result["search_seconds"] = time.perf_counter() - t
        except Exception as e:  # noqa: BLE001 - a benchmark reports, it does not crash
            result["search"] = f"{search_name}(output) failed: {type(e).__name__}: {e}"
    seconds = time.perf_counter() - start
    result["cpu_seconds"] = _cpu() - cpu_start
    result["busy"] = _busy_share(ticks_start, _machine_ticks())
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    # Any child (Pelican runs, Pagefind) is in RUSAGE_CHILDREN's max; the language runs overlap.
    largest_child = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    if patched and pagefind_rss:
        # A language's Pagefind starts when its run ends, beside the other runs: at most both
        # runs, one run and one Pagefind, or every Pagefind at once.
        total = own + max(sum(rss), max(rss, default=0) + max(pagefind_rss), sum(pagefind_rss))
        method = ("the largest of: the language runs' peaks summed, the largest run's and the largest "
                  "Pagefind's, every Pagefind's; + driver")
    elif patched:
        total = own + max(sum(rss), largest_child)
        method = "sum of the per-language Pelican processes' peaks (or the largest later child) + driver"
    else:
        total, method = own + largest_child, "largest child + driver"
    if durations:  # the language runs are parallel: the slowest one is on the critical path
        result["pelican_seconds"] = max(durations)
    return dict(result, ok=True, error=None, seconds=seconds, pages=count_pages(output),
                rss_kib=total, rss_processes=rss, rss_method=method, rss_driver=own,
                rss_largest_child=largest_child, rss_pagefind=pagefind_rss, cpu_processes=cpu_runs,
                cpu_pagefind=pagefind_cpu)


def build_plain(spec):
    cmd = [sys.executable, "-m", "pelican", spec["content"], "-o", spec["output"], "-s", spec["settings"]]
    env = dict(os.environ, COLUMNS="200", TERM="dumb")
    start, cpu_start, ticks_start = time.perf_counter(), _cpu(), _machine_ticks()
    p = subprocess.run(cmd, cwd=spec["cwd"], env=env, capture_output=True, text=True)
    seconds, cpu = time.perf_counter() - start, _cpu() - cpu_start
    busy = _busy_share(ticks_start, _machine_ticks())
    rss = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    if p.returncode != 0:
        return {"ok": False, "error": (p.stderr + p.stdout)[-4000:], "seconds": seconds}
    return {"ok": True, "error": None, "seconds": seconds, "cpu_seconds": cpu, "busy": busy,
            "pages": count_pages(spec["output"]),
            "rss_kib": rss, "rss_processes": [rss], "rss_method": "the Pelican process's peak", "search": None}


def main(argv=None):
    spec = json.loads((argv or sys.argv[1:])[0])
    os.environ.update(spec.get("env") or {})  # e.g. SITEURL for publishconf.py
    result = {"site": build_site, "plain": build_plain}[spec["kind"]](spec)
    sys.stdout.write(json.dumps(result) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
