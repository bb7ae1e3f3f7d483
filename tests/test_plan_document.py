"""Issue 17, plan documents given to `check` / `cost --plan`: the document's structure is
checked against the versioned JSON Schema of the plan format (schemas/plan.schema.json), and
each Kubernetes object against the Kubernetes schemas, before any rule or price reads it."""

from __future__ import annotations

import copy
import json

import pytest

from conftest import ROOT
from paved.cli import main
from paved.plan import PLAN_VERSION, plan_schema

COMMITTED = ROOT / "schemas" / "plan.schema.json"


def test_committed_plan_schema_is_current():
    assert json.loads(COMMITTED.read_text()) == plan_schema(), (
        "schemas/plan.schema.json is stale: run `paved schema --plan > schemas/plan.schema.json`")


def test_plans_match_the_plan_schema(stack_plan):
    import jsonschema

    jsonschema.Draft202012Validator(plan_schema()).validate(stack_plan)


def _first(doc: dict, type_token: str, team: bool = True) -> dict:
    return next(r for r in doc["resources"] if r["type"] == type_token and (r["team"] or not team))


def _containers_null(doc):
    _first(doc, "kubernetes:apps/v1:Deployment")["inputs"]["spec"]["template"]["spec"]["containers"] = None


def _max_replicas_lots(doc):
    _first(doc, "kubernetes:autoscaling/v2:HorizontalPodAutoscaler")["inputs"]["spec"]["maxReplicas"] = "lots"


def _requests_list(doc):
    dep = _first(doc, "kubernetes:apps/v1:Deployment")
    dep["inputs"]["spec"]["template"]["spec"]["containers"][0]["resources"]["requests"] = ["cpu"]


MUTATIONS = {
    "containers null": (_containers_null, "spec.template.spec.containers: must be array"),
    "maxReplicas lots": (_max_replicas_lots, "spec.maxReplicas: must be integer"),
    "requests a list": (_requests_list, "resources.requests: must be object"),
    "custom a string": (lambda d: d["resources"][0].update(custom="yes"), "resources[0].custom: must be boolean"),
    "resources null": (lambda d: d.update(resources=None), "resources: must be array"),
    "inputs null": (lambda d: d["resources"][0].update(inputs=None), "resources[0].inputs: must be object"),
    "unknown key": (lambda d: d["resources"][0].update(extra=1), "resources[0]: must not contain"),
    "options dropped": (lambda d: d["resources"][0].pop("options"), "resources[0]: must contain"),
    "newer version": (lambda d: d.update(version=PLAN_VERSION + 1), f"this paved reads version {PLAN_VERSION}"),
    "version a string": (lambda d: d.update(version="1"), "version: must be"),
    "kubernetes version": (lambda d: d.update(kubernetesVersion="latest"), "kubernetesVersion: must match"),
}


@pytest.fixture(scope="module")
def dev_plan():
    from conftest import planned

    return planned("dev")[0]


@pytest.mark.parametrize("command", ["check", "cost"])
@pytest.mark.parametrize("case", sorted(MUTATIONS))
def test_hand_edited_plan_is_refused(tmp_path, capsys, dev_plan, command, case):
    mutate, message = MUTATIONS[case]
    doc = copy.deepcopy(dev_plan)
    mutate(doc)
    path = tmp_path / "plan.json"
    path.write_text(json.dumps(doc))
    assert main([command, "--stack", "dev", "--plan", str(path)]) == 1
    err = capsys.readouterr().err
    assert str(path) in err and message in err and "Traceback" not in err, err


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b'{"version": 1, "resources": [\xff]}', "not UTF-8"),
        (b"{", "not a plan document"),
        (b"[" * 100000, "not a plan document"),
        (b"[]", "(document): must be object"),
    ],
)
def test_unreadable_plan_is_one_line(tmp_path, capsys, data, message):
    path = tmp_path / "plan.json"
    path.write_bytes(data)
    assert main(["cost", "--stack", "dev", "--plan", str(path)]) == 1
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err, err


def test_saved_plan_is_read(tmp_path, capsys, dev_plan):
    path = tmp_path / "plan.json"
    path.write_text(json.dumps(dev_plan))
    assert main(["cost", "--stack", "dev", "--plan", str(path)]) == 0
