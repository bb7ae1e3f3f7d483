"""Issue 17, policy config files: `policies/config/<env>.json` is checked before any rule runs.

Each setting against the rule's own JSON Schema (a string, null, a list where a number is
expected, a string where a list is, negatives), the document as JSON an engine would read
the same way (no duplicate keys, no NaN, UTF-8, an object): one error naming the file,
line and key, never a misleading violation or a traceback.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from conftest import ROOT
from paved.errors import InputError
from policies.config import load_config
from policies.registry import RULES

COST_001 = "paved-cost-001-hpa-max-replicas"
COST_005 = "paved-cost-005-node-group-sizing"


def _root(tmp_path: Path, text: str | bytes) -> Path:
    (tmp_path / "policies" / "config").mkdir(parents=True)
    target = tmp_path / "policies" / "config" / "dev.json"
    target.write_bytes(text if isinstance(text, bytes) else text.encode())
    return tmp_path


def _refused(tmp_path: Path, text: str | bytes) -> list:
    with pytest.raises(InputError) as exc:
        load_config(_root(tmp_path, text), "dev", RULES)
    issues = exc.value.issues
    assert all(i.file == "policies/config/dev.json" for i in issues), issues
    return issues


def test_repo_configs_are_valid():
    for env in ("dev", "staging", "prod"):
        assert load_config(ROOT, env, RULES)


@pytest.mark.parametrize(
    ("rule", "setting", "value", "message"),
    [
        (COST_001, "maxReplicas", "4", "must be integer"),
        (COST_001, "maxReplicas", None, "must be integer"),
        (COST_001, "maxReplicas", -3, "must be bigger than or equal to 1"),
        (COST_001, "maxReplicas", True, "must be integer"),
        (COST_001, "maxReplicas", [4], "must be integer"),
        (COST_005, "allowedInstanceTypes", "t3.medium", "must be array"),
        (COST_005, "allowedInstanceTypes", [1, 2], "must be string"),
        (COST_005, "maxNodes", 2.5, "must be integer"),
    ],
)
def test_setting_outside_its_schema_is_refused(tmp_path, rule, setting, value, message):
    text = json.dumps({rule: {setting: value}}, indent=2)
    [issue] = _refused(tmp_path, text)
    assert issue.field == f"{rule}.{setting}" and message in issue.message, issue
    assert issue.line == 3, issue


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('{"paved-cost-001-hpa-max-replicas": {"maxReplicas": 4, "maxReplicas": 5}}', "appears twice"),
        ('{"paved-cost-001-hpa-max-replicas": {"maxReplicas": NaN}}', "NaN is not a JSON number"),
        ("[1, 2]", "must be a JSON object"),
        ('"mandatory"', "must be a JSON object"),
        ('{"paved-cost-001-hpa-max-replicas": 5}', "must be an enforcement level"),
        ('{"paved-cost-001-hpa-max-replicas": null}', "must be an enforcement level"),
        ('{"paved-cost-001-hpa-max-replicas": {"enforcementLevel": "sometimes"}}', "enforcementLevel must be one of"),
        ("[" * 100000 + "]" * 100000, "invalid JSON"),
        ('{"a": 1', "invalid JSON"),
    ],
)
def test_bad_document_is_one_located_error(tmp_path, text, message):
    issues = _refused(tmp_path, text)
    assert any(message in i.message for i in issues), issues


def test_non_utf8_config_is_a_located_error(tmp_path):
    [issue] = _refused(tmp_path, b'{\n  "all": "advisory\xff"\n}')
    assert issue.line == 2 and "not UTF-8" in issue.message


def test_check_reports_a_bad_setting_without_running_rules(tmp_path, monkeypatch, capsys):
    from conftest import copy_project
    from paved.cli import main

    root = copy_project(tmp_path)
    shutil.copytree(ROOT / "policies", root / "policies", ignore=shutil.ignore_patterns("__pycache__"))
    config = root / "policies" / "config" / "dev.json"
    data = json.loads(config.read_text())
    data[COST_001] = {"maxReplicas": "lots"}
    config.write_text(json.dumps(data, indent=2))
    monkeypatch.setenv("PAVED_ROOT", str(root))
    assert main(["check", "--stack", "dev", "--no-charts"]) == 1
    err = capsys.readouterr().err
    assert f"policies/config/dev.json:" in err and f"{COST_001}.maxReplicas" in err and "Traceback" not in err, err
