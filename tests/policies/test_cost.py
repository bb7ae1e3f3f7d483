"""Tests for the cost rules (PAVED-COST-001 .. 011).

Kubernetes fixtures come from the repo's own prod plan (``sample``), AWS fixtures are built by
hand in the engine's camelCase input names of pulumi_aws 7.x (checked against the SDK by
``test_aws_fixtures_are_valid_sdk_inputs``; numbers are floats, as the engine sends them). Each
test starts from a passing fixture and mutates one field per failing case, then asserts the set
of violating resource names (or the message) and a message substring.
"""

from __future__ import annotations

import copy
import json
from pathlib import Path

import pulumi_aws as aws
import pytest
from policy_harness import assert_flags, category_config, mutate, names, resource_violations, sample, stack_violations
from pulumi_policy.proxy import (
    UNKNOWN_ARRAY_VALUE,
    UNKNOWN_BOOLEAN_VALUE,
    UNKNOWN_NUMBER_VALUE,
    UNKNOWN_OBJECT_VALUE,
    UNKNOWN_STRING_VALUE,
)

from paved import check
from paved.sdk_inputs import check_inputs
from policies.rules.cost import cost_001_hpa_max_replicas as cost_001
from policies.rules.cost import cost_002_container_request_caps as cost_002
from policies.rules.cost import cost_003_limit_request_ratio as cost_003
from policies.rules.cost import cost_004_namespace_quota_covers_workloads as cost_004
from policies.rules.cost import cost_005_node_group_sizing as cost_005
from policies.rules.cost import cost_006_eks_standard_support as cost_006
from policies.rules.cost import cost_007_msk_broker_sizing as cost_007
from policies.rules.cost import cost_008_nat_gateway_count as cost_008
from policies.rules.cost import cost_009_secret_sprawl as cost_009
from policies.rules.cost import cost_010_monthly_budget as cost_010
from policies.rules.cost import cost_011_monthly_budget_warning as cost_011
from policies.rules import cost as cost_rules

ROOT = Path(__file__).resolve().parents[2]


def _category_config(env: str) -> dict:
    from policies.rules import cost as _index

    return category_config(_index.RULES, env)

DEPLOYMENT_T = "kubernetes:apps/v1:Deployment"
STATEFULSET_T = "kubernetes:apps/v1:StatefulSet"
HPA_T = "kubernetes:autoscaling/v2:HorizontalPodAutoscaler"
QUOTA_T = "kubernetes:core/v1:ResourceQuota"
NAMESPACE_T = "kubernetes:core/v1:Namespace"
EKS_T = "aws:eks/cluster:Cluster"
NODE_GROUP_T = "aws:eks/nodeGroup:NodeGroup"
LAUNCH_TEMPLATE_T = "aws:ec2/launchTemplate:LaunchTemplate"
MSK_T = "aws:msk/cluster:Cluster"
NAT_T = "aws:ec2/natGateway:NatGateway"
SECRET_T = "aws:secretsmanager/secret:Secret"
KMS_T = "aws:kms/key:Key"

# --- hand-built AWS fixtures (prod-sized, passing) -------------------------------------------

EKS = {
    "name": "paved-prod",
    "version": "1.35",
    "roleArn": "arn:aws:iam::123456789012:role/paved-prod-cluster",
    "upgradePolicy": {"supportType": "STANDARD"},
    "deletionProtection": True,
}
NODE_GROUP = {
    "clusterName": "paved-prod",
    "nodeGroupName": "general",
    "nodeRoleArn": "arn:aws:iam::123456789012:role/paved-prod-nodes",
    "subnetIds": ["subnet-a", "subnet-b", "subnet-c"],
    "instanceTypes": ["m6i.large"],
    "capacityType": "ON_DEMAND",
    "diskSize": 50.0,
    "scalingConfig": {"minSize": 3.0, "maxSize": 9.0, "desiredSize": 3.0},
}
LAUNCH_TEMPLATE = {
    "description": "paved node group general",
    "blockDeviceMappings": [
        {"deviceName": "/dev/xvda", "ebs": {"volumeSize": 50.0, "volumeType": "gp3", "encrypted": "true"}},
    ],
    "metadataOptions": {"httpEndpoint": "enabled", "httpTokens": "required", "httpPutResponseHopLimit": 1.0},
}
MSK = {
    "clusterName": "paved-prod",
    "kafkaVersion": "3.6.0",
    "numberOfBrokerNodes": 3.0,
    "brokerNodeGroupInfo": {
        "instanceType": "kafka.m5.large",
        "clientSubnets": ["subnet-a", "subnet-b", "subnet-c"],
        "securityGroups": ["sg-0123"],
        "storageInfo": {"ebsStorageInfo": {"volumeSize": 250.0}},
    },
}
NAT = {"allocationId": "eipalloc-0123", "subnetId": "subnet-a"}
SECRET = {"name": "prod/orders", "recoveryWindowInDays": 30.0}
KMS = {"description": "paved prod", "deletionWindowInDays": 30.0, "enableKeyRotation": True}

