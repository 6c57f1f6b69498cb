"""Real nginx for the tests: sitebuild.nginx (shared with the benchmark), skipped locally and
failed under CI when nginx or openssl is missing.

    conf = localize(ROOT / "deploy/nginx-site.conf", https=8443, http=8080, root=..., cert=cert)
    with Nginx(tmp_path, [conf]) as nginx:      # nginx -t first, then nginx in the foreground
        ...
"""

from sitebuild import nginx as _nginx
from sitebuild.nginx import Certificate, DeployFileChanged, localize, upstreams, without_client_limits  # noqa: F401
from tests.support import require, require_executable


def self_signed(directory, names=("localhost",)):
    """A throwaway certificate and key (openssl), valid for `names`."""
    openssl = require_executable("openssl", "openssl (apt-get install openssl)")
    return _nginx.self_signed(directory, names, openssl=openssl)


class Nginx(_nginx.Nginx):
    def __init__(self, directory, blocks, **kwargs):
        found = _nginx.find_nginx()
        require(found, "nginx (apt-get install nginx)")
        super().__init__(directory, blocks, nginx=found, **kwargs)
