"""Three `formservice serve` instances on one real PostgreSQL behind real nginx (the shipped
deploy/nginx-formservice.conf with three upstream servers): 32 clients, each from its own
loopback address, send a fixed number of join requests, half of them naming one victim's
address, and one instance is SIGKILLed midway. No acknowledged request is lost; the
per-client rate limit and the per-recipient mail limits hold across the instances as for
one; the survivors stay healthy.
"""

import ssl
import threading
import time
from collections import Counter

import httpx
import pytest
from sqlalchemy import func, select

from formservice.db import join_requests, make_engine, outbox
from tests.formservice.conftest import SITE, SmtpServer, service_env, valid_form
from tests.formservice.test_privacy import private_db, wait_for  # noqa: F401 - fixture
from tests.nginx import Nginx, localize, self_signed, upstreams
from tests.support import ROOT, free_port

CLIENTS = 32
PER_CLIENT = 8
BURST = 5
VICTIM_SPELLINGS = ["doelwit@voorbeeld.nl", "Doelwit@Voorbeeld.nl", "doelwit+a@voorbeeld.nl", "DOELWIT+b@voorbeeld.nl"]


@pytest.mark.postgres
@pytest.mark.parametrize("private_db", ["postgresql"], indirect=True)
def test_three_instances_on_one_postgresql_share_the_limits_and_lose_nothing(private_db, spawn, tmp_path, request):
    url, _ = private_db
    smtp = SmtpServer().start()
    # A mail the killed instance had claimed is sent by another once the claim expires (120 s by
    # default; 5 s here, well within the wait for the victim's mails below).
    env = service_env(url, FORMSERVICE_SMTP_URL=smtp.url, FORMSERVICE_RATE_PER_MINUTE="1",
                      FORMSERVICE_RATE_BURST=str(BURST), FORMSERVICE_RECIPIENT_WINDOW_HOURS="24",
                      FORMSERVICE_CLAIM_SECONDS="5")
    ports = [free_port() for _ in range(3)]
    instances = [spawn(["serve", "--port", str(p), "--trust-proxy", "--log-level", "warning"], env) for p in ports]
    for port, inst in zip(ports, instances):
        inst.wait_healthy(f"http://127.0.0.1:{port}")
    cert = self_signed(tmp_path / "cert", names=("forms.knnadvies.nl",))
    https = free_port()
    block = localize(ROOT / "deploy" / "nginx-formservice.conf", https, free_port(), cert, upstream_port=ports[0])
    block = upstreams(block, ports)
    nginx = Nginx(tmp_path / "nginx", [block]).start(wait_for_port=https)
    request.addfinalizer(nginx.stop)
    tls = ssl.create_default_context(cafile=str(cert.cert))
    tls.check_hostname = False
    acknowledged = {}  # id -> (client, email)
    per_client = Counter()
    outcomes = Counter()
    lock = threading.Lock()

    def client(n):
        transport = httpx.HTTPTransport(local_address=f"127.0.1.{n + 1}", verify=tls)  # the client's own address
        with httpx.Client(transport=transport, base_url=f"https://127.0.0.1:{https}", timeout=10,
                          headers={"Origin": SITE, "Accept": "application/json", "Host": "forms.knnadvies.nl"}) as c:
            for i in range(PER_CLIENT):
                victim = i % 2 == 0
                email = VICTIM_SPELLINGS[(n + i) % 4] if victim else f"c{n}-{i}@voorbeeld.nl"
                network = "suspacc" if (n + i) % 4 < 2 else "bernn"
                form = valid_form(email=email) if network == "suspacc" else valid_form(email=email, q_size=None,
                                                                                      q_rules=None)
                try:
                    r = c.post(f"/join/{network}", json=form)
                except httpx.HTTPError as e:
                    with lock:
                        outcomes[type(e).__name__] += 1
                    continue
                with lock:
                    outcomes[r.status_code] += 1
                    if r.status_code == 201:
                        acknowledged[r.json()["id"]] = (n, email)
                        per_client[n] += 1
                time.sleep(0.02)

    threads = [threading.Thread(target=client, args=(n,)) for n in range(CLIENTS)]
    for t in threads:
        t.start()
    wait_for(lambda: len(acknowledged) >= 40, timeout=30, what="the first acknowledgements")
    instances[0].kill()  # SIGKILL, in the middle of the stream
    for t in threads:
        t.join(60)
    nginx.stop()
    print(f"outcomes: {dict(outcomes)}")
    assert outcomes[201] > 60 and outcomes[429] > 0, outcomes
    assert outcomes.total() == CLIENTS * PER_CLIENT

    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            stored = dict(conn.execute(select(join_requests.c.id, join_requests.c.email)).all())
        # nothing acknowledged is lost: a repeat for the same mailbox and network is kept beside the first
        lost = [i for i in acknowledged if i not in stored]
        assert not lost, f"{len(lost)} acknowledged requests are missing"
        # the per-client limit held across the three instances (not 3 x the burst)
        assert max(per_client.values()) <= BURST, per_client
        # the victim: one request per network, one confirmation per network, one notification each
        with engine.connect() as conn:
            by_network = dict(conn.execute(select(join_requests.c.network, func.count()).where(
                join_requests.c.email_key == "doelwit@voorbeeld.nl", join_requests.c.repeat_of.is_(None))
                .group_by(join_requests.c.network)).all())
            kinds = Counter(k for (k,) in conn.execute(select(outbox.c.kind).join(
                join_requests, outbox.c.request_id == join_requests.c.id).where(
                join_requests.c.email_key == "doelwit@voorbeeld.nl")))
        assert by_network == {"suspacc": 1, "bernn": 1}, by_network
        assert kinds == {"confirmation": 2, "notification": 2}, kinds
        # and at most that reaches the victim's mailbox
        wait_for(lambda: sum(1 for m in smtp.messages if "doelwit" in str(m["To"]).lower()) >= 2, timeout=30,
                 what="the victim's confirmations")
        time.sleep(1)
        to_victim = [m for m in smtp.messages if "doelwit" in str(m["To"]).lower()]
        assert len(to_victim) == 2, [m["To"] for m in to_victim]
        # the survivors are healthy
        for port in ports[1:]:
            assert httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=5).status_code == 200
    finally:
        engine.dispose()
        smtp.stop()
    for inst in instances[1:]:
        assert "Traceback" not in inst.output()
