"""Section 0: where the time of a cold build goes (issue 16).

One language's Pelican run of the PROFILE_SIZE-post site (sites.py), cold (its content cache
deleted), exactly as the build starts it (sitebuild.build.pelican_command), but in a process
of its own that times the run's parts; then that language's Pagefind index and the sitemap
of its pages, each timed on the run's output.

The parts are disjoint: a few functions are wrapped with a timer, and every moment of the run
counts for the innermost wrapped function running then (typogrify called by the reader counts
as typography, not as reading). The shares come from a run without cProfile, whose overhead
grows with the number of Python calls and would inflate Markdown most; a second run under
cProfile gives the functions that take the most time of their own.

    python -m bench.profile '{"site": "...", "lang": "nl", "cprofile": false}'

prints one JSON object on its last line of stdout: {"parts": {name: seconds}, "total": s,
"hot": [[function, own s, cumulative s, calls], ...]}.
"""

import functools
import json
import os
import shutil
import sys
import time
from collections import defaultdict
from pathlib import Path

from bench.report import fmt, log, run_bounded
from bench.sites import prepare_site

PROFILE_SIZE = 1000
PROFILE_LANG = "nl"

# The parts, in the report's order.
TYPOGRAPHY = "typography (smarty's pass, typogrify's filters)"
MARKDOWN = "Markdown (without smarty's pass)"
FOREIGN = "reading the other language's headers"
OWN = "reading own files: header, checks, metadata"
TEMPLATES = "Jinja templates"
WRITING = "writing files (HTML, feeds)"
CACHE = "content cache (pickling)"
LINKS = "link checks (buildcheck)"
READING_REST = "Pelican, reading phase: content objects, taxonomies, plugins"
WRITING_REST = "Pelican, writing phase: context, pagination, plugins"
STARTUP = "start-up: imports, settings, plugins, static files"
PAGEFIND = "Pagefind (this language's index)"
SITEMAP = "sitemap (this language's pages)"
PARTS = (TYPOGRAPHY, MARKDOWN, FOREIGN, OWN, TEMPLATES, WRITING, CACHE, LINKS, READING_REST, WRITING_REST,
         STARTUP, PAGEFIND, SITEMAP)


class Parts:
    """Disjoint wall time per part: each moment counts for the innermost wrapped call."""

    def __init__(self):
        self.seconds = defaultdict(float)
        self.stack = []  # [started, seconds of wrapped calls inside]

    def wrap(self, owner, name, part, relabel=None):
        fn = getattr(owner, name)

        @functools.wraps(fn)
        def timed(*args, **kwargs):
            frame = [time.perf_counter(), 0.0]
            self.stack.append(frame)
            result = None
            try:
                result = fn(*args, **kwargs)
                return result
            finally:
                self.stack.pop()
                elapsed = time.perf_counter() - frame[0]
                label = relabel(args, result) if relabel else part
                self.seconds[label] += elapsed - frame[1]
                if self.stack:
                    self.stack[-1][1] += elapsed

        setattr(owner, name, timed)


def _instrument(parts, run_lang):
    import jinja2
    import markdown
    import pelican.cache
    import pelican.generators as gens
    import pelican.writers
    import typogrify.filters

    import buildcheck.check
    import buildcheck.links
    import buildcheck.typography
    import network_pages.plugin

    parts.wrap(typogrify.filters, "typogrify", TYPOGRAPHY)
    parts.wrap(buildcheck.typography, "typogrify", TYPOGRAPHY)  # the site's (faster) typogrify
    parts.wrap(buildcheck.typography._SmartyPass, "run", TYPOGRAPHY)  # smarty's pass, inside Markdown's
    parts.wrap(markdown.core.Markdown, "convert", MARKDOWN)

    def reading(args, result):
        meta = result[1] if isinstance(result, tuple) and len(result) == 2 else {}
        return FOREIGN if meta.get("lang") not in (None, run_lang) else OWN

    parts.wrap(buildcheck.check.CheckedMarkdownReader, "read", OWN, relabel=reading)
    parts.wrap(jinja2.environment.Template, "render", TEMPLATES)
    parts.wrap(pelican.writers.Writer, "write_file", WRITING)
    parts.wrap(pelican.writers.Writer, "write_feed", WRITING)
    parts.wrap(pelican.cache.FileDataCacher, "save_cache", CACHE)
    parts.wrap(buildcheck.links, "final_checks", LINKS)
    for cls in (gens.ArticlesGenerator, gens.PagesGenerator, gens.StaticGenerator, gens.TemplatePagesGenerator,
                gens.SourceFileGenerator, network_pages.plugin.NetworksGenerator):
        if "generate_context" in vars(cls):
            parts.wrap(cls, "generate_context", READING_REST)
        if "generate_output" in vars(cls):
            parts.wrap(cls, "generate_output", WRITING_REST)


