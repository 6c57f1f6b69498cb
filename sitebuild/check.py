"""The build's checks without the build: what ``invoke check`` runs.

    problems, failures = check_site(Path("pelicanconf.py"))

One Pelican run per site language, in parallel, exactly as the build starts them (the
same plugins, settings and ``--fatal warnings``), with ``BUILDCHECK_DRY_RUN``: each run
reads every file (Markdown and network YAML), makes every check, and stops before it
writes anything (see check.fail_if_problems). Without the content cache, so that nothing
a previous build left decides the answer.

Returns the problems (``Problem``, each once, sorted) and the output of any run that
failed for another reason than a content problem (a broken setting, say), to be shown
as it is.
"""

import json
import os
import re
import subprocess
import tempfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from .build import pelican_command
from core.problem import Problem

PROBLEM_LINE = re.compile(r"^(?P<path>[^\s:][^:]*):(?P<line>\d+):(?P<col>\d+): (?P<field>[^\s:]+): (?P<message>.+)$")
SUMMARY_LINE = re.compile(r"^buildcheck: \d+ problem\(s\) in the content")


def pelican_check_command(settings_file, content, output, lang, overrides=None):
    """The build's own command for `lang` (sitebuild.build), as a dry run without the cache."""
    settings = {"BUILDCHECK_DRY_RUN": True, "CACHE_CONTENT": False, "LOAD_CONTENT_CACHE": False,
                **(overrides or {})}
    return pelican_command(settings_file, content, output, lang, {k: json.dumps(v) for k, v in settings.items()})


def check_site(settings_file, content=None, languages=None, overrides=None, cwd=None):
    """(problems, failures) of every language's checking run; see the module's docstring."""
    settings_file = Path(settings_file).resolve()
    cwd = Path(cwd or settings_file.parent)
    if languages is None or content is None:
        from pelican.settings import read_settings  # noqa: PLC0415

        settings = read_settings(str(settings_file), override=dict(overrides or {}))
        languages = languages or list(settings.get("LANGUAGES") or [settings["DEFAULT_LANG"]])
        content = content or settings["PATH"]
    env = dict(os.environ, COLUMNS="200", TERM="dumb")
    with tempfile.TemporaryDirectory(prefix="check-") as output:
        def run(lang):
            cmd = pelican_check_command(settings_file, content, Path(output) / lang, lang, overrides)
            return subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True)

        with ThreadPoolExecutor(max_workers=max(1, len(languages))) as pool:
            runs = list(pool.map(run, languages))
    problems, failures = set(), []
    for lang, p in zip(languages, runs):
        other, found = [], 0
        for line in (p.stderr + p.stdout).splitlines():
            m = PROBLEM_LINE.match(line)
            if m:
                found += 1
                problems.add(Problem(m.group("path"), int(m.group("line")), int(m.group("col")),
                                     m.group("field"), m.group("message")))
            elif line.strip() and not SUMMARY_LINE.match(line):
                other.append(line)
        if p.returncode != 0 and (other or not found):
            failures.append(f"the {lang} run failed (exit status {p.returncode}):\n" + "\n".join(other))
    return sorted(problems), failures
