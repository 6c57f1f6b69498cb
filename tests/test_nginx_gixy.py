"""Every nginx configuration we ship (deploy/*.conf) passes gixy-ng without a medium or high
finding, and so stays that way: a later change that brings one back fails `make test`."""

import json
import re
import subprocess
import sys
from pathlib import Path

import crossplane  # nginx's configuration parser, the one gixy-ng reads with (package ngxparse)
import pytest

from tests.support import ROOT, require

DEPLOY = ROOT / "deploy"
# gixy-ng is pinned in requirements-dev.txt and installed into the same environment as pytest.
GIXY = Path(sys.executable).parent / "gixy"
CONFIGS = sorted(DEPLOY.glob("*.conf"))


def main_config(conf, tmp_path):
    """The file nginx would read. deploy/*.conf are blocks for /etc/nginx/conf.d/, which nginx
    includes inside `http`; a bare server block gets no finding from gixy at all (it reported
    "No issues found" for a file with two high ones), so it is checked as nginx reads it."""
    if re.search(r"^\s*http\s*\{", conf.read_text(encoding="utf-8"), re.MULTILINE):
        return conf
    wrapper = tmp_path / "nginx.conf"
    wrapper.write_text(f'events {{}}\nhttp {{\n    include "{conf}";\n}}\n', encoding="utf-8")
    return wrapper


def parsed_servers(main):
    """gixy passes over a file it cannot parse in silence: parse it first, and count its servers."""
    payload = crossplane.parse(str(main), catch_errors=True, check_ctx=True, check_args=True)
    assert payload["errors"] == [], [error["error"] for error in payload["errors"]]

    def servers(block):
        return sum((d["directive"] == "server") + servers(d.get("block", [])) for d in block)

    return sum(servers(config["parsed"]) for config in payload["config"])


def gixy(conf, tmp_path):
    """gixy-ng's findings of medium or high severity for one configuration file."""
    require(GIXY.exists(), "gixy-ng (pinned in requirements-dev.txt; make test installs it)")
    main = main_config(conf, tmp_path)
    assert parsed_servers(main) > 0, f"{conf.name}: no server block"
    result = subprocess.run([str(GIXY), "--format", "json", str(main)], cwd=ROOT,
                            capture_output=True, text=True, timeout=120)
    assert result.returncode in (0, 1), result.stderr
    assert "WARNING" not in result.stderr and "ERROR" not in result.stderr, result.stderr
    return [f"{Path(f['file']).name}:{f['line']}: {f['plugin']} ({f['severity']}): {f['reason']}"
            for f in json.loads(result.stdout) if f["severity"] in ("MEDIUM", "HIGH")]


def test_deploy_has_nginx_configurations():
    assert DEPLOY / "nginx-formservice.conf" in CONFIGS


@pytest.mark.parametrize("conf", CONFIGS, ids=[conf.name for conf in CONFIGS])
def test_nginx_configuration_passes_gixy(conf, tmp_path):
    assert gixy(conf, tmp_path) == []


PLANTED = [
    ("server_tokens off;", "server_tokens on;", "version_disclosure (HIGH)"),
    ("ssl_protocols TLSv1.2 TLSv1.3;", "ssl_protocols TLSv1 TLSv1.1 TLSv1.2 TLSv1.3;", "weak_ssl_tls (HIGH)"),
    ("ssl_protocols TLSv1.2 TLSv1.3;", "", "weak_ssl_tls (MEDIUM)"),  # nginx 1.22's default: 1.0 to 1.3
]


@pytest.mark.parametrize("good, bad, finding", PLANTED, ids=["server_tokens_on", "old_tls", "no_ssl_protocols"])
def test_gixy_finds_a_planted_mistake(tmp_path, good, bad, finding):
    text = (DEPLOY / "nginx-formservice.conf").read_text(encoding="utf-8")
    assert good in text
    planted = tmp_path / "planted" / "nginx-formservice.conf"
    planted.parent.mkdir()
    planted.write_text(text.replace(good, bad), encoding="utf-8")
    assert any(finding in line for line in gixy(planted, tmp_path)), finding


def test_a_file_gixy_cannot_read_is_not_taken_for_clean(tmp_path):
    broken = tmp_path / "broken" / "site.conf"
    broken.parent.mkdir()
    broken.write_text("server {\n    listen 80\n    return 404;\n", encoding="utf-8")
    with pytest.raises(AssertionError, match="unexpected end of file"):
        gixy(broken, tmp_path)
