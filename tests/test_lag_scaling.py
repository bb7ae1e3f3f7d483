"""Kafka-lag autoscaling (issue 16): the catalog field, KEDA, the ScaledObject that replaces
the HPA, and the rules that read a ScaledObject as an autoscaler."""

from __future__ import annotations

import pytest
from policy_harness import mutate as mutate_props
from policy_harness import names, resource_violations, sample, stack_violations

from components.addons import keda
from components.lag_scaling import scaled_object_spec, trigger_authentication_spec
from conftest import ROOT, STACKS, by_type, planned
from paved.catalog import load_catalog
from paved.model import Service
from paved.resources import SCALED_OBJECT, autoscalers, workloads
from paved.stack import load_stack
from policies.rules.cost import cost_001_hpa_max_replicas as cost_001
from policies.rules.cost import cost_004_namespace_quota_covers_workloads as cost_004
from policies.rules.reliability import rel_006_no_replicas_with_autoscaler as rel_006
from test_validate import expect, line_of, validate
from test_validate import mutate as mutate_catalog

TRIGGER_AUTH = "kubernetes:keda.sh/v1alpha1:TriggerAuthentication"
HPA_T = "kubernetes:autoscaling/v2:HorizontalPodAutoscaler"
DEPLOYMENT_T = "kubernetes:apps/v1:Deployment"
CHART_T = "kubernetes:helm.sh/v4:Chart"
NETPOL_T = "kubernetes:networking.k8s.io/v1:NetworkPolicy"


def _service(**scaling) -> Service:
    return Service.model_validate({
        "name": "analytics", "team": "data", "description": "d", "image": "r.example.com/a:1.0.0", "port": 8080,
        "resources": {"requests": {"cpu": "100m", "memory": "128Mi"}, "limits": {"cpu": "200m", "memory": "256Mi"}},
        "scaling": {"min": 2, "max": 5, **scaling}, "kafka": {"consumes": ["order-placed"]}})


# --- pure specs -------------------------------------------------------------------------------


def test_scaled_object_spec_scales_the_deployment_on_its_group_lag_with_msk_iam():
    spec = scaled_object_spec(_service(lag={"topic": "order-placed", "target": 250}), "b-1:9098,b-2:9098", "eu-west-1")
    assert spec["scaleTargetRef"] == {"apiVersion": "apps/v1", "kind": "Deployment", "name": "analytics"}
    assert (spec["minReplicaCount"], spec["maxReplicaCount"]) == (2, 5)
    assert spec["advanced"]["horizontalPodAutoscalerConfig"]["name"] == "analytics"  # alerts find the HPA by name
    (trigger,) = spec["triggers"]
    assert trigger["type"] == "kafka" and trigger["authenticationRef"] == {"name": "analytics-kafka"}
    assert trigger["metadata"] == {
        "bootstrapServers": "b-1:9098,b-2:9098", "consumerGroup": "analytics", "topic": "order-placed",
        "lagThreshold": "250", "offsetResetPolicy": "latest", "sasl": "oauthbearer",
        "saslTokenProvider": "aws_msk_iam", "tls": "enable", "awsRegion": "eu-west-1"}


def test_scaled_object_spec_needs_lag():
    with pytest.raises(ValueError, match="no scaling.lag"):
        scaled_object_spec(_service(), "b:9098", "us-east-1")


def test_trigger_authentication_uses_kedas_pod_identity_and_no_secret():
    assert trigger_authentication_spec() == {"podIdentity": {"provider": "aws"}}


def test_keda_role_only_describes_the_lag_scaled_groups_and_topics():
    cluster = "arn:aws:kafka:us-east-1:1:cluster/paved-dev/uuid"
    statements = keda.lag_reader_statements(cluster, ["analytics"], ["order-placed", "order-placed"])
    actions = {s["Action"]: s["Resource"] for s in statements}
    assert actions == {
        "kafka-cluster:Connect": cluster,
        "kafka-cluster:DescribeGroup": ["arn:aws:kafka:us-east-1:1:group/paved-dev/uuid/analytics"],
        "kafka-cluster:DescribeTopic": ["arn:aws:kafka:us-east-1:1:topic/paved-dev/uuid/order-placed"],
    }


