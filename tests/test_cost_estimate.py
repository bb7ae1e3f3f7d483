"""The cost estimate (paved/cost/) and its price file (paved/data/prices.json).

Expected amounts are computed here by hand from the price file's numbers, never from the
estimator's own lookups, so a wrong line or a wrong price key shows up as a different total.
"""

from __future__ import annotations

import copy
import json
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

import pytest
from policy_harness import options, sample, urn
from pulumi_policy import PolicyResource
from pulumi_policy.proxy import UNKNOWN_NUMBER_VALUE, UNKNOWN_STRING_VALUE, unknown_checking_proxy

from paved import cost
from paved.cost.prices import load_prices
from paved.resources import pod_requests

ROOT = Path(__file__).resolve().parent.parent
PRICES = json.loads((ROOT / "paved" / "data" / "prices.json").read_text(), parse_float=Decimal)
H = Decimal(PRICES["hoursPerMonth"]["value"])
CENT = Decimal("0.01")


def p(group: str, name: str | None = None) -> Decimal:
    entry = PRICES[group] if name is None else PRICES[group][name]
    return Decimal(entry["value"])


def cents(d: Decimal) -> Decimal:
    return d.quantize(CENT, rounding=ROUND_HALF_UP)


# --- the price file ----------------------------------------------------------------------------


def test_every_price_has_value_unit_region_source_and_date():
    prices = load_prices()
    assert prices.hours_per_month == 730 and prices.region == "us-east-1" and prices.currency == "USD"
    for key, price in prices.entries.items():
        assert price.value > 0 and price.unit and price.source and price.date, key
        assert price.region == "us-east-1", key


def test_reference_prices():
    assert p("eksControlPlane", "STANDARD") == Decimal("0.10")
    assert p("eksControlPlane", "EXTENDED") == Decimal("0.60")
    assert p("ec2Instance", "m5.large") == p("ec2Instance", "m6i.large") == Decimal("0.096")
    assert p("ec2Instance", "t3.medium") == Decimal("0.0416")
    assert p("mskBroker", "kafka.t3.small") == Decimal("0.0456")
    assert p("mskBroker", "kafka.m5.large") == Decimal("0.21")
    assert (p("mskStorage"), p("secretsManagerSecret"), p("natGateway"), p("ebsGp3"), p("kmsKey")) == (
        Decimal("0.10"), Decimal("0.40"), Decimal("0.045"), Decimal("0.08"), Decimal("1.00"))


def test_pod_prices_split_an_m6i_large():
    # 2 vCPU + 8 GiB at the derived per-unit prices is the node's hourly price (to 0.1 cent).
    node = 2 * p("podVcpu") + 8 * p("podMemory")
    assert abs(node - p("ec2Instance", "m6i.large")) < Decimal("0.001")
    # The reference's example: a 250m / 512Mi pod is about $7.23 per replica-month.
    assert cents((Decimal("0.25") * p("podVcpu") + Decimal("0.5") * p("podMemory")) * H) == Decimal("7.23")


def test_a_broken_price_file_is_a_clear_error(tmp_path):
    broken = copy.deepcopy(json.loads((ROOT / "paved" / "data" / "prices.json").read_text()))
    del broken["natGateway"]["source"]
    path = tmp_path / "prices.json"
    path.write_text(json.dumps(broken))
    with pytest.raises(cost.CostError, match="natGateway: every price needs value, unit, region, source and date"):
        load_prices(path)


# --- a hand-built stack ------------------------------------------------------------------------

DEPLOYMENT = {
    "metadata": {"name": "api", "namespace": "shop",
                 "labels": {"app.kubernetes.io/name": "api", "paved.dev/team": "web"}},
    "spec": {"template": {"metadata": {"labels": {"app.kubernetes.io/name": "api"}}, "spec": {
        "containers": [{"name": "api", "image": "api:1", "resources": {
            "requests": {"cpu": "250m", "memory": "512Mi"}, "limits": {"cpu": "1", "memory": "1Gi"}}}],
        "initContainers": [{"name": "migrate", "image": "api:1", "resources": {"requests": {"cpu": "100m", "memory": "64Mi"}}}],
    }}},
}
HPA = {"metadata": {"name": "api", "namespace": "shop"},
       "spec": {"minReplicas": 2.0, "maxReplicas": 5.0, "scaleTargetRef": {"kind": "Deployment", "name": "api", "apiVersion": "apps/v1"}}}
