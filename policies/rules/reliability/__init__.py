"""The reliability rules (PAVED-REL-*), listed explicitly: this is the category's index."""

from __future__ import annotations

from policies.framework import Rule
from policies.rules.reliability import (
    rel_001_stateful_resources_protected,
    rel_002_minimum_replicas,
    rel_003_pod_disruption_budget,
    rel_004_rolling_update_strategy,
    rel_005_zone_topology_spread,
    rel_006_no_replicas_with_autoscaler,
    rel_007_no_skip_await,
    rel_008_msk_brokers_per_zone,
    rel_009_kms_deletion_window,
    rel_010_secret_recovery_window,
    rel_011_container_probes,
    rel_012_rds_backup_retention,
    rel_013_rds_deletion_protection,
    rel_014_rds_multi_az,
)

RULES: tuple[Rule, ...] = (
    rel_001_stateful_resources_protected.RULE,
    rel_002_minimum_replicas.RULE,
    rel_003_pod_disruption_budget.RULE,
    rel_004_rolling_update_strategy.RULE,
    rel_005_zone_topology_spread.RULE,
    rel_006_no_replicas_with_autoscaler.RULE,
    rel_007_no_skip_await.RULE,
    rel_008_msk_brokers_per_zone.RULE,
    rel_009_kms_deletion_window.RULE,
    rel_010_secret_recovery_window.RULE,
    rel_011_container_probes.RULE,
    rel_012_rds_backup_retention.RULE,
    rel_013_rds_deletion_protection.RULE,
    rel_014_rds_multi_az.RULE,
)
