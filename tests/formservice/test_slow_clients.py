"""Slow clients cannot lock others out: 1,100 connections from one loopback address trickle
their request headers a byte at a time into `formservice serve` started under the descriptor
limit systemd gives a service (soft 1,024); a join request from another loopback address is
still answered within 2 s, and the slow connections are closed within 30 s."""

import resource
import selectors
import socket
import ssl
import threading
import time

import httpx

from tests.formservice.conftest import SITE, service_env, valid_form
from tests.support import ROOT, free_port

SLOW = 1100
TRICKLE = b"POST /join/suspacc HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n" + b"X-Pad: a\r\n" * 200


def systemd_like_limits():
    resource.setrlimit(resource.RLIMIT_NOFILE, (1024, 4096))


class Tricklers:
    """`n` connections, opened one after another, that each send one byte of TRICKLE every
    `every` seconds from the moment they are open; lifetimes are measured per connection."""

    def __init__(self, port, n, every=0.5, tls=None):
        self.port, self.n, self.every, self.tls = port, n, every, tls
        self.opened_at = {}
        self.closed_at = {}
        self.sent = {}
        self.all_open = threading.Event()
        self.stop = threading.Event()
        self.sel = selectors.DefaultSelector()

    def open(self):
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()
        assert self.all_open.wait(120), "could not open the slow connections"
        return self

    def _connect(self):
        s = socket.create_connection(("127.0.0.1", self.port), timeout=10)
        if self.tls is not None:
            s = self.tls.wrap_socket(s, server_hostname="forms.knnadvies.nl")
        s.setblocking(False)
        self.opened_at[s] = time.monotonic()
        self.sent[s] = 0
        self.sel.register(s, selectors.EVENT_READ)

    def _closed(self, s):
        if s not in self.closed_at:
            self.closed_at[s] = time.monotonic()
            self.sel.unregister(s)
            s.close()

    def lifetimes(self):
        return sorted(self.closed_at[s] - self.opened_at[s] for s in self.closed_at)

    def _run(self):
        next_round = time.monotonic()
        while not self.stop.is_set() and len(self.closed_at) < self.n:
            if len(self.opened_at) < self.n:
                self._connect()
            else:
                self.all_open.set()
            for key, _ in self.sel.select(timeout=0 if len(self.opened_at) < self.n else 0.05):
                try:
                    data = key.fileobj.recv(4096)
                except (ssl.SSLWantReadError, ssl.SSLWantWriteError):
                    continue
                except OSError:  # also ssl.SSLError: the peer went away
                    data = b""
                if not data or b"408" in data:  # EOF, or the service's 408: the server let go
                    self._closed(key.fileobj)
            now = time.monotonic()
            if now >= next_round:
                next_round = now + self.every
                for s in list(self.opened_at):
                    if s in self.closed_at or self.sent[s] >= len(TRICKLE):
                        continue
                    try:
                        s.send(TRICKLE[self.sent[s]:self.sent[s] + 1])
                        self.sent[s] += 1
                    except (ssl.SSLWantReadError, ssl.SSLWantWriteError):
                        pass
                    except OSError:
                        self._closed(s)

    def wait_closed(self, within):
        deadline = time.monotonic() + within
        while len(self.closed_at) < self.n and time.monotonic() < deadline:
            time.sleep(0.2)

    def close(self):
        self.stop.set()
        self.thread.join(5)
        for s in self.opened_at:
            if s not in self.closed_at:
                s.close()


def join_from_another_address(base, **client):
    transport = httpx.HTTPTransport(local_address="127.0.0.2", verify=client.pop("verify", True))
    with httpx.Client(transport=transport, base_url=base, timeout=10,
                      headers={"Origin": SITE, "Accept": "application/json", **client.pop("headers", {})}) as c:
        start = time.monotonic()
        r = c.post("/join/suspacc", json=valid_form())
        return r, time.monotonic() - start


def test_a_thousand_slow_clients_do_not_lock_out_another(tmp_path, spawn):
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    url = f"sqlite:///{tmp_path}/f.sqlite3"
    service = spawn(["serve", "--port", str(port), "--no-worker"], service_env(url),
                    preexec_fn=systemd_like_limits).wait_healthy(base)
    limits = open(f"/proc/{service.proc.pid}/limits").read()
    files = next(line for line in limits.splitlines() if line.startswith("Max open files")).split()
    assert files[3:5] == ["4096", "4096"], "the service raises its soft limit to the hard one"
    slow = Tricklers(port, SLOW).open()
    try:
        time.sleep(2)  # every slow connection is open and trickling
        r, took = join_from_another_address(base)
        assert r.status_code == 201 and took < 2, (r.status_code, took)
        slow.wait_closed(within=30)
        lifetimes = slow.lifetimes()
        assert len(lifetimes) == SLOW, f"{SLOW - len(lifetimes)} slow connections still open 30 s later"
        print(f"join answered in {took:.3f} s; slow connections closed after {lifetimes[0]:.1f}–{lifetimes[-1]:.1f} s")
        assert 9 < lifetimes[0] and lifetimes[-1] < 30  # by the 10 s receive deadline
    finally:
        slow.close()
    # the service carries on
    assert httpx.post(f"{base}/join/suspacc", json=valid_form(), headers={"Origin": SITE}).status_code in (201, 303)


def test_through_nginx_slow_clients_are_cut_off_and_others_still_join(tmp_path, spawn):
    """The same through the shipped nginx block (deploy/nginx-formservice.conf, TLS): 1,000
    connections trickle their headers into nginx; a join from another address gets through
    within 2 s, and nginx closes the slow ones (client_header_timeout) within 30 s."""
    from tests.nginx import Nginx, localize, self_signed

    port = free_port()
    url = f"sqlite:///{tmp_path}/f.sqlite3"
    spawn(["serve", "--port", str(port), "--no-worker", "--trust-proxy"], service_env(url)).wait_healthy(
        f"http://127.0.0.1:{port}")
    cert = self_signed(tmp_path / "cert", names=("forms.knnadvies.nl",))
    https, http = free_port(), free_port()
    block = localize(ROOT / "deploy" / "nginx-formservice.conf", https, http, cert, upstream_port=port)
    with Nginx(tmp_path / "nginx", [block]).start(wait_for_port=https):
        context = ssl.create_default_context(cafile=str(cert.cert))
        context.check_hostname = False
        slow = Tricklers(https, 1000, tls=context).open()
        try:
            time.sleep(2)
            r, took = join_from_another_address(f"https://127.0.0.1:{https}", verify=context,
                                                headers={"Host": "forms.knnadvies.nl"})
            assert r.status_code == 201 and took < 2, (r.status_code, took, r.text[:300])
            slow.wait_closed(within=30)
            lifetimes = slow.lifetimes()
            assert len(lifetimes) == 1000, f"{1000 - len(lifetimes)} slow connections still open 30 s later"
            print(f"through nginx: join answered in {took:.3f} s; slow connections closed after "
                  f"{lifetimes[0]:.1f}–{lifetimes[-1]:.1f} s")
            assert 9 < lifetimes[0] and lifetimes[-1] < 30  # by nginx's client_header_timeout (10 s)
        finally:
            slow.close()
