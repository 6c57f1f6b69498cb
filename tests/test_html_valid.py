"""Every generated page passes the Nu HTML checker (vnu-jar from npm, system Java)."""

import json
import shutil
import subprocess

from tests.support import ROOT, require

VNU = ROOT / "node_modules" / "vnu-jar" / "build" / "dist" / "vnu.jar"


def run_vnu(paths):
    java = shutil.which("java")
    require(java, "a Java runtime (apt-get install default-jre-headless)")
    require(VNU.exists(), f"{VNU} (make test runs npm ci)")
    p = subprocess.run([java, "-Xss4m", "-jar", str(VNU), "--format", "json", "--exit-zero-always",
                        *map(str, paths)], capture_output=True, text=True, timeout=600)
    return json.loads(p.stderr or p.stdout)["messages"]


def test_every_page_is_valid_html(html_pages):
    assert len(html_pages) > 20
    messages = run_vnu(html_pages)
    errors = [m for m in messages if m.get("type") == "error" or m.get("subType") == "fatal"]
    report = "\n".join(f"{m.get('url')}:{m.get('lastLine')}: {m.get('message')}" for m in errors)
    assert not errors, report


def test_the_checker_does_find_errors(tmp_path):
    # Guards against a checker that silently checks nothing.
    bad = tmp_path / "bad.html"
    bad.write_text("<!DOCTYPE html><html lang=en><title>x</title><p><div></p>", encoding="utf-8")
    assert any(m.get("type") == "error" for m in run_vnu([bad]))
