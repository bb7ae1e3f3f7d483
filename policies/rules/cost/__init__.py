"""The cost rules (PAVED-COST-*), listed explicitly: this is the category's index."""

from __future__ import annotations

from policies.framework import Rule
from policies.rules.cost import (
    cost_001_hpa_max_replicas,
    cost_002_container_request_caps,
    cost_003_limit_request_ratio,
    cost_004_namespace_quota_covers_workloads,
    cost_005_node_group_sizing,
    cost_006_eks_standard_support,
    cost_007_msk_broker_sizing,
    cost_008_nat_gateway_count,
    cost_009_secret_sprawl,
    cost_010_monthly_budget,
    cost_011_monthly_budget_warning,
    cost_012_rds_instance_class,
    cost_013_dynamodb_capacity_cap,
    cost_014_cache_node_cap,
)

RULES: tuple[Rule, ...] = (
    cost_001_hpa_max_replicas.RULE,
    cost_002_container_request_caps.RULE,
    cost_003_limit_request_ratio.RULE,
    cost_004_namespace_quota_covers_workloads.RULE,
    cost_005_node_group_sizing.RULE,
    cost_006_eks_standard_support.RULE,
    cost_007_msk_broker_sizing.RULE,
    cost_008_nat_gateway_count.RULE,
    cost_009_secret_sprawl.RULE,
    cost_010_monthly_budget.RULE,
    cost_011_monthly_budget_warning.RULE,
    cost_012_rds_instance_class.RULE,
    cost_013_dynamodb_capacity_cap.RULE,
    cost_014_cache_node_cap.RULE,
)