WORKER = {
    "metadata": {"name": "worker", "namespace": "shop", "labels": {"paved.dev/team": "web"}},
    "spec": {"replicas": 3.0, "template": {"spec": {"containers": [
        {"name": "a", "image": "w:1", "resources": {"requests": {"cpu": "0.5", "memory": "1Gi"}}},
        {"name": "b", "image": "w:1", "resources": {"limits": {"cpu": "100m", "memory": "256Mi"}}},
    ]}}},
}
CRON = {"metadata": {"name": "report", "namespace": "shop"}, "spec": {"template": {"spec": {"containers": [
    {"name": "r", "image": "r:1", "resources": {"requests": {"cpu": "2", "memory": "4Gi"}}}]}}}}

STACK = [
    ("aws:eks/cluster:Cluster", {"name": "c1", "upgradePolicy": {"supportType": "STANDARD"}}, "c1"),
    ("aws:eks/cluster:Cluster", {"name": "c2", "upgradePolicy": {"supportType": "EXTENDED"}}, "c2"),
    # A node group whose disk is in its launch template (found by paved's naming, <group>-lt).
    ("aws:eks/nodeGroup:NodeGroup", {"instanceTypes": ["m6i.large"], "scalingConfig": {"minSize": 3.0, "maxSize": 6.0, "desiredSize": 3.0},
                                     "launchTemplate": {"id": "lt-0123", "version": "1"}}, "general"),
    ("aws:ec2/launchTemplate:LaunchTemplate", {"blockDeviceMappings": [
        {"deviceName": "/dev/xvda", "ebs": {"volumeSize": 50.0, "volumeType": "gp3"}}]}, "general-lt"),
    # AWS defaults: t3.medium, 20 GB.
    ("aws:eks/nodeGroup:NodeGroup", {"scalingConfig": {"minSize": 1.0, "maxSize": 2.0, "desiredSize": 2.0}}, "small"),
    ("aws:ec2/natGateway:NatGateway", {"subnetId": "subnet-a"}, "nat-a"),
    ("aws:ec2/natGateway:NatGateway", {"subnetId": "subnet-b"}, "nat-b"),
    ("aws:msk/cluster:Cluster", {"numberOfBrokerNodes": 3.0, "brokerNodeGroupInfo": {
        "instanceType": "kafka.m5.large", "clientSubnets": ["a", "b", "c"],
        "storageInfo": {"ebsStorageInfo": {"volumeSize": 100.0}}}}, "kafka"),
    ("aws:secretsmanager/secret:Secret", {"name": "s1"}, "s1"),
    ("aws:secretsmanager/secret:Secret", {"name": "s2", "replicas": [{"region": "eu-west-1"}]}, "s2"),
    ("aws:kms/key:Key", {"description": "k"}, "key"),
    ("kubernetes:apps/v1:Deployment", DEPLOYMENT, "api-deployment"),
    ("kubernetes:autoscaling/v2:HorizontalPodAutoscaler", HPA, "api-hpa"),
    ("kubernetes:apps/v1:Deployment", WORKER, "worker-deployment"),
    ("kubernetes:batch/v1:CronJob", CRON, "report"),  # not a scalable workload: no pod line
    ("kubernetes:core/v1:Service", {"metadata": {"name": "api"}}, "api-service"),
]

INFRASTRUCTURE = (
    H * p("eksControlPlane", "STANDARD")
    + H * p("eksControlPlane", "EXTENDED")
    + 3 * H * p("ec2Instance", "m6i.large") + 3 * 50 * p("ebsGp3")
    + 2 * H * p("ec2Instance", "t3.medium") + 2 * 20 * p("ebsGp3")
    + 2 * H * p("natGateway")
    + 2 * p("assumption", "natDataGBPerGatewayMonth") * p("natDataProcessed")  # issue 17: data processed, assumed
    + 3 * H * p("mskBroker", "kafka.m5.large") + 3 * 100 * p("mskStorage")
    + 3 * p("secretsManagerSecret")  # s2 has one replica region, billed as a secret of its own
    + 1 * p("kmsKey")
)
# api: 250m / 512Mi per replica (the 100m / 64Mi init container is smaller), 2..5 replicas;
# worker: 0.5 + 0.1 (limit as request) CPU, 1Gi + 256Mi, 3 replicas fixed.
API = Decimal("0.25") * p("podVcpu") + Decimal("0.5") * p("podMemory")
WORKER_REPLICA = Decimal("0.6") * p("podVcpu") + Decimal("1.25") * p("podMemory")


def test_hand_built_stack_totals():
    est = cost.estimate(STACK)
    assert est.infrastructure_total == INFRASTRUCTURE
    assert cents(est.infrastructure_total) == Decimal("1363.98")
    assert est.total == est.infrastructure_total
    assert est.node_compute_total == 3 * H * p("ec2Instance", "m6i.large") + 2 * H * p("ec2Instance", "t3.medium")
    assert est.pods_min_total == (2 * API + 3 * WORKER_REPLICA) * H
    assert est.pods_max_total == (5 * API + 3 * WORKER_REPLICA) * H
    assert est.unpriced == ()


