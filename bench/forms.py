"""Section 5: the form service under load.

Accepted req/s, p50/p99 latency, errors and lost requests at 1, 8 and 32 concurrent
clients, on SQLite and on PostgreSQL: `formservice serve` on a loopback port, loaded by
the load generator (load.py) in a process of its own. Then, at 32 clients, in the same run:

* the shared rate limit on against off, one instance, on each database: servers on the
  same database, one with the limit off, one with it on at a per-minute number no client
  reaches, and one with the per-recipient limits off as well, loaded in turns (off, on, both
  off, off, ...); the differences are what each limit costs a request (the rate limit: its
  in-memory check and its upsert into rate_limits in the writer's transaction);
* one instance against three on one PostgreSQL, each behind the shipped nginx block
  (deploy/nginx-formservice.conf, localized: loopback, a throwaway certificate, round-robin
  over the instances), also in turns.
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
from bench.report import Target, fmt, free_port, log, median
from sitebuild import ROOT

FORM_TARGET_RPS = 500
FORM_TARGET_P99_MS = 100
FORM_LEVELS = (1, 8, 32)
FORM_REQUESTS = {1: 300, 8: 1500, 32: 3000}  # per level; also bounded by FORM_SECONDS
FORM_SECONDS = 6
COMPARE_CLIENTS = 32
COMPARE_ROUNDS = 3       # limit off/on and one/three instances: alternating rounds, medians
# "Limit on": the shared limit counts every request, at a number no client of the benchmark
# reaches (32 clients, one address each, at most ~100 requests/s each): nothing is refused.
LIMIT_ON_PER_MINUTE = 1_000_000
# Two more servers beside them, to show in the same run what the per-recipient limits cost:
# rate limit off and the coordinator's digest off (a notification per request, however many);
# and rate limit off with all per-recipient limits off (no window: no look-up of earlier
# requests and mails per batch, no notification count).
NO_DIGEST = {"FORMSERVICE_NOTIFICATIONS_PER_HOUR": "0"}
NO_RECIPIENT_LIMITS = {"FORMSERVICE_RECIPIENT_WINDOW_HOURS": "0", "FORMSERVICE_NOTIFICATIONS_PER_HOUR": "0"}
INSTANCES = 3


def formservice_available():
    """(True, "") or (False, why)."""
    try:
        import importlib.util

        if importlib.util.find_spec("formservice") is None or importlib.util.find_spec("formservice.cli") is None:
            return False, "the formservice package (with formservice.cli) is not importable"
        if importlib.util.find_spec("formservice.app") is None:
            return False, "formservice.app is missing"
        import core.networks  # noqa: F401 - the form service reads networks with the site's loader
    except Exception as e:  # noqa: BLE001
        return False, f"{type(e).__name__}: {e}"
    return True, ""


@contextlib.contextmanager
def formservice_server(database_url, networks_dir, log_path, rate_per_minute=0, trust_proxy=False, env_extra=None):
    """`formservice serve` on a free loopback port, no outbox worker; the rate limit off unless
    rate_per_minute; trust_proxy: X-Forwarded-For from 127.0.0.1 (nginx) is believed; env_extra:
    more FORMSERVICE_* settings."""
    port = free_port()
    env = dict(os.environ,
               FORMSERVICE_DATABASE_URL=database_url,
               FORMSERVICE_NETWORKS_DIR=str(networks_dir),
               FORMSERVICE_ALLOWED_ORIGINS="http://127.0.0.1:8000",
               FORMSERVICE_RATE_PER_MINUTE=str(rate_per_minute))
    for name in ("FORMSERVICE_SMTP_URL", "FORMSERVICE_TRUST_PROXY", "FORMSERVICE_RATE_BURST",
                 "FORMSERVICE_RECIPIENT_WINDOW_HOURS", "FORMSERVICE_NOTIFICATIONS_PER_HOUR"):
        env.pop(name, None)
    env.update(env_extra or {})
    cmd = [sys.executable, "-m", "formservice.cli", "serve", "--host", "127.0.0.1", "--port", str(port),
           "--no-worker", "--log-level", "warning"] + (["--trust-proxy", "127.0.0.1"] if trust_proxy else [])
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


@contextlib.contextmanager
def nginx_in_front(work, name, ports):
    """The shipped deploy/nginx-formservice.conf, localized (loopback, a throwaway certificate)
    with one upstream server per port (round-robin) and without nginx's per-address limits
    (limit_req 30/min, limit_conn 20: the benchmark's 32 clients would hit them); its https URL,
    its certificate file and its process ids."""
    from sitebuild.nginx import Nginx, localize, self_signed, upstreams, without_client_limits

    cert = self_signed(work / f"{name}-cert", names=("forms.knnadvies.nl",))
    https = free_port()
    block = localize(ROOT / "deploy" / "nginx-formservice.conf", https, free_port(), cert, upstream_port=ports[0])
    block = without_client_limits(upstreams(block, ports))
    with Nginx(work / name, [block]).start(wait_for_port=https) as nginx:
        pids = nginx.pids()
        if len(pids) < 2:
            raise RuntimeError(f"nginx started no worker process: {nginx.error_log()[-500:]}")
        yield f"https://127.0.0.1:{https}", str(cert.cert), pids


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


def rate_limit_rows(database_url):
    """Rows in rate_limits: one per client address the shared limit has counted."""
    from sqlalchemy import create_engine, text

    engine = create_engine(database_url)
    try:
        with engine.connect() as conn:
            return conn.execute(text("SELECT count(*) FROM rate_limits")).scalar_one()
    finally:
        engine.dispose()


def load_level(url, slugs, concurrency, requests, seconds, ids_file, question=None, **options):
    """One run of the load generator (bench/load.py; options: spread, tag, cafile)."""
    spec = {"url": url, "slugs": slugs, "concurrency": concurrency, "requests": requests,
            "seconds": seconds, "ids_file": str(ids_file), "question": question, **options}
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


def measure(url, pids, db_url, slugs, concurrency, requests, ids_file, question, **options):
    """One load run against url: figures, with the CPU time of the server processes `pids`
    and 'lost' (acknowledged ids not in join_requests) counted in the database."""
    cpu_before = [cpu_seconds(p) for p in pids]
    res = load_level(url, slugs, concurrency, requests, FORM_SECONDS, ids_file, question, **options)
    cpu_after = [cpu_seconds(p) for p in pids]
    sent = res["acknowledged"] + res["errors"]
    cpu_ms = (sum(a - b for a, b in zip(cpu_after, cpu_before)) * 1000 / max(1, sent)
              if None not in cpu_before + cpu_after else None)
    lost = len({str(uuid.UUID(i)) for i in res["ids"]} - stored_ids(db_url))
    return {"sent": sent, "acknowledged": res["acknowledged"], "errors": res["errors"], "lost": lost,
            "rps": res["acknowledged"] / res["wall"] if res["wall"] else 0.0,
            "p50": percentile(res["latencies_ms"], 50), "p99": percentile(res["latencies_ms"], 99),
            "cpu_ms": cpu_ms, "samples": res["error_samples"], "statuses": res["statuses"]}


def combine(runs):
    """The rounds of one variant: totals of the counts, medians of the rates and times."""
    return {"rounds": len(runs), "sent": sum(r["sent"] for r in runs), "errors": sum(r["errors"] for r in runs),
            "lost": sum(r["lost"] for r in runs),
            **{k: median([r.get(k) for r in runs]) for k in ("rps", "p50", "p99", "cpu_ms", "nginx_cpu_ms")},
            "cpu_range": (min(r["cpu_ms"] for r in runs), max(r["cpu_ms"] for r in runs))
            if runs and None not in [r["cpu_ms"] for r in runs] else None,
            "rps_range": (min(r["rps"] for r in runs), max(r["rps"] for r in runs)) if runs else None,
            "samples": [x for r in runs for x in r["samples"]][:2]}


def with_range(value, span, spec):
    """'2.30 (2.15–2.61)': the median and the rounds' lowest and highest."""
    if value is None or span is None or span[0] == span[1]:
        return fmt(value, spec)
    return f"{fmt(value, spec)} ({fmt(span[0], spec)}–{fmt(span[1], spec)})"


def ratio(a, b):
    return a / b if a is not None and b else None


def in_turns(variants, rounds, run):
    """run(name, round) for each variant in turn, `rounds` times (a, b, a, b: the machine's
    drift falls on both alike); {name: combine(its runs)}."""
    runs = {name: [] for name in variants}
    for k in range(rounds):
        for name in variants:
            runs[name].append(run(name, k))
    return {name: combine(r) for name, r in runs.items()}


def compare_limit(work, label, db_url, netdir, slugs, question, off, n, rounds, report):
    """The shared rate limit off against on, and both limits off (one instance each, same
    database, in turns): rows."""
    names = {"off": "off", "on": f"on ({LIMIT_ON_PER_MINUTE:,}/min)", "nodigest": "off; coordinator digest off",
             "bare": "off; all per-recipient limits off"}
    with contextlib.ExitStack() as stack:
        on = stack.enter_context(formservice_server(db_url, netdir, work / f"formservice-{label}-limit-on.log",
                                                    rate_per_minute=LIMIT_ON_PER_MINUTE))
        nodigest = stack.enter_context(formservice_server(db_url, netdir, work / f"formservice-{label}-nodigest.log",
                                                          env_extra=NO_DIGEST))
        bare = stack.enter_context(formservice_server(db_url, netdir, work / f"formservice-{label}-bare.log",
                                                      env_extra=NO_RECIPIENT_LIMITS))
        servers = {"off": off, "on": on, "nodigest": nodigest, "bare": bare}

        def run(name, k):
            url, pid = servers[name]
            r = measure(url, [pid], db_url, slugs, COMPARE_CLIENTS, n, work / f"ids-{label}-limit-{name}-{k}",
                        question, spread=True, tag=f"limit-{name}-{k}")
            log(f"[form] {label} limit {name}, round {k + 1}: {r['rps']:.0f} req/s, p99 {fmt(r['p99'], '.1f')} ms, "
                f"CPU {fmt(r['cpu_ms'], '.2f')} ms/req, errors {r['errors']}, lost {r['lost']}")
            return r

        for name in ("on", "nodigest", "bare"):  # from 127.0.0.1, not a client's address
            load_level(servers[name][0], slugs, 4, 40, 10, work / f"warmup-{name}.ids", question, tag=f"warmup-{name}")
        before = rate_limit_rows(db_url)
        res = in_turns(tuple(names), rounds, run)
        res["on"]["counted"] = rate_limit_rows(db_url) - before
    rows = []
    off_res = res["off"]
    for name in names:
        r = res[name]
        vs = "–"
        if name != "off":
            d_cpu = (r["cpu_ms"] - off_res["cpu_ms"]) if None not in (r["cpu_ms"], off_res["cpu_ms"]) else None
            vs = (f"req/s {fmt(ratio(r['rps'], off_res['rps']), '.2f')}×, p99 "
                  f"{fmt(ratio(r['p99'], off_res['p99']), '.2f')}×, CPU {fmt(d_cpu, '+.2f')} ms/req")
        rows.append([label, names[name], r["rounds"], r["sent"],
                     with_range(r["rps"], r["rps_range"], ",.0f"), fmt(r["p50"], ".1f"), fmt(r["p99"], ".1f"),
                     r["errors"], r["lost"], with_range(r["cpu_ms"], r["cpu_range"], ".2f"), vs])
        if r["lost"]:
            report.problem(f"form service on {label}, limit {name}: {r['lost']} acknowledged requests are not stored")
    return rows, res


def compare_instances(work, db_url, netdir, slugs, question, n, rounds, report):
    """One instance against three on one PostgreSQL, each behind nginx, in turns: rows."""
    with contextlib.ExitStack() as stack:
        servers = [stack.enter_context(formservice_server(db_url, netdir, work / f"formservice-pg-{i}.log",
                                                          rate_per_minute=LIMIT_ON_PER_MINUTE, trust_proxy=True))
                   for i in range(INSTANCES)]
        ports = [int(url.rsplit(":", 1)[1]) for url, _ in servers]
        fronts = {1: stack.enter_context(nginx_in_front(work, "nginx-1", ports[:1])),
                  INSTANCES: stack.enter_context(nginx_in_front(work, f"nginx-{INSTANCES}", ports))}

        def run(count, k):
            url, cafile, nginx_pids = fronts[count]
            pids = [pid for _, pid in servers[:count]]
            nginx_before = [cpu_seconds(p) for p in nginx_pids]
            r = measure(url, pids, db_url, slugs, COMPARE_CLIENTS, n, work / f"ids-pg-x{count}-{k}", question,
                        spread=True, tag=f"instances-{count}-{k}", cafile=cafile)
            nginx_after = [cpu_seconds(p) for p in nginx_pids]
            r["nginx_cpu_ms"] = (sum(a - b for a, b in zip(nginx_after, nginx_before)) * 1000 / max(1, r["sent"])
                                 if None not in nginx_before + nginx_after else None)
            log(f"[form] PostgreSQL, {count} instance(s) behind nginx, round {k + 1}: {r['rps']:.0f} req/s, "
                f"p99 {fmt(r['p99'], '.1f')} ms, errors {r['errors']}, lost {r['lost']}")
            return r

        for count in fronts:  # warm-up: every instance has its connections and its hash key
            load_level(fronts[count][0], slugs, 6, 60, 10, work / "warmup-nginx.ids", question,
                       spread=True, tag=f"warmup-{count}", cafile=fronts[count][1])
        res = in_turns(tuple(fronts), rounds, run)
    rows = []
    for count, r in res.items():
        rows.append(["PostgreSQL", count, r["rounds"], r["sent"], with_range(r["rps"], r["rps_range"], ",.0f"),
                     fmt(r["p50"], ".1f"), fmt(r["p99"], ".1f"), r["errors"], r["lost"],
                     with_range(r["cpu_ms"], r["cpu_range"], ".2f"),
                     fmt(r["nginx_cpu_ms"], ".2f"),
                     "1.00×" if count == 1 else f"{fmt(ratio(r['rps'], res[1]['rps']), '.2f')}×"])
        if r["lost"]:
            report.problem(f"form service, {count} instances on PostgreSQL: {r['lost']} acknowledged requests "
                           "are not stored")
    return rows, res


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
    rounds = 1 if quick else COMPARE_ROUNDS
    n_compare = max(20, int(FORM_REQUESTS[COMPARE_CLIENTS] * scale))
    rows, notes = [], []
    limit_rows, limit_notes, limit_res = [], [], {}
    instance_rows, instance_notes, instance_res = [], [], None
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
                load_level(url, slugs, 4, int(100 * scale) or 20, 10, work / "warmup.ids", question,
                           tag="warmup")
                for level in FORM_LEVELS:
                    n = max(20, int(FORM_REQUESTS[level] * scale))
                    r = measure(url, [pid], db_url, slugs, level, n, work / f"ids-{label}-{level}", question,
                                tag=f"level-{level}")
                    rows.append([label, level, r["sent"], r["acknowledged"], fmt(r["rps"], ",.0f"),
                                 fmt(r["p50"], ".1f"), fmt(r["p99"], ".1f"), r["errors"], r["lost"],
                                 fmt(r["cpu_ms"], ".2f")])
                    log(f"[form] {label} x{level}: {r['rps']:.0f} req/s, p50 {fmt(r['p50'], '.1f')} ms, "
                        f"p99 {fmt(r['p99'], '.1f')} ms, errors {r['errors']}, lost {r['lost']}")
                    if r["errors"]:
                        notes.append(f"{label} x{level}: errors, e.g. {'; '.join(r['samples'][:2])}")
                    if r["lost"]:
                        report.problem(f"form service on {label}: {r['lost']} acknowledged requests are not in "
                                       "the database")
                    if label == "SQLite" and level == 32:
                        sqlite_32 = (r["rps"], r["p99"], r["lost"], r["errors"])
                try:
                    more, limit_res[label] = compare_limit(work, label, db_url, netdir, slugs, question, (url, pid),
                                                           n_compare, rounds, report)
                    limit_rows += more
                    limit_notes.append(f"{label}: rate_limits gained {limit_res[label]['on']['counted']} rows "
                                       "during the rounds (one per client address counted; 'off' writes none)")
                    for name, r in limit_res[label].items():
                        if r["errors"]:
                            limit_notes.append(f"{label}, limit {name}: errors, e.g. {'; '.join(r['samples'])}")
                except Exception as e:  # noqa: BLE001
                    limit_notes.append(f"{label}: not measured: {type(e).__name__}: {str(e)[-500:]}")
                    log(f"[form] {label}, limit on/off: not measured: {e}")
                if kind == "pg":
                    try:
                        instance_rows, instance_res = compare_instances(work, db_url, netdir, slugs, question,
                                                                        n_compare, rounds, report)
                        for count, r in instance_res.items():
                            if r["errors"]:
                                instance_notes.append(f"{count} instance(s): errors, e.g. {'; '.join(r['samples'])}")
                    except Exception as e:  # noqa: BLE001
                        instance_notes.append(f"not measured: {type(e).__name__}: {str(e)[-500:]}")
                        log(f"[form] one against three instances: not measured: {e}")
        except Exception as e:  # noqa: BLE001
            notes.append(f"{label}: not measured: {type(e).__name__}: {str(e)[-500:]}")
            log(f"[form] {label}: not measured: {e}")
    load_after = os.getloadavg()[0]
    notes.append("`formservice serve` (one uvicorn process; its group-commit thread stores the requests pending "
                 "at each moment in one transaction, acknowledged after the commit; outbox worker off: no SMTP) "
                 "with the rate limit off; the load generator (bench/load.py: keep-alive HTTP/1.1 on "
                 "asyncio, ~0.3 ms CPU per request) is a second process on the same 2 cores; valid JSON join "
                 "requests spread over 20 networks, each from a new e-mail address (no request replaces an "
                 "earlier one); 'lost' = acknowledged (201) but not in join_requests")
    notes.append("server CPU ms/req = the service process's CPU time during the level / requests: with one "
                 "process (one GIL), 1,000 / that is its ceiling in req/s")
    notes.append(f"each level: a fixed number of requests, at most {FORM_SECONDS} s")
    load_note = (f"1-minute load average before / after this section: {load_before:.1f} / {load_after:.1f} "
                 f"on {os.cpu_count()} cores (the service and the load generator account for about 2; the rest "
                 "is other work on the machine, which takes CPU from both)")
    notes.append(load_note)
    report.add("Form service (join requests)", ["database", "clients", "sent", "acknowledged", "req/s",
                                                "p50 ms", "p99 ms", "errors", "lost", "server CPU ms/req"],
               rows, notes)
    limit_notes += [
        f"{COMPARE_CLIENTS} clients, each connecting from a loopback address of its own (127.0.1.1–127.0.1.32: "
        "separate visitors), one `formservice serve` per variant, all on the same database: "
        "'off' (FORMSERVICE_RATE_PER_MINUTE=0) and 'on' (FORMSERVICE_RATE_PER_MINUTE="
        f"{LIMIT_ON_PER_MINUTE}, burst 5: the limit counts every request but refuses none; a refused request "
        "would show as an error), a third with the coordinator's digest off as well "
        "(FORMSERVICE_NOTIFICATIONS_PER_HOUR=0: one notification per request) and a fourth with all "
        "per-recipient limits off (and FORMSERVICE_RECIPIENT_WINDOW_HOURS=0: no look-up of the window's earlier "
        "requests and mails, no notification count), loaded in turns (off, on, digest off, all off, off, …), "
        f"{rounds} round(s) of {n_compare:,} requests (at most {FORM_SECONDS} s) each; medians of the rounds, "
        "sums of sent/errors/lost",
        "what 'on' adds per request: the in-memory token bucket before the body is read, and in the writer's "
        "transaction one atomic upsert (INSERT … ON CONFLICT DO UPDATE … RETURNING) of the client's row in "
        "rate_limits (key: keyed hash of the client address; 32 rows here); the per-recipient limits run in "
        "'off' and 'on' ('off' switches off only the rate limit)",
        "the digest: past 10 notifications an hour for a network (FORMSERVICE_NOTIFICATIONS_PER_HOUR), each "
        "further request is added to that network's digest row instead of a mail of its own; at this load "
        "(hundreds of requests a second over 20 networks: a flood) every network is past it within its first "
        "second, so nearly every request of 'off' and 'on' goes into a digest (each commit appends its lines to "
        "its networks' digest rows: one statement for all of them)",
        "'vs off' = the variant / 'off' of the same run: req/s and p99 as ratios, and the difference in the "
        "service's CPU ms per request (the cost of the shared limit per request; a difference smaller than the "
        "rounds' spread, in brackets: lowest–highest, is not a measured cost)",
        "the machine's load average: under the first form service table",
    ]
    report.add(f"Form service: shared rate limit off and on ({COMPARE_CLIENTS} clients, one instance)",
               ["database", "rate limit (shared)", "rounds", "sent", "req/s", "p50 ms", "p99 ms", "errors", "lost",
                "server CPU ms/req", "vs off"], limit_rows, limit_notes)
    if "PostgreSQL" in [d for d, _ in databases]:
        instance_notes += [
            f"{INSTANCES} `formservice serve` processes on one PostgreSQL (rate limit on at "
            f"{LIMIT_ON_PER_MINUTE:,}/min, --trust-proxy 127.0.0.1, outbox worker off) and two nginx "
            "(one worker process each) with the shipped deploy/nginx-formservice.conf, localized "
            "(127.0.0.1, a throwaway certificate: HTTPS, HTTP/1.1 keep-alive from the clients, keepalive 16 to "
            "the upstream) and without its per-address limit_req / limit_conn; one with the first instance as "
            f"its only upstream, one round-robin over all {INSTANCES}; loaded in turns (1, {INSTANCES}, 1, …)",
            f"{COMPARE_CLIENTS} clients, each from a loopback address of its own; {rounds} round(s) of "
            f"{n_compare:,} requests (at most {FORM_SECONDS} s) each; medians of the rounds, sums of "
            "sent/errors/lost; 'lost' = acknowledged but not in join_requests",
            "service CPU ms/req = the CPU time of the instances taking part, summed / requests; nginx CPU likewise; "
            f"everything (load generator, nginx, {INSTANCES} instances, PostgreSQL) shares the machine's "
            f"{os.cpu_count()} cores, so more instances add parallel Python processes but no cores",
            "the machine's load average: under the first form service table",
        ]
        report.add(f"Form service: one instance against {INSTANCES} on PostgreSQL, behind nginx "
                   f"({COMPARE_CLIENTS} clients)",
                   ["database", "instances", "rounds", "sent", "req/s", "p50 ms", "p99 ms", "errors", "lost",
                    "service CPU ms/req", "nginx CPU ms/req", "req/s vs 1"], instance_rows, instance_notes)
    if sqlite_32:
        rps, p99, lost, errors = sqlite_32
        report.targets.append(Target("form service throughput", f"≥ {FORM_TARGET_RPS} acknowledged req/s on SQLite "
                                     "at 32 clients", f"{rps:,.0f} req/s", rps >= FORM_TARGET_RPS))
        report.targets.append(Target("form service latency", f"p99 ≤ {FORM_TARGET_P99_MS} ms on SQLite at 32 clients",
                                     f"{fmt(p99, '.1f')} ms", p99 is not None and p99 <= FORM_TARGET_P99_MS))
        report.targets.append(Target("form service durability", "0 acknowledged requests lost", str(lost), lost == 0))
    for label, res in limit_res.items():
        off, on, nodigest, bare = res["off"], res["on"], res["nodigest"], res["bare"]

        def cost(a, b):
            return a["cpu_ms"] - b["cpu_ms"] if None not in (a["cpu_ms"], b["cpu_ms"]) else None

        report.targets.append(Target(f"form service coordinator digest, {label}",
                                     f"cost per request under a flood (with − without, {COMPARE_CLIENTS} clients, "
                                     "same run)", f"{fmt(cost(off, nodigest), '+.2f')} ms CPU/req; req/s "
                                     f"{fmt(ratio(off['rps'], nodigest['rps']), '.2f')}×", None, informative=True))
        report.targets.append(Target(f"form service per-recipient window, {label}",
                                     f"cost per request (digest off: with − without, {COMPARE_CLIENTS} clients, "
                                     "same run)", f"{fmt(cost(nodigest, bare), '+.2f')} ms CPU/req; req/s "
                                     f"{fmt(ratio(nodigest['rps'], bare['rps']), '.2f')}×", None, informative=True))
        d_cpu = on["cpu_ms"] - off["cpu_ms"] if None not in (on["cpu_ms"], off["cpu_ms"]) else None
        report.targets.append(Target(f"form service shared rate limit, {label}",
                                     f"cost per request (on − off, {COMPARE_CLIENTS} clients, same run)",
                                     f"{fmt(d_cpu, '+.2f')} ms CPU/req; req/s {fmt(ratio(on['rps'], off['rps']), '.2f')}×,"
                                     f" p99 {fmt(ratio(on['p99'], off['p99']), '.2f')}×", None, informative=True))
    if instance_res:
        one, many = instance_res[1], instance_res[INSTANCES]
        report.targets.append(Target(f"form service, 1 against {INSTANCES} instances", "PostgreSQL behind nginx, "
                                     f"{COMPARE_CLIENTS} clients, none lost",
                                     f"{one['rps']:,.0f} → {many['rps']:,.0f} req/s, p99 {fmt(one['p99'], '.1f')} → "
                                     f"{fmt(many['p99'], '.1f')} ms, lost {one['lost'] + many['lost']}",
                                     one["lost"] + many["lost"] == 0))
