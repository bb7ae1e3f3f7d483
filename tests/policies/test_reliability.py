"""Tests for the reliability rules (PAVED-REL-001 .. 010).

Kubernetes fixtures come from the repo's own prod plan (``sample``); AWS and Helm fixtures are
built by hand in the engine's camelCase input names (checked against the SDKs by
``test_hand_built_fixtures_are_valid_sdk_inputs``; numbers are floats, as the engine sends
them). Each test starts from a passing fixture and mutates one field per failing case, then
asserts the set of violating resource names (or the message) and a message substring.
"""

from __future__ import annotations

import copy
import json
from pathlib import Path

import pulumi_aws as aws
import pulumi_kubernetes as k8s
import pytest
from policy_harness import assert_flags, category_config, mutate, names, options, resource_violations, sample, stack_violations, urn
from pulumi_policy import PolicyResource, StackValidationArgs
from pulumi_policy.proxy import (
    UNKNOWN_ARRAY_VALUE,
    UNKNOWN_BOOLEAN_VALUE,
    UNKNOWN_NUMBER_VALUE,
    UNKNOWN_OBJECT_VALUE,
    UNKNOWN_STRING_VALUE,
    unknown_checking_proxy,
)

from paved import check
from paved.sdk_inputs import check_inputs
from policies.config import settings_for
from policies.rules import reliability as reliability_rules
from policies.rules.reliability import rel_001_stateful_resources_protected as rel_001
from policies.rules.reliability import rel_002_minimum_replicas as rel_002
from policies.rules.reliability import rel_003_pod_disruption_budget as rel_003
from policies.rules.reliability import rel_004_rolling_update_strategy as rel_004
from policies.rules.reliability import rel_005_zone_topology_spread as rel_005
from policies.rules.reliability import rel_006_no_replicas_with_autoscaler as rel_006
from policies.rules.reliability import rel_007_no_skip_await as rel_007
from policies.rules.reliability import rel_008_msk_brokers_per_zone as rel_008
from policies.rules.reliability import rel_009_kms_deletion_window as rel_009
from policies.rules.reliability import rel_010_secret_recovery_window as rel_010

ROOT = Path(__file__).resolve().parents[2]


def _category_config(env: str) -> dict:
    from policies.rules import reliability as _index

    return category_config(_index.RULES, env)

DEPLOYMENT_T = "kubernetes:apps/v1:Deployment"
STATEFULSET_T = "kubernetes:apps/v1:StatefulSet"
HPA_T = "kubernetes:autoscaling/v2:HorizontalPodAutoscaler"
PDB_T = "kubernetes:policy/v1:PodDisruptionBudget"
NAMESPACE_T = "kubernetes:core/v1:Namespace"
SERVICE_T = "kubernetes:core/v1:Service"
RELEASE_T = "kubernetes:helm.sh/v3:Release"
MSK_T = "aws:msk/cluster:Cluster"
KMS_T = "aws:kms/key:Key"
SECRET_T = "aws:secretsmanager/secret:Secret"
EKS_T = "aws:eks/cluster:Cluster"

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
KMS = {"description": "paved prod", "deletionWindowInDays": 30.0, "enableKeyRotation": True}
SECRET = {"name": "prod/orders", "kmsKeyId": UNKNOWN_STRING_VALUE, "recoveryWindowInDays": 30.0}
RELEASE = {
    "chart": "kube-prometheus-stack",
    "version": "65.1.0",
    "namespace": "monitoring",
    "repositoryOpts": {"repo": "https://prometheus-community.github.io/helm-charts"},
    "atomic": True,
    "timeout": 600.0,
}


def test_hand_built_fixtures_are_valid_sdk_inputs():
    for cls, props in ((aws.msk.Cluster, MSK), (aws.kms.Key, KMS), (aws.secretsmanager.Secret, SECRET),
                       (k8s.helm.v3.Release, RELEASE)):
        assert check_inputs(cls, props) == [], cls.__name__