AWS_FIXTURES = [
    (aws.eks.Cluster, EKS), (aws.eks.NodeGroup, NODE_GROUP), (aws.ec2.LaunchTemplate, LAUNCH_TEMPLATE),
    (aws.msk.Cluster, MSK), (aws.ec2.NatGateway, NAT), (aws.secretsmanager.Secret, SECRET), (aws.kms.Key, KMS),
]


def test_aws_fixtures_are_valid_sdk_inputs():
    for cls, props in AWS_FIXTURES:
        assert check_inputs(cls, props) == [], cls.__name__


def deployment(service: str = "orders") -> dict:
    return sample("prod", DEPLOYMENT_T, service)


def hpa(service: str = "orders") -> dict:
    return sample("prod", HPA_T, service)


def container_path(field: str) -> str:
    return f"spec.template.spec.containers.0.{field}"


# --- registry and config fragments -----------------------------------------------------------


def test_index_lists_every_cost_rule_in_id_order():
    ids = [r.id for r in cost_rules.RULES]
    assert ids == sorted(ids) and ids == [f"PAVED-COST-{n:03d}" for n in range(1, 15)]


@pytest.mark.parametrize("env", ["dev", "staging", "prod"])
def test_config_fragments_name_real_rules_and_settings(env):
    fragment = _category_config(f"{env}.json".removesuffix(".json"))
    known = {r.policy_name: r for r in cost_rules.RULES}
    for key, entry in fragment.items():
        assert key in known, key
        for prop in entry:
            assert prop == "enforcementLevel" or prop in known[key].config, (key, prop)


@pytest.mark.parametrize("env", ["dev", "staging", "prod"])
def test_sample_catalog_passes_every_mandatory_cost_rule(env):
    from conftest import planned

    fragment = _category_config(f"{env}.json".removesuffix(".json"))
    mandatory = [v for v in check.run(planned(env)[0], fragment, cost_rules.RULES) if v.enforcement == "mandatory"]
    assert mandatory == []


# --- PAVED-COST-001 hpa-max-replicas ---------------------------------------------------------


def test_hpa_within_cap_passes():
    assert resource_violations(cost_001.RULE, HPA_T, hpa(), config={"maxReplicas": 12}) == []


def test_hpa_above_cap_is_reported():
    found = resource_violations(cost_001.RULE, HPA_T, mutate(hpa(), "spec.maxReplicas", 13.0), config={"maxReplicas": 12})
    assert_flags(found, "HorizontalPodAutoscaler orders must scale to at most 12 replicas", "is 13")


def test_hpa_min_above_max_is_reported():
    found = resource_violations(cost_001.RULE, HPA_T, mutate(hpa(), "spec.minReplicas", 13.0))
    assert_flags(found, "must keep spec.minReplicas (13) at or below spec.maxReplicas (12)")


def test_hpa_unknown_max_passes():
    props = mutate(hpa(), "spec.maxReplicas", UNKNOWN_NUMBER_VALUE)
    assert resource_violations(cost_001.RULE, HPA_T, props, config={"maxReplicas": 1}) == []


# --- PAVED-COST-002 container-request-caps ---------------------------------------------------


def test_requests_within_caps_pass():
    assert resource_violations(cost_002.RULE, DEPLOYMENT_T, deployment(),
                               config={"maxCpuRequest": "250m", "maxMemoryRequest": "256Mi"}) == []


