"""Issue 17, set-up: `make plan` installs only what planning needs, every install is pinned by
requirements.lock, and the project carries its licence."""

from __future__ import annotations

import re
import subprocess
import tomllib

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from conftest import ROOT

PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())


def _lock() -> dict[str, str]:
    pins = {}
    for line in (ROOT / "requirements.lock").read_text().splitlines():
        if line.strip() and not line.startswith("#"):
            name, _, version = line.partition("==")
            assert version and re.fullmatch(r"[A-Za-z0-9_.+!-]+", version), line
            pins[canonicalize_name(name)] = version
    return pins


def _make(target: str) -> str:
    return subprocess.run(["make", "-n", "-B", target], cwd=ROOT, capture_output=True, text=True, check=True).stdout


def test_make_plan_does_not_install_the_test_extra():
    plan = _make("plan")
    installs = [line for line in plan.splitlines() if " pip install" in line and "-e" in line]
    assert installs and all("[test]" not in line for line in installs), installs
    assert "[test]" in _make("test")


def test_every_install_uses_the_lock_as_constraints_and_says_what_it_does():
    for target in ("plan", "test"):
        out = _make(target)
        for line in out.splitlines():
            if " pip install" in line and " -e " in line:
                assert "-c requirements.lock" in line, line
        assert 'echo "==> installing paved' in out


def test_the_lock_pins_every_dependency_within_its_range():
    pins = _lock()
    assert "paved" not in pins
    deps = PYPROJECT["project"]["dependencies"] + PYPROJECT["project"]["optional-dependencies"]["test"]
    for text in deps:
        req = Requirement(text)
        name = canonicalize_name(req.name)
        assert name in pins, f"{req.name} is not in requirements.lock: run make lock"
        assert req.specifier.contains(pins[name], prereleases=True), f"{text}: the lock pins {pins[name]}"


def test_licence():
    text = (ROOT / "LICENSE").read_text()
    assert "Apache License" in text and "Version 2.0, January 2004" in text and "END OF TERMS AND CONDITIONS" in text
    assert PYPROJECT["project"]["license"] == "Apache-2.0" and PYPROJECT["project"]["license-files"] == ["LICENSE"]
