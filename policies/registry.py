"""The one explicit list of paved's rules. No import-time globbing: a rule is in the pack
because its category package lists it and the category is named here."""

from __future__ import annotations

from types import ModuleType

from policies.framework import Rule
from policies.rules import aws, cost, deploy, kubernetes, reliability

# The rule categories in pack order; each is a package under policies/rules/ whose
# __init__ lists its rules in RULES. A new category is its package plus its name here.
CATEGORIES: tuple[ModuleType, ...] = (kubernetes, aws, cost, reliability, deploy)


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


RULES: tuple[Rule, ...] = validate_registry(tuple(rule for category in CATEGORIES for rule in category.RULES))