@pytest.mark.parametrize(
    ("field", "value", "needle"),
    [
        ("resources.requests.cpu", "0.3", "must request at most 250m cpu (requests.cpu is 0.3)"),
        ("resources.requests.memory", "1G", "must request at most 256Mi memory (requests.memory is 1G)"),
        ("resources.requests.cpu", "lots", "must set requests.cpu to a valid quantity"),
    ],
)
def test_requests_above_caps_are_reported(field, value, needle):
    props = mutate(deployment(), container_path(field), value)
    found = resource_violations(cost_002.RULE, DEPLOYMENT_T, props, config={"maxCpuRequest": "250m", "maxMemoryRequest": "256Mi"})
    assert_flags(found, "Deployment orders container orders", needle)


def test_limit_counts_as_request_when_request_missing():
    props = mutate(deployment(), container_path("resources.requests.cpu"), None)
    found = resource_violations(cost_002.RULE, DEPLOYMENT_T, props, config={"maxCpuRequest": "500m"})
    assert_flags(found, "(limits.cpu is 1)")


def test_unknown_request_passes():
    props = mutate(deployment(), container_path("resources.requests.cpu"), UNKNOWN_STRING_VALUE)
    assert resource_violations(cost_002.RULE, DEPLOYMENT_T, props, config={"maxCpuRequest": "1m"}) == []


# --- PAVED-COST-003 limit-request-ratio ------------------------------------------------------


def test_ratios_within_caps_pass():
    # orders: cpu 1 / 250m = 4x, memory 512Mi / 256Mi = 2x: exactly at the caps.
    assert resource_violations(cost_003.RULE, DEPLOYMENT_T, deployment()) == []


@pytest.mark.parametrize(
    ("field", "value", "needle"),
    [
        ("resources.limits.cpu", "1100m", "keep limits.cpu at most 4x requests.cpu (1100m / 250m is 4.4x)"),
        ("resources.limits.memory", "1Gi", "keep limits.memory at most 2x requests.memory (1Gi / 256Mi is 4x)"),
        ("resources.requests.cpu", "0", "(1 / 0 is unbounded)"),
    ],
)
def test_ratios_above_caps_are_reported(field, value, needle):
    found = resource_violations(cost_003.RULE, DEPLOYMENT_T, mutate(deployment(), container_path(field), value))
    assert_flags(found, "Deployment orders container orders must", needle)


def test_unknown_limit_passes():
    props = mutate(deployment(), container_path("resources.limits.memory"), UNKNOWN_STRING_VALUE)
    assert resource_violations(cost_003.RULE, DEPLOYMENT_T, props) == []


# --- PAVED-COST-004 namespace-quota-covers-workloads -----------------------------------------


def quota_stack(quota: dict | None = None, orders_hpa: dict | None = None) -> list:
    """The prod checkout namespace: orders (250m x 12) + payments (500m x 10) = 8 CPU; quota 8."""
    out = [
        (NAMESPACE_T, "checkout-ns", sample("prod", NAMESPACE_T, name="checkout-ns")),
        (DEPLOYMENT_T, "orders-deployment", deployment("orders")),
        (HPA_T, "orders-hpa", orders_hpa or hpa("orders")),
        (DEPLOYMENT_T, "payments-deployment", deployment("payments")),
        (HPA_T, "payments-hpa", hpa("payments")),
    ]
    if quota is not False:
        out.append((QUOTA_T, "checkout-quota", quota or sample("prod", QUOTA_T, name="checkout-quota")))
    return out


def test_quota_covering_max_replicas_passes():
    assert stack_violations(cost_004.RULE, quota_stack()) == []


def test_quota_short_of_max_replicas_is_reported():
    quota = sample("prod", QUOTA_T, name="checkout-quota")
    quota = mutate(quota, "spec.hard", {**quota["spec"]["hard"], "requests.cpu": "8"})  # the docstring's 8 CPU
    found = stack_violations(cost_004.RULE, quota_stack(quota, orders_hpa=mutate(hpa(), "spec.maxReplicas", 14.0)))
    assert names(found) == {"checkout-quota"}
    assert_flags([m for m, _ in found], "ResourceQuota team-quota in namespace checkout must allow requests.cpu of at least 8.5",
                 "(hard requests.cpu is 8)")


def test_quota_short_on_memory_and_pods_is_reported():
    quota = mutate(sample("prod", QUOTA_T, name="checkout-quota"), "spec.hard", {"requests.cpu": "8", "requests.memory": "6Gi", "pods": "20"})
    found = stack_violations(cost_004.RULE, quota_stack(quota))
    assert names(found) == {"checkout-quota"}
    assert_flags([m for m, _ in found], "requests.memory of at least 6912Mi", "pods of at least 22")


