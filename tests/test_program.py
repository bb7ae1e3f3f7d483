"""The Pulumi program for every stack, run the way Pulumi runs it (under mocks)."""

from __future__ import annotations

import json

import pytest

from conftest import ROOT, STACKS, by_type, planned
from paved.catalog import load_catalog
from paved.stack import list_stacks, load_stack

DEPLOYMENT = "kubernetes:apps/v1:Deployment"
HPA = "kubernetes:autoscaling/v2:HorizontalPodAutoscaler"
PDB = "kubernetes:policy/v1:PodDisruptionBudget"
NETPOL = "kubernetes:networking.k8s.io/v1:NetworkPolicy"
NAMESPACE = "kubernetes:core/v1:Namespace"


def effective_catalog(stack: str):
    from conftest import ROOT

    envs = {e: load_stack(ROOT, e) for e in list_stacks(ROOT)}
    return load_catalog(ROOT / "services_catalog.yaml", envs).for_environment(stack)


@pytest.mark.parametrize("stack", STACKS)
def test_every_service_gets_its_resources(stack):
    plan = planned(stack)[0]
    catalog = effective_catalog(stack)
    for svc in catalog.services:
        mine = {r["type"].rsplit(":", 1)[-1] for r in plan["resources"] if r["service"] == svc.name and r["custom"]}
        expected = {"ServiceAccount", "Deployment", "Service", "HorizontalPodAutoscaler", "NetworkPolicy",
                    "Role", "PodIdentityAssociation", "ServiceMonitor", "PrometheusRule", "ConfigMap"}
        if svc.scaling.lag is not None:  # KEDA creates and owns the HPA
            expected = (expected - {"HorizontalPodAutoscaler"}) | {"ScaledObject", "TriggerAuthentication"}
        if svc.scaling.min >= 2:
            expected.add("PodDisruptionBudget")
        if svc.secrets or svc.kafka.produces or svc.kafka.consumes:
            expected.add("RolePolicy")
        if svc.secrets:
            expected |= {"Secret", "ExternalSecret"}
        if any(secret.rotation == "managed" for secret in svc.secrets):
            expected |= {"SecretRotation", "PushSecret"}  # rotated by AWS, first value generated in the cluster
        if svc.kafka.produces:
            expected.add("Topic")
        if svc.public:
            expected.add("Ingress")
        if svc.rollout is not None:  # Argo Rollouts: a Rollout in place of the Deployment, its analysis
            expected = (expected - {"Deployment"}) | {"Rollout"} | ({"AnalysisTemplate"} if svc.rollout.analysis else set())
        if svc.data is not None:
            expected |= {"RolePolicy", "Key", "Alias"}
            if svc.data.postgres is not None:
                expected |= {"SubnetGroup", "ParameterGroup", "SecurityGroup", "SecurityGroupIngressRule", "Instance",
                             "MetricAlarm"}
                if svc.data.postgres.migrate is not None:
                    expected.add("Job")
            if svc.data.tables:
                expected.add("Table")
            if svc.data.cache is not None:
                # Serverless, or a replication group in its own subnet group (paved:data.cacheMode nodes).
                nodes = load_stack(ROOT, stack).data.cache_mode == "nodes"
                expected |= {"SecurityGroup", "SecurityGroupIngressRule", "User", "UserGroup", "MetricAlarm",
                             *(("ReplicationGroup", "SubnetGroup") if nodes else ("ServerlessCache",))}
        assert mine == expected, f"{stack}/{svc.name}: {sorted(mine)}"


@pytest.mark.parametrize("stack", STACKS)
def test_no_deployment_sets_replicas_and_hpa_matches_catalog(stack):
    plan = planned(stack)[0]
    catalog = effective_catalog(stack)
    charts = {r["urn"] for r in by_type(plan, "kubernetes:helm.sh/v4:Chart")}
    for dep in by_type(plan, DEPLOYMENT):
        if dep["parent"] not in charts:  # a chart's Deployment has no HPA; its chart sets replicas
            assert "replicas" not in dep["inputs"]["spec"], dep["urn"]
    for hpa in by_type(plan, HPA):
        svc = catalog.service(hpa["service"])
        spec = hpa["inputs"]["spec"]
        assert (spec["minReplicas"], spec["maxReplicas"]) == (svc.scaling.min, svc.scaling.max), hpa["urn"]
        assert isinstance(spec["minReplicas"], int), f"{hpa['urn']}: integers must not stay floats"


def test_overrides_reach_the_resources():
    dev = {h["service"]: h["inputs"]["spec"]["maxReplicas"] for h in by_type(planned("dev")[0], HPA)}
    prod = {h["service"]: h["inputs"]["spec"]["maxReplicas"] for h in by_type(planned("prod")[0], HPA)}
    assert dev["orders"] == 2 and prod["orders"] == 12
    prod_pay = next(d for d in by_type(planned("prod")[0], DEPLOYMENT) if d["service"] == "payments")
    assert prod_pay["inputs"]["spec"]["template"]["spec"]["containers"][0]["resources"]["requests"]["cpu"] == "500m"


