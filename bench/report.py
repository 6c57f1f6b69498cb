"""What every section shares: the time budget, tables, targets, the machine, the report.

Each section adds its tables and targets to one Report; main.py writes it out with
write_report (the Markdown of BENCHMARKS.md) after the run.
"""

import contextlib
import json
import os
import platform
import re
import socket
import statistics
import subprocess
import time
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

from sitebuild import ROOT

# The tools the pages are measured with (machine_info reports their versions).
CHROMIUM = "/usr/bin/chromium"
LIGHTHOUSE = ROOT / "node_modules" / "lighthouse" / "cli" / "index.js"


def log(msg):
    print(msg, flush=True)


def median(values):
    values = [v for v in values if v is not None]
    return statistics.median(values) if values else None


def fmt(value, spec=",.1f", none="–"):
    return none if value is None else format(value, spec)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def run_bounded(cmd, timeout, env=None, cwd=ROOT):
    """(returncode, stdout, stderr) of cmd; past `timeout` seconds the whole process group
    (with its Pelican or Chromium children) is killed and returncode is None."""
    p = subprocess.Popen(cmd, cwd=cwd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                         start_new_session=True)
    try:
        out, err = p.communicate(timeout=max(1, timeout))
        return p.returncode, out, err
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(p.pid, 9)
        out, err = p.communicate()
        return None, out, err


def table(title, headers, rows, notes=()):
    """A plain-text table (for the terminal) and the same as Markdown (for the report)."""
    cells = [[str(c) for c in r] for r in rows]
    widths = [max([len(h)] + [len(r[i]) for r in cells]) for i, h in enumerate(headers)]
    line = "  ".join(h.ljust(w) for h, w in zip(headers, widths))
    text = [f"\n== {title} ==", line, "  ".join("-" * w for w in widths)]
    text += ["  ".join(c.rjust(w) if i else c.ljust(w) for i, (c, w) in enumerate(zip(r, widths))) for r in cells]
    text += [f"  note: {n}" for n in notes]
    md = [f"\n### {title}\n", "| " + " | ".join(headers) + " |",
          "|" + "|".join("---" if i == 0 else "---:" for i in range(len(headers))) + "|"]
    md += ["| " + " | ".join(c.replace("|", "\\|") for c in r) + " |" for r in cells]
    if notes:
        md.append("")
        md += [f"- {n}" for n in notes]
    return "\n".join(text), "\n".join(md)


@dataclass
class Target:
    name: str
    target: str
    measured: str
    met: bool | None  # None: not measured, or nothing to meet
    informative: bool = False  # a figure without a pass mark

    def verdict(self):
        if self.met is None:
            return "(figure only)" if self.informative else "not measured"
        return "met" if self.met else "MISSED"


@dataclass
class Report:
    sections: list = field(default_factory=list)  # (text, markdown)
    targets: list = field(default_factory=list)
    problems: list = field(default_factory=list)  # broken things: exit 1
    notes: list = field(default_factory=list)

    def add(self, title, headers, rows, notes=()):
        text, md = table(title, headers, rows, notes)
        print(text, flush=True)
        self.sections.append(md)

    def problem(self, message):
        self.problems.append(message)
        print(f"\n!!! PROBLEM: {message}\n", flush=True)


class Budget:
    def __init__(self, seconds):
        self.start = time.monotonic()
        self.seconds = seconds

    def elapsed(self):
        return time.monotonic() - self.start

    def allows(self, estimate):
        return self.elapsed() + estimate <= self.seconds

    def left(self):
        return max(0.0, self.seconds - self.elapsed())


def machine_info():
    cpu = "unknown"
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    ram = None
    with contextlib.suppress(OSError, ValueError, IndexError):
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                ram = int(line.split()[1]) / 1024 / 1024
    try:
        from importlib.metadata import version
        pelican_version = version("pelican")
    except Exception:  # noqa: BLE001
        pelican_version = "unknown"
    chromium = "not installed"
    if os.access(CHROMIUM, os.X_OK):
        with contextlib.suppress(Exception):
            chromium = subprocess.run([CHROMIUM, "--version"], capture_output=True, text=True,
                                      timeout=30).stdout.strip() or "installed"
    lighthouse = "not installed (npm ci)"
    pkg = ROOT / "node_modules" / "lighthouse" / "package.json"
    if pkg.exists():
        lighthouse = json.loads(pkg.read_text())["version"]
    return {
        "date": datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "cpu": cpu, "cores": os.cpu_count(), "ram_gib": ram,
        "python": platform.python_version(), "pelican": pelican_version,
        "chromium": chromium, "lighthouse": lighthouse, "platform": platform.platform(),
    }


