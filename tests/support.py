"""Helpers shared by the test suite.

Under CI (CI=true) a test whose tool is missing FAILS; on a developer's machine it is
skipped with a message saying what to install.
"""

import contextlib
import functools
import http.server
import os
import shutil
import socket
import threading
from pathlib import Path

import pytest

from bench.sites import copy_site  # noqa: F401  (the tests' copies of the site are the benchmark's)

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM = "/usr/bin/chromium"
IN_CI = os.environ.get("CI", "").lower() == "true"


def require(condition, what):
    """Skip locally, fail under CI, when a needed tool is missing."""
    if condition:
        return
    if IN_CI:
        pytest.fail(f"required tool missing under CI: {what}")
    pytest.skip(f"missing tool: {what}")


def require_executable(path_or_name, what=None):
    found = shutil.which(path_or_name) if not os.path.isabs(path_or_name) else (
        path_or_name if os.access(path_or_name, os.X_OK) else None)
    require(found, what or path_or_name)
    return found


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_in_thread(server):
    """Run a socketserver in a daemon thread; returns it. Its shutdown() returns within 50 ms,
    not the half second serve_forever polls at by default (every test's teardown waited it)."""
    threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
    return server


@contextlib.contextmanager
def serve_static(directory, headers=()):
    """Serve a built site over HTTP on loopback, as a static host does; yields its URL.
    `headers`: (name, value) pairs for every response, or a function of the URL path giving them."""

    class Handler(http.server.SimpleHTTPRequestHandler):
        def end_headers(self):
            # `headers`: a list for every path, or a function of the path (see publishing.sitewide.headers_for)
            for name, value in headers(self.path.split("?")[0]) if callable(headers) else headers:
                self.send_header(name, value)
            super().end_headers()

        def log_message(self, *args):
            pass

    server = start_in_thread(http.server.ThreadingHTTPServer(("127.0.0.1", free_port()),
                                                             functools.partial(Handler, directory=str(directory))))
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
