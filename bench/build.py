"""Sections 1 and 2: build scale and the editing loop.

1. Build scale: synthetic sites of N Dutch posts, each with an English translation
   (sites.py, content.py), built with the full project (sitebuild.build.build_site: one Pelican
   process per language, plugins, theme, sitemap, Pagefind) and with plain Pelican
   (default theme, no plugins). Wall time, pages written, pages/s, peak RSS.
2. Editing loop: rebuild with nothing changed, and after changing one post, as % of the
   cold build (Pelican's content cache warm).

Every build runs in a fresh process (build_run.py), so that one build's figures cannot
leak into the next.
"""

import json
import shutil
import sys
import time

from bench.content import post_name, slug_for, with_new_paragraph
from bench.report import Target, fmt, log, median, run_bounded
from bench.sites import prepare_site

PLAIN_TYPOGRIFY_MAX = 100  # the "plain + typogrify" row only up to this size (time budget)
BUILD_TARGET_SIZE, BUILD_TARGET_RATIO = 1000, 1.0  # full build: ours / plain Pelican
BUILD_TARGET_COLD_SIZES = (1000, 5000)  # the cold build's target holds at each of these (issue 16)
CPU_TARGET_RATIO = 1.5  # the cold build's CPU time (every process) / plain Pelican's, at BUILD_TARGET_COLD_SIZES
EDIT_TARGET_SIZE = 1000  # editing loop, as a share of the cold build of this size:
EDIT_TARGET_ONE_POST, EDIT_TARGET_NOCHANGE, EDIT_TARGET_INDEX = 0.10, 0.15, 0.25
EDIT_TARGET_PAGE_SECONDS = 1.0  # a saved post on its page, at EDIT_TARGET_SIZE posts
OWN_TARGET_PAGE_SECONDS, OWN_EDIT_REPEATS = 0.3, 3  # the same at the site's own size
SITE_COPIES = 1000  # the build of the site's own posts, copied to this many pairs (bench.content.write_site_copies)
OWN_POST = ("content/blog/kracht-van-samenwerken.nl.md", "blog/de-kracht-van-samenwerken/index.html")

PLAIN_SETTINGS = """\
# Plain Pelican: the default theme, no plugins, the same Markdown (benchmark baseline).
SITENAME = "Plain"
SITEURL = ""
TIMEZONE = "Europe/Amsterdam"
DEFAULT_LANG = "nl"
ARTICLE_PATHS = ["blog"]
PAGE_PATHS = []  # the site's pages use the real theme's templates
STATIC_PATHS = []
ARTICLE_TRANSLATION_ID = "translation_key"
DEFAULT_PAGINATION = 10
PLUGINS = []
CACHE_CONTENT = False
LOAD_CONTENT_CACHE = False
TYPOGRIFY = {typogrify}
TYPOGRIFY_OMIT_FILTERS = ["caps"]
TYPOGRIFY_IGNORE_TAGS = ["pre", "code", "script", "title"]
"""


def run_build(spec, timeout=1800):
    """One build in a fresh process (build_run.py); its JSON result."""
    code, out, err = run_bounded([sys.executable, "-m", "bench.build_run", json.dumps(spec)], timeout)
    if code is None:
        return {"ok": False, "timeout": True, "error": f"stopped after {timeout:.0f} s (time budget)",
                "seconds": None}
    lines = out.strip().splitlines()
    if code != 0 or not lines:
        return {"ok": False, "error": (err or out)[-3000:], "seconds": None}
    return json.loads(lines[-1])


def site_spec(site, origin=None):
    """The project's build of `site`: development settings, or as published at `origin`."""
    spec = {"kind": "site", "settings": str(site / "pelicanconf.py"), "output": str(site / "output"),
            "cwd": str(site)}
    if origin:
        spec.update(settings=str(site / "publishconf.py"),
                    env={"SITEURL": origin, "FORM_ENDPOINT": origin + "/join/{slug}"})
    return spec


def cold_site_build(site, timeout=1800, origin=None):
    """A build from a fresh checkout (or a CI job): no content cache and no previous output,
    which plain_build removes before its build too (deleting one is not part of either figure)."""
    shutil.rmtree(site / "cache", ignore_errors=True)
    shutil.rmtree(site / "output", ignore_errors=True)
    # force: a cold build must build even though the output is up to date.
    return run_build(dict(site_spec(site, origin), force=True), timeout)


