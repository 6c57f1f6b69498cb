"""Nothing acknowledged is lost: SIGKILL `formservice serve` under a steady stream of
submissions, restart it, and find every request that got a success answer."""

import threading
import time
from collections import Counter

import httpx
from sqlalchemy import func, select

from formservice.db import join_requests, outbox
from tests.formservice.conftest import SITE, service_env, valid_form
from tests.support import free_port


def test_sigkill_under_load_loses_no_acknowledged_request(db, database_url, spawn):
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    args = ["serve", "--host", "127.0.0.1", "--port", str(port), "--no-worker", "--log-level", "warning"]
    env = service_env(database_url)
    service = spawn(args, env).wait_healthy(url)

    acknowledged = {}  # request id -> e-mail
    failures = []
    first_failure = []
    started = time.monotonic()
    lock = threading.Lock()
    stop = threading.Event()

    def submit_forever(n):
        i = 0
        with httpx.Client(base_url=url, timeout=5, headers={"Origin": SITE, "Accept": "application/json"}) as c:
            while not stop.is_set():
                i += 1
                email = f"t{n}-{i}@crash.example"
                try:
                    r = c.post("/join/suspacc", data=valid_form(email=email))
                except httpx.HTTPError as e:  # the service is down: not acknowledged
                    with lock:
                        failures.append(type(e).__name__)
                        if len(failures) == 1:
                            first_failure.append(f"{e!r} after {time.monotonic() - started:.2f} s")
                    time.sleep(0.01)
                    continue
                if r.status_code == 201:
                    with lock:
                        acknowledged[r.json()["id"]] = email
                else:
                    with lock:
                        failures.append(r.status_code)

    threads = [threading.Thread(target=submit_forever, args=(n,)) for n in range(8)]
    for t in threads:
        t.start()
    deadline = time.monotonic() + 30  # a busy machine may take a while: kill once the stream runs
    while len(acknowledged) < 40 and time.monotonic() < deadline:
        time.sleep(0.05)
    before_kill = len(acknowledged)
    service.kill()  # SIGKILL, in the middle of the stream
    assert service.proc.returncode == -9
    time.sleep(0.2)
    spawn(args, env).wait_healthy(url)  # restarted on the same database and port
    time.sleep(1.0)
    stop.set()
    for t in threads:
        t.join(10)

    print(f"acknowledged {len(acknowledged)} ({before_kill} before the kill), failed {len(failures)}")
    assert before_kill >= 20, (f"too few requests before the kill ({before_kill}); the test would prove little; "
                               f"failures: {Counter(failures).most_common(5)}, the first: {first_failure}; "
                               f"service exit code {service.proc.returncode}\n{service.output()[-2000:]}")
    assert len(acknowledged) > before_kill, "nothing was acknowledged after the restart"
    assert failures, "the kill did not interrupt any request: the test did not test a crash"
    with db.connect() as conn:
        stored = dict(conn.execute(select(join_requests.c.id, join_requests.c.email)).all())
        mails = dict(conn.execute(select(outbox.c.request_id, func.count()).group_by(outbox.c.request_id)).all())
    lost = {i: e for i, e in acknowledged.items() if stored.get(i) != e}
    assert not lost, f"{len(lost)} acknowledged requests are not in the database: {sorted(lost.values())[:5]}"
    assert all(mails.get(i) == 2 for i in acknowledged), "an acknowledged request lacks its outbox mails"
    assert all(mails.get(i) == 2 for i in stored), "a request was stored without its mails (not one transaction)"