@pytest.mark.parametrize(("stack", "replicas"), [("dev", 1), ("prod", 2)])
def test_keda_values_are_ha_where_the_stack_asks_with_limits_in_ratio(stack, replicas):
    values = keda.values(load_stack(ROOT, stack))
    for part in ("operator", "metricsServer", "webhooks"):
        assert values[part]["replicaCount"] == replicas
    assert all(bool(pdb) == (replicas > 1) for pdb in values["podDisruptionBudget"].values())
    assert values["rbac"]["enabledCustomScaledRefKinds"] is False
    for res in values["resources"].values():
        assert res["limits"]["memory"].removesuffix("Mi") == str(2 * int(res["requests"]["memory"].removesuffix("Mi")))


# --- the plan ---------------------------------------------------------------------------------


@pytest.mark.parametrize("stack", STACKS)
def test_analytics_has_a_scaled_object_and_no_hpa(stack):
    doc = planned(stack)[0]
    (scaled,) = [r for r in by_type(doc, SCALED_OBJECT) if r["service"] == "analytics"]
    (auth,) = [r for r in by_type(doc, TRIGGER_AUTH) if r["service"] == "analytics"]
    assert not [r for r in by_type(doc, HPA_T) if r["service"] == "analytics"], scaled["urn"]
    assert [r for r in by_type(doc, HPA_T) if r["service"] == "orders"]  # the others keep theirs
    catalog = load_catalog(ROOT / "services_catalog.yaml", {e: load_stack(ROOT, e) for e in STACKS}).for_environment(stack)
    svc = catalog.service("analytics")
    assert scaled["inputs"]["spec"]["minReplicaCount"] == svc.scaling.min
    assert scaled["inputs"]["spec"]["maxReplicaCount"] == svc.scaling.max
    assert scaled["inputs"]["metadata"]["namespace"] == auth["inputs"]["metadata"]["namespace"] == "data"
    # Ordered after the KEDA chart that serves the CRDs, and after its TriggerAuthentication.
    (chart,) = [r for r in by_type(doc, CHART_T) if r["name"] == "paved-keda"]
    assert chart["urn"] in scaled["options"]["dependsOn"] and auth["urn"] in scaled["options"]["dependsOn"]
    assert chart["urn"] in auth["options"]["dependsOn"]


def test_keda_namespace_lets_the_api_server_and_brokers_through():
    doc = planned("prod")[0]
    policies = {r["inputs"]["metadata"]["name"]: r["inputs"]["spec"] for r in by_type(doc, NETPOL_T)
                if r["inputs"]["metadata"].get("namespace") == "keda"}
    assert {"default-deny", "allow-dns", "allow-operator", "allow-keda"} <= set(policies)
    ingress_ports = {p["port"] for spec in policies.values() for rule in spec.get("ingress") or []
                     for p in rule.get("ports") or []}
    egress_ports = {p["port"] for spec in policies.values() for rule in spec.get("egress") or []
                    for p in rule.get("ports") or []}
    assert {keda.METRICS_API_PORT, keda.WEBHOOK_PORT, keda.OPERATOR_GRPC_PORT} <= ingress_ports
    assert {443, 9098, keda.OPERATOR_GRPC_PORT} <= egress_ports


def test_the_plan_reads_the_scaled_object_as_the_autoscaler_of_analytics():
    doc = planned("prod")[0]
    items = [(r["type"], r["inputs"], r["name"]) for r in doc["resources"]]
    (scaler,) = [a for a in autoscalers(items) if a.kind == "ScaledObject"]
    (w,) = [w for w in workloads(items) if w.name == "analytics"]
    assert w.autoscaler == scaler and w.max_replicas == scaler.max_replicas == 4


# --- validation -------------------------------------------------------------------------------


def test_lag_on_a_topic_the_service_does_not_consume_is_refused(tmp_path, capsys):
    bad = mutate_catalog("    scaling: {min: 2, max: 3}\n",
                         "    scaling: {min: 2, max: 3, lag: {topic: stock-reserved, target: 10}}\n")
    res = validate(tmp_path, capsys, bad)
    expect(res, "services[inventory].scaling.lag.topic", line_of(bad, "lag: {topic: stock-reserved"),
           "'stock-reserved' is not one the service consumes", "kafka.consumes")