def deployment(service: str = "orders") -> dict:
    return sample("prod", DEPLOYMENT_T, service)


def hpa(service: str = "orders") -> dict:
    return sample("prod", HPA_T, service)


def pdb(service: str = "orders") -> dict:
    return sample("prod", PDB_T, service)


def workload_stack(dep=None, autoscaler=None, budget=None) -> list:
    """orders in prod: Deployment, its HPA (min 3, max 12) and its PDB (maxUnavailable 1)."""
    out = [(DEPLOYMENT_T, "orders-deployment", dep or deployment())]
    if autoscaler is not False:
        out.append((HPA_T, "orders-hpa", autoscaler or hpa()))
    if budget is not False:
        out.append((PDB_T, "orders-pdb", budget or pdb()))
    return out


# --- registry and config fragments -----------------------------------------------------------


def test_index_lists_every_reliability_rule_in_id_order():
    ids = [r.id for r in reliability_rules.RULES]
    assert ids == [f"PAVED-REL-{n:03d}" for n in range(1, 15)]


@pytest.mark.parametrize("env", ["dev", "staging", "prod"])
def test_config_fragments_name_real_rules_and_settings(env):
    fragment = _category_config(f"{env}.json".removesuffix(".json"))
    known = {r.policy_name: r for r in reliability_rules.RULES}
    for key, entry in fragment.items():
        assert key in known, key
        for prop in entry:
            assert prop == "enforcementLevel" or prop in known[key].config, (key, prop)


@pytest.mark.parametrize("env", ["dev", "staging", "prod"])
def test_sample_catalog_passes_every_mandatory_reliability_rule(env):
    from conftest import planned

    fragment = _category_config(f"{env}.json".removesuffix(".json"))
    found = check.run(planned(env)[0], fragment, reliability_rules.RULES)
    assert [v for v in found if v.enforcement == "mandatory"] == []


def test_prod_enforces_protection_and_zone_spread():
    fragment = _category_config("prod.json".removesuffix(".json"))
    levels = {r.id: settings_for(r, fragment)[0] for r in reliability_rules.RULES}
    assert levels["PAVED-REL-001"] == levels["PAVED-REL-005"] == "mandatory"


# --- PAVED-REL-001 stateful-resources-protected ----------------------------------------------


@pytest.mark.parametrize(("resource_type", "props"), [(MSK_T, MSK), (KMS_T, KMS), (SECRET_T, SECRET)])
def test_protected_stateful_resources_pass(resource_type, props):
    assert resource_violations(rel_001.RULE, resource_type, props, name="r", opts=options(protect=True)) == []


@pytest.mark.parametrize(
    ("resource_type", "props", "needle"),
    [
        (MSK_T, MSK, "MSK Cluster r must be protected"),
        (KMS_T, KMS, "KMS Key r must be protected"),
        (SECRET_T, SECRET, "Secrets Manager Secret r must be protected"),
        (EKS_T, {"name": "paved-prod"}, "EKS Cluster r must be protected"),
        (NAMESPACE_T, {"metadata": {"name": "checkout"}}, "Namespace checkout must be protected"),
    ],
)
def test_unprotected_stateful_resources_are_reported(resource_type, props, needle):
    assert_flags(resource_violations(rel_001.RULE, resource_type, props, name="r"), needle, "protect=True")


def test_types_left_out_of_config_are_not_checked():
    config = {"statefulTypes": [MSK_T]}
    assert resource_violations(rel_001.RULE, NAMESPACE_T, {"metadata": {"name": "checkout"}}, config=config) == []
    assert resource_violations(rel_001.RULE, SERVICE_T, {"metadata": {"name": "orders"}}) == []


# --- PAVED-REL-002 minimum-replicas ----------------------------------------------------------


def test_enough_replicas_pass():
    assert stack_violations(rel_002.RULE, workload_stack()) == []


