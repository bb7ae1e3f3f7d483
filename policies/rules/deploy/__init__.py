"""The deploy-readiness rules (PAVED-DEP-*): what a real cluster and `pulumi up` would reject or
stall on, listed explicitly."""

from __future__ import annotations

from policies.framework import Rule
from policies.rules.deploy import (
    dep_001_pod_admission,
    dep_002_webhook_ordering,
    dep_003_controller_prerequisites,
    dep_004_identity_before_pods,
    dep_005_secrets_before_pods,
    dep_006_secret_initial_value,
    dep_007_node_capacity,
    dep_008_quota_covers_rollout,
    dep_009_iam_policy_lint,
    dep_010_kafka_idempotent_producer,
    dep_011_replaceable_names,
    dep_012_environment_in_names,
    dep_013_cluster_reachability,
    dep_014_volume_binding_order,
)

RULES: tuple[Rule, ...] = (
    dep_001_pod_admission.RULE,
    dep_002_webhook_ordering.RULE,
    dep_003_controller_prerequisites.RULE,
    dep_004_identity_before_pods.RULE,
    dep_005_secrets_before_pods.RULE,
    dep_006_secret_initial_value.RULE,
    dep_007_node_capacity.RULE,
    dep_008_quota_covers_rollout.RULE,
    dep_009_iam_policy_lint.RULE,
    dep_010_kafka_idempotent_producer.RULE,
    dep_011_replaceable_names.RULE,
    dep_012_environment_in_names.RULE,
    dep_013_cluster_reachability.RULE,
    dep_014_volume_binding_order.RULE,
)