@pytest.mark.parametrize("target", ["0", "-5", '"10"', "1.5"])
def test_lag_target_must_be_a_positive_integer(tmp_path, capsys, target):
    bad = mutate_catalog("    scaling: {min: 2, max: 3}\n",
                         f"    scaling: {{min: 2, max: 3, lag: {{topic: order-placed, target: {target}}}}}\n")
    res = validate(tmp_path, capsys, bad)
    expect(res, "services[inventory].scaling.lag.target", line_of(bad, "lag: {topic: order-placed"))


def test_lag_needs_topic_and_target_and_nothing_else(tmp_path, capsys):
    bad = mutate_catalog("    scaling: {min: 2, max: 3}\n",
                         "    scaling: {min: 2, max: 3, lag: {topic: order-placed, targt: 10}}\n")
    res = validate(tmp_path, capsys, bad)
    assert res.rc == 1 and {r.rest.split(":")[0] for r in res.reported} >= {
        "services[inventory].scaling.lag.target", "services[inventory].scaling.lag.targt"}, res.err


def test_valid_lag_passes(tmp_path, capsys):
    good = mutate_catalog("    scaling: {min: 2, max: 3}\n",
                          "    scaling: {min: 2, max: 3, lag: {topic: order-placed, target: 10}}\n")
    assert validate(tmp_path, capsys, good).rc == 0


# --- rules ------------------------------------------------------------------------------------


def scaled_object() -> dict:
    return sample("prod", SCALED_OBJECT, "analytics")


def test_scaled_object_within_the_cap_passes():
    assert resource_violations(cost_001.RULE, SCALED_OBJECT, scaled_object(), config={"maxReplicas": 4}) == []


def test_scaled_object_above_the_cap_is_caught():
    found = resource_violations(cost_001.RULE, SCALED_OBJECT, mutate_props(scaled_object(), "spec.maxReplicaCount", 13.0),
                                config={"maxReplicas": 12})
    assert any("ScaledObject analytics must scale to at most 12 replicas (spec.maxReplicaCount is 13)" in m
               for m in found), found


def test_scaled_object_without_max_scales_to_kedas_default_and_is_caught():
    found = resource_violations(cost_001.RULE, SCALED_OBJECT, mutate_props(scaled_object(), "spec.maxReplicaCount", None),
                                config={"maxReplicas": 12})
    assert any("spec.maxReplicaCount is not set: KEDA's default is 100" in m for m in found), found


def _analytics_stack(dep=None, scaled=None) -> list:
    return [(DEPLOYMENT_T, "analytics-deployment", dep or sample("prod", DEPLOYMENT_T, "analytics")),
            (SCALED_OBJECT, "analytics-scaled-object", scaled or scaled_object())]


def test_replicas_under_a_scaled_object_are_caught():
    assert stack_violations(rel_006.RULE, _analytics_stack()) == []
    found = stack_violations(rel_006.RULE, _analytics_stack(
        dep=mutate_props(sample("prod", DEPLOYMENT_T, "analytics"), "spec.replicas", 3.0)))
    assert names(found) == {"analytics-deployment"}
    assert any("while ScaledObject analytics owns its scale" in m for m, _ in found), found


def test_quota_must_cover_a_scaled_object_at_its_maximum():
    quota = next(r for r in planned("prod")[0]["resources"]
                 if r["type"] == "kubernetes:core/v1:ResourceQuota" and r["inputs"]["metadata"]["namespace"] == "data")
    namespace = next(r for r in planned("prod")[0]["resources"]
                     if r["type"] == "kubernetes:core/v1:Namespace" and r["inputs"]["metadata"]["name"] == "data")
    stack = [*_analytics_stack(), ("kubernetes:core/v1:ResourceQuota", "data-quota", quota["inputs"]),
             ("kubernetes:core/v1:Namespace", "data-ns", namespace["inputs"])]
    assert stack_violations(cost_004.RULE, stack) == []
    bigger = [*_analytics_stack(scaled=mutate_props(scaled_object(), "spec.maxReplicaCount", 40.0)), *stack[2:]]
    assert names(stack_violations(cost_004.RULE, bigger)) == {"data-quota"}