@pytest.mark.parametrize(
    ("stack", "needle"),
    [
        (workload_stack(autoscaler=mutate(hpa(), "spec.minReplicas", 1.0)), "(HorizontalPodAutoscaler orders has minReplicas 1)"),
        (workload_stack(autoscaler=mutate(hpa(), "spec.minReplicas", None)), "(HorizontalPodAutoscaler orders has minReplicas 1)"),
        (workload_stack(dep=mutate(deployment(), "spec.replicas", 1.0), autoscaler=False), "(spec.replicas is 1)"),
        (workload_stack(autoscaler=False), "(spec.replicas is unset, which means 1)"),
    ],
)
def test_too_few_replicas_are_reported(stack, needle):
    found = stack_violations(rel_002.RULE, stack)
    assert names(found) == {"orders-deployment"}
    assert_flags([m for m, _ in found], "Deployment orders must run at least 2 replicas", needle)


def test_recorded_singletons_may_run_one_replica():
    one = mutate(mutate(deployment(), "spec.replicas", 1.0), "metadata.namespace", "monitoring")
    one = mutate(one, "metadata.name", "jaeger")
    assert stack_violations(rel_002.RULE, [(DEPLOYMENT_T, "jaeger", one)]) == []
    # Only one replica, only the listed namespace/name, and only while the list holds it.
    assert names(stack_violations(rel_002.RULE, [(DEPLOYMENT_T, "jaeger", mutate(one, "metadata.namespace", "checkout"))])) == {"jaeger"}
    assert names(stack_violations(rel_002.RULE, [(DEPLOYMENT_T, "jaeger", one)], config={"singletons": []})) == {"jaeger"}


def test_statefulset_is_checked_too():
    found = stack_violations(rel_002.RULE, [(STATEFULSET_T, "db", mutate(deployment(), "spec.replicas", 1.0))])
    assert names(found) == {"db"}
    assert_flags([m for m, _ in found], "StatefulSet orders must run at least 2 replicas")


def test_hpa_of_another_namespace_does_not_count():
    other = mutate(hpa(), "metadata.namespace", "elsewhere")
    assert names(stack_violations(rel_002.RULE, workload_stack(autoscaler=other))) == {"orders-deployment"}


def test_unknown_min_replicas_pass():
    stack = workload_stack(autoscaler=mutate(hpa(), "spec.minReplicas", UNKNOWN_NUMBER_VALUE))
    assert stack_violations(rel_002.RULE, stack) == []


# --- PAVED-REL-003 pod-disruption-budget -----------------------------------------------------


def test_matching_pdb_passes():
    assert stack_violations(rel_003.RULE, workload_stack()) == []


@pytest.mark.parametrize(
    "budget",
    [
        False,
        mutate(pdb(), "metadata.namespace", "elsewhere"),
        mutate(pdb(), "spec.selector", {"matchLabels": {"app.kubernetes.io/name": "payments"}}),
        mutate(pdb(), "spec.selector", {"matchExpressions": [
            {"key": "app.kubernetes.io/name", "operator": "NotIn", "values": ["orders"]}]}),
        mutate(pdb(), "spec.selector", {"matchExpressions": [{"key": "tier", "operator": "Exists"}]}),
        mutate(pdb(), "spec.selector", None),
    ],
)
def test_workload_without_matching_pdb_is_reported(budget):
    found = stack_violations(rel_003.RULE, workload_stack(budget=budget))
    assert "orders-deployment" in names(found)
    assert_flags([m for m, _ in found], "Deployment orders must have a PodDisruptionBudget in namespace checkout",
                 "(it runs at least 3 replicas)")


@pytest.mark.parametrize(
    "selector",
    [
        {},
        {"matchExpressions": [{"key": "app.kubernetes.io/name", "operator": "In", "values": ["orders", "x"]}]},
        {"matchExpressions": [{"key": "tier", "operator": "DoesNotExist"}]},
        UNKNOWN_OBJECT_VALUE,
        {"matchLabels": {"app.kubernetes.io/name": UNKNOWN_STRING_VALUE}},
    ],
)
def test_other_matching_selectors_pass(selector):
    assert stack_violations(rel_003.RULE, workload_stack(budget=mutate(pdb(), "spec.selector", selector))) == []