def test_missing_quota_is_reported_on_the_namespace():
    found = stack_violations(cost_004.RULE, quota_stack(quota=False))
    assert names(found) == {"checkout-ns"}
    assert_flags([m for m, _ in found], "Namespace checkout must have a ResourceQuota", "8 CPU and 6912Mi memory")


def test_namespace_without_team_label_needs_no_quota_but_one_it_has_must_fit():
    # Operator namespaces carry no quota on purpose (docstring of the rule); a quota they do
    # have is still checked.
    stack = quota_stack(quota=False)
    namespace = stack[0][2]
    del namespace["metadata"]["labels"]["paved.dev/team"]
    assert stack_violations(cost_004.RULE, stack) == []
    quota = sample("prod", QUOTA_T, name="checkout-quota")
    quota = mutate(quota, "spec.hard", {**quota["spec"]["hard"], "requests.cpu": "1"})
    assert names(stack_violations(cost_004.RULE, [*stack, (QUOTA_T, "checkout-quota", quota)])) == {"checkout-quota"}


def test_quota_without_cpu_is_reported():
    quota = mutate(sample("prod", QUOTA_T, name="checkout-quota"), "spec.hard", {"requests.memory": "16Gi"})
    found = stack_violations(cost_004.RULE, quota_stack(quota))
    assert_flags([m for m, _ in found], "must have a ResourceQuota that sets hard requests.cpu")


def test_unknown_quota_and_replicas_pass():
    quota = sample("prod", QUOTA_T, name="checkout-quota")
    quota["spec"]["hard"]["requests.cpu"] = UNKNOWN_STRING_VALUE
    found = stack_violations(cost_004.RULE, quota_stack(quota, orders_hpa=mutate(hpa(), "spec.maxReplicas", UNKNOWN_NUMBER_VALUE)))
    assert found == []


# --- PAVED-COST-005 node-group-sizing --------------------------------------------------------


def test_node_group_within_limits_passes():
    assert resource_violations(cost_005.RULE, NODE_GROUP_T, NODE_GROUP, name="general") == []
    assert resource_violations(cost_005.RULE, LAUNCH_TEMPLATE_T, LAUNCH_TEMPLATE, name="general-lt") == []


@pytest.mark.parametrize(
    ("path", "value", "needle"),
    [
        ("instanceTypes", ["m6i.large", "c5.4xlarge"], "must use instance types from m6i.large, m5.large (not c5.4xlarge)"),
        ("instanceTypes", None, "(not t3.medium)"),
        ("scalingConfig.maxSize", 11.0, "must scale to at most 10 nodes (scalingConfig.maxSize is 11)"),
        ("capacityType", "SPOT", "must use ON_DEMAND capacity in this environment (capacityType is SPOT)"),
        ("capacityType", UNKNOWN_STRING_VALUE, "(capacityType is unknown at preview)"),
        ("diskSize", 200.0, "must give nodes at most 100 GiB of disk (diskSize is 200)"),
    ],
)
def test_node_group_outside_limits_is_reported(path, value, needle):
    found = resource_violations(cost_005.RULE, NODE_GROUP_T, mutate(NODE_GROUP, path, value), name="general")
    assert_flags(found, "EKS NodeGroup general must", needle)


def test_spot_allowed_where_configured():
    props = mutate(NODE_GROUP, "capacityType", "SPOT")
    assert resource_violations(cost_005.RULE, NODE_GROUP_T, props, name="general", config={"allowSpot": True}) == []


@pytest.mark.parametrize(
    ("path", "value", "needle"),
    [
        ("blockDeviceMappings.0.ebs.volumeSize", 500.0, "(block device /dev/xvda has volumeSize 500)"),
        ("instanceType", "p4d.24xlarge", "(not p4d.24xlarge)"),
    ],
)
def test_launch_template_outside_limits_is_reported(path, value, needle):
    found = resource_violations(cost_005.RULE, LAUNCH_TEMPLATE_T, mutate(LAUNCH_TEMPLATE, path, value), name="general-lt")
    assert_flags(found, "EC2 LaunchTemplate general-lt must", needle)


