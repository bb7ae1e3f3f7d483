"""PAVED-REL-011 container-probes: every long-running container has readiness and liveness probes.

Fixtures come from the repo's own prod plan; each failing case deletes one field of a passing one.
"""

from __future__ import annotations

import copy
import json

import pytest
from policy_harness import assert_flags, mutate, resource_violations, sample
from pulumi_policy.proxy import UNKNOWN_OBJECT_VALUE

from conftest import STACKS, planned
from paved.cli import main
from policies.rules.reliability import rel_011_container_probes as rel_011

DEPLOYMENT_T = "kubernetes:apps/v1:Deployment"
PROBES = "spec.template.spec.containers.0"


def deployment(service: str = "orders") -> dict:
    return sample("prod", DEPLOYMENT_T, service)


def test_a_service_with_both_probes_passes():
    assert resource_violations(rel_011.RULE, DEPLOYMENT_T, deployment()) == []


@pytest.mark.parametrize(
    ("deleted", "needle"),
    [
        (["readinessProbe"], "must set readinessProbe."),
        (["livenessProbe"], "must set livenessProbe."),
        (["readinessProbe", "livenessProbe"], "must set readinessProbe and livenessProbe."),
    ],
)
def test_a_missing_probe_is_flagged(deleted, needle):
    props = deployment()
    for probe in deleted:
        props = mutate(props, f"{PROBES}.{probe}", None)
    assert_flags(resource_violations(rel_011.RULE, DEPLOYMENT_T, props), needle,
                 who={"Deployment orders container orders"})


def test_a_startup_probe_alone_is_not_enough():
    props = mutate(mutate(deployment(), f"{PROBES}.readinessProbe", None), f"{PROBES}.livenessProbe", None)
    assert "startupProbe" in props["spec"]["template"]["spec"]["containers"][0]
    assert_flags(resource_violations(rel_011.RULE, DEPLOYMENT_T, props), "readinessProbe and livenessProbe")


def test_init_containers_and_jobs_are_not_checked():
    props = deployment()
    props["spec"]["template"]["spec"]["initContainers"] = [{"name": "migrate", "image": "x"}]
    assert resource_violations(rel_011.RULE, DEPLOYMENT_T, props) == []
    job = {"metadata": {"name": "j"}, "spec": {"template": {"spec": {"containers": [{"name": "j", "image": "x"}]}}}}
    assert resource_violations(rel_011.RULE, "kubernetes:batch/v1:Job", job) == []


def test_a_probe_unknown_at_preview_passes():
    props = mutate(deployment(), f"{PROBES}.readinessProbe", UNKNOWN_OBJECT_VALUE)
    assert resource_violations(rel_011.RULE, DEPLOYMENT_T, props) == []


def test_a_recorded_exception_is_skipped_and_a_list_replaces_the_default():
    props = mutate(deployment(), f"{PROBES}.livenessProbe", None)
    assert resource_violations(rel_011.RULE, DEPLOYMENT_T, props, config={"exceptions": ["checkout/orders/orders"]}) == []
    grafana = sample("prod", DEPLOYMENT_T, name="paved-observability-kube-prometheus-stack:monitoring/grafana")
    assert resource_violations(rel_011.RULE, DEPLOYMENT_T, grafana) == []
    assert_flags(resource_violations(rel_011.RULE, DEPLOYMENT_T, grafana, config={"exceptions": []}),
                 "container grafana-sc-dashboard must set readinessProbe and livenessProbe.")


@pytest.mark.parametrize("stack", STACKS)
def test_the_clean_plans_pass(stack):
    for r in planned(stack)[0]["resources"]:
        if r["type"] in rel_011.LONG_RUNNING_TYPES:
            assert resource_violations(rel_011.RULE, r["type"], r["inputs"], name=r["name"]) == [], r["urn"]


def test_deleting_both_probes_from_a_prod_plan_fails_paved_check(tmp_path, capsys):
    doc = copy.deepcopy(planned("prod")[0])
    dep = next(r for r in doc["resources"] if r["type"] == DEPLOYMENT_T and r["service"] == "payments")
    container = dep["inputs"]["spec"]["template"]["spec"]["containers"][0]
    del container["readinessProbe"], container["livenessProbe"]
    path = tmp_path / "plan.json"
    path.write_text(json.dumps(doc))
    assert main(["check", "--stack", "prod", "--plan", str(path), "--format", "json"]) == 1
    hits = [v for v in json.loads(capsys.readouterr().out)["violations"] if v["ruleId"] == "PAVED-REL-011"]
    assert [(v["service"], v["enforcement"]) for v in hits] == [("payments", "mandatory")]
    assert "Deployment payments container payments must set readinessProbe and livenessProbe." == hits[0]["message"]


def test_every_recorded_exception_names_a_planned_container():
    planned_containers = set()
    for stack in STACKS:
        for r in planned(stack)[0]["resources"]:
            if r["type"] in rel_011.LONG_RUNNING_TYPES:
                meta = r["inputs"]["metadata"]
                for c in r["inputs"]["spec"]["template"]["spec"]["containers"]:
                    planned_containers.add(f"{meta.get('namespace', 'default')}/{meta['name']}/{c['name']}")
    stale = set(rel_011.CHART_EXCEPTIONS) - planned_containers
    assert not stale, stale