def test_single_replica_workload_needs_no_pdb():
    stack = workload_stack(autoscaler=mutate(hpa(), "spec.minReplicas", 1.0), budget=False)
    assert stack_violations(rel_003.RULE, stack) == []


@pytest.mark.parametrize(
    ("spec", "needle"),
    [
        ({"maxUnavailable": 0.0}, "(maxUnavailable is 0)"),
        ({"maxUnavailable": "0%"}, "(maxUnavailable is 0%)"),
        ({"minAvailable": "100%"}, "(minAvailable is 100%)"),
        ({"minAvailable": 3.0}, "(minAvailable 3 is not below the 3 replica(s) it covers)"),
    ],
)
def test_pdb_allowing_no_disruption_is_reported(spec, needle):
    budget = mutate(pdb(), "spec.maxUnavailable", None)
    budget["spec"].update(spec)
    found = stack_violations(rel_003.RULE, workload_stack(budget=budget))
    assert names(found) == {"orders-pdb"}
    assert_flags([m for m, _ in found], "PodDisruptionBudget orders must allow at least one voluntary disruption", needle)


def test_pdb_min_available_below_replicas_passes():
    budget = mutate(mutate(pdb(), "spec.maxUnavailable", None), "spec.minAvailable", 2.0)
    assert stack_violations(rel_003.RULE, workload_stack(budget=budget)) == []


def test_pdb_unknown_budget_passes():
    budget = mutate(pdb(), "spec.maxUnavailable", UNKNOWN_NUMBER_VALUE)
    assert stack_violations(rel_003.RULE, workload_stack(budget=budget)) == []


# --- PAVED-REL-004 rolling-update-strategy ---------------------------------------------------


def test_safe_rolling_update_passes():
    assert resource_violations(rel_004.RULE, DEPLOYMENT_T, deployment()) == []
    assert resource_violations(rel_004.RULE, DEPLOYMENT_T, mutate(deployment(), "spec.strategy", None)) == []
    props = mutate(deployment(), "spec.strategy.rollingUpdate.maxUnavailable", "25%")
    assert resource_violations(rel_004.RULE, DEPLOYMENT_T, props) == []


@pytest.mark.parametrize(
    ("path", "value", "needle"),
    [
        ("spec.strategy", {"type": "Recreate"}, "must use strategy RollingUpdate (strategy Recreate"),
        ("spec.strategy.rollingUpdate.maxUnavailable", 1.0, "maxUnavailable at 0 or at most 25% (it is 1)"),
        ("spec.strategy.rollingUpdate.maxUnavailable", "50%", "maxUnavailable at 0 or at most 25% (it is 50%)"),
        ("spec.strategy.rollingUpdate.maxSurge", 0.0, "maxSurge to at least 1 (it is 0)"),
        ("spec.strategy.rollingUpdate.maxSurge", "0%", "maxSurge to at least 1 (it is 0%)"),
    ],
)
def test_unsafe_rollouts_are_reported(path, value, needle):
    assert_flags(resource_violations(rel_004.RULE, DEPLOYMENT_T, mutate(deployment(), path, value)),
                 "Deployment orders must", needle)


def test_recreate_is_accepted_for_a_pod_on_a_claimed_volume():
    # A ReadWriteOnce volume attaches to one node: a surge pod on another node never starts.
    props = mutate(deployment(), "spec.strategy", {"type": "Recreate"})
    with_claim = mutate(props, "spec.template.spec.volumes", [{"name": "data", "persistentVolumeClaim": {"claimName": "d"}}])
    assert resource_violations(rel_004.RULE, DEPLOYMENT_T, with_claim) == []
    with_empty_dir = mutate(props, "spec.template.spec.volumes", [{"name": "data", "emptyDir": {}}])
    assert_flags(resource_violations(rel_004.RULE, DEPLOYMENT_T, with_empty_dir), "strategy Recreate")


