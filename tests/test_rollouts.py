"""Progressive delivery (catalog ``rollout:``): the spec builders, the catalog's checks, the
plan (orders is a canary), the rules that apply to Rollouts as to Deployments, and the diff."""

from __future__ import annotations

import copy

import pytest
from conftest import by_type
from policy_harness import as_deployment, mutate, resource_violations, sample, stack_violations

from components import rollout
from components.addons import argo_rollouts
from components.service import deployment_args, hpa_args, pod_template
from components.slo import LATENCY_P99_RECORD, error_ratio_record
from paved.catalog import service_rules, surge_of
from paved.model import Service
from paved.resources import ROLLOUT, workloads
from policies.rules.deploy import dep_001_pod_admission as dep_001
from policies.rules.deploy import dep_003_controller_prerequisites as dep_003
from policies.rules.deploy import dep_008_quota_covers_rollout as dep_008
from policies.rules.kubernetes import sec_001_privileged as sec_001
from policies.rules.kubernetes import sec_031_resources as sec_031
from policies.rules.reliability import rel_003_pod_disruption_budget as rel_003
from policies.rules.reliability import rel_005_zone_topology_spread as rel_005
from test_specs import TEAM, margs, service

CANARY = {"strategy": "canary", "steps": [{"setWeight": 20}, {"pause": {"duration": "5m"}}, {"setWeight": 50}],
          "analysis": "slo"}


