"""Section 6: the editors' check.

`invoke check` runs the build's own checks (plugins/buildcheck) in a dry run: every Pelican
run reads and checks everything, then stops before writing. Measured as an editor starts it
(a fresh process: `tools.editor.run_check` on the site's settings), on the real site and on
the synthetic site of CHECK_SIZE posts (sites.py), each beside a cold build of the same site
in the same run (interleaved: check, build, check, build...), so the figure is a ratio.
"""

import sys
import time

from bench.build import cold_site_build
from bench.report import fmt, log, median, run_bounded
from bench.sites import copy_site, prepare_site

CHECK_SIZE = 1000
REPEATS = 2

CHECK = "import sys; from tools import editor; sys.exit(editor.run_check(site=editor.Site(sys.argv[1])))"


def timed_check(site, timeout=900):
    """(seconds, returncode, stderr) of one `invoke check` of `site`, in a fresh process."""
    t = time.monotonic()
    code, _, err = run_bounded([sys.executable, "-c", CHECK, str(site / "pelicanconf.py")], timeout, cwd=site)
    return time.monotonic() - t, code, err


def content_check(work, quick, report):
    """The check of the real site and of the CHECK_SIZE-post site against their cold builds."""
    rows = []
    repeats = 1 if quick else REPEATS
    for name, count in (("this site", 0), (f"{100 if quick else CHECK_SIZE:,} posts × 2 languages",
                                           100 if quick else CHECK_SIZE)):
        site = work / f"check-{count}"
        if count:
            prepare_site(site, count)
        else:
            copy_site(site)
        checks, builds = [], []
        for r in range(repeats):
            seconds, code, err = timed_check(site)
            if code != 0:
                report.problem(f"invoke check of {name} exited {code}:\n{err[-1500:]}")
                return
            checks.append(seconds)
            res = cold_site_build(site)
            if not res["ok"]:
                report.problem(f"the cold build of {name} failed:\n{res['error'][-1500:]}")
                return
            builds.append(res["seconds"])
            log(f"[check] {name} #{r + 1}: check {seconds:.1f} s, cold build {res['seconds']:.1f} s")
        check_s, build_s = median(checks), median(builds)
        rows.append([name, fmt(check_s, ".1f"), fmt(build_s, ".1f"), fmt(check_s / build_s, ".2f")])
    report.add("Editors' check (medians; ratio = check / cold build, same run)",
               ["site", "invoke check s", "cold build s", "ratio"], rows,
               [f"{repeats} run(s) of each, interleaved; the check is a fresh process (`invoke check` as an "
                "editor starts it: every language's Pelican run reads and checks all content, writes "
                "nothing, uses no cache); the cold build is the full build (both languages, sitemap, "
                "search index) with its content cache emptied",
                "the real site's check passes with 0 errors (a check that found errors would be a problem "
                "of the benchmark, reported as such)"])
