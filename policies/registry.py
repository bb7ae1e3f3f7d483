"""The one explicit list of paved's rules. No import-time globbing: a rule is in the pack
because it is named here (through its category's index)."""

from __future__ import annotations

from policies.framework import Rule
from policies.rules import deploy, index_cost, index_reliability, index_security_aws, index_security_kubernetes

CATEGORIES: tuple[tuple[Rule, ...], ...] = (
    index_security_kubernetes.RULES,
    index_security_aws.RULES,
    index_cost.RULES,
    index_reliability.RULES,
    deploy.RULES,
)


def validate_registry(rules: tuple[Rule, ...]) -> tuple[Rule, ...]:
    """``rules`` unchanged, or ValueError naming every duplicate id or name."""
    seen_ids: dict[str, Rule] = {}
    seen_names: dict[str, Rule] = {}
    problems = []
    for rule in rules:
        if rule.id in seen_ids:
            problems.append(f"duplicate id {rule.id} ({seen_ids[rule.id].name} and {rule.name})")
        if rule.name in seen_names:
            problems.append(f"duplicate name {rule.name} ({seen_names[rule.name].id} and {rule.id})")
        seen_ids.setdefault(rule.id, rule)
        seen_names.setdefault(rule.name, rule)
    if problems:
        raise ValueError("policy registry: " + "; ".join(problems))
    return rules


RULES: tuple[Rule, ...] = validate_registry(tuple(rule for category in CATEGORIES for rule in category))


def by_policy_name() -> dict[str, Rule]:
    """Rules keyed by the name Pulumi and the config files use."""
    return {rule.policy_name: rule for rule in RULES}