def test_hand_built_stack_lines():
    est = cost.estimate(STACK)
    by_item = {(ln.item, ln.resource): ln for ln in est.infrastructure}
    eks = by_item[("EKS control plane (extended support)", "c2")]
    assert (eks.quantity, eks.unit, eks.price.key, eks.amount) == (H, "h", "eksControlPlane.EXTENDED", Decimal("438.000"))
    disks = by_item[("node disks 3 x 50 GB gp3", "general")]
    assert (disks.quantity, disks.amount) == (150, Decimal("12.00"))
    nat = by_item[("2 x NAT gateway", "nat-a, nat-b")]
    assert nat.quantity == 2 * H
    services = {s.name: s for s in est.services}
    assert (services["api"].team, services["api"].min_replicas, services["api"].max_replicas) == ("web", 2, 5)
    assert (services["worker"].team, services["worker"].cpu_per_replica, services["worker"].memory_gib_per_replica) == (
        "web", Decimal("0.6"), Decimal("1.25"))
    assert [t.name for t in est.teams] == ["web"]
    assert est.teams[0].max_amount == est.pods_max_total


def test_unpriced_instance_type_names_the_type_and_the_price_file():
    stack = [("aws:eks/nodeGroup:NodeGroup", {"instanceTypes": ["x9.huge"], "scalingConfig": {"desiredSize": 1.0}}, "big")]
    with pytest.raises(cost.CostError, match=r"node group big instance type 'x9.huge': no price for 'x9.huge' in "
                                             r"paved/data/prices.json \(ec2Instance\); it lists .*m6i.large"):
        cost.estimate(stack)
    msk = [("aws:msk/cluster:Cluster", {"numberOfBrokerNodes": 3.0, "brokerNodeGroupInfo": {"instanceType": "kafka.m7g.large"}},
            "k")]
    with pytest.raises(cost.CostError, match="broker type 'kafka.m7g.large'.*paved/data/prices.json"):
        cost.estimate(msk)
    # Issue 17: for `paved cost` (strict=False) an unlisted type is "not priced", not a failure.
    est = cost.estimate(stack, strict=False)
    assert est.infrastructure == ()
    assert any(u.startswith("not priced: node group big instance type 'x9.huge'") for u in est.unpriced), est.unpriced
    assert any("broker type 'kafka.m7g.large'" in u for u in cost.estimate(msk, strict=False).unpriced)


def test_policy_resources_with_unknowns_are_estimated_without_raising():
    """The budget rule hands over the analyzer's PolicyResource objects with unknown-checking props."""
    stack = copy.deepcopy(STACK)
    stack[4] = ("aws:eks/nodeGroup:NodeGroup", {"scalingConfig": {"desiredSize": UNKNOWN_NUMBER_VALUE}}, "small")
    stack[0] = ("aws:eks/cluster:Cluster", {"name": "c1", "upgradePolicy": {"supportType": UNKNOWN_STRING_VALUE}}, "c1")
    resources = [PolicyResource(t, unknown_checking_proxy(props), urn(t, n), n, options(), None, None, [], {})
                 for t, props, n in stack]
    est = cost.estimate(resources)
    small = 2 * H * p("ec2Instance", "t3.medium") + 2 * 20 * p("ebsGp3")
    assert est.infrastructure_total == INFRASTRUCTURE - small
    assert any("node group small" in u for u in est.unpriced)
    assert any("EKS cluster c1" in u and "priced at STANDARD" in u for u in est.unpriced)
    assert est.pods_max_total == (5 * API + 3 * WORKER_REPLICA) * H


def test_text_prints_quantity_times_unit_price_per_line():
    out = cost.text(cost.estimate(STACK), "prod")
    assert out.startswith("paved cost --stack prod: monthly estimate, USD, us-east-1, 730 h/month")
    for line in (
        "730 h x $0.60/h = $438.00",
        "2,190 h x $0.096/h = $210.24",
        "150 GB-month x $0.08/GB-month = $12.00",
        "40 GB-month x $0.08/GB-month = $3.20",
        "3 secret-month x $0.40/secret-month = $1.20",
        "Infrastructure total: $1,363.98",
        "min 2 replica(s): 365 vCPU-h x $0.03125/vCPU-h = $11.41 + 730 GiB-h x $0.00419/GiB-h = $3.06 = $14.46",
        "they are not added to the infrastructure total",
    ):
        assert line in out, line


