"""Real nginx for the tests: the shipped deploy/*.conf blocks, as a plain process on 127.0.0.1.

    conf = localize(ROOT / "deploy/nginx-site.conf", https=8443, http=8080, root=..., cert=cert)
    with Nginx(tmp_path, [conf]) as nginx:      # nginx -t first, then nginx in the foreground
        ...

`localize` makes the few changes a test machine needs and nothing else: the listen
addresses (127.0.0.1 and free ports instead of 443/80, no IPv6), the certificate paths (a
throwaway self-signed certificate), the site's root and the form service's upstream
address. Each change must find what it changes, so a deploy file that no longer looks as
expected fails the test instead of being tested half-changed.
"""

import os
import re
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

from tests.support import require_executable


@dataclass
class Certificate:
    cert: Path
    key: Path


def self_signed(directory, names=("localhost",)):
    """A throwaway certificate and key (openssl), valid for `names`."""
    openssl = require_executable("openssl", "openssl (apt-get install openssl)")
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    cert, key = directory / "cert.pem", directory / "key.pem"
    subprocess.run([openssl, "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", f"/CN={names[0]}",
                    "-addext", "subjectAltName=" + ",".join(f"DNS:{n}" for n in names),
                    "-keyout", str(key), "-out", str(cert)], check=True, capture_output=True)
    return Certificate(cert, key)


def _sub(pattern, replacement, text, what, flags=re.MULTILINE):
    new, count = re.subn(pattern, replacement, text, flags=flags)
    assert count, f"deploy file: {what} not found (pattern {pattern!r})"
    return new


def localize(conf_file, https, http, cert, root=None, upstream_port=None):
    """The text of a shipped nginx block, changed to run on this machine (see the module doc)."""
    text = Path(conf_file).read_text(encoding="utf-8")
    text = re.sub(r"^\s*listen \[::\]:\d+[^;]*;\n", "", text, flags=re.MULTILINE)  # loopback IPv4 only
    text = _sub(r"^(\s*)listen 443( ssl[^;]*);", rf"\g<1>listen 127.0.0.1:{https}\g<2>;", text, "listen 443")
    text = _sub(r"^(\s*)listen 80;", rf"\g<1>listen 127.0.0.1:{http};", text, "listen 80")
    text = _sub(r"(ssl_certificate(?:_key)?|ssl_trusted_certificate)(\s+)/etc/letsencrypt/live/[^;]+/(\w+)\.pem;",
                lambda m: f"{m.group(1)}{m.group(2)}{cert.key if m.group(3) == 'privkey' else cert.cert};",
                text, "certificate paths")
    if root is not None:
        text = _sub(r"^(\s*)root /srv/knn-site/output;", rf"\g<1>root {root};", text, "the site's root")
    if upstream_port is not None:
        text = _sub(r"^(\s*)server 127\.0\.0\.1:8080\b", rf"\g<1>server 127.0.0.1:{upstream_port}", text,
                    "the form service's upstream")
    return text


class Nginx:
    """nginx with the given server blocks inside a minimal http {} block, in the foreground."""

    def __init__(self, directory, blocks):
        self.nginx = require_executable("nginx", "nginx (apt-get install nginx)")
        self.dir = Path(directory)
        self.dir.mkdir(parents=True, exist_ok=True)
        for sub in ("logs", "tmp"):
            (self.dir / sub).mkdir(exist_ok=True)
        includes = []
        for i, block in enumerate(blocks):
            path = self.dir / f"block-{i}.conf"
            path.write_text(block, encoding="utf-8")
            includes.append(f"    include {path};")
        temp = "\n".join(f"    {kind}_temp_path {self.dir / 'tmp' / kind};"
                         for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi"))
        # As root, nginx runs its workers as `nobody`, which cannot enter pytest's 0700 temp dirs.
        user = "user root;\n" if os.geteuid() == 0 else ""
        self.conf = self.dir / "nginx.conf"
        self.conf.write_text(f"""{user}worker_processes 1;
daemon off;
pid {self.dir / 'nginx.pid'};
error_log {self.dir / 'logs' / 'error.log'} warn;
events {{ worker_connections 4096; }}
http {{
    include /etc/nginx/mime.types;
    default_type application/octet-stream;
    access_log {self.dir / 'logs' / 'access.log'};
{temp}
{chr(10).join(includes)}
}}
""", encoding="utf-8")
        self.proc = None

    def test_config(self):
        """`nginx -t` on this configuration: (ok, its output)."""
        p = subprocess.run([self.nginx, "-t", "-p", str(self.dir), "-c", str(self.conf), "-e", "stderr"],
                           capture_output=True, text=True)
        return p.returncode == 0, p.stdout + p.stderr

    def start(self, wait_for_port=None):
        ok, output = self.test_config()
        assert ok, output
        self.log = open(self.dir / "logs" / "stderr.log", "wb")
        self.proc = subprocess.Popen([self.nginx, "-p", str(self.dir), "-c", str(self.conf), "-e", "stderr"],
                                     stdout=self.log, stderr=subprocess.STDOUT)
        if wait_for_port:
            import socket

            deadline = time.monotonic() + 15
            while True:
                assert self.proc.poll() is None, self.error_log()
                try:
                    socket.create_connection(("127.0.0.1", wait_for_port), timeout=1).close()
                    break
                except OSError:
                    assert time.monotonic() < deadline, f"nginx did not listen on {wait_for_port}\n{self.error_log()}"
                    time.sleep(0.1)
        return self

    def error_log(self):
        logs = self.dir / "logs"
        return "".join(p.read_text(errors="replace") for p in (logs / "stderr.log", logs / "error.log") if p.exists())

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        if getattr(self, "log", None):
            self.log.close()

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()