def profile_run(spec):
    """In this process: one cold language run of spec["site"], its Pagefind index and sitemap."""
    started = time.perf_counter()
    site, lang = Path(spec["site"]), spec["lang"]
    os.chdir(site)
    sys.path.insert(0, str(site / "plugins"))  # as Pelican's PLUGIN_PATHS: the same modules
    from sitebuild.build import pelican_command, read_site_settings  # noqa: PLC0415

    settings = read_site_settings(site / "pelicanconf.py")
    shutil.rmtree(site / settings["CACHE_PATH"] / lang, ignore_errors=True)
    pictures = site / settings["IMAGES_CACHE_PATH"]
    cached = _files(pictures)
    output = site / "profile-output"
    shutil.rmtree(output, ignore_errors=True)
    parts = Parts()
    _instrument(parts, lang)
    import pelican  # noqa: PLC0415

    profiler = None
    if spec.get("cprofile"):
        import cProfile  # noqa: PLC0415

        profiler = cProfile.Profile()
        profiler.enable()
    t = time.perf_counter()
    try:
        pelican.main(pelican_command(site / "pelicanconf.py", site / "content", output, lang)[3:])
    except SystemExit as e:
        if e.code:
            raise
    run = time.perf_counter() - t
    if profiler:
        profiler.disable()
    accounted = sum(parts.seconds.values())
    parts.seconds[STARTUP] += run - accounted + (t - started)  # the run's own rest, and this process's set-up
    from sitebuild.search import index_for_search  # noqa: PLC0415
    from publishing.sitewide import write_sitemap  # noqa: PLC0415

    t = time.perf_counter()
    index_for_search(output, settings, langs=[lang])
    parts.seconds[PAGEFIND] = time.perf_counter() - t
    t = time.perf_counter()
    write_sitemap(output, settings["SITE_ORIGIN"])
    parts.seconds[SITEMAP] = time.perf_counter() - t
    result = {"parts": dict(parts.seconds), "total": sum(parts.seconds.values()), "run": run,
              "pages": sum(1 for _ in output.rglob("*.html")), "pictures_made": len(_files(pictures) - cached)}
    if profiler:
        result["hot"] = hot_functions(profiler)
    shutil.rmtree(output, ignore_errors=True)
    return result


def _files(folder):
    return {p for p in Path(folder).rglob("*") if p.is_file()}


def hot_functions(profiler, count=15):
    """The functions with the most time of their own: [[name, own s, cumulative s, calls]]."""
    import pstats  # noqa: PLC0415

    stats = pstats.Stats(profiler)
    rows = []
    for (path, line, name), (_, calls, own, cumulative, _) in stats.stats.items():
        where = path
        for marker in ("site-packages/", "/plugins/", "/lib/python3"):
            if marker in path:
                where = path.split(marker, 1)[1]
                break
        rows.append([f"{where}:{line}({name})" if line else name, own, cumulative, calls])
    rows.sort(key=lambda r: -r[1])
    return rows[:count]


def run_profile(site, lang, cprofile, timeout=900):
    from sitebuild import ROOT  # noqa: PLC0415

    spec = json.dumps({"site": str(site), "lang": lang, "cprofile": cprofile})
    code, out, err = run_bounded([sys.executable, "-m", "bench.profile", spec], timeout, cwd=ROOT)
    lines = out.strip().splitlines()
    if code != 0 or not lines:
        raise RuntimeError(f"the profiled run exited {code}: {(err or out)[-2000:]}")
    return json.loads(lines[-1])


def build_profile(work, quick, report):
    """The section: a table of the parts' shares, and cProfile's hottest functions."""
    count = 100 if quick else PROFILE_SIZE
    site = work / f"profile-{count}"
    prepare_site(site, count)
    try:
        # Not measured: a first run makes the pictures and share cards (cache-images/), which
        # every cold build the benchmark measures finds made; else the measured run would make
        # them, and the time would count for the templates that ask for the cards.
        run_profile(site, PROFILE_LANG, cprofile=False)
        plain = run_profile(site, PROFILE_LANG, cprofile=False)
        profiled = run_profile(site, PROFILE_LANG, cprofile=True)
    finally:
        shutil.rmtree(site, ignore_errors=True)
    total = plain["total"]
    log(f"[profile] {count} posts, {PROFILE_LANG}: {total:.1f} s ({plain['run']:.1f} s Pelican); "
        f"under cProfile {profiled['run']:.1f} s")
    rows = [[part, fmt(plain["parts"].get(part, 0.0), ".2f"), f"{plain['parts'].get(part, 0.0) / total:.0%}"]
            for part in PARTS]
    rows.append(["total", fmt(total, ".2f"), "100%"])
    report.add(f"Profile: one cold language run ({count:,} posts, {PROFILE_LANG}), its Pagefind index and sitemap",
               ["part", "s", "share"], rows,
               [f"one Pelican run of the {count:,}-post site in its first language, its content cache deleted, "
                "after a first run (not measured) that made the pictures and share cards, which the cold builds "
                f"above find made too ({plain['pictures_made']} made in the measured run), "
                f"as `sitebuild.build` starts it ({plain['pages']:,} pages written), then Pagefind for that "
                "language and the sitemap of its pages, one after the other (in a full build the other "
                "language's run goes beside it on the second core, and Pagefind beside the sitemap)",
                "disjoint parts: a timer on typogrify, smarty's pass, Markdown.convert, the Markdown reader (a file of the other "
                "language: only its header is read), Template.render, the writer, the cache's pickling, the link "
                "checks and each generator's two phases; each moment counts for the innermost of these "
                "(typogrify called by the reader is typography, not reading); 'start-up' = the rest of the "
                "process (imports, settings, plugins' set-up, copying static files)",
                "measured without cProfile (its overhead grows with the number of Python calls); the table "
                f"below is a second run under cProfile ({profiled['run']:.1f} s against {plain['run']:.1f} s)"])
    report.add(f"Profile: the functions with the most time of their own (cProfile, same run, {count:,} posts)",
               ["function", "own s", "cumulative s", "calls"],
               [[f"`{name}`", fmt(own, ".2f"), fmt(cum, ".2f"), f"{calls:,}"] for name, own, cum, calls in profiled["hot"]],
               ["own = time in the function itself, not in what it calls; under cProfile's overhead"])


def main(argv=None):
    spec = json.loads((argv or sys.argv[1:])[0])
    sys.stdout.write(json.dumps(profile_run(spec)) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
