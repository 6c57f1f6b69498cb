"""The editing loop through the development server itself: `python -m bench.serve '<json spec>'`.

The development server (sitebuild.devserver.DevServer, what `make serve` runs; here without the
form service and the editor's backend, which a save does not touch) serves an already built site
on a free loopback port, and a client listens to its event stream as an open page does. For each
post in spec["posts"] ([[the post's file, its page in output/], ...]) a paragraph with a new word
is added to the post, and three moments are taken from that write: the `reload` event (the
browser loads the page then; the page must have the word), the server's line that the search
index and sitemap are renewed, and its line that the full build after it is done. The search
index must have the word at the end (index_text: each page's text is a gzipped fragment of its
own). Events is the client of the event stream the tests of the development server use too.

Prints one JSON object on its last line: {"ok": true, "page": [s, ...], "announced": [...],
"index": [...], "full": [...], "shown": [bool, ...], "indexed": [bool, ...], "error": null};
"announced" is the server's line that the page is shown (it tells the open pages first, then
renews the search index: the event reaches the client over HTTP, and may arrive after the index
line when that is quick).
"""

import gzip
import http.client
import io
import json
import queue
import socket
import sys
import threading
import time
import urllib.request
from pathlib import Path

TIMEOUT = 120  # seconds for any one step


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Lines(io.TextIOBase):
    """The server's terminal: every line it prints, with the moment it was printed."""

    def __init__(self):
        self.lines = queue.Queue()

    def write(self, text):
        now = time.perf_counter()
        for line in text.splitlines():
            self.lines.put((now, line))
        return len(text)

    def wait_for(self, start, timeout=TIMEOUT, not_after=None):
        """The moment of the first line that starts with `start` (after the lines read so far);
        a line that starts with `not_after` first is an error."""
        deadline = time.monotonic() + timeout
        while True:
            try:
                moment, line = self.lines.get(timeout=max(0.01, deadline - time.monotonic()))
            except queue.Empty:
                raise TimeoutError(f"the server did not print {start!r} within {timeout} s") from None
            if line.strip().startswith(start):
                return moment
            if not_after and line.strip().startswith(not_after):
                raise RuntimeError(f"the server printed {line.strip()!r} before {start!r}")
            if line.strip().startswith("build FAILED"):
                raise RuntimeError(f"the server's build failed: {line}")


class Events:
    """The event stream an open page listens to: (moment, event name, data) on a queue, in order."""

    def __init__(self, host, port, path, timeout=TIMEOUT):
        self.conn = http.client.HTTPConnection(host, port, timeout=timeout)
        self.conn.request("GET", path)
        self.sock = self.conn.sock  # the response keeps reading it after the connection lets go
        self.response = self.conn.getresponse()
        self.events = queue.Queue()
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self):
        name, data = None, []
        try:
            for raw in self.response.fp:
                line = raw.decode().rstrip("\n")
                if line.startswith("event: "):
                    name = line[len("event: "):]
                elif line.startswith("data: "):
                    data.append(line[len("data: "):])
                elif not line and name:
                    self.events.put((time.perf_counter(), name, "\n".join(data)))
                    name, data = None, []
        except (OSError, ValueError):
            pass

    def next(self, timeout=TIMEOUT):
        """The next (moment, name, data); queue.Empty after `timeout` seconds without one."""
        return self.events.get(timeout=timeout)

    def close(self):
        # Closing the response waits for the reading thread's read to return (the server's
        # next event or ping, up to 15 s); shutting the socket down ends that read at once.
        try:
            self.sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        self.response.close()
        self.conn.close()


def index_text(output, lang="*"):
    """The text of every page in the Pagefind index of `lang` (every language's by default) under
    output/pagefind/: each page's text is a gzipped fragment of its own."""
    return b"".join(gzip.decompress(f.read_bytes()) for f in Path(output).glob(f"pagefind/{lang}/fragment/*.pf_fragment"))


def measure(spec):
    from bench.content import with_new_paragraph  # noqa: PLC0415
    from sitebuild.devserver import EVENTS_PATH, DevServer  # noqa: PLC0415

    site = Path(spec["site"])
    out = Lines()
    server = DevServer(site, port=free_port(), forms=False, editor=False, out=out, debounce_ms=300)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    result = {"page": [], "announced": [], "index": [], "full": [], "shown": [], "indexed": []}
    try:
        deadline = time.monotonic() + TIMEOUT
        while True:
            try:
                urllib.request.urlopen(server.url, timeout=2).close()
                break
            except OSError:
                if time.monotonic() > deadline or not thread.is_alive():
                    raise RuntimeError("the development server did not start")
                time.sleep(0.1)
        server.watcher.ready.wait(30)
        while server.rebuilder.warm is None and time.monotonic() < deadline:  # ready before the editor saves
            time.sleep(0.05)
        if server.rebuilder.warm is not None:
            server.rebuilder.warm.wait_ready()
        # The editor saves once the server has settled: it reads the pages' heads ahead (for the
        # sitemap) when it starts on an output that is up to date, as the warm process imports.
        while any(t.name == "devserver-read-ahead" for t in threading.enumerate()) and time.monotonic() < deadline:
            time.sleep(0.05)
        server.rebuilder.settle()  # and it has begun each language's search index on the pages
        events = Events(server.host, server.port, EVENTS_PATH)
        events.next()  # hello
        while not out.lines.empty():
            out.lines.get()
        for n, (post, page) in enumerate(spec["posts"]):
            post, page = Path(post), Path(page)
            text, word = with_new_paragraph(post, n)
            start = time.perf_counter()
            post.write_text(text, encoding="utf-8")
            moment, name, _ = events.next()
            if name != "reload":
                raise RuntimeError(f"the server sent {name!r} after the save, not 'reload'")
            result["page"].append(moment - start)
            result["shown"].append(page.is_file() and word in page.read_text(encoding="utf-8"))
            result["announced"].append(out.wait_for("shown in", not_after="search index and sitemap renewed") - start)
            result["index"].append(out.wait_for("search index and sitemap renewed") - start)
            result["full"].append(out.wait_for("rebuilt in") - start)
            out.wait_for("search index and sitemap renewed")  # after the full build: nothing left to do
            result["indexed"].append(word.encode() in index_text(site / "output"))
            time.sleep(0.5)
            server.rebuilder.settle()
        events.close()
    finally:
        server.stop()
        thread.join(30)
    return dict(result, ok=True, error=None)


def main(argv=None):
    spec = json.loads((argv or sys.argv[1:])[0])
    try:
        result = measure(spec)
    except Exception as e:  # noqa: BLE001 - the benchmark reports it
        result = {"ok": False, "error": f"{type(e).__name__}: {e}"}
    sys.stdout.write(json.dumps(result) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
