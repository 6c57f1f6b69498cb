"""The benchmark's run: `invoke bench` / `make bench` call main(); it prints tables and writes
BENCHMARKS.md.

    invoke bench                  sizes 100, 1,000 and 5,000 posts; writes BENCHMARKS.md
    invoke bench --quick          100 posts, one repeat, no Lighthouse (a smoke test)
    invoke bench --sizes 100,1000 only these sizes (report in test-artifacts/)
    invoke bench --only forms     only this section (forms, pages, check, images or profile; no builds): its
                                  tables and targets replace theirs in BENCHMARKS.md, the rest is kept

The machine is shared and noisy, so build figures are given as RATIOS against a plain
Pelican baseline measured in the same run, interleaved with ours (ours, plain, plain +
typogrify, ours, plain, ...), and medians of the repeats are reported. The whole run keeps
to a time budget (BUDGET_SECONDS): the fixed-cost sections run first, then the sizes from
the largest down; a repeat that would not fit is skipped, a build that overruns is
stopped, and either is said in the report.

Sections (what each measures: the docstring of its module):
1. Build scale and 2. Editing loop (build.py), 3. Page weight and 4. Lighthouse (pages.py),
5. Form service (forms.py), 6. Editors' check (check.py), 7. Pictures (images.py), 8. Profile of
one cold language run: where its time goes (profile.py), 9. Publishing content: a fresh clone with
its caches restored to a finished production build (publish.py).

Return code: 0 when every section ran (targets met or missed are figures, shown as
met/MISSED); 1 when something is broken: a build failed, a page loaded something from
another host, or an acknowledged join request is missing from the database.
"""

import re
import shutil
import sys
import tempfile
import time
from pathlib import Path

from bench import build, check, forms, images, pages, profile, publish
from bench.report import Budget, Report, fmt, log, machine_info, merge_report, write_report
from sitebuild import ROOT

REPORT = ROOT / "BENCHMARKS.md"
PARTIAL_REPORT = ROOT / "test-artifacts" / "benchmarks-partial.md"

DEFAULT_SIZES = (100, 1000, 5000)
# Chosen so that the whole `make bench` stays under 18 minutes on the 2-core machine
# (measured: see BENCHMARKS.md); the 5,000-post build alone takes minutes.
REPEATS = {100: 3, 1000: 2, 5000: 1}
EDIT_REPEATS = {100: 3, 1000: 3}  # editing loop: only on these sizes; the medians of 3 saves (one save's
# time moves by a tenth of a second with the machine's load, as much as what the targets are about)
BUDGET_SECONDS = 18 * 60  # builds are skipped (and the skip reported) rather than overrun

# The sections of a fixed cost, run first and in this order, each as section(work, quick, report):
# it adds its tables (report.add) and targets (report.targets) to the report, and what is broken
# (report.problem). An exception it lets out is reported as "<name>: <error>". A new benchmark
# (of `invoke check`, say) is a module of its own with such a function, one line here and the
# title of its table in REPORT_ORDER. The build scale runs after them, with what is left of the
# time budget.
FIXED_SECTIONS = (
    ("page weight and Lighthouse", pages.real_site_pages),
    ("form service benchmark", forms.form_service),
    ("editors' check benchmark", check.content_check),
    ("pictures benchmark", images.pictures),
    ("build profile", profile.build_profile),
    ("publish benchmark", publish.content_publish),
)
# The tables' order in the report (by the start of their titles): builds first; others last.
REPORT_ORDER = ("Build scale", "Editing loop", "Profile", "Editors' check", "Pictures", "Page weight", "Lighthouse",
                "Form service", "Publishing content")
# `--only NAME`: a fixed section alone, and the start of the names of its targets and problems
# (what it replaces in an existing report; its tables are found by REPORT_ORDER).
ONLY = {
    "pages": (FIXED_SECTIONS[0], ("page weight", "no third-party requests", "Lighthouse")),
    "forms": (FIXED_SECTIONS[1], ("form service",)),
    "check": (FIXED_SECTIONS[2], ("editors' check",)),
    "images": (FIXED_SECTIONS[3], ("pictures",)),
    "profile": (FIXED_SECTIONS[4], ("profile",)),
    "publish": (FIXED_SECTIONS[5], ("publishing content",)),
}


