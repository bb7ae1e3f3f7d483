"""`paved new-service`: a round-trip append that validates, plans and passes every policy."""

from __future__ import annotations

import shutil
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from conftest import ROOT, STACKS
from paved.cli import main

PROJECT = ("Pulumi.yaml", "platform", "components", "paved", "policies", "stacks", "services_catalog.yaml",
           "schemas", "sample_services")


@pytest.fixture
def project(tmp_path, monkeypatch):
    """A copy of the project to change, used as the working directory and PAVED_ROOT."""
    root = tmp_path / "project"
    root.mkdir()
    for name in PROJECT:
        src = ROOT / name
        if src.is_dir():
            shutil.copytree(src, root / name, ignore=shutil.ignore_patterns("__pycache__", "*.egg-info"))
        else:
            shutil.copy2(src, root / name)
    monkeypatch.setenv("PAVED_ROOT", str(root))
    monkeypatch.chdir(root)
    return root


def snapshot(root: Path) -> dict[str, bytes]:
    files = [root / "services_catalog.yaml", *(root / "sample_services").rglob("*")]
    return {str(p.relative_to(root)): p.read_bytes() for p in files if p.is_file() and "__pycache__" not in p.parts}


def test_new_service_plans_and_passes_every_mandatory_policy_in_every_stack(project, capsys, tmp_path):
    original = (project / "services_catalog.yaml").read_text()
    assert main(["new-service", "reviews", "--team", "engagement"]) == 0
    out = capsys.readouterr().out
    assert "added service 'reviews'" in out and "sample_services/reviews/" in out

    text = (project / "services_catalog.yaml").read_text()
    # Comments, order and formatting of what was there are untouched: the entry is appended.
    assert text.startswith(original.rstrip("\n") + "\n\n  - name: reviews\n")
    added = text[len(original.rstrip("\n")) + 2:]
    assert len(added.splitlines()) <= 15, added
    assert "image: 123456789012.dkr.ecr.us-east-1.amazonaws.com/shop/reviews:0.1.0" in added

    assert main(["validate"]) == 0
    for stack in STACKS:
        plan = tmp_path / f"plan-{stack}.json"
        assert main(["plan", "--stack", stack, "--format", "json", "--output", str(plan)]) == 0
        assert '"name": "reviews"' in plan.read_text()
        assert main(["check", "--stack", stack, "--plan", str(plan)]) == 0, capsys.readouterr().out
    capsys.readouterr()


def test_scaffold_comes_from_the_shared_template_and_runs(project, tmp_path, capsys):
    from paved.new_service import TEMPLATE_DIR, render

    assert main(["new-service", "reviews", "--team", "engagement", "--port", "8081"]) == 0
    scaffold = project / "sample_services" / "reviews"
    # No Dockerfile per service: the shared one builds it, and the command says how.
    assert sorted(p.name for p in scaffold.iterdir()) == ["app.py"]
    assert ("docker build -f sample_services/Dockerfile --build-arg SERVICE=reviews --build-arg PORT=8081 "
            "--build-arg METRICS_PORT=8081 -t shop/reviews:dev sample_services") in capsys.readouterr().out
    expected = render(project / TEMPLATE_DIR, "reviews", 8081, description="The reviews service of team engagement.")
    assert (scaffold / "app.py").read_text() == expected["app.py"]
    assert 'NAME = "reviews"' in (scaffold / "app.py").read_text()

    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    env = {"PORT": str(port), "PAVED_BIND_ADDRESS": "127.0.0.1", "PAVED_TEAM": "engagement",
           "PAVED_SHUTDOWN_DELAY_SECONDS": "0", "PYTHONDONTWRITEBYTECODE": "1"}
    proc = subprocess.Popen([sys.executable, str(scaffold / "app.py")], env=env, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 20
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/readyz", timeout=1) as r:
                    assert r.status == 200
                    break
            except OSError:
                assert proc.poll() is None and time.monotonic() < deadline
                time.sleep(0.05)
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=5) as r:
            assert r.read() == b'{"service": "reviews", "team": "engagement", "environment": "local"}'
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5) as r:
            assert b"http_server_requests_total{method=\"GET\",route=\"/\",status=\"200\"} 1.0" in r.read()
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            assert proc.wait(10) == 0
        finally:
            if proc.poll() is None:
                proc.kill()


@pytest.mark.parametrize("argv, message", [
    (["orders", "--team", "checkout"], "service 'orders' already exists (services_catalog.yaml:"
     f"{(ROOT / 'services_catalog.yaml').read_text().splitlines().index('  - name: orders') + 1})"),
    (["Reviews", "--team", "engagement"], "invalid service name 'Reviews'"),
    (["reviews_v2", "--team", "engagement"], "invalid service name"),
    (["--team", "engagement", "--", "-reviews"], "invalid service name"),
    (["r" * 64, "--team", "engagement"], "at most 63 characters"),
    (["reviews", "--team", "checkuot"], "unknown team 'checkuot'; did you mean 'checkout'?; teams are: checkout,"),
    (["reviews", "--team", "engagement", "--port", "70000"], "--port 70000"),
    (["reviews", "--team", "engagement", "--image", "shop/reviews:latest"], "floating tag 'latest'"),
    (["reviews", "--team", "engagement", "--image", "shop/reviews"], "has no tag"),
    (["pavedkit", "--team", "engagement"], "sample_services/pavedkit already exists"),
])
def test_bad_requests_are_refused_and_nothing_is_written(project, capsys, argv, message):
    before = snapshot(project)
    assert main(["new-service", *argv]) == 2
    assert message in capsys.readouterr().err
    assert snapshot(project) == before


def test_nothing_is_written_when_the_result_does_not_validate(project, capsys):
    catalog = project / "services_catalog.yaml"
    catalog.write_text(catalog.read_text().replace("port: 9102", "port: 91020"))
    before = snapshot(project)
    assert main(["new-service", "reviews", "--team", "engagement"]) == 1
    err = capsys.readouterr().err
    assert "services[analytics].metrics.port" in err and "problem(s) found" in err
    assert snapshot(project) == before


def test_comments_and_a_trailing_comment_survive(project):
    catalog = project / "services_catalog.yaml"
    catalog.write_text(catalog.read_text() + "    # analytics reads the warehouse nightly\n")
    original = catalog.read_text()
    assert main(["new-service", "reviews", "--team", "data", "--no-scaffold", "--description", "Reviews."]) == 0
    text = catalog.read_text()
    assert text.startswith(original.rstrip("\n"))
    assert "# yaml-language-server: $schema=./schemas/services_catalog.schema.json" in text
    assert text.count("#") == original.count("#")
    assert not (project / "sample_services" / "reviews").exists()
    assert main(["validate"]) == 0


def test_new_service_appends_to_a_catalog_given_with_catalog(project, tmp_path, capsys):
    other = tmp_path / "other.yaml"
    other.write_text((ROOT / "tests" / "catalogs" / "minimal.yaml").read_text())
    teams = __import__("yaml").safe_load(other.read_text())["teams"]
    assert main(["new-service", "reviews", "--team", teams[0]["name"], "--catalog", str(other), "--no-scaffold"]) == 0
    assert main(["validate", "--catalog", str(other)]) == 0
    capsys.readouterr()