def write_report(path, machine, report, args, elapsed):
    lines = [
        "# Benchmarks",
        "",
        "Written by `make bench` (`invoke bench`, bench/); do not edit by hand. "
        "`invoke bench --quick` is a smoke test (100 posts, one repeat, no Lighthouse).",
        "",
        f"- date: {machine['date']}",
        f"- machine: {machine['cpu']}, {machine['cores']} cores, "
        f"{fmt(machine['ram_gib'], '.1f')} GiB RAM; {machine['platform']}",
        f"- Python {machine['python']}, Pelican {machine['pelican']}, {machine['chromium']}, "
        f"Lighthouse {machine['lighthouse']}",
        f"- run: {args}; took {elapsed / 60:.1f} min",
        "",
        "The machine is shared and noisy: compare the ratios (ours / plain Pelican, measured in the "
        "same run, interleaved), not the absolute seconds, across runs.",
        "",
        "## Targets",
        "",
        "| what | target | measured | |",
        "|---|---|---|---|",
    ]
    lines += [target_row(t) for t in report.targets]
    if report.problems:
        lines += ["", "## Problems", ""] + [f"- {p}" for p in report.problems]
    lines += ["", "## Figures"] + report.sections + [""]
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    Path(path).write_text("\n".join(lines), encoding="utf-8")


def target_row(t):
    verdict = t.verdict() if t.met is None else ("met" if t.met else "**MISSED**")
    return f"| {t.name} | {t.target} | {t.measured} | {verdict} |"


def _section_key(md, order):
    title = md.lstrip("\n# ")
    return next((i for i, o in enumerate(order) if title.startswith(o)), len(order))


def merge_report(path, machine, report, args, elapsed, order, target_prefixes):
    """Rewrite only some sections of an existing report (`invoke bench --only ...`), keep the rest.

    Replaced: the tables whose titles start like one of `report`'s (by `order`: the start of
    each title, e.g. "Form service"), the target rows and problems whose text starts with one of
    `target_prefixes`; added: a line saying when this part was re-run. Everything else (the full
    run's date and machine, its other tables and targets) stays as it was. Without an existing
    report, a new one with only these sections is written.
    """
    path = Path(path)
    if not path.exists():
        write_report(path, machine, report, args, elapsed)
        return
    text = path.read_text(encoding="utf-8")
    head, sep, figures = text.partition("\n## Figures\n")
    if not sep or "\n## Targets\n" not in head:
        raise ValueError(f"{path}: no '## Targets' and '## Figures': not a report written by the benchmark")
    replaced = {_section_key(md, order) for md in report.sections} - {len(order)}
    new_titles = {md.lstrip("\n# ").split("\n", 1)[0] for md in report.sections}
    kept = [p.strip() for p in re.split(r"(?m)^(?=### )", figures)[1:]
            if _section_key(p, order) not in replaced and p.split("\n", 1)[0][4:] not in new_titles]
    sections = sorted(kept + [md.strip() for md in report.sections], key=lambda md: _section_key(md, order))

    def ours(line):
        cell = line[2:] if line.startswith("| ") else line[2:] if line.startswith("- ") else None
        return cell is not None and any(cell.startswith(p) for p in target_prefixes)

    lines = head.split("\n")
    start = lines.index("## Targets")
    end = next((i for i in range(start + 1, len(lines)) if lines[i].startswith("## ")), len(lines))
    before, body, after = lines[:start], lines[start:end], lines[end:]
    rows = [i for i, line in enumerate(body) if line.startswith("| ") and not line.startswith("| what |")]
    mine = [i for i in rows if ours(body[i])]
    at = mine[0] if mine else (rows[-1] + 1 if rows else len(body))
    body = [line for i, line in enumerate(body) if i not in mine]  # all at or after `at`
    body[at:at] = [target_row(t) for t in report.targets]
    # the problems: ours from this run, the others as they were
    if after and after[0] == "## Problems":
        old = [line for line in after[1:] if line.startswith("- ") and not ours(line)]
    else:
        old = []
    problems = old + [f"- {p}" for p in report.problems]
    while body and body[-1] == "":
        body.pop()
    if problems:
        body += ["", "## Problems", ""] + problems
    note = (f"- re-run alone: {args} on {machine['date']} ({machine['cpu']}, {machine['cores']} cores), took {elapsed / 60:.1f} min: "
            "its tables, targets and problems below are from that run, the rest from the run above")
    marker = f"- re-run alone: {args} on "
    before = [line for line in before if not line.startswith(marker)]
    run_line = next((i for i, line in enumerate(before) if line.startswith("- run: ")), None)
    if run_line is None:
        run_line = next((i for i, line in enumerate(before) if line.startswith("- ")), len(before) - 1)
    before.insert(run_line + 1, note)
    out = "\n".join(before + body) + "\n\n## Figures" + "".join("\n\n" + md for md in sections) + "\n"
    path.write_text(out, encoding="utf-8")