def test_node_group_unknown_sizes_and_types_pass():
    props = mutate(mutate(NODE_GROUP, "instanceTypes", UNKNOWN_ARRAY_VALUE), "scalingConfig.maxSize", UNKNOWN_NUMBER_VALUE)
    props = mutate(props, "diskSize", UNKNOWN_NUMBER_VALUE)
    assert resource_violations(cost_005.RULE, NODE_GROUP_T, props, name="general") == []


# --- PAVED-COST-006 eks-standard-support -----------------------------------------------------


def test_standard_support_passes():
    assert resource_violations(cost_006.RULE, EKS_T, EKS, name="paved-prod") == []


@pytest.mark.parametrize(
    ("value", "needle"),
    [("EXTENDED", "(it is EXTENDED;"), (None, "(it is unset, which AWS treats as EXTENDED;"),
     (UNKNOWN_STRING_VALUE, "(it is unknown at preview;")],
)
def test_other_support_types_are_reported(value, needle):
    found = resource_violations(cost_006.RULE, EKS_T, mutate(EKS, "upgradePolicy.supportType", value), name="paved-prod")
    assert_flags(found, "EKS Cluster paved-prod must set upgradePolicy.supportType to STANDARD", needle)


def test_unknown_upgrade_policy_object_is_reported():
    found = resource_violations(cost_006.RULE, EKS_T, mutate(EKS, "upgradePolicy", UNKNOWN_OBJECT_VALUE), name="paved-prod")
    assert_flags(found, "unknown at preview")


# --- PAVED-COST-007 msk-broker-sizing --------------------------------------------------------


def test_msk_within_limits_passes():
    assert resource_violations(cost_007.RULE, MSK_T, MSK, name="kafka") == []


@pytest.mark.parametrize(
    ("path", "value", "needle"),
    [
        ("brokerNodeGroupInfo.instanceType", "kafka.m5.4xlarge", "must use a broker type from kafka.m5.large (not kafka.m5.4xlarge)"),
        ("numberOfBrokerNodes", 9.0, "must run at most 6 brokers (numberOfBrokerNodes is 9)"),
        ("brokerNodeGroupInfo.storageInfo.ebsStorageInfo.volumeSize", 2000.0, "at most 1000 GiB of storage (volumeSize is 2000)"),
        ("brokerNodeGroupInfo.storageInfo.ebsStorageInfo.provisionedThroughput", {"enabled": True, "volumeThroughput": 250.0},
         "must not enable provisioned storage throughput"),
        ("brokerNodeGroupInfo.storageInfo.ebsStorageInfo.provisionedThroughput", {"enabled": UNKNOWN_BOOLEAN_VALUE},
         "(provisionedThroughput.enabled is unknown at preview)"),
    ],
)
def test_msk_outside_limits_is_reported(path, value, needle):
    found = resource_violations(cost_007.RULE, MSK_T, mutate(MSK, path, value), name="kafka")
    assert_flags(found, "MSK Cluster kafka must", needle)


def test_msk_unset_volume_counts_as_1000():
    props = mutate(MSK, "brokerNodeGroupInfo.storageInfo", None)
    found = resource_violations(cost_007.RULE, MSK_T, props, name="kafka", config={"maxBrokerStorageGiB": 100})
    assert_flags(found, "(volumeSize is unset, which means 1000)")


def test_msk_unknown_values_pass():
    props = mutate(MSK, "numberOfBrokerNodes", UNKNOWN_NUMBER_VALUE)
    props = mutate(props, "brokerNodeGroupInfo.instanceType", UNKNOWN_STRING_VALUE)
    props = mutate(props, "brokerNodeGroupInfo.storageInfo.ebsStorageInfo.volumeSize", UNKNOWN_NUMBER_VALUE)
    assert resource_violations(cost_007.RULE, MSK_T, props, name="kafka") == []


# --- PAVED-COST-008 nat-gateway-count --------------------------------------------------------


def test_nat_gateways_within_cap_pass():
    assert stack_violations(cost_008.RULE, [(NAT_T, "nat-0", NAT)], config={"maxNatGateways": 1}) == []


def test_nat_gateways_above_cap_are_reported():
    found = stack_violations(cost_008.RULE, [(NAT_T, f"nat-{i}", NAT) for i in range(3)], config={"maxNatGateways": 1})
    assert names(found) == {"nat-1", "nat-2"}
    assert_flags([m for m, _ in found], "NAT gateway nat-1 must go: the stack may run at most 1", "$32.85/month")


