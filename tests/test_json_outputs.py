"""Issue 17, JSON outputs: every command's JSON carries a top-level ``version`` and is valid
against its JSON Schema (docs/schemas/, plan and status in schemas/); money is a number with
``currency`` beside it. `paved diff` after adding a service writes nothing to stderr (the
asyncio "Invalid file descriptor: -1" noise)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from datetime import datetime, timezone
from pathlib import Path

import jsonschema
import pytest
from referencing import Registry, Resource

from conftest import ROOT, STACKS, planned
from test_diff import REVIEWS  # the service test_diff adds
from paved.cli import main

SCHEMAS = ROOT / "docs" / "schemas"
COMMANDS = ("check", "cost", "diff", "explain", "secrets")


def _schema(name: str) -> dict:
    folder = ROOT / "schemas" if name in ("plan", "status") else SCHEMAS
    return json.loads((folder / f"{name}.schema.json").read_text())


def _validate(doc: dict, name: str) -> None:
    registry = Registry().with_resources(
        (f"https://paved.dev/schemas/{n}.schema.json", Resource.from_contents(_schema(n))) for n in COMMANDS)
    schema = _schema(name)
    jsonschema.Draft202012Validator.check_schema(schema)
    jsonschema.Draft202012Validator(schema, registry=registry, format_checker=jsonschema.FormatChecker()).validate(doc)
    assert isinstance(doc["version"], int), name


@pytest.mark.parametrize("name", ["plan", "status", *COMMANDS])
def test_every_schema_is_a_valid_2020_12_schema_with_a_version(name):
    schema = _schema(name)
    jsonschema.Draft202012Validator.check_schema(schema)
    assert "version" in schema["required"] and schema["properties"]["version"] == {**schema["properties"]["version"], "const": 1}


def test_the_schema_index_lists_every_output():
    index = (SCHEMAS / "README.md").read_text()
    for name in ("plan", "status", *COMMANDS):
        assert f"{name}.schema.json" in index, name


def _saved_plan(tmp_path, stack: str) -> str:
    path = tmp_path / f"{stack}.json"
    path.write_text(json.dumps(planned(stack)[0]))
    return str(path)


@pytest.mark.parametrize("stack", STACKS)
def test_plan_check_and_cost_json_match_their_schemas(stack, tmp_path, capsys):
    plan = _saved_plan(tmp_path, stack)
    _validate(json.loads(Path(plan).read_text()), "plan")
    assert main(["check", "-s", stack, "--plan", plan, "--format", "json"]) == 0
    _validate(json.loads(capsys.readouterr().out), "check")
    assert main(["cost", "-s", stack, "--plan", plan, "--format", "json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    _validate(doc, "cost")
    assert doc["currency"] == "USD"
    assert isinstance(doc["budgetedTotal"], float) and all(isinstance(ln["amount"], float) for ln in doc["infrastructure"])


def test_explain_json_matches_its_schema(capsys):
    assert main(["explain", "orders", "--format", "json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    _validate(doc, "explain")
    assert set(doc["environments"]) == set(STACKS)
    assert doc["environments"]["dev"]["name"] == {"value": "orders", "overridden": False}


def test_secrets_json_matches_its_schema():
    from paved.secrets_cmd import SecretStatus, as_json

    when = datetime(2026, 12, 1, tzinfo=timezone.utc)
    rows = [SecretStatus("orders", "db", "dev/checkout/orders/db", "us-east-1", True, True, when),
            SecretStatus("payments", "key", "dev/checkout/payments/key", "us-east-1", False, False, None, None, "managed")]
    for statuses in (rows, []):
        _validate(json.loads(as_json(statuses, "dev")), "secrets")


def _git(repo: Path, *args: str) -> None:
    env = {**os.environ, "GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@example.com", "GIT_COMMITTER_NAME": "t",
           "GIT_COMMITTER_EMAIL": "t@example.com"}
    subprocess.run(["git", "-c", "init.defaultBranch=main", "-c", "commit.gpgsign=false", *args], cwd=repo, env=env,
                   check=True, capture_output=True)


def test_diff_after_adding_a_service_matches_its_schema_and_is_quiet_on_stderr(tmp_path):
    repo = tmp_path / "repo"
    repo.mkdir()
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc", ".venv*", ".paved", ".tools", ".git")
    for name in ("Pulumi.yaml", "services_catalog.yaml", "stacks", "platform", "components", "paved", "policies",
                 "schemas", "sample_services"):
        src = ROOT / name
        (shutil.copytree(src, repo / name, ignore=ignore) if src.is_dir() else shutil.copy(src, repo / name))
    _git(repo, "init", "--quiet")
    _git(repo, "add", "-A")
    _git(repo, "commit", "--quiet", "-m", "base")
    catalog = repo / "services_catalog.yaml"
    catalog.write_text(catalog.read_text() + REVIEWS)
    env = {**os.environ, "PAVED_ROOT": str(repo), "PYTHONPATH": str(repo)}
    done = subprocess.run([sys.executable, "-m", "paved", "diff", "-s", "dev", "--base", "HEAD", "--format", "json",
                           "--no-charts"], cwd=repo, env=env, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr
    doc = json.loads(done.stdout)
    _validate(doc, "diff")
    assert doc["summary"]["create"] > 0 and any(g["name"] == "reviews" for g in doc["groups"])
    assert isinstance(doc["summary"]["cost"]["delta"], (int, float))
    assert "Invalid file descriptor" not in done.stderr and "Traceback" not in done.stderr
    assert done.stderr == "", done.stderr
