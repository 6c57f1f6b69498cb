"""Section 5: the form service under load.

Accepted req/s, p50/p99 latency, errors and lost requests at 1, 8 and 32 concurrent
clients, on SQLite and on PostgreSQL: `formservice serve` on a loopback port, loaded by
the load generator (load.py) in a process of its own.
"""

import contextlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

from bench.content import NETWORK_COUNT, network_data, write_networks
from bench.report import Target, fmt, free_port, log
from sitebuild import ROOT

FORM_TARGET_RPS = 500
FORM_TARGET_P99_MS = 100
FORM_LEVELS = (1, 8, 32)
FORM_REQUESTS = {1: 300, 8: 1500, 32: 3000}  # per level; also bounded by FORM_SECONDS
FORM_SECONDS = 6


def formservice_available():
    """(True, "") or (False, why)."""
    try:
        import importlib.util

        if importlib.util.find_spec("formservice") is None or importlib.util.find_spec("formservice.cli") is None:
            return False, "the formservice package (with formservice.cli) is not importable"
        if importlib.util.find_spec("formservice.app") is None:
            return False, "formservice.app is missing"
        import networks.model  # noqa: F401 - the form service reads networks with the site's loader
    except Exception as e:  # noqa: BLE001
        return False, f"{type(e).__name__}: {e}"
    return True, ""


@contextlib.contextmanager
def formservice_server(database_url, networks_dir, log_path):
    """`formservice serve` on a free loopback port, rate limit off, no outbox worker."""
    port = free_port()
    env = dict(os.environ,
               FORMSERVICE_DATABASE_URL=database_url,
               FORMSERVICE_NETWORKS_DIR=str(networks_dir),
               FORMSERVICE_ALLOWED_ORIGINS="http://127.0.0.1:8000",
               FORMSERVICE_RATE_PER_MINUTE="0")
    env.pop("FORMSERVICE_SMTP_URL", None)
    cmd = [sys.executable, "-m", "formservice.cli", "serve", "--host", "127.0.0.1", "--port", str(port),
           "--no-worker", "--log-level", "warning"]
    with open(log_path, "w") as logf:
        proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=logf, stderr=subprocess.STDOUT)
        try:
            url = f"http://127.0.0.1:{port}"
            import httpx

            deadline = time.monotonic() + 60
            while True:
                if proc.poll() is not None:
                    raise RuntimeError(f"formservice exited {proc.returncode}: {Path(log_path).read_text()[-1500:]}")
                try:
                    if httpx.get(url + "/healthz", timeout=2).status_code == 200:
                        break
                except httpx.HTTPError:
                    pass
                if time.monotonic() > deadline:
                    raise RuntimeError("formservice did not answer /healthz within 60 s")
                time.sleep(0.2)
            yield url, proc.pid
        finally:
            proc.terminate()
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


