"""Every Python dependency installs only with its recorded hash, and requirements.txt is what
pip-compile makes of requirements.in (README: "Updating a dependency")."""

import re
import subprocess
import sys

from tests.support import ROOT

PIN = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)(\[[^\]]*\])?==([^\s;\\]+)")


def name(text):
    return re.sub(r"[-_.]+", "-", text).lower()


def pinned_with_hashes(path):
    """{name: (version, [sha256 ...])} of a pip-compile'd requirements file; fails on any line it
    does not understand, so that no requirement slips in without a hash."""
    pins, current = {}, None
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        stripped = line.strip()
        if not stripped or stripped.startswith("#"):
            continue
        match = PIN.match(line)
        if match:
            current = name(match.group(1))
            pins[current] = (match.group(3), [])
        elif stripped.startswith("--hash=sha256:") and current:
            pins[current][1].append(stripped.removeprefix("--hash=sha256:").rstrip(" \\"))
        else:
            raise AssertionError(f"{path.name}:{number}: not a pinned requirement or its hash: {line!r}")
    return pins


def top_level(path):
    pins = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        line = line.split("#", 1)[0].strip()
        if line:
            match = PIN.match(line)
            assert match, f"{path.name}: pin top-level requirements exactly: {line!r}"
            pins[name(match.group(1))] = match.group(3)
    return pins


def test_every_requirement_has_its_hashes():
    pins = pinned_with_hashes(ROOT / "requirements.txt")
    assert len(pins) > 60
    missing = [package for package, (_, hashes) in pins.items() if not hashes]
    assert missing == []
    assert all(re.fullmatch(r"[0-9a-f]{64}", h) for _, hashes in pins.values() for h in hashes)


def test_requirements_txt_is_compiled_from_requirements_in():
    compiled = {package: version for package, (version, _) in pinned_with_hashes(ROOT / "requirements.txt").items()}
    wanted = top_level(ROOT / "requirements.in")
    assert {p: v for p, v in wanted.items() if compiled.get(p) != v} == {}, \
        "requirements.in changed without recompiling requirements.txt (README: Updating a dependency)"
    # the tools of the supply-chain tests and the compiler itself are pinned like everything else
    assert {"zizmor", "gixy-ng", "pip-tools"} <= set(wanted)
    # the installer and the build backend of the project itself are pinned too (pip-compile --allow-unsafe)
    assert {"pip", "setuptools"} <= set(compiled)


def test_the_installed_environment_is_the_pinned_one():
    compiled = {package: version for package, (version, _) in pinned_with_hashes(ROOT / "requirements.txt").items()}
    listed = subprocess.run([sys.executable, "-m", "pip", "list", "--format", "freeze", "--exclude-editable",
                             "--disable-pip-version-check"], capture_output=True, text=True, timeout=120, check=True)
    installed = dict(line.split("==", 1) for line in listed.stdout.split() if "==" in line)
    installed = {name(package): version for package, version in installed.items()}
    assert {p: (v, installed.get(p)) for p, v in compiled.items() if installed.get(p) != v} == {}


def test_make_installs_only_with_hashes():
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    assert "--require-hashes -r requirements.txt" in makefile
    # the project itself is built with the pinned setuptools, not one fetched without a hash
    assert "--no-deps --no-build-isolation -e ." in makefile
    assert "npm ci" in makefile


def test_a_requirement_without_hash_is_caught(tmp_path):
    bad = tmp_path / "requirements.txt"
    bad.write_text((ROOT / "requirements.txt").read_text(encoding="utf-8") + "requests==2.32.3\n", encoding="utf-8")
    assert pinned_with_hashes(bad)["requests"] == ("2.32.3", [])
    bad.write_text("requests>=2\n", encoding="utf-8")
    try:
        pinned_with_hashes(bad)
    except AssertionError as error:
        assert "not a pinned requirement" in str(error)
    else:
        raise AssertionError("an unpinned requirement went unnoticed")
