"""Issue 17, `paved check` text: findings rolled up per rule, URNs only with --verbose,
--min-enforcement; json and sarif keep every finding."""

from __future__ import annotations

import copy
import json

import pytest

from conftest import planned
from paved.cli import main


def _saved(tmp_path, mutate=None):
    doc = copy.deepcopy(planned("prod")[0])
    if mutate:
        mutate(doc)
    path = tmp_path / "plan.json"
    path.write_text(json.dumps(doc))
    return str(path)


def _no_probes(doc):
    # Every service loses its probes: one rule, six findings.
    for r in doc["resources"]:
        if r["type"] == "kubernetes:apps/v1:Deployment" and r["service"]:
            c = r["inputs"]["spec"]["template"]["spec"]["containers"][0]
            c.pop("readinessProbe"), c.pop("livenessProbe")


def _rule_lines(out: str) -> list[str]:
    return [line for line in out.splitlines() if line.startswith(("MANDATORY", "ADVISORY"))]


def test_one_line_per_rule_with_a_count_and_the_first_findings(tmp_path, capsys):
    assert main(["check", "--stack", "prod", "--plan", _saved(tmp_path, _no_probes)]) == 1
    out = capsys.readouterr().out
    lines = _rule_lines(out)
    assert len(lines) == len({line.split()[1] for line in lines})  # each rule once
    probes = next(line for line in lines if "PAVED-REL-011" in line)
    services = sum(1 for r in planned("prod")[0]["resources"]
                   if r["type"] == "kubernetes:apps/v1:Deployment" and r["service"])
    assert probes.startswith("MANDATORY") and probes.endswith(f": {services} findings")
    section = out.split(probes)[1].split("\n\n")[0]
    assert section.count("\n  - ") == 3
    assert f"... and {services - 3} more (--verbose" in section
    assert "urn:pulumi:" not in out


def test_verbose_lists_every_finding_with_its_urn(tmp_path, capsys):
    assert main(["check", "--stack", "prod", "--plan", _saved(tmp_path, _no_probes), "--verbose"]) == 1
    out = capsys.readouterr().out
    section = out.split("PAVED-REL-011")[1].split("\n\n")[0]
    assert "more (--verbose" not in section
    assert section.count("\n  - ") == section.count("resource: urn:pulumi:prod::paved::") > 3


def test_min_enforcement_mandatory_hides_advisory_findings_but_not_the_exit_code(tmp_path, capsys):
    clean = _saved(tmp_path)
    assert main(["check", "--stack", "prod", "--plan", clean, "--min-enforcement", "mandatory"]) == 0
    out = capsys.readouterr().out
    assert _rule_lines(out) == []
    assert "no violations at or above mandatory" in out and "advisory not shown" in out
    assert main(["check", "-s", "prod", "--plan", _saved(tmp_path, _no_probes), "--min-enforcement", "mandatory"]) == 1
    lines = _rule_lines(capsys.readouterr().out)
    assert lines and all(line.startswith("MANDATORY") for line in lines)


@pytest.mark.parametrize("fmt", ["json", "sarif"])
def test_machine_formats_keep_every_finding(tmp_path, capsys, fmt):
    path = _saved(tmp_path, _no_probes)
    assert main(["check", "--stack", "prod", "--plan", path, "--format", fmt]) == 1
    doc = json.loads(capsys.readouterr().out)
    found = doc["violations"] if fmt == "json" else doc["runs"][0]["results"]
    assert main(["check", "--stack", "prod", "--plan", path]) == 1
    summary = capsys.readouterr().out.splitlines()[-1]
    assert sum("PAVED-REL-011" in json.dumps(f) for f in found) > 3
    total = int(summary.split(": ")[1].split(" mandatory")[0]) + int(summary.split(" and ")[1].split(" advisory")[0])
    assert len(found) == total


def test_min_enforcement_filters_the_json_list_and_keeps_the_counts(tmp_path, capsys):
    assert main(["check", "--stack", "prod", "--plan", _saved(tmp_path), "--format", "json",
                 "--min-enforcement", "mandatory"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["violations"] == [] and doc["summary"]["advisory"] > 0