def cpu_seconds(pid):
    """User + system CPU time of a process so far (Linux /proc), or None."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except (OSError, IndexError, ValueError):
        return None


def pg_bin():
    found = sorted(Path("/usr/lib/postgresql").glob("*/bin/initdb"))
    return found[-1].parent if found else None


@contextlib.contextmanager
def throwaway_postgres():
    """A PostgreSQL server on 127.0.0.1 and a free port, run as user postgres; its URL."""
    bindir = pg_bin()
    if bindir is None:
        raise RuntimeError("no PostgreSQL server binaries in /usr/lib/postgresql/*/bin")
    base = Path(tempfile.mkdtemp(prefix="bench-pg-"))
    data, sock = base / "data", base / "sock"
    sock.mkdir()
    if os.geteuid() == 0:  # PostgreSQL refuses to run as root
        shutil.chown(base, "postgres", "postgres")
        shutil.chown(sock, "postgres", "postgres")
    port = free_port()
    as_pg = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
    try:
        subprocess.run(as_pg + [str(bindir / "initdb"), "-D", str(data), "-U", "postgres", "-A", "trust",
                                "--no-sync", "-E", "UTF8"], check=True, capture_output=True, timeout=120)
        subprocess.run(as_pg + [str(bindir / "pg_ctl"), "-D", str(data), "-l", str(base / "log"), "-w", "-t", "60",
                                "-o", f"-h 127.0.0.1 -p {port} -k {sock} -c max_connections=100", "start"],
                       check=True, capture_output=True, timeout=120)
        subprocess.run(as_pg + [str(bindir / "createdb"), "-h", "127.0.0.1", "-p", str(port), "-U", "postgres",
                                "formbench"], check=True, capture_output=True, timeout=60)
        yield f"postgresql+psycopg://postgres@127.0.0.1:{port}/formbench"
    finally:
        subprocess.run(as_pg + [str(bindir / "pg_ctl"), "-D", str(data), "-m", "fast", "-w", "stop"],
                       capture_output=True, timeout=120)
        shutil.rmtree(base, ignore_errors=True)


def stored_ids(database_url):
    from sqlalchemy import create_engine, text

    url = database_url
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            # SQLite keeps a UUID as 32 hex digits, PostgreSQL as uuid: compare canonical forms
            return {str(uuid.UUID(str(r[0]))) for r in conn.execute(text("SELECT id FROM join_requests"))}
    finally:
        engine.dispose()


def load_level(url, slugs, concurrency, requests, seconds, ids_file, question=None):
    spec = {"url": url, "slugs": slugs, "concurrency": concurrency, "requests": requests,
            "seconds": seconds, "ids_file": str(ids_file), "question": question}
    p = subprocess.run([sys.executable, "-m", "bench.load", json.dumps(spec)], cwd=ROOT,
                       capture_output=True, text=True, timeout=seconds + 120)
    if p.returncode != 0:
        raise RuntimeError(f"load generator failed: {p.stderr[-1500:]}")
    result = json.loads(p.stdout.strip().splitlines()[-1])
    result["ids"] = [i for i in Path(ids_file).read_text().split() if i]
    return result


def percentile(values, q):
    if not values:
        return None
    values = sorted(values)
    k = max(0, min(len(values) - 1, int(round(q / 100 * (len(values) - 1)))))
    return values[k]


def form_service(work, quick, report):
    ok, why = formservice_available()
    if not ok:
        log(f"[form] form service: not available ({why})")
        report.add("Form service", ["database"], [], [f"form service: not available ({why})"])
        report.targets.append(Target("form service", f"≥ {FORM_TARGET_RPS} req/s, p99 ≤ {FORM_TARGET_P99_MS} ms "
                                     "on SQLite at 32 clients, none lost", "not available", None))
        return
    netdir = work / "form-networks"
    slugs = write_networks(netdir, NETWORK_COUNT)
    q = network_data(0, NETWORK_COUNT)["join"]["questions"][0]
    question = {"id": q["id"], "value": "12"}
    scale = 0.2 if quick else 1.0
    rows, notes = [], []
    databases = [("SQLite", None)]
    if pg_bin() is not None and (os.geteuid() != 0 or shutil.which("runuser")):
        databases.append(("PostgreSQL", "pg"))
    else:
        notes.append("PostgreSQL: not measured (no server binaries in /usr/lib/postgresql/*/bin)")
    sqlite_32 = None
    load_before = os.getloadavg()[0]
    for label, kind in databases:
        try:
            with contextlib.ExitStack() as stack:
                if kind == "pg":
                    db_url = stack.enter_context(throwaway_postgres())
                else:
                    db_path = work / "formbench.sqlite3"
                    for suffix in ("", "-wal", "-shm"):
                        Path(f"{db_path}{suffix}").unlink(missing_ok=True)
                    db_url = f"sqlite:///{db_path}"
                url, pid = stack.enter_context(formservice_server(db_url, netdir, work / f"formservice-{label}.log"))
                load_level(url, slugs, 4, int(100 * scale) or 20, 10, work / "warmup.ids", question)  # warm-up
                for level in FORM_LEVELS:
                    n = max(20, int(FORM_REQUESTS[level] * scale))
                    cpu_before = cpu_seconds(pid)
                    res = load_level(url, slugs, level, n, FORM_SECONDS, work / f"ids-{label}-{level}", question)
                    cpu_after = cpu_seconds(pid)
                    cpu_ms = ((cpu_after - cpu_before) * 1000 / max(1, res["acknowledged"] + res["errors"])
                              if cpu_before is not None and cpu_after is not None else None)
                    stored = stored_ids(db_url)
                    lost = len({str(uuid.UUID(i)) for i in res["ids"]} - stored)
                    rps = res["acknowledged"] / res["wall"] if res["wall"] else 0
                    p50, p99 = percentile(res["latencies_ms"], 50), percentile(res["latencies_ms"], 99)
                    rows.append([label, level, res["acknowledged"] + res["errors"], res["acknowledged"],
                                 fmt(rps, ",.0f"), fmt(p50, ".1f"), fmt(p99, ".1f"), res["errors"], lost,
                                 fmt(cpu_ms, ".2f")])
                    log(f"[form] {label} x{level}: {rps:.0f} req/s, p50 {fmt(p50, '.1f')} ms, "
                        f"p99 {fmt(p99, '.1f')} ms, errors {res['errors']}, lost {lost}")
                    if res["errors"]:
                        notes.append(f"{label} x{level}: errors, e.g. {'; '.join(res['error_samples'][:2])}")
                    if lost:
                        report.problem(f"form service on {label}: {lost} acknowledged requests are not in the database")
                    if label == "SQLite" and level == 32:
                        sqlite_32 = (rps, p99, lost, res["errors"])
        except Exception as e:  # noqa: BLE001
            notes.append(f"{label}: not measured: {type(e).__name__}: {str(e)[-500:]}")
            log(f"[form] {label}: not measured: {e}")
    notes.append("`formservice serve` (one uvicorn process; its group-commit thread stores the requests pending "
                 "at each moment in one transaction, acknowledged after the commit; outbox worker off: no SMTP) "
                 "with the rate limit off; the load generator (bench/load.py: keep-alive HTTP/1.1 on "
                 "asyncio, ~0.3 ms CPU per request) is a second process on the same 2 cores; valid JSON join "
                 "requests spread over 20 networks; 'lost' = acknowledged (201) but not in join_requests")
    notes.append("server CPU ms/req = the service process's CPU time during the level / requests: with one "
                 "process (one GIL), 1,000 / that is its ceiling in req/s")
    notes.append(f"each level: a fixed number of requests, at most {FORM_SECONDS} s")
    notes.append(f"1-minute load average before / after this section: {load_before:.1f} / {os.getloadavg()[0]:.1f} "
                 f"on {os.cpu_count()} cores (the service and the load generator account for about 2; the rest "
                 "is other work on the machine, which takes CPU from both)")
    report.add("Form service (join requests)", ["database", "clients", "sent", "acknowledged", "req/s",
                                                "p50 ms", "p99 ms", "errors", "lost", "server CPU ms/req"],
               rows, notes)
    if sqlite_32:
        rps, p99, lost, errors = sqlite_32
        report.targets.append(Target("form service throughput", f"≥ {FORM_TARGET_RPS} acknowledged req/s on SQLite "
                                     "at 32 clients", f"{rps:,.0f} req/s", rps >= FORM_TARGET_RPS))
        report.targets.append(Target("form service latency", f"p99 ≤ {FORM_TARGET_P99_MS} ms on SQLite at 32 clients",
                                     f"{fmt(p99, '.1f')} ms", p99 is not None and p99 <= FORM_TARGET_P99_MS))
        report.targets.append(Target("form service durability", "0 acknowledged requests lost", str(lost), lost == 0))