def parse_sizes(sizes):
    if sizes in (None, ""):
        return None
    if isinstance(sizes, str):
        return [int(s.replace("_", "").replace(",", "")) for s in re.split(r"[,\s]+", sizes.strip()) if s]
    return [int(s) for s in sizes]


def main(sizes=None, quick=False, report_path=None, work=None, only=None):
    """Run the benchmark; return the process exit code (see the module docstring)."""
    if only is not None:
        return main_only(only, quick, report_path, work)
    t0 = time.monotonic()
    chosen = parse_sizes(sizes)
    full = chosen is None and not quick
    if chosen is None:
        chosen = [100] if quick else list(DEFAULT_SIZES)
    repeats = {n: 1 if quick else REPEATS.get(n, 1) for n in chosen}
    edit_repeats = {n: 1 if quick else EDIT_REPEATS[n] for n in chosen if n in EDIT_REPEATS}
    if report_path is None:
        report_path = REPORT if full else PARTIAL_REPORT
    args = ("full run" if full else f"sizes {','.join(map(str, chosen))}" + (", quick" if quick else ""))
    machine = machine_info()
    log(f"benchmark ({args}) on {machine['cpu']}, {machine['cores']} cores, "
        f"{fmt(machine['ram_gib'], '.1f')} GiB; Python {machine['python']}, Pelican {machine['pelican']}")
    report = Report()
    budget = Budget(BUDGET_SECONDS)
    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))
    own_work = work is None
    work = Path(work or tempfile.mkdtemp(prefix="knn-bench-"))
    try:
        for name, section in FIXED_SECTIONS:
            try:
                section(work, quick, report)
            except Exception as e:  # noqa: BLE001
                report.problem(f"{name}: {type(e).__name__}: {e}")
        per_size = build.scale_and_editing(work, chosen, repeats, edit_repeats, budget, report, own=not quick)
        report.targets[:0] = build.build_targets(per_size)
    finally:
        if own_work:
            shutil.rmtree(work, ignore_errors=True)
    elapsed = time.monotonic() - t0
    report.sections.sort(key=lambda md: next((i for i, o in enumerate(REPORT_ORDER)
                                              if md.lstrip("\n# ").startswith(o)), 99))
    write_report(report_path, machine, report, args, elapsed)
    return finish(report, f"benchmark took {elapsed / 60:.1f} min; report written to {report_path}")


def main_only(only, quick=False, report_path=None, work=None):
    """One fixed section alone (`invoke bench --only forms`): its tables, targets and problems
    replace theirs in the report (BENCHMARKS.md; with --quick the partial report), the rest is kept."""
    if only not in ONLY:
        log(f"--only: one of {', '.join(ONLY)}, not {only!r}")
        return 2
    (name, section), target_prefixes = ONLY[only]
    t0 = time.monotonic()
    if report_path is None:
        report_path = PARTIAL_REPORT if quick else REPORT
    args = f"`invoke bench --only {only}{' --quick' if quick else ''}`"
    machine = machine_info()
    log(f"benchmark, {name} only on {machine['cpu']}, {machine['cores']} cores; Python {machine['python']}")
    report = Report()
    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))
    own_work = work is None
    work = Path(work or tempfile.mkdtemp(prefix="knn-bench-"))
    try:
        try:
            section(work, quick, report)
        except Exception as e:  # noqa: BLE001
            report.problem(f"{name}: {type(e).__name__}: {e}")
    finally:
        if own_work:
            shutil.rmtree(work, ignore_errors=True)
    elapsed = time.monotonic() - t0
    merge_report(report_path, machine, report, args, elapsed, REPORT_ORDER, target_prefixes + (name,))
    return finish(report, f"{name} took {elapsed / 60:.1f} min; its part of {report_path} rewritten")


def finish(report, done):
    """Print the targets and `done`; the exit status: 1 when the run found a problem."""
    log("\n== Targets ==")
    for t in report.targets:
        log(f"  {t.name}: {t.measured} (target: {t.target}) -> {t.verdict()}")
    log(f"\n{done}")
    if report.problems:
        log(f"{len(report.problems)} problem(s): see above and the report")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(*(sys.argv[1:2] or [None])))