def test_json_totals_recompute_from_the_printed_lines():
    doc = json.loads(json.dumps(cost.as_json(cost.estimate(STACK), "prod")))
    assert doc["stack"] == "prod" and doc["priceFile"] == "paved/data/prices.json"
    assert doc["version"] == 1 and doc["currency"] == "USD"
    infra = sum(Decimal(str(ln["quantity"])) * Decimal(str(ln["unitPrice"])) for ln in doc["infrastructure"])
    assert doc["totals"]["infrastructure"] == doc["budgetedTotal"] == float(cents(infra)) == 1363.98
    at_max = sum(Decimal(str(ln["quantity"])) * Decimal(str(ln["unitPrice"])) for s in doc["services"] for ln in s["max"]["lines"])
    assert doc["totals"]["podsAtMax"] == float(cents(at_max))
    api = next(s for s in doc["services"] if s["name"] == "api")
    assert (api["cpuPerReplica"], api["memoryGiBPerReplica"], api["min"]["replicas"], api["max"]["replicas"]) == (0.25, 0.5, 2, 5)


# --- the repo's own plan -----------------------------------------------------------------------


def test_dev_plan_has_a_line_for_every_service_and_team():
    from conftest import planned

    doc = planned("dev")[0]
    est = cost.estimate([(r["type"], r["inputs"], r["name"]) for r in doc["resources"]])
    charts = {r["urn"] for r in doc["resources"] if r["type"] == "kubernetes:helm.sh/v4:Chart"}
    # Deployments and, for a service with `rollout:` (orders), its Argo Rollout.
    deployments = [r for r in doc["resources"] if r["type"] in ("kubernetes:apps/v1:Deployment",
                   "kubernetes:argoproj.io/v1alpha1:Rollout") and r["parent"] not in charts]
    own = {r["service"] for r in deployments}
    # What the charts install is priced too, as workloads of the platform's namespaces.
    assert {s.name for s in est.services} > own
    services = [s for s in est.services if s.name in own]
    assert len(services) == 6
    assert {(s.name, s.team) for s in services} == {(r["service"], r["team"]) for r in deployments}
    assert {t.name for t in est.teams} >= {r["team"] for r in deployments}
    assert sum((t.min_amount for t in est.teams), Decimal(0)) == est.pods_min_total
    assert sum((t.max_amount for t in est.teams), Decimal(0)) == est.pods_max_total
    for s in services:
        if s.name == "analytics":  # scaled on Kafka lag: KEDA's ScaledObject holds the bounds
            scaled = sample("dev", "kubernetes:keda.sh/v1alpha1:ScaledObject", s.name)["spec"]
            assert (s.min_replicas, s.max_replicas) == (scaled["minReplicaCount"], scaled["maxReplicaCount"])
            continue
        hpa = sample("dev", "kubernetes:autoscaling/v2:HorizontalPodAutoscaler", s.name)
        assert (s.min_replicas, s.max_replicas) == (hpa["spec"]["minReplicas"], hpa["spec"]["maxReplicas"])
    assert est.unpriced == ()
    text = cost.text(est, "dev")
    for s in est.services:
        assert f"  {s.name} (team {s.team}, namespace {s.namespace})" in text


def test_pod_requests_count_sidecars_with_the_app_and_init_containers_alone():
    pod = {
        "containers": [{"name": "app", "resources": {"requests": {"cpu": "500m", "memory": "256Mi"}}}],
        "initContainers": [
            {"name": "proxy", "restartPolicy": "Always", "resources": {"requests": {"cpu": "100m", "memory": "64Mi"}}},
            {"name": "migrate", "resources": {"requests": {"cpu": "1", "memory": "128Mi"}}},
        ],
    }
    req = pod_requests(unknown_checking_proxy(pod))
    assert (req.cpu, req.memory, req.complete) == (Decimal("1"), 320 * 2**20, True)
    pod["containers"][0]["resources"]["requests"]["cpu"] = UNKNOWN_STRING_VALUE
    assert pod_requests(unknown_checking_proxy(pod)).complete is False


def test_interface_endpoints_are_billed_per_zone():
    endpoint = {"vpcEndpointType": "Interface", "serviceName": "com.amazonaws.us-east-1.sts",
                "subnetIds": ["subnet-a", "subnet-b", "subnet-c"]}
    gateway = {"vpcEndpointType": "Gateway", "serviceName": "com.amazonaws.us-east-1.s3"}
    est = cost.estimate([("aws:ec2/vpcEndpoint:VpcEndpoint", endpoint, "sts"),
                         ("aws:ec2/vpcEndpoint:VpcEndpoint", gateway, "s3")])
    # 3 zones x 730 h x $0.01 = $21.90; gateway endpoints are free.
    assert est.infrastructure_total == Decimal("21.90")
