"""deploy/publish-rsync.sh, as the workflow's deploy job starts it, against a real sshd (Debian's
openssh-server) on 127.0.0.1 with throwaway keys: the site arrives whole, files the site no
longer has go, and a host that shows another key than the pinned one gets nothing."""

import getpass
import os
import subprocess
import time
from pathlib import Path

import pytest

from tests.entrypoints.conftest import clean_env
from tests.support import ROOT, free_port, require_executable

SCRIPT = ROOT / "deploy" / "publish-rsync.sh"


def keygen(path):
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "", "-f", str(path)], check=True)
    return path, Path(f"{path}.pub")


class Sshd:
    """sshd in the foreground on 127.0.0.1:port, keys and configuration in `directory`."""

    def __init__(self, directory, client_public_key):
        require_executable("/usr/sbin/sshd", "openssh-server (apt-get install openssh-server)")
        require_executable("rsync", "rsync (apt-get install rsync)")
        self.dir = Path(directory)
        self.port = free_port()
        self.host_key, self.host_public = keygen(self.dir / "host_key")
        authorized = self.dir / "authorized_keys"
        authorized.write_text(client_public_key.read_text(), encoding="utf-8")
        os.chmod(authorized, 0o600)
        Path("/run/sshd").mkdir(mode=0o755, exist_ok=True)  # sshd's privilege separation directory
        self.config = self.dir / "sshd_config"
        self.config.write_text(f"""Port {self.port}
ListenAddress 127.0.0.1
HostKey {self.host_key}
PidFile {self.dir / 'sshd.pid'}
AuthorizedKeysFile {authorized}
PermitRootLogin prohibit-password
PasswordAuthentication no
KbdInteractiveAuthentication no
UsePAM no
StrictModes no
""", encoding="utf-8")
        self.log = open(self.dir / "sshd.log", "wb")
        self.proc = subprocess.Popen(["/usr/sbin/sshd", "-D", "-e", "-f", str(self.config)], stdout=self.log,
                                     stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 20
        while subprocess.run(["ssh-keyscan", "-p", str(self.port), "127.0.0.1"], capture_output=True).returncode:
            assert self.proc.poll() is None and time.monotonic() < deadline, (self.dir / "sshd.log").read_text()
            time.sleep(0.1)

    def known_hosts(self, public_key=None):
        """The host key line, as `ssh-keyscan -p PORT HOST` prints it."""
        kind, key = (public_key or self.host_public).read_text().split()[:2]
        return f"[127.0.0.1]:{self.port} {kind} {key}"

    def stop(self):
        self.proc.terminate()
        self.proc.wait(10)
        self.log.close()


@pytest.fixture
def host(tmp_path):
    client_key, client_public = keygen(tmp_path / "deploy_key")
    (tmp_path / "sshd").mkdir()
    sshd = Sshd(tmp_path / "sshd", client_public)
    sshd.client_key = client_key
    yield sshd
    sshd.stop()


def publish(host, source, target, known_hosts=None):
    env = clean_env(DEPLOY_SSH_KEY=host.client_key.read_text(), DEPLOY_KNOWN_HOSTS=known_hosts or host.known_hosts(),
                    DEPLOY_HOST="127.0.0.1", DEPLOY_PORT=str(host.port), DEPLOY_USER=getpass.getuser(),
                    DEPLOY_PATH=str(target))
    return subprocess.run(["bash", str(SCRIPT), str(source)], cwd=ROOT, env=env, capture_output=True, text=True,
                          timeout=120)


def site_tree(root, files):
    for name, text in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text, encoding="utf-8")
    return root


def contents(root):
    return {p.relative_to(root).as_posix(): p.read_text(encoding="utf-8") for p in sorted(root.rglob("*")) if p.is_file()}


def test_the_site_arrives_whole_and_what_it_no_longer_has_goes(host, tmp_path):
    target = site_tree(tmp_path / "srv", {"index.html": "oud", "oud/index.html": "weg ermee"})
    first = site_tree(tmp_path / "build1", {"index.html": "<p>nieuw</p>", "blog/index.html": "blog",
                                            "theme/css/main.abc.css": "body{}"})
    done = publish(host, first, target)
    assert done.returncode == 0, done.stdout + done.stderr
    assert contents(target) == contents(first)  # oud/ is gone, the rest is the new site
    assert oct((target / "blog").stat().st_mode & 0o777) == "0o755"
    assert oct((target / "index.html").stat().st_mode & 0o777) == "0o644"


def test_a_host_with_another_key_gets_nothing(host, tmp_path):
    target = site_tree(tmp_path / "srv", {"index.html": "zoals het was"})
    source = site_tree(tmp_path / "build", {"index.html": "<p>nieuw</p>"})
    _, impostor = keygen(tmp_path / "impostor")
    refused = publish(host, source, target, known_hosts=host.known_hosts(impostor))
    assert refused.returncode != 0
    assert "Host key verification failed" in refused.stderr
    assert contents(target) == {"index.html": "zoals het was"}


def test_without_the_pinned_host_key_it_refuses_to_start(host, tmp_path):
    source = site_tree(tmp_path / "build", {"index.html": "x"})
    env = clean_env(DEPLOY_SSH_KEY="k", DEPLOY_HOST="127.0.0.1", DEPLOY_USER="u")
    p = subprocess.run(["bash", str(SCRIPT), str(source)], cwd=ROOT, env=env, capture_output=True, text=True)
    assert p.returncode != 0 and "DEPLOY_KNOWN_HOSTS" in p.stderr and "never taken on trust" in p.stderr