def test_unknown_rollout_values_pass():
    props = mutate(deployment(), "spec.strategy.rollingUpdate.maxUnavailable", UNKNOWN_STRING_VALUE)
    props = mutate(props, "spec.strategy.type", UNKNOWN_STRING_VALUE)
    assert resource_violations(rel_004.RULE, DEPLOYMENT_T, props) == []


# --- PAVED-REL-005 zone-topology-spread ------------------------------------------------------

POD = "spec.template.spec"


def test_zone_spread_passes():
    assert resource_violations(rel_005.RULE, DEPLOYMENT_T, deployment()) == []


def test_pod_anti_affinity_passes():
    props = mutate(deployment(), f"{POD}.topologySpreadConstraints", None)
    props = mutate(props, f"{POD}.affinity", {"podAntiAffinity": {"preferredDuringSchedulingIgnoredDuringExecution": [
        {"weight": 100.0, "podAffinityTerm": {"topologyKey": "kubernetes.io/hostname",
                                              "labelSelector": {"matchLabels": {"app.kubernetes.io/name": "orders"}}}}]}})
    assert resource_violations(rel_005.RULE, DEPLOYMENT_T, props) == []


@pytest.mark.parametrize(
    ("path", "value"),
    [
        (f"{POD}.topologySpreadConstraints", None),
        (f"{POD}.topologySpreadConstraints.0.topologyKey", "kubernetes.io/hostname"),
    ],
)
def test_missing_zone_spread_is_reported(path, value):
    found = resource_violations(rel_005.RULE, DEPLOYMENT_T, mutate(deployment(), path, value))
    assert_flags(found, "Deployment orders must spread its pods across zones")


@pytest.mark.parametrize("selector", [None, {"matchLabels": {"app.kubernetes.io/name": "payments"}}, {}])
def test_spread_that_selects_none_of_its_own_pods_is_reported(selector):
    found = resource_violations(rel_005.RULE, DEPLOYMENT_T,
                                mutate(deployment(), f"{POD}.topologySpreadConstraints.0.labelSelector", selector))
    assert_flags(found, "Deployment orders must give its topologySpreadConstraint", "labelSelector matching its own pod labels")


def test_single_replica_has_nothing_to_spread():
    props = mutate(mutate(deployment(), f"{POD}.topologySpreadConstraints", None), "spec.replicas", 1.0)
    assert resource_violations(rel_005.RULE, DEPLOYMENT_T, props) == []
    assert resource_violations(rel_005.RULE, DEPLOYMENT_T, mutate(props, "spec.replicas", 2.0))


def test_unknown_spread_passes():
    props = mutate(deployment(), f"{POD}.topologySpreadConstraints", UNKNOWN_ARRAY_VALUE)
    assert resource_violations(rel_005.RULE, DEPLOYMENT_T, props) == []


# --- PAVED-REL-006 no-replicas-with-autoscaler -----------------------------------------------


def run_with_ignore(stack: list, ignore: list[str]) -> list[tuple[str, str | None]]:
    """stack_violations, with ``ignore_changes`` on every resource."""
    res = [PolicyResource(t, unknown_checking_proxy(copy.deepcopy(p)), urn(t, n), n, options(ignore_changes=ignore),
                          None, None, [], {}) for t, n, p in stack]
    found: list = []
    rel_006.RULE.run_stack(StackValidationArgs(res, config={}), lambda m, u=None: found.append((m, u)))
    return found


def test_autoscaled_deployment_without_replicas_passes():
    assert stack_violations(rel_006.RULE, workload_stack()) == []