# --- PAVED-COST-009 secret-sprawl ------------------------------------------------------------


def sprawl(secrets: int) -> list:
    return [(DEPLOYMENT_T, "orders-deployment", deployment())] + [(SECRET_T, f"s{i}", SECRET) for i in range(secrets)]


def test_secrets_within_allowance_pass():
    assert stack_violations(cost_009.RULE, sprawl(3), config={"maxSecretsPerService": 2, "platformSecrets": 1}) == []


def test_secret_sprawl_is_reported():
    found = stack_violations(cost_009.RULE, sprawl(4), config={"maxSecretsPerService": 2, "platformSecrets": 1})
    assert_flags([m for m, _ in found], "Stack must keep Secrets Manager secrets at or below 3 (1 services x 2 + 1", "it has 4")


# --- PAVED-COST-010 / 011 monthly budget ------------------------------------------------------

# Prod-sized stack: EKS 730 x 0.10 = 73.00; nodes 3 x 730 x 0.096 = 210.24; disks 3 x 50 x 0.08
# = 12.00; MSK 3 x 730 x 0.21 = 459.90 + 3 x 250 x 0.10 = 75.00; NAT 730 x 0.045 = 32.85;
# secret 0.40; KMS 1.00; NAT data processing at the price file's assumed 100 GB x 0.045 = 4.50 (issue 17).
# Total 868.89.
BUDGET_STACK = [
    (EKS_T, "paved-prod", EKS), (NODE_GROUP_T, "general", NODE_GROUP), (MSK_T, "kafka", MSK),
    (NAT_T, "nat-0", NAT), (SECRET_T, "orders", SECRET), (KMS_T, "key", KMS),
]


def test_budget_not_exceeded_passes():
    assert stack_violations(cost_010.RULE, BUDGET_STACK, config={"monthlyBudgetUsd": 868.89}) == []
    assert stack_violations(cost_011.RULE, BUDGET_STACK, config={"monthlyBudgetUsd": 2000}) == []


def test_over_budget_is_reported_with_breakdown():
    found = stack_violations(cost_010.RULE, BUDGET_STACK, config={"monthlyBudgetUsd": 868})
    assert [u for _, u in found] == [None]
    assert_flags([m for m, _ in found], "Stack must stay within its monthly budget of $868.00: the estimate is $868.89",
                 "MSK brokers 3 x kafka.m5.large $459.90")


def test_budget_warning_above_threshold():
    found = stack_violations(cost_011.RULE, BUDGET_STACK, config={"monthlyBudgetUsd": 1000, "warnAtPercent": 80})
    assert_flags([m for m, _ in found], "Stack must stay below 80% of its monthly budget ($800.00 of $1,000.00)",
                 "the estimate is $868.89")
    # Over the budget itself is PAVED-COST-010's report, not a second warning.
    assert stack_violations(cost_011.RULE, BUDGET_STACK, config={"monthlyBudgetUsd": 800}) == []


def test_unpriced_instance_type_is_a_budget_violation():
    stack = [(NODE_GROUP_T, "general", mutate(NODE_GROUP, "instanceTypes", ["x9.huge"]))]
    found = stack_violations(cost_010.RULE, stack)
    assert_flags([m for m, _ in found], "Stack must use only resource types paved can price", "'x9.huge'",
                 "paved/data/prices.json")


def test_unknown_sizes_are_left_out_and_noted():
    stack = [*BUDGET_STACK[:1], (NODE_GROUP_T, "general", mutate(NODE_GROUP, "scalingConfig.desiredSize", UNKNOWN_NUMBER_VALUE))]
    assert stack_violations(cost_010.RULE, stack, config={"monthlyBudgetUsd": 73}) == []
    found = stack_violations(cost_011.RULE, stack, config={"monthlyBudgetUsd": 1000})
    assert_flags([m for m, _ in found], "Stack must let paved price every resource", "node group general")


def test_quota_with_unknown_namespace_passes():
    quota = mutate(sample("prod", QUOTA_T, name="checkout-quota"), "metadata.namespace", UNKNOWN_STRING_VALUE)
    assert stack_violations(cost_004.RULE, quota_stack(quota)) == []