@pytest.mark.parametrize("stack", STACKS)
def test_pdb_exactly_for_multi_replica_services(stack):
    plan = planned(stack)[0]
    with_pdb = {p["service"] for p in by_type(plan, PDB) if p["service"]}  # charts bring their own
    multi = {h["service"] for h in by_type(plan, HPA) if h["inputs"]["spec"]["minReplicas"] >= 2}
    multi |= {s["service"] for s in by_type(plan, "kubernetes:keda.sh/v1alpha1:ScaledObject")
              if s["inputs"]["spec"]["minReplicaCount"] >= 2}
    assert with_pdb == multi
    for p in by_type(plan, PDB):
        if p["service"]:
            assert p["inputs"]["spec"]["maxUnavailable"] == 1, p["urn"]


@pytest.mark.parametrize("stack", STACKS)
def test_one_kubernetes_provider_for_every_kubernetes_object(stack):
    plan = planned(stack)[0]
    providers = [r for r in plan["resources"] if r["type"] == "pulumi:providers:kubernetes"]
    assert len(providers) == 1
    # Built from the cluster: its kubeconfig names the stack's cluster, not a local context.
    assert providers[0]["parent"].endswith("paved:cluster:EksCluster::paved-cluster")
    for r in plan["resources"]:
        if r["custom"] and r["type"].startswith("kubernetes:"):
            assert r["provider"] == providers[0]["urn"], r["urn"]


@pytest.mark.parametrize("stack", STACKS)
def test_namespaces_restricted_with_default_deny(stack):
    plan = planned(stack)[0]
    namespaces = {n["inputs"]["metadata"]["name"]: n for n in by_type(plan, NAMESPACE) if n["team"]}
    assert set(namespaces) == {"checkout", "fulfillment", "engagement", "data"}
    for ns in namespaces.values():
        assert ns["inputs"]["metadata"]["labels"]["pod-security.kubernetes.io/enforce"] == "restricted", ns["urn"]
    deny = [p for p in by_type(plan, NETPOL) if p["inputs"]["metadata"]["name"] == "default-deny"]
    # Every namespace paved creates, team or platform operator, denies by default.
    every_namespace = {n["inputs"]["metadata"]["name"] for n in by_type(plan, NAMESPACE)}
    assert {p["inputs"]["metadata"]["namespace"] for p in deny} == every_namespace >= set(namespaces)
    for p in deny:
        assert p["inputs"]["spec"]["podSelector"] == {} and p["inputs"]["spec"]["policyTypes"] == ["Ingress", "Egress"], p["urn"]


@pytest.mark.parametrize("stack", STACKS)
def test_nothing_lands_in_default_namespace(stack):
    for r in planned(stack)[0]["resources"]:
        ns = r["inputs"].get("metadata", {}).get("namespace") if isinstance(r["inputs"].get("metadata"), dict) else None
        assert ns != "default", r["urn"]


@pytest.mark.parametrize("stack", STACKS)
def test_network_policies_follow_calls(stack):
    plan = planned(stack)[0]
    # The service's own policy (observability adds allow-prometheus and allow-otel-collector).
    pol = {p["service"]: p["inputs"]["spec"] for p in by_type(plan, NETPOL)
           if p["service"] and p["inputs"]["metadata"]["name"] == p["service"]}
    callers_of_inventory = [
        peer["podSelector"]["matchLabels"]["app.kubernetes.io/name"]
        for rule in pol["inventory"].get("ingress", []) for peer in rule["from"]
    ]
    assert sorted(callers_of_inventory) == ["analytics", "orders"]
    orders_egress = [peer["podSelector"]["matchLabels"]["app.kubernetes.io/name"]
                     for rule in pol["orders"]["egress"] for peer in rule["to"] if "podSelector" in peer]
    assert orders_egress == ["inventory"]
    assert pol["notifications"].get("ingress", []) == []
    # The AWS side: credentials from the Pod Identity Agent, Kafka brokers inside the VPC, nothing else.
    blocks = {(peer["ipBlock"]["cidr"], rule["ports"][0]["port"])
              for rule in pol["orders"]["egress"] for peer in rule["to"] if "ipBlock" in peer}
    vpc = {"dev": "10.10.0.0/16", "staging": "10.20.0.0/16", "prod": "10.30.0.0/16"}[stack]
    # ... and its PostgreSQL database (components/data.py), also inside the VPC.
    assert blocks == {("169.254.170.23/32", 80), ("fd00:ec2::23/128", 80), (vpc, 9098), (vpc, 5432)}


def test_children_are_parented_and_named_by_role():
    plan = planned("dev")[0]
    by_urn = {r["urn"]: r for r in plan["resources"]}
    for r in plan["resources"]:
        if r["type"] == "paved:platform:Platform":
            assert r["parent"] is None
            continue
        assert r["parent"] in by_urn, r["urn"]
        parent = by_urn[r["parent"]]
        if parent["type"] == "kubernetes:helm.sh/v4:Chart":  # Chart v4 names them <chart>:<ns>/<name>
            assert r["name"].startswith(parent["name"] + ":"), r["urn"]
            continue
        assert r["name"].startswith(parent["name"] + "-") or parent["type"] == "paved:platform:Platform", r["urn"]


def test_stack_outputs():
    outputs = planned("prod")[0]["outputs"]
    assert outputs["environment"] == "prod"
    assert outputs["services"]["orders"] == "orders.checkout.svc.cluster.local:8080"
    assert outputs["namespaces"]["data"] == "data"


def test_plan_is_deterministic():
    from paved import plan

    again, _ = plan.build("dev")
    assert json.dumps(again, sort_keys=True) == json.dumps(planned("dev")[0], sort_keys=True)