@pytest.mark.parametrize(("value", "shown"), [(3.0, "(it is 3)"), (UNKNOWN_NUMBER_VALUE, "(it is unknown at preview)")])
def test_replicas_under_autoscaler_are_reported(value, shown):
    found = stack_violations(rel_006.RULE, workload_stack(dep=mutate(deployment(), "spec.replicas", value)))
    assert names(found) == {"orders-deployment"}
    assert_flags([m for m, _ in found], "Deployment orders must not set spec.replicas", shown,
                 "while HorizontalPodAutoscaler orders owns its scale")


def test_ignored_replicas_pass():
    stack = workload_stack(dep=mutate(deployment(), "spec.replicas", 3.0))
    assert run_with_ignore(stack, ["spec.replicas"]) == []
    assert names(run_with_ignore(stack, ["metadata"])) == {"orders-deployment"}


def test_replicas_without_autoscaler_pass():
    stack = workload_stack(dep=mutate(deployment(), "spec.replicas", 3.0), autoscaler=mutate(hpa(), "spec.scaleTargetRef.name", "other"))
    assert stack_violations(rel_006.RULE, stack) == []


# --- PAVED-REL-007 no-skip-await -------------------------------------------------------------

def annotated(value) -> dict:
    props = deployment()
    props["metadata"].setdefault("annotations", {})["pulumi.com/skipAwait"] = value
    return props


def test_awaited_resources_pass():
    assert resource_violations(rel_007.RULE, DEPLOYMENT_T, deployment()) == []
    assert resource_violations(rel_007.RULE, DEPLOYMENT_T, annotated("false")) == []
    assert resource_violations(rel_007.RULE, RELEASE_T, RELEASE, name="monitoring") == []
    assert resource_violations(rel_007.RULE, KMS_T, KMS) == []


@pytest.mark.parametrize(("value", "shown"), [("true", '(it is "true")'), (UNKNOWN_STRING_VALUE, "(it is unknown at preview)")])
def test_skip_await_annotation_is_reported(value, shown):
    assert_flags(resource_violations(rel_007.RULE, DEPLOYMENT_T, annotated(value)),
                 'Deployment orders must not set the pulumi.com/skipAwait annotation to "true"', shown)


@pytest.mark.parametrize(("value", "shown"), [(True, "(it is true)"), (UNKNOWN_BOOLEAN_VALUE, "(it is unknown at preview)")])
def test_release_skip_await_is_reported(value, shown):
    found = resource_violations(rel_007.RULE, RELEASE_T, mutate(RELEASE, "skipAwait", value), name="monitoring")
    assert_flags(found, "Release monitoring must not set skipAwait", shown)


# --- PAVED-REL-008 msk-brokers-per-zone ------------------------------------------------------


def test_brokers_per_zone_pass():
    assert resource_violations(rel_008.RULE, MSK_T, MSK, name="kafka") == []


@pytest.mark.parametrize(
    ("path", "value", "config", "needle"),
    [
        ("numberOfBrokerNodes", 4.0, None, "multiple of its 3 client subnets, one per zone (numberOfBrokerNodes is 4)"),
        ("brokerNodeGroupInfo.clientSubnets", ["subnet-a", "subnet-b"], {"minBrokers": 2}, "multiple of its 2 client subnets"),
        ("numberOfBrokerNodes", 2.0, None, "must run at least 3 brokers (numberOfBrokerNodes is 2)"),
    ],
)
def test_uneven_or_too_few_brokers_are_reported(path, value, config, needle):
    found = resource_violations(rel_008.RULE, MSK_T, mutate(MSK, path, value), name="kafka", config=config)
    assert_flags(found, "MSK Cluster kafka must", needle)


