"""Every Python dependency installs only with its recorded hash; requirements.txt (the site) and
requirements-dev.txt (the test and benchmark tools) are what pip-compile makes of their .in files
(docs/testing.md: "Updating a dependency")."""

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
        if line and not line.startswith("-c "):  # a constraints file: its pins, not requirements
            match = PIN.match(line)
            assert match, f"{path.name}: pin top-level requirements exactly: {line!r}"
            pins[name(match.group(1))] = match.group(3)
    return pins


RUNTIME, DEV = ROOT / "requirements.txt", ROOT / "requirements-dev.txt"
TEST_TOOLS = {"pytest", "pytest-xdist", "hypothesis", "playwright", "zizmor", "gixy-ng", "pip-tools"}


def versions(path):
    return {package: version for package, (version, _) in pinned_with_hashes(path).items()}


def test_every_requirement_has_its_hashes():
    for path, least in ((RUNTIME, 40), (DEV, 15)):
        pins = pinned_with_hashes(path)
        assert len(pins) > least, path.name
        missing = [package for package, (_, hashes) in pins.items() if not hashes]
        assert missing == [], path.name
        assert all(re.fullmatch(r"[0-9a-f]{64}", h) for _, hashes in pins.values() for h in hashes)


def test_each_requirements_txt_is_compiled_from_its_in_file():
    for compiled_path, wanted_path in ((RUNTIME, ROOT / "requirements.in"), (DEV, ROOT / "requirements-dev.in")):
        compiled, wanted = versions(compiled_path), top_level(wanted_path)
        assert {p: v for p, v in wanted.items() if compiled.get(p) != v} == {}, \
            f"{wanted_path.name} changed without recompiling {compiled_path.name} (docs/testing.md: Updating a dependency)"
    # the tools of the supply-chain tests and the compiler itself are pinned like everything else
    assert {"zizmor", "gixy-ng", "pip-tools"} <= set(top_level(ROOT / "requirements-dev.in"))
    # the installer and the build backend of the project itself are pinned too (pip-compile --allow-unsafe)
    assert {"pip", "setuptools"} <= set(versions(RUNTIME))


def test_the_site_needs_none_of_the_test_tools_and_both_files_agree():
    """`make serve` installs requirements.txt only: no test or benchmark tool is in it; the test
    tools keep every pin the site has (-c requirements.txt), so installing both changes nothing."""
    runtime, dev = versions(RUNTIME), versions(DEV)
    assert TEST_TOOLS & set(runtime) == set()
    assert TEST_TOOLS <= set(dev)
    assert {p: (v, dev[p]) for p, v in runtime.items() if p in dev and dev[p] != v} == {}
    assert "-c requirements.txt" in (ROOT / "requirements-dev.in").read_text(encoding="utf-8").splitlines()


def test_the_installed_environment_is_the_pinned_one():
    compiled = {**versions(RUNTIME), **versions(DEV)}
    listed = subprocess.run([sys.executable, "-m", "pip", "list", "--format", "freeze", "--exclude-editable",
                             "--disable-pip-version-check"], capture_output=True, text=True, timeout=120, check=True)
    installed = dict(line.split("==", 1) for line in listed.stdout.split() if "==" in line)
    installed = {name(package): version for package, version in installed.items()}
    assert {p: (v, installed.get(p)) for p, v in compiled.items() if installed.get(p) != v} == {}


def make_rule(makefile, target):
    """The prerequisites of `target:` in the Makefile's text."""
    match = re.search(rf"^{re.escape(target)}:([^\n]*)$", makefile, re.M)
    assert match, f"no rule for {target}"
    return match.group(1).split()


def test_make_installs_only_with_hashes():
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    assert "--require-hashes -r requirements.txt" in makefile
    assert "--require-hashes -r requirements-dev.txt" in makefile
    # the project itself is built with the pinned setuptools, not one fetched without a hash
    assert "--no-deps --no-build-isolation -e ." in makefile
    assert "npm ci" in makefile
    # the test tools come with test and bench only
    for target in ("serve", "build", "publish"):
        assert make_rule(makefile, target) == ["$(STAMP)", "node_modules/.site"], target
    for target in ("test", "bench"):
        assert make_rule(makefile, target) == ["$(DEV)", "node_modules/.installed"], target
    assert make_rule(makefile, "$(DEV)") == ["$(STAMP)", "requirements-dev.txt"]


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