def plain(value):
    """Typed *Args as nested dicts, to compare by value."""
    from pulumi._types import input_type_to_dict, is_input_type

    if is_input_type(type(value)):
        value = dict(input_type_to_dict(value))
    if isinstance(value, dict):
        return {k: plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [plain(v) for v in value]
    return value


def canary(**rollout_changes) -> Service:
    return service(rollout={**CANARY, **rollout_changes}, slo={"availability": 99.9, "latencyP99Ms": 300})


# --- spec builders --------------------------------------------------------------------------


def test_canary_strategy_follows_the_catalog_steps_with_background_analysis():
    strategy = rollout.strategy(canary())["canary"]
    assert strategy["steps"] == [{"setWeight": 20}, {"pause": {"duration": "5m"}}, {"setWeight": 50}]
    assert strategy["analysis"] == {"templates": [{"templateName": "orders-slo"}]}
    # One pod at a time, none removed before its replacement is ready: as the Deployment.
    assert (strategy["maxSurge"], strategy["maxUnavailable"]) == (1, 0)


def test_blue_green_has_a_preview_service_and_pre_promotion_analysis():
    svc = service(rollout={"strategy": "blueGreen"})
    bg = rollout.strategy(svc)["blueGreen"]
    assert bg["activeService"] == "orders" and bg["previewService"] == "orders-preview"
    assert bg["prePromotionAnalysis"] == {"templates": [{"templateName": "orders-slo"}]}
    # A pre-promotion analysis must end: it is measured a fixed number of times.
    assert all(m["count"] == rollout.PRE_PROMOTION_MEASUREMENTS for m in rollout.analysis_metrics(svc, TEAM))


def test_no_analysis_when_the_catalog_says_null():
    assert "analysis" not in rollout.strategy(canary(analysis=None))["canary"]


def test_the_rollout_carries_the_deployment_pod_template_unchanged():
    args = margs(canary())
    spec = rollout.rollout_spec(args.service, {"app.kubernetes.io/name": "orders"}, pod_template(args))
    # Built by the one function the Deployment uses: no forked pod spec.
    assert plain(spec["template"]) == plain(deployment_args(args).spec.template)
    assert "replicas" not in spec and spec["progressDeadlineAbort"] is True


def test_analysis_reuses_the_slo_recording_rules_and_thresholds():
    error, latency = rollout.analysis_metrics(canary(), TEAM)
    assert error_ratio_record("5m") in error["provider"]["prometheus"]["query"]
    assert LATENCY_P99_RECORD in latency["provider"]["prometheus"]["query"]
    assert 'namespace="checkout",service="orders"' in error["provider"]["prometheus"]["query"]
    # 99.9 % availability: budget 0.001, fast-burn factor 14.4 → 0.0144; p99 300 ms → 0.3 s.
    assert error["successCondition"] == "result[0] <= 0.0144"
    assert latency["successCondition"] == "result[0] <= 0.3"
    assert error["provider"]["prometheus"]["address"] == "http://kps-prometheus.monitoring.svc.cluster.local:9090"
    assert error["failureLimit"] == rollout.FAILURE_LIMIT


def test_hpa_scales_the_rollout():
    ref = hpa_args(margs(canary())).spec.scale_target_ref
    assert (ref.api_version, ref.kind, ref.name) == ("argoproj.io/v1alpha1", "Rollout", "orders")
    ref = hpa_args(margs()).spec.scale_target_ref
    assert (ref.api_version, ref.kind) == ("apps/v1", "Deployment")


def test_controller_values_are_hardened_and_highly_available(planned_stack):
    from test_specs import SETTINGS  # prod

    values = argo_rollouts.values(SETTINGS, "paved-rollouts")
    controller = values["controller"]
    assert controller["replicas"] == 2 and controller["pdb"] == {"enabled": True, "maxUnavailable": 1}
    assert controller["topologySpreadConstraints"][0]["labelSelector"]["matchLabels"] == \
        argo_rollouts.selector_labels("paved-rollouts")
    assert values["dashboard"] == {"enabled": False}
    assert values["podSecurityContext"]["runAsNonRoot"] and values["containerSecurityContext"]["readOnlyRootFilesystem"]


# --- catalog checks -------------------------------------------------------------------------


@pytest.mark.parametrize("rollout_entry, path, needle", [
    ({"strategy": "canary", "steps": [{"setWeight": 20, "pause": {"duration": "1m"}}]}, ("rollout", "steps", 0),
     "exactly one"),
    ({"strategy": "canary", "steps": [{}]}, ("rollout", "steps", 0), "exactly one"),
    ({"strategy": "canary", "steps": [{"pause": {"duration": "1m"}}]}, ("rollout", "steps"), "at least one `setWeight`"),
    ({"strategy": "blueGreen", "steps": [{"setWeight": 20}]}, ("rollout", "steps"), "blueGreen takes no steps"),
    ({"strategy": "canary", "steps": [{"setWeight": 50}, {"setWeight": 20}]}, ("rollout", "steps"), "must not decrease"),
])
def test_bad_rollouts_are_refused(rollout_entry, path, needle):
    found = service_rules(service(rollout=rollout_entry))
    assert any(p == path and needle in m for p, m in found), found


@pytest.mark.parametrize("bad", [
    {"strategy": "linear"}, {"strategy": "canary", "steps": [{"setWeight": 0}]},
    {"strategy": "canary", "steps": [{"pause": {"duration": "5 minutes"}}]},
    {"strategy": "canary", "steps": [{"setWeight": 20}], "analysis": "latency"},
    {"strategy": "canary", "steps": [{"setWeigth": 20}]},
])
def test_bad_rollout_fields_are_refused_by_the_model(bad):
    with pytest.raises(ValueError):
        service(rollout=bad)


def test_blue_green_quota_holds_a_full_preview_set():
    assert surge_of(service()) == 1 and surge_of(canary()) == 1
    assert surge_of(service(rollout={"strategy": "blueGreen"})) == 4  # scaling.max


# --- the plan -------------------------------------------------------------------------------


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_orders_is_a_rollout_in_place_of_a_deployment(planned_stack, stack):
    doc = planned_stack(stack)[0]
    mine = [r for r in doc["resources"] if r["service"] == "orders"]
    types = {r["type"] for r in mine}
    assert ROLLOUT in types and "kubernetes:apps/v1:Deployment" not in types
    (ro,) = [r for r in mine if r["type"] == ROLLOUT]
    (analysis,) = [r for r in mine if r["type"].endswith(":AnalysisTemplate")]
    (hpa,) = [r for r in mine if r["type"].endswith(":HorizontalPodAutoscaler")]
    assert hpa["inputs"]["spec"]["scaleTargetRef"] == {"apiVersion": "argoproj.io/v1alpha1", "kind": "Rollout",
                                                       "name": "orders"}
    # After the controller's chart (which serves the CRDs); the Rollout after its template too.
    chart = next(r["urn"] for r in doc["resources"] if r["type"] == "kubernetes:helm.sh/v4:Chart"
                 and r["name"] == "paved-rollouts")
    assert chart in analysis["options"]["dependsOn"] and chart in ro["options"]["dependsOn"]
    assert analysis["urn"] in ro["options"]["dependsOn"] and ro["urn"] in hpa["options"]["dependsOn"]
    assert ro["inputs"]["spec"]["template"]["spec"]["containers"][0]["readinessProbe"]["httpGet"]["path"] == "/readyz"


def test_the_controller_runs_in_its_own_namespace_and_reaches_prometheus(planned_stack):
    doc = planned_stack("prod")[0]
    chart = next(r for r in doc["resources"] if r["type"] == "kubernetes:helm.sh/v4:Chart" and r["name"] == "paved-rollouts")
    assert chart["inputs"]["namespace"] == "argo-rollouts"
    deployments = [r for r in by_type(doc, "kubernetes:apps/v1:Deployment")
                   if r["inputs"]["metadata"].get("namespace") == "argo-rollouts"]
    assert len(deployments) == 1 and deployments[0]["inputs"]["spec"]["replicas"] == 2
    policies = {(r["inputs"]["metadata"]["namespace"], r["inputs"]["metadata"]["name"]): r["inputs"]["spec"]
                for r in by_type(doc, "kubernetes:networking.k8s.io/v1:NetworkPolicy")}
    egress = policies[("argo-rollouts", "allow-prometheus")]["egress"][0]
    assert egress["ports"] == [{"protocol": "TCP", "port": 9090}]
    assert egress["to"][0]["namespaceSelector"]["matchLabels"] == {"kubernetes.io/metadata.name": "monitoring"}
    ingress = policies[("monitoring", "allow-rollouts-analysis")]["ingress"][0]
    assert ingress["from"][0]["namespaceSelector"]["matchLabels"] == {"kubernetes.io/metadata.name": "argo-rollouts"}
    assert ("argo-rollouts", "default-deny") in policies


def test_no_controller_without_a_rollout(tmp_path, planned_stack):
    from conftest import copy_project

    from paved import plan

    root = copy_project(tmp_path)
    catalog = root / "services_catalog.yaml"
    text = catalog.read_text()
    start = text.index("    rollout:\n")
    end = text.index("    api: {type: openapi", start)
    catalog.write_text(text[:start] + text[end:])
    doc = plan.build("dev", catalog, root)[0]
    assert not [r for r in doc["resources"] if "argoproj.io" in r["type"] or r["name"] == "paved-rollouts"]
    (deployment,) = [r for r in doc["resources"] if r["type"] == "kubernetes:apps/v1:Deployment" and r["service"] == "orders"]
    # The same pod template either way; and the rule fixtures' stand-in Deployment is exactly this one.
    with_rollout = next(r for r in planned_stack("dev")[0]["resources"] if r["type"] == ROLLOUT)
    assert deployment["inputs"]["spec"]["template"] == with_rollout["inputs"]["spec"]["template"]
    assert as_deployment(with_rollout["inputs"]) == deployment["inputs"]


# --- rules on Rollouts ----------------------------------------------------------------------


def rollout_props() -> dict:
    return _planned(ROLLOUT, "orders")


def test_the_clean_rollout_passes_the_pod_rules():
    for rule in (sec_001.RULE, sec_031.RULE, rel_005.RULE):
        assert resource_violations(rule, ROLLOUT, rollout_props(), name="orders-rollout") == [], rule.id


def test_a_privileged_rollout_is_caught():
    bad = copy.deepcopy(rollout_props())
    bad["spec"]["template"]["spec"]["containers"][0]["securityContext"]["privileged"] = True
    found = resource_violations(sec_001.RULE, ROLLOUT, bad, name="orders-rollout")
    assert found and "Rollout orders container orders" in found[0]


def test_a_rollout_without_resources_is_caught():
    bad = copy.deepcopy(rollout_props())
    del bad["spec"]["template"]["spec"]["containers"][0]["resources"]
    assert any("Rollout orders" in m for m in resource_violations(sec_031.RULE, ROLLOUT, bad, name="orders-rollout"))


def test_a_rollout_without_zone_spread_is_caught():
    bad = mutate(rollout_props(), "spec.template.spec.topologySpreadConstraints", None)
    found = resource_violations(rel_005.RULE, ROLLOUT, bad, name="orders-rollout")
    assert any("Rollout orders must spread its pods across zones" in m for m in found), found


def _planned(type_token: str, service: str) -> dict:
    from conftest import planned

    return copy.deepcopy(next(r["inputs"] for r in planned("prod")[0]["resources"]
                              if r["type"] == type_token and r["service"] == service))


def _stack(ro: dict, pdb: bool = True) -> list:
    hpa = _planned("kubernetes:autoscaling/v2:HorizontalPodAutoscaler", "orders")  # scales the Rollout
    out = [("kubernetes:core/v1:Namespace", "checkout-ns", sample("prod", "kubernetes:core/v1:Namespace", name="checkout-ns")),
           (ROLLOUT, "orders-rollout", ro), ("kubernetes:autoscaling/v2:HorizontalPodAutoscaler", "orders-hpa", hpa)]
    if pdb:
        out.append(("kubernetes:policy/v1:PodDisruptionBudget", "orders-pdb",
                    sample("prod", "kubernetes:policy/v1:PodDisruptionBudget", "orders")))
    return out


def test_a_rollout_is_a_workload_joined_with_its_autoscaler():
    from pulumi_policy import PolicyResource
    from pulumi_policy.proxy import unknown_checking_proxy
    from policy_harness import options, urn

    res = [PolicyResource(t, unknown_checking_proxy(p), urn(t, n), n, options(), None, None, [], {}) for t, n, p in
           _stack(rollout_props())]
    (w,) = workloads(res)
    assert w.kind == "Rollout" and w.autoscaler is not None and w.min_replicas == 3


def test_a_rollout_without_a_pdb_is_caught():
    assert stack_violations(rel_003.RULE, _stack(rollout_props())) == []
    found = stack_violations(rel_003.RULE, _stack(rollout_props(), pdb=False))
    assert any("Rollout orders must have a PodDisruptionBudget" in m for m, _ in found), found


def test_a_rollout_that_fails_pod_security_admission_is_caught():
    assert stack_violations(dep_001.RULE, _stack(rollout_props())) == []
    bad = copy.deepcopy(rollout_props())
    bad["spec"]["template"]["spec"]["hostNetwork"] = True
    found = stack_violations(dep_001.RULE, _stack(bad))
    assert any("Rollout orders" in m for m, _ in found), found


def test_a_blue_green_rollout_needs_quota_for_its_preview():
    quota = sample("prod", "kubernetes:core/v1:ResourceQuota", name="checkout-quota")
    tight = mutate(quota, "spec.hard.pods", 13)  # max 12 + 1 surge fits a canary, not a full preview set
    stack = [*_stack(rollout_props()), ("kubernetes:core/v1:ResourceQuota", "checkout-quota", tight)]
    assert stack_violations(dep_008.RULE, stack) == []
    bg = mutate(rollout_props(), "spec.strategy", {"blueGreen": {"activeService": "orders", "previewService": "p"}})
    stack = [*_stack(bg), ("kubernetes:core/v1:ResourceQuota", "checkout-quota", tight)]
    assert stack_violations(dep_008.RULE, stack)


def test_rollouts_need_the_controller():
    found = stack_violations(dep_003.RULE, [(ROLLOUT, "orders-rollout", rollout_props())])
    assert any("must have Argo Rollouts in the stack" in m for m, _ in found), found