def test_unknown_brokers_or_subnets_pass():
    assert resource_violations(rel_008.RULE, MSK_T, mutate(MSK, "numberOfBrokerNodes", UNKNOWN_NUMBER_VALUE)) == []
    props = mutate(mutate(MSK, "numberOfBrokerNodes", 6.0), "brokerNodeGroupInfo.clientSubnets", UNKNOWN_ARRAY_VALUE)
    assert resource_violations(rel_008.RULE, MSK_T, props) == []
    # Subnet ids computed in the same run: the count is still known.
    props = mutate(mutate(MSK, "numberOfBrokerNodes", 4.0), "brokerNodeGroupInfo.clientSubnets",
                   [UNKNOWN_STRING_VALUE] * 3)
    assert_flags(resource_violations(rel_008.RULE, MSK_T, props), "multiple of its 3 client subnets")


# --- PAVED-REL-009 kms-deletion-window -------------------------------------------------------


def test_long_deletion_window_passes():
    assert resource_violations(rel_009.RULE, KMS_T, KMS, name="key") == []
    assert resource_violations(rel_009.RULE, KMS_T, mutate(KMS, "deletionWindowInDays", None), name="key") == []
    props = mutate(KMS, "deletionWindowInDays", 7.0)
    assert resource_violations(rel_009.RULE, KMS_T, props, name="key", config={"minDeletionWindowDays": 7}) == []


def test_short_deletion_window_is_reported():
    found = resource_violations(rel_009.RULE, KMS_T, mutate(KMS, "deletionWindowInDays", 7.0), name="key")
    assert_flags(found, "KMS Key key must keep a deletion window of at least 30 days (deletionWindowInDays is 7)")


def test_unknown_deletion_window_passes():
    assert resource_violations(rel_009.RULE, KMS_T, mutate(KMS, "deletionWindowInDays", UNKNOWN_NUMBER_VALUE)) == []


# --- PAVED-REL-010 secret-recovery-window ----------------------------------------------------


def test_long_recovery_window_passes():
    assert resource_violations(rel_010.RULE, SECRET_T, SECRET, name="orders") == []
    assert resource_violations(rel_010.RULE, SECRET_T, mutate(SECRET, "recoveryWindowInDays", None), name="orders") == []
    props = mutate(SECRET, "recoveryWindowInDays", 0.0)
    assert resource_violations(rel_010.RULE, SECRET_T, props, config={"allowForceDelete": True}) == []


@pytest.mark.parametrize(
    ("days", "config", "needle"),
    [
        (7.0, None, "must keep a recovery window of at least 30 days (recoveryWindowInDays is 7)"),
        (0.0, None, "must not be force-deleted (recoveryWindowInDays is 0)"),
        (0.0, {"minRecoveryWindowDays": 7}, "must not be force-deleted"),
    ],
)
def test_short_recovery_window_is_reported(days, config, needle):
    found = resource_violations(rel_010.RULE, SECRET_T, mutate(SECRET, "recoveryWindowInDays", days), name="orders",
                                config=config)
    assert_flags(found, "Secrets Manager Secret orders", needle)


def test_unknown_recovery_window_passes():
    assert resource_violations(rel_010.RULE, SECRET_T, mutate(SECRET, "recoveryWindowInDays", UNKNOWN_NUMBER_VALUE)) == []


def test_autoscaler_with_unknown_target_may_own_the_workload():
    """An HPA's target computed from another output (deployment.metadata.name) is unknown at preview."""
    stack = workload_stack(autoscaler=mutate(hpa(), "spec.scaleTargetRef.name", UNKNOWN_STRING_VALUE), budget=False)
    assert stack_violations(rel_002.RULE, stack) == []
    assert stack_violations(rel_003.RULE, stack) == []
    unnamed = workload_stack(dep=mutate(deployment(), "metadata.name", UNKNOWN_STRING_VALUE),
                             autoscaler=mutate(hpa(), "spec.minReplicas", 1.0), budget=False)
    assert stack_violations(rel_002.RULE, unnamed) == []


def test_pdb_with_unknown_namespace_counts_as_matching():
    budget = mutate(pdb(), "metadata.namespace", UNKNOWN_STRING_VALUE)
    assert stack_violations(rel_003.RULE, workload_stack(budget=budget)) == []
