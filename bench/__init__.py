"""The benchmark behind `invoke bench` / `make bench` (BENCHMARKS.md), one module per thing measured.

    bench.main       the run: main(), the sizes, the time budget, the sections in their order
    bench.report     what the sections share: log, median, fmt, tables, Target, Report, Budget,
                     the machine's description and the report's Markdown
    bench.build      1. build scale (ours against plain Pelican, same run) and 2. the editing loop
    bench.build_run  one measured build in a process of its own (time, pages, peak RSS)
    bench.sites      the sites built: copies of the real site with N synthetic post pairs
    bench.content    the synthetic content: N Dutch posts with English translations, networks
    bench.pages      3. page weight (headless Chromium) and 4. Lighthouse, on the real site
    bench.forms      5. the form service under load, on SQLite and PostgreSQL; the shared rate
                     limit on against off; one instance against three behind nginx
    bench.load       the load generator, in a process of its own
    bench.check      6. the editors' check (`invoke check`) against a cold build, same run
    bench.images     7. pictures: 50 phone photos built cold, warm, and with one photo added
    bench.profile    8. where the time of one cold language run goes (its parts' shares; cProfile)

The build itself is sitebuild's (sitebuild.build.build_site); nothing here imports tasks.py.
"""
