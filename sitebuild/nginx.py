"""Real nginx as a plain process on 127.0.0.1, with the shipped deploy/*.conf blocks localized.

    conf = localize(ROOT / "deploy/nginx-site.conf", https=8443, http=8080, root=..., cert=cert)
    with Nginx(tmp_path, [conf]) as nginx:      # nginx -t first, then nginx in the foreground
        ...

Used by the tests (tests/nginx.py) and by the benchmark (bench/forms.py: several form service
instances behind nginx). `localize` makes the few changes a test machine needs and nothing
else: the listen addresses (127.0.0.1 and free ports instead of 443/80, no IPv6), the
certificate paths (a throwaway self-signed certificate), the site's root and the form
service's upstream address(es). Each change must find what it changes, so a deploy file that
no longer looks as expected raises DeployFileChanged instead of being run half-changed.
"""

import os
import re
import shutil
import socket
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

NGINX_CANDIDATES = ("nginx", "/usr/sbin/nginx")


class DeployFileChanged(AssertionError):
    """A shipped nginx file no longer has what localize() changes."""


def find_nginx():
    """The nginx executable, or None."""
    for name in NGINX_CANDIDATES:
        found = shutil.which(name) if not os.path.isabs(name) else (name if os.access(name, os.X_OK) else None)
        if found:
            return found
    return None


@dataclass
class Certificate:
    cert: Path
    key: Path


def self_signed(directory, names=("localhost",), openssl="openssl"):
    """A throwaway certificate and key (openssl), valid for `names`."""
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    cert, key = directory / "cert.pem", directory / "key.pem"
    subprocess.run([openssl, "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", f"/CN={names[0]}",
                    "-addext", "subjectAltName=" + ",".join(f"DNS:{n}" for n in names),
                    "-keyout", str(key), "-out", str(cert)], check=True, capture_output=True)
    return Certificate(cert, key)


def _sub(pattern, replacement, text, what, flags=re.MULTILINE, count=0):
    new, n = re.subn(pattern, replacement, text, count=count, flags=flags)
    if not n:
        raise DeployFileChanged(f"deploy file: {what} not found (pattern {pattern!r})")
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


def upstreams(block, ports):
    """A localized form service block with one upstream `server` line per port (the first
    server line's options repeated), as deploy/nginx-formservice.conf says to add instances."""
    return _sub(r"^(\s*)server 127\.0\.0\.1:(\d+)(.*)$",
                lambda m: "\n".join(f"{m.group(1)}server 127.0.0.1:{p}{m.group(3)}" for p in ports),
                block, "the upstream's server line", count=1)


def without_client_limits(block):
    """The block without nginx's per-address request and connection limits (limit_req,
    limit_conn), for loading the service from a few addresses; everything else as shipped."""
    block = _sub(r"^\s*limit_req zone=[^;]*;\n", "", block, "limit_req")
    return _sub(r"^\s*limit_conn formservice_conn[^;]*;\n", "", block, "limit_conn")


class Nginx:
    """nginx with the given server blocks inside a minimal http {} block, in the foreground."""

    def __init__(self, directory, blocks, nginx=None, worker_processes=1):
        self.nginx = nginx or find_nginx()
        if self.nginx is None:
            raise FileNotFoundError("nginx is not installed (apt-get install nginx)")
        self.dir = Path(directory)
        self.dir.mkdir(parents=True, exist_ok=True)
        for sub in ("logs", "tmp"):
            (self.dir / sub).mkdir(exist_ok=True)
        includes = []
        for i, block in enumerate(blocks):
            path = self.dir / f"block-{i}.conf"
            # The blocks' own log files (/var/log/nginx/...) go to this nginx's logs/ too.
            path.write_text(block.replace("/var/log/nginx/", f"{self.dir / 'logs'}/"), encoding="utf-8")
            includes.append(f"    include {path};")
        temp = "\n".join(f"    {kind}_temp_path {self.dir / 'tmp' / kind};"
                         for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi"))
        # As root, nginx runs its workers as `nobody`, which cannot enter pytest's 0700 temp dirs.
        user = "user root;\n" if os.geteuid() == 0 else ""
        self.conf = self.dir / "nginx.conf"
        self.conf.write_text(f"""{user}worker_processes {worker_processes};
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
        if self.proc is not None and self.proc.poll() is None:
            raise RuntimeError("this nginx is running already")
        ok, output = self.test_config()
        if not ok:
            raise RuntimeError(f"nginx -t failed:\n{output}")
        self.log = open(self.dir / "logs" / "stderr.log", "wb")
        self.proc = subprocess.Popen([self.nginx, "-p", str(self.dir), "-c", str(self.conf), "-e", "stderr"],
                                     stdout=self.log, stderr=subprocess.STDOUT)
        if wait_for_port:
            deadline = time.monotonic() + 15
            while True:
                if self.proc.poll() is not None:
                    self.stop()
                    raise RuntimeError(f"nginx exited {self.proc.returncode}:\n{self.error_log()}")
                try:
                    socket.create_connection(("127.0.0.1", wait_for_port), timeout=1).close()
                    break
                except OSError:
                    if time.monotonic() > deadline:
                        self.stop()
                        raise RuntimeError(f"nginx did not listen on {wait_for_port}\n{self.error_log()}") from None
                    time.sleep(0.1)
        return self

    def pids(self, timeout=5):
        """The master's and its workers' process ids (for their CPU time); the workers start
        just after the master listens, so wait up to `timeout` s for them."""
        if self.proc is None:
            return []
        deadline = time.monotonic() + timeout
        while True:
            out = subprocess.run(["ps", "-o", "pid=", "--ppid", str(self.proc.pid)], capture_output=True, text=True)
            workers = [int(p) for p in out.stdout.split()]
            if workers or time.monotonic() > deadline or self.proc.poll() is not None:
                return [self.proc.pid] + workers
            time.sleep(0.1)

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
            self.log = None

    def __enter__(self):
        # `with Nginx(...).start(wait_for_port=...)` has started it already: a second nginx would
        # fail to bind, and the first one, no longer tracked, would outlive the block.
        if self.proc is None or self.proc.poll() is not None:
            self.start()
        return self

    def __exit__(self, *exc):
        self.stop()
