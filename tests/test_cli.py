"""The command line: exit codes, formats, and no tracebacks."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import ROOT
from paved.cli import main


def test_plan_text_and_json(capsys, tmp_path):
    assert main(["plan", "--stack", "dev"]) == 0
    out = capsys.readouterr().out
    assert "Plan for stack dev" in out and "Deployment" in out
    target = tmp_path / "plan.json"
    assert main(["plan", "--stack", "prod", "--format", "json", "--output", str(target)]) == 0
    doc = json.loads(target.read_text())
    assert doc["stack"] == "prod" and doc["resources"]


def test_unknown_stack_lists_stacks(capsys):
    assert main(["plan", "--stack", "qa"]) == 2
    err = capsys.readouterr().err
    assert "unknown stack 'qa'" in err and "dev, staging, prod" in err


def test_missing_catalog_is_an_error(capsys, tmp_path):
    assert main(["plan", "--stack", "dev", "--catalog", str(tmp_path / "nope.yaml")]) == 1
    assert "nope.yaml:1:1: file not found" in capsys.readouterr().err


def test_plan_refuses_invalid_catalog(capsys, tmp_path):
    bad = tmp_path / "c.yaml"
    bad.write_text((ROOT / "services_catalog.yaml").read_text().replace("port: 8080", "port: 80800", 1))
    assert main(["plan", "--stack", "dev", "--catalog", str(bad)]) == 1
    err = capsys.readouterr().err
    assert "services[orders].port" in err and "Traceback" not in err


def test_explain_marks_overrides(capsys):
    assert main(["explain", "orders"]) == 0
    out = capsys.readouterr().out
    header = next(line for line in out.splitlines() if line.startswith("setting"))
    assert header.split() == ["setting", "dev", "staging", "prod"]
    row = next(line for line in out.splitlines() if line.startswith("scaling.max "))
    assert row.split() == ["scaling.max", "2", "*", "4", "12", "*"]


def test_explain_unknown_service(capsys):
    assert main(["explain", "nope"]) == 2
    assert "unknown service 'nope'" in capsys.readouterr().err


def test_render(tmp_path, capsys):
    assert main(["render", "--stack", "dev", "--output", str(tmp_path)]) == 0
    assert (tmp_path / "_cluster" / "namespace-checkout.yaml").exists()
    assert (tmp_path / "checkout" / "horizontalpodautoscaler-orders.yaml").exists()
    # analytics scales on Kafka lag: KEDA objects in place of its HPA.
    assert (tmp_path / "data" / "scaledobject-analytics.yaml").exists()
    assert (tmp_path / "data" / "triggerauthentication-analytics-kafka.yaml").exists()


def test_schema_command(capsys):
    assert main(["schema"]) == 0
    assert json.loads(capsys.readouterr().out)["title"] == "paved services catalog"


@pytest.mark.parametrize("argv", [["plan"], ["nonsense"], ["plan", "--stack", "dev", "--format", "xml"]])
def test_usage_errors_exit_2(argv):
    with pytest.raises(SystemExit) as exc:
        main(argv)
    assert exc.value.code == 2


def test_python_dash_m_and_console_script():
    for cmd in ([sys.executable, "-m", "paved", "validate"], [str(Path(sys.executable).with_name("paved")), "validate"]):
        proc = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True)
        assert proc.returncode == 0, proc.stderr
        assert "6 services" in proc.stdout
