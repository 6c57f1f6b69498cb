"""Load generator for the form service: `python -m bench.load '<json spec>'`.

Runs in a process of its own. `concurrency` clients, each with one keep-alive HTTP/1.1
connection, post valid JSON join requests to a loopback URL until `requests` were sent
or `seconds` passed, whichever comes first: a bounded loop. Prints one JSON object:
status counts, latencies (ms) of acknowledged requests, errors, wall time; the
acknowledged ids go to spec["ids_file"] (one per line).

The client is a minimal HTTP/1.1 client on asyncio streams, not httpx: measured on the
2-core machine, httpx spent ~5 ms of CPU per request, twice what the form service itself
spends, so the load generator, not the service, would have set the ceiling.

spec: {"url": "http://127.0.0.1:PORT", "slugs": [...], "concurrency": 8, "requests": 1000,
       "seconds": 10, "ids_file": "...", "question": {"id": ..., "value": ...} | null,
       optional: "spread": true   each client connects from a loopback address of its own
                                  (client_address(i): 127.0.1.1, 127.0.1.2, ...), as separate
                                  visitors do, so a per-address limit counts one bucket per client;
                 "tag": "r2"      in every e-mail address (deelnemer<n>.r2@example.org), so a
                                  second run against the same database sends new people, not
                                  repeats (which the service stores by replacing the first);
                 "cafile": "..."  an https:// URL (nginx in front), its self-signed certificate}
"""

import asyncio
import ipaddress
import json
import ssl
import sys
import time
from urllib.parse import urlsplit


def is_loopback_url(url):
    host = urlsplit(url).hostname or ""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def client_address(i):
    """The loopback address client i connects from with "spread": 127.0.1.1 for the first, then
    up the 127.0.0.0/8 block (Linux answers on all of it), never 127.0.0.1 itself."""
    if not 0 <= i < 250 * 250:
        raise ValueError(f"client number out of range: {i}")
    return f"127.0.{1 + i // 250}.{1 + i % 250}"


def payload(n, lang="nl", question=None, tag=""):
    body = {
        "name": f"Benchmark Deelnemer {n}",
        "email": f"deelnemer{n}{'.' + tag if tag else ''}@example.org",
        "organisation": f"Bedrijf {n % 97} B.V.",
        "message": "Wij willen graag aansluiten bij dit netwerk.\nMet vriendelijke groet.",
        "consent": True,
        "lang": lang,
    }
    if question:
        body["q_" + question["id"]] = question["value"]
    return body


class Connection:
    """One keep-alive HTTP/1.1 connection."""

    def __init__(self, host, port, local_address=None, tls=None):
        self.host, self.port = host, port
        self.local_address, self.tls = local_address, tls
        self.reader = self.writer = None

    async def close(self):
        if self.writer is not None:
            self.writer.close()
            try:
                await self.writer.wait_closed()
            except OSError:
                pass
        self.reader = self.writer = None

    async def post_json(self, path, data):
        """(status, body bytes)."""
        if self.writer is None:
            self.reader, self.writer = await asyncio.open_connection(
                self.host, self.port, ssl=self.tls, server_hostname=self.host if self.tls else None,
                local_addr=(self.local_address, 0) if self.local_address else None)
        body = json.dumps(data).encode()
        head = (f"POST {path} HTTP/1.1\r\nHost: {self.host}:{self.port}\r\n"
                f"Content-Type: application/json\r\nAccept: application/json\r\n"
                f"User-Agent: knn-bench\r\nContent-Length: {len(body)}\r\n\r\n").encode()
        self.writer.write(head + body)
        await self.writer.drain()
        status_line = await self.reader.readline()
        if not status_line:
            raise ConnectionError("connection closed by the server")
        status = int(status_line.split()[1])
        headers = {}
        while True:
            line = await self.reader.readline()
            if line in (b"\r\n", b"\n", b""):
                break
            name, _, value = line.decode("latin-1").partition(":")
            headers[name.strip().lower()] = value.strip()
        if "content-length" in headers:
            content = await self.reader.readexactly(int(headers["content-length"]))
        elif headers.get("transfer-encoding", "").lower() == "chunked":
            chunks = []
            while True:
                size = int((await self.reader.readline()).split(b";")[0], 16)
                if size == 0:
                    await self.reader.readline()
                    break
                chunks.append(await self.reader.readexactly(size))
                await self.reader.readline()
            content = b"".join(chunks)
        else:
            content = await self.reader.read()
            await self.close()
        keep_alive = headers.get("connection", "").lower()
        if keep_alive == "close" or (status_line.startswith(b"HTTP/1.0") and keep_alive != "keep-alive"):
            await self.close()
        return status, content


async def run(spec):
    url = spec["url"]
    if not is_loopback_url(url):
        raise SystemExit(f"bench.load: refusing a non-loopback target {url!r}")
    parts = urlsplit(url)
    tls = None
    if parts.scheme == "https":
        tls = ssl.create_default_context(cafile=spec.get("cafile"))
        tls.check_hostname = False  # a throwaway certificate for another name, on loopback
    slugs = spec["slugs"]
    tag = spec.get("tag") or ""
    total, concurrency = int(spec["requests"]), int(spec["concurrency"])
    deadline = time.monotonic() + float(spec["seconds"])
    counter = iter(range(total))
    latencies, ids, statuses, samples = [], [], {}, []
    transport_errors = 0

    async def worker(i):
        nonlocal transport_errors
        conn = Connection(parts.hostname, parts.port or (443 if tls else 80),
                          client_address(i) if spec.get("spread") else None, tls)
        try:
            for n in counter:
                if time.monotonic() > deadline:
                    return
                body = payload(n, "nl" if n % 2 else "en", spec.get("question"), tag)
                t = time.perf_counter()
                try:
                    status, content = await asyncio.wait_for(conn.post_json(f"/join/{slugs[n % len(slugs)]}", body), 30)
                except (OSError, ConnectionError, asyncio.TimeoutError, asyncio.IncompleteReadError, ValueError,
                        IndexError) as e:
                    transport_errors += 1
                    if len(samples) < 5:
                        samples.append(f"{type(e).__name__}: {e}"[:200])
                    await conn.close()
                    continue
                ms = (time.perf_counter() - t) * 1000
                statuses[status] = statuses.get(status, 0) + 1
                if status == 201:
                    latencies.append(ms)
                    ids.append(json.loads(content)["id"])
                elif len(samples) < 5:
                    samples.append(f"HTTP {status}: {content[:200].decode('utf-8', 'replace')}")
        finally:
            await conn.close()

    start = time.perf_counter()
    await asyncio.gather(*(worker(i) for i in range(concurrency)))
    wall = time.perf_counter() - start
    with open(spec["ids_file"], "w", encoding="utf-8") as f:
        f.write("".join(i + "\n" for i in ids))
    return {"wall": wall, "acknowledged": len(ids), "statuses": {str(k): v for k, v in statuses.items()},
            "errors": sum(v for k, v in statuses.items() if k != 201) + transport_errors,
            "error_samples": samples, "latencies_ms": latencies}


def main(argv=None):
    spec = json.loads((argv or sys.argv[1:])[0])
    result = asyncio.run(run(spec))
    sys.stdout.write(json.dumps(result) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