def plain_build(work, site, typogrify, timeout=1800):
    settings = work / f"plain-{'typogrify' if typogrify else 'bare'}.py"
    settings.write_text(PLAIN_SETTINGS.format(typogrify=bool(typogrify)), encoding="utf-8")
    out = work / "plain-output"
    shutil.rmtree(out, ignore_errors=True)
    return run_build({"kind": "plain", "settings": str(settings), "content": str(site / "content"),
                      "output": str(out), "cwd": str(work)}, timeout)


def one_post(site, count, n):
    """The n-th Dutch post the editing loop changes: (its file, its page in output/)."""
    index = (count // 2 + n) % count
    return (site / "content" / "blog" / post_name(index, "nl"),
            site / "output" / "blog" / slug_for(index, "nl") / "index.html")


def edit_post(path, page, n):
    """Add a paragraph with a new word to the post `path`; (its page, the word, the file)."""
    text, word = with_new_paragraph(path, n)
    path.write_text(text, encoding="utf-8")
    return page, word, path


def editing_loop(site, label, cold, repeats, budget, report, post):
    """Nothing changed, then one post changed (post(n): its file and page), `repeats` times, as the
    development server rebuilds (its build steps, in a process of their own); then as many saves
    through the development server itself (bench/serve.py). Returns the row of the editing loop's
    table and the medians, or (None, {})."""
    nochange, edited, indexed, finished, shown, found = [], [], [], [], [], []
    for n in range(repeats):
        if not budget.allows(2 * cold):
            return None, {"skipped": f"{label}: editing repeat {n + 1} skipped (time budget)"}
        res = run_build(site_spec(site), timeout=budget.left())
        if not res["ok"]:
            report.problem(f"the no-change rebuild of the {label} site failed: {res['error'][-1500:]}")
            break
        nochange.append(res["seconds"])
        page, marker, source = edit_post(*post(n), n)
        res = run_build(dict(site_spec(site), later=True, changes=[str(source)], page=str(page), marker=marker),
                        timeout=budget.left())
        if not res["ok"]:
            report.problem(f"the rebuild after an edit ({label}) failed: {res['error'][-1500:]}")
            break
        edited.append(res["page_seconds"])
        indexed.append(res.get("index_seconds"))
        finished.append(res["seconds"])
        shown.append(res.get("page_shown_first", True) and page.exists() and marker in page.read_text(encoding="utf-8"))
        found.append(bool(res.get("index_has_change")))
        log(f"[edit] {label}: no change {nochange[-1]:.2f} s, one post changed: page {edited[-1]:.2f} s, "
            f"search index + sitemap {fmt(indexed[-1], '.2f')} s, full build {finished[-1]:.2f} s "
            f"(cold {cold:.2f} s); change visible: {shown[-1]}, in the index: {found[-1]}")
    if not nochange:
        return None, {}
    m = {"nochange": median(nochange), "page": median(edited), "index": median([x for x in indexed if x is not None]),
         "finished": median(finished)}
    served = {"ok": False, "error": "time budget"}
    if budget.allows(repeats * (cold + 5) + 30):
        code, out, err = run_bounded([sys.executable, "-m", "bench.serve",
                                      json.dumps({"site": str(site), "posts": [list(map(str, post(n)))
                                                                               for n in range(repeats)]})],
                                     min(budget.left(), repeats * (3 * cold + 30) + 120))
        lines = out.strip().splitlines()
        served = json.loads(lines[-1]) if code == 0 and lines else {"ok": False, "error": (err or out)[-1500:]}
    if served["ok"]:
        m.update(served_page=median(served["page"]), served_index=median(served["index"]),
                 served_full=median(served["full"]))
        log(f"[edit] {label}, through make serve's server: page {m['served_page']:.2f} s, search index "
            f"{m['served_index']:.2f} s, full build {m['served_full']:.2f} s; shown {served['shown']}, "
            f"in the index {served['indexed']}")
        shown += served["shown"]
        found += served["indexed"]
    else:
        report.problem(f"the editing loop through the development server ({label}) failed: {served['error']}")

    def share(x):
        return f"{x / cold * 100:.0f} %" if x is not None and cold else "–"

    if shown and not all(shown):
        report.problem(f"after changing one post of the {label} site, the rebuilt page did not show the change")
    if found and not all(found):
        report.problem(f"after changing one post of the {label} site, the search index did not have the change")
    row = [label, fmt(cold, ".2f"), fmt(m["nochange"], ".2f"), share(m["nochange"]), fmt(m["page"], ".2f"),
           share(m["page"]), fmt(m["index"], ".2f"), share(m["index"]), fmt(m["finished"], ".2f"), share(m["finished"]),
           fmt(m.get("served_page"), ".2f"), fmt(m.get("served_index"), ".2f"), share(m.get("served_index")),
           ("yes" if all(shown) else "NO") if shown else "–", ("yes" if all(found) else "NO") if found else "–",
           len(nochange)]
    return row, m


def own_size_editing(work, budget, report):
    """The editing loop on the site as it is (its own posts): the row, and the target."""
    from bench.sites import copy_site  # noqa: PLC0415

    site = copy_site(work / "site-own")
    try:
        cold = cold_site_build(site, timeout=budget.left())  # the first build: pictures and cards made
        cold = cold_site_build(site, timeout=budget.left())
        if not cold["ok"]:
            report.problem(f"the build of the site as it is failed: {cold['error'][-1500:]}")
            return None
        row, m = editing_loop(site, "the site's own", cold["seconds"], OWN_EDIT_REPEATS, budget, report,
                              lambda n: (site / OWN_POST[0], site / "output" / OWN_POST[1]))
        if row:
            page = m.get("served_page")
            report.targets.append(Target("editing loop at the site's own size, a saved post on its page",
                                         f"≤ {OWN_TARGET_PAGE_SECONDS} s in make serve, from the save",
                                         fmt(page, ".2f") + " s", page <= OWN_TARGET_PAGE_SECONDS if page else None))
        return row
    finally:
        shutil.rmtree(site, ignore_errors=True)


def site_copies_builds(work, budget, report):
    """The site's own posts copied to SITE_COPIES pairs, built cold by ours and by plain Pelican,
    interleaved once: rows of the build scale table (a second corpus beside the generated posts)."""
    site = work / "site-copies"
    prepare_site(site, SITE_COPIES, style="site")
    try:
        first = cold_site_build(site, timeout=budget.left())  # pictures and cards made, as before the timed ones
        ours = cold_site_build(site, timeout=budget.left()) if first["ok"] else first
        plain = plain_build(work, site, typogrify=False, timeout=budget.left())
    finally:
        shutil.rmtree(site, ignore_errors=True)
        shutil.rmtree(work / "plain-output", ignore_errors=True)
    if not (ours["ok"] and plain["ok"]):
        report.problem(f"the build of the site's own posts x{SITE_COPIES:,} failed: "
                       f"{(ours.get('error') or plain.get('error') or '')[-1500:]}")
        return [], None
    label = f"{SITE_COPIES:,} (the site's own posts, copied)"
    log(f"[build] {label}: ours {ours['seconds']:.1f} s ({ours['cpu_seconds']:.1f} s CPU), "
        f"plain {plain['seconds']:.1f} s ({plain['cpu_seconds']:.1f} s CPU)")
    return [scale_row(label, "ours", [ours], [plain]), scale_row(label, "plain", [plain], [plain])], (ours, plain)


def scale_row(label, name, results, base_results):
    """One row of the build scale table: medians of `results`, ratios against `base_results`."""
    base = median([x["seconds"] for x in base_results])
    base_cpu = median([x.get("cpu_seconds") for x in base_results])
    secs = median([x["seconds"] for x in results])
    cpu = median([x.get("cpu_seconds") for x in results])
    pages = results[-1]["pages"]
    rss = median([x["rss_kib"] for x in results])
    largest = median([max(x.get("rss_processes", []) + [x.get("rss_largest_child") or 0]) for x in results])
    search = median([x.get("search_seconds") for x in results])
    pel = median([x.get("pelican_seconds") for x in results])
    rest = secs - pel - (search or 0) if pel is not None else None
    return [label, name, len(results), fmt(secs, ".2f"), fmt(cpu, ".2f"), fmt(pel, ".2f"), fmt(rest, ".2f"),
            fmt(search, ".2f"), f"{pages:,}", fmt(pages / secs if secs else None, ",.0f"),
            fmt(rss / 1024 if rss else None, ",.0f"), fmt(largest / 1024 if largest else None, ",.0f"),
            (fmt(secs / base, ".2f") + "×") if base and secs else "–",
            (fmt(cpu / base_cpu, ".2f") + "×") if base_cpu and cpu else "–"]


def cpu_row(label, results, base_results):
    """One row of the cold build's CPU by process: medians of `results` (ours), each part also as a
    multiple of `base_results`' CPU time (plain Pelican's, same run)."""
    cpu = median([x.get("cpu_seconds") for x in results])
    runs = median([sum(x["cpu_processes"]) if x.get("cpu_processes") else None for x in results])
    search = median([sum(x["cpu_pagefind"]) if x.get("cpu_pagefind") else None for x in results])
    driver = cpu - runs - search if None not in (cpu, runs, search) else None
    plain = median([x.get("cpu_seconds") for x in base_results])

    def of_plain(value):
        return (fmt(value / plain, ".2f") + "×") if value is not None and plain else "–"

    def busy(found):
        share = median([x.get("busy") for x in found])
        return fmt(100 * share, ".0f") + " %" if share is not None else "–"

    return [label, fmt(cpu, ".2f"), fmt(runs, ".2f"), fmt(search, ".2f"), fmt(driver, ".2f"), fmt(plain, ".2f"),
            of_plain(runs), of_plain(search), of_plain(driver), of_plain(cpu - search if search is not None else None),
            of_plain(cpu), busy(results), busy(base_results)]


def scale_and_editing(work, sizes, repeats, edit_repeats, budget, report, own=True):
    """Sections 1 and 2: build scale and the editing loop. Returns {size: runs}. With `own`,
    also the site's own posts copied to SITE_COPIES pairs (built once, beside the generated
    sizes) and the editing loop on the site as it is.

    Per repeat the builds are interleaved (ours, plain, plain + typogrify) so that the
    machine's noise hits all of them alike. Every build gets at most what is left of the
    time budget; a build stopped by it, or a repeat that would not fit, is reported.
    """
    rows, edit_rows, notes, edit_notes = {}, {}, [], []
    cpu_rows = {}
    per_size = {}
    search_note = None
    per_post = None  # seconds per post of one repeat (all its builds), from the last one run
    # Largest first: its single run is the one figure that cannot be had otherwise; the
    # budget then trims the repeats of the small sizes, which are cheap to leave out.
    # First the site's own posts (copied) and the editing loop on the site as it is: the budget then
    # trims the generated sizes' repeats, not these figures, which no other part gives.
    copies, own_row, copies_cpu = [], None, []
    if own and budget.allows(0.05 * SITE_COPIES + 50):
        copies, pair = site_copies_builds(work, budget, report)
        if pair:
            copies_cpu = [cpu_row(copies[0][0], [pair[0]], [pair[1]])]
            notes.append(f"{SITE_COPIES:,} (the site's own posts, copied): the site's own post pair(s) (content/blog/) "
                         "copied under their own slug, translation key, title and date (bench.content."
                         "write_site_copies) up to that many pairs, beside the site's own networks; one cold build "
                         "each, after a first build that made the pictures and share cards; figures only")
        own_row = own_size_editing(work, budget, report)
    elif own:
        notes.append("the site's own posts, copied, and the editing loop at the site's own size: skipped (time budget)")
    for count in sorted(sizes, reverse=True):
        site = work / f"site-{count}"
        t = time.monotonic()
        info = prepare_site(site, count)
        log(f"[build] {count} posts x 2 languages generated in {time.monotonic() - t:.1f} s "
            f"({info['networks_note']}; kept the real posts {', '.join(info['kept_posts']) or '-'})")
        note = (f"every size: {info['networks_note']}"
                + (f"; the site's own {len(info['kept_posts']) // 2} post pair(s), which its pages link to, "
                   "stay beside the synthetic ones" if info["kept_posts"] else ""))
        if note not in notes:
            notes.append(note)
        runs = {"ours": [], "ours, cache warm": [], "plain": [], "plain+typogrify": []}
        with_typo = count <= PLAIN_TYPOGRIFY_MAX
        # The pictures and share cards as a CI job restores them (cache-images/, by content hash):
        # made once, untimed; the timed builds below have no content cache and no output. The
        # first build ever (this one) is reported beside them.
        first = cold_site_build(site, timeout=budget.left())
        log(f"[build] {count} ours, first build ever (pictures and cards made): {fmt(first.get('seconds'), '.1f')} s")
        if first["ok"]:
            first_note = (f"{count:,} posts: the first build ever, which also makes the pictures (4 photos) and the "
                          f"share cards (one per page) that later builds take from cache-images/: "
                          f"{fmt(first['seconds'], '.1f')} s (not part of the medians)")
            notes.append(first_note)
        for r in range(repeats.get(count, 1)):
            estimate = (per_post or 0.07) * count
            if r > 0 and not budget.allows(estimate):
                notes.append(f"{count:,} posts: repeats from {r + 1} on skipped: the time budget "
                             f"({budget.seconds // 60} min) would be exceeded (estimate {estimate:.0f} s)")
                log(f"[build] {count}: repeat {r + 1} skipped (time budget)")
                break
            t = time.monotonic()
            res = cold_site_build(site, timeout=budget.left())
            log(f"[build] {count} ours #{r + 1}: {fmt(res.get('seconds'), '.1f')} s, "
                f"{res.get('pages', '?')} pages" + ("" if res["ok"] else f" NOT FINISHED: {res['error'][:200]}"))
            if res.get("timeout"):
                notes.append(f"{count:,} posts: the project build was stopped by the time budget "
                             f"after {time.monotonic() - t:.0f} s")
                break
            if not res["ok"]:
                report.problem(f"the project build of the {count}-post site failed:\n{res['error'][-2000:]}")
                break
            search_note = res.get("search") or search_note
            runs["ours"].append(res)
            # The same full build again, with the content cache the cold one filled (a forced
            # `invoke build`, or CI with its cache restored): Markdown and typogrify are read from it.
            res = run_build(dict(site_spec(site), force=True), timeout=budget.left())
            log(f"[build] {count} ours, cache warm #{r + 1}: {fmt(res.get('seconds'), '.1f')} s"
                + ("" if res["ok"] else f" NOT FINISHED: {res['error'][:200]}"))
            if res["ok"]:
                runs["ours, cache warm"].append(res)
            for name, typo in (("plain", False), ("plain+typogrify", True)):
                if typo and not with_typo:
                    continue
                res = plain_build(work, site, typogrify=typo, timeout=budget.left())
                log(f"[build] {count} {name} #{r + 1}: {fmt(res.get('seconds'), '.1f')} s")
                if res["ok"]:
                    runs[name].append(res)
                elif res.get("timeout"):
                    notes.append(f"{count:,} posts: {name} was stopped by the time budget")
                else:
                    notes.append(f"{name} failed on {count} posts: {res['error'][-300:]}")
            per_post = (time.monotonic() - t) / count
        note = (f"'plain + typogrify' only at {PLAIN_TYPOGRIFY_MAX:,} posts (time budget): it shows "
                "typogrify's share of a build")
        if not with_typo and note not in notes:
            notes.append(note)
        per_size[count] = runs
        rows[count] = [scale_row(f"{count:,}", name, results, runs["plain"]) for name, results in runs.items()
                       if results and runs["plain"]]
        if runs["ours"] and runs["plain"]:
            cpu_rows[count] = cpu_row(f"{count:,}", runs["ours"], runs["plain"])
        # --- editing loop, on the warm cache the last cold build left ---------------------
        if count in edit_repeats and runs["ours"]:
            cold = median([x["seconds"] for x in runs["ours"]])
            row, m = editing_loop(site, f"{count:,}", cold, edit_repeats[count], budget, report,
                                  lambda n, count=count: one_post(site, count, n))
            if m.get("skipped"):
                edit_notes.append(m["skipped"])
            if row:
                edit_rows[count] = row
            if row and count == EDIT_TARGET_SIZE:
                for what, value, limit in (("nothing changed", m["nochange"], EDIT_TARGET_NOCHANGE),
                                           ("one post changed", m["page"], EDIT_TARGET_ONE_POST),
                                           ("search index and sitemap after a save, in make serve",
                                            m.get("served_index"), EDIT_TARGET_INDEX)):
                    report.targets.append(Target(f"editing loop, {what}", f"≤ {limit:.0%} of a cold build ({count:,} posts)",
                                                 f"{value / cold:.0%}" if value else "–",
                                                 value / cold <= limit if value else None))
                page = m.get("served_page")
                report.targets.append(Target("editing loop, a saved post on its page",
                                             f"≤ {EDIT_TARGET_PAGE_SECONDS} s at {count:,} posts in make serve, from the save",
                                             fmt(page, ".2f") + " s", page <= EDIT_TARGET_PAGE_SECONDS if page else None))
        shutil.rmtree(work / "plain-output", ignore_errors=True)
        shutil.rmtree(site, ignore_errors=True)  # the 5,000-post site takes hundreds of MB
    if search_note:
        notes.append(f"search index (Pagefind): {search_note}")
    notes.append("ours, split: 'Pelican runs' = the slower of the two parallel language runs; each language's "
                 "Pagefind starts when its own run is done (its own process, beside the other run) while the "
                 "build driver reads that language's pages for the sitemap; 'Pagefind s' = what Pagefind adds "
                 "after the last run; 'sitewide files + swap' = the rest of the wall time (setup, cache check, "
                 "writing the sitemap, the swap)")
    notes.append("peak RSS: ours = the build driver + the largest of: the two language runs' peaks summed (they run "
                 "at the same time), the larger run's and the larger Pagefind's (a language's Pagefind runs beside "
                 "the other run), the Pagefinds' peaks summed (both can run at once); each process's own peak "
                 "(os.wait4): an upper bound. Runs before issue 16 counted only the largest Pagefind, though the "
                 "two always ran at once, so their figure was lower. plain = the one Pelican process. 'largest "
                 "process' = the largest single process")
    notes.append("ours runs its two language processes in parallel, so it needs both cores while plain "
                 "Pelican needs one: when other work loads the shared machine, ours loses more, and the "
                 "ratio grows (compare ratios of runs made under similar load)")
    notes.append("'ours' is cold: the content cache and the previous output are deleted first (as a fresh checkout "
                 "or a CI job has neither; plain Pelican's output is deleted before its build too); 'ours, cache "
                 "warm' is the same forced full build right after, with the content cache that one filled (Markdown "
                 "and typogrify results per file: what `invoke build --force` or a CI job with its cache restored "
                 "does), which also replaces the previous output (and deletes it, within its time); both write every "
                 "page into a fresh directory and swap it in (as `invoke build` does); pages = HTML files written. "
                 "Plain Pelican has no content cache (its default)")
    notes.append("plain = `python -m pelican` with the default theme, no plugins, TYPOGRIFY off, "
                 "DEFAULT_PAGINATION 10, ARTICLE_TRANSLATION_ID translation_key; one process builds both "
                 "languages. 'plain + typogrify' = the same with TYPOGRIFY on")
    notes.append("CPU s: user + system time of every process of the build (the driver, the language runs, "
                 "Pagefind); CPU ratio = that / plain Pelican's (one process), same run")
    report.add("Build scale (medians; ratio = wall time / plain Pelican's, same run)",
               ["posts (x2 langs)", "build", "runs", "wall s", "CPU s", "Pelican runs s", "sitewide files + swap s",
                "Pagefind s", "pages", "pages/s", "peak RSS MiB", "largest process MiB", "ratio", "CPU ratio"],
               [r for n in sorted(rows) for r in rows[n]] + copies, notes)
    if cpu_rows or copies_cpu:
        report.add("Build scale: where the cold build's CPU time goes (medians of the cold builds above; × = of plain "
                   "Pelican's CPU time, same run)",
                   ["posts (x2 langs)", "CPU s", "language runs s", "Pagefind s", "build driver s", "plain Pelican s",
                    "language runs", "Pagefind", "build driver", "all but Pagefind", "all", "cores busy: ours",
                    "cores busy: plain"],
                   [cpu_rows[n] for n in sorted(cpu_rows)] + copies_cpu,
                   ["language runs: the Pelican processes' own user + system time (os.wait4), both languages; Pagefind: "
                    "its processes' (one per language); build driver: the rest (settings, the cache check, the "
                    "sitemap's reading of the pages, the pages' digests for the search index, the swap)",
                    "cores busy: the share of the machine's CPU time (every core, /proc/stat) that was not idle while "
                    "the build ran, whatever ran it; when it is near 100 %, the wall time of ours is its CPU time "
                    "divided by the number of cores, so its wall-time ratio follows its CPU ratio: on 2 cores, ours is "
                    "no slower than plain Pelican (one core) only while its CPU ratio is at most about 2"])
    edit_notes.append("no change: `invoke build` finds the output up to date and builds nothing")
    edit_notes.append("one post changed: as the development server (make serve) rebuilds: first the changed "
                      "language's run, in a fork of the warm Pelican process the server keeps ready (started before "
                      "the save, not timed), reads everything (unchanged posts from the content cache) and writes only "
                      "the pages that show the post (its page, the listing pages it is on, the site's few other "
                      "pages), which replace theirs in output/ ('page s': the changed page is served from then on, "
                      "the browser reloads; 'page updated' checks it then); then the sitemap and that language's "
                      "search index are renewed ('search index s', from the save; 'in the index' checks that the "
                      "index has the new word: Pagefind cannot add one page to an index it wrote, so a Pagefind "
                      "service, begun beside the run on the language's indexed pages as they were, is given the "
                      "pages that changed and writes the language's index anew); then the full build writes every page anew into a fresh "
                      "directory and swaps it in, and finds nothing left to index ('full build s', from the save)")
    if own_row:
        edit_notes.append(f"the site's own: the site as it is (content/), its post {OWN_POST[0]} changed, "
                          f"{OWN_EDIT_REPEATS} times")
    edit_notes.append("make serve: the same saves through the development server itself (bench/serve.py: "
                      "sitebuild.devserver.DevServer on a free port, without the form service), each save once the "
                      "server has settled (its warm process ready, the pages' heads read ahead, each language's "
                      "search index begun on its pages after the last build), timed from "
                      "writing the post: 'page s' until the open page is told to reload (the watcher's wait for "
                      "more changes included), 'search index s' until the server says the index and sitemap are "
                      "renewed")
    report.add("Editing loop (% of the cold build of the same size)",
               ["posts", "cold s", "no change s", "% cold", "one post changed: page s", "% cold",
                "search index s", "% cold", "full build s", "% cold", "make serve: page s", "make serve: search index s",
                "% cold", "page updated", "in the index", "runs"],
               [edit_rows[n] for n in sorted(edit_rows)] + ([own_row] if own_row else []), edit_notes)
    return per_size


def build_targets(per_size):
    """The full build's targets (ours / plain Pelican), cold (at 1,000 and 5,000 posts, issue 16)
    and with the cache warm (at 1,000), from the runs scale_and_editing returned."""
    targets = []
    for name, label, sizes in (("ours", "cold: no content cache", BUILD_TARGET_COLD_SIZES),
                               ("ours, cache warm", "content cache warm", (BUILD_TARGET_SIZE,))):
        ratios, verdicts = [], []
        for count, runs in sorted(per_size.items()):
            ours = median([x["seconds"] for x in runs[name]])
            plain = median([x["seconds"] for x in runs["plain"]])
            if ours and plain:
                ratios.append(f"{count:,}: {ours / plain:.2f}×")
                if count in sizes:
                    verdicts.append(ours / plain <= BUILD_TARGET_RATIO)
        met = all(verdicts) if verdicts else None
        at = " and ".join(f"{n:,}" for n in sizes)
        targets.append(Target(f"full build, {label}",
                              f"ours / plain Pelican ≤ {BUILD_TARGET_RATIO:.1f} at {at} posts",
                              ", ".join(ratios) or "–", met, informative=bool(ratios)))
    ratios, verdicts = [], []
    for count, runs in sorted(per_size.items()):
        ours = median([x.get("cpu_seconds") for x in runs["ours"]])
        plain = median([x.get("cpu_seconds") for x in runs["plain"]])
        if ours and plain:
            ratios.append(f"{count:,}: {ours / plain:.2f}×")
            if count in BUILD_TARGET_COLD_SIZES:
                verdicts.append(ours / plain <= CPU_TARGET_RATIO)
    targets.append(Target("full build, cold: CPU time", f"ours / plain Pelican ≤ {CPU_TARGET_RATIO:.1f} at "
                          + " and ".join(f"{n:,}" for n in BUILD_TARGET_COLD_SIZES) + " posts",
                          ", ".join(ratios) or "–", all(verdicts) if verdicts else None, informative=bool(ratios)))
    return targets
