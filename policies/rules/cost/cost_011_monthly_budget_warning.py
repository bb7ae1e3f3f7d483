"""PAVED-COST-011: an early warning before the stack reaches its monthly budget."""

from __future__ import annotations

from decimal import Decimal

from paved.cost.estimate import estimate
from paved.cost.output import money
from paved.cost.prices import CostError
from policies.framework import Rule
from policies.rules.cost.budget import BUDGET, breakdown, monthly_budget


def validate_stack(args, report) -> None:
    config = args.get_config()
    budget = monthly_budget(config)
    percent = Decimal(str(config["warnAtPercent"]))
    try:
        est = estimate(args.resources)
    except CostError:
        return  # PAVED-COST-010 reports it
    threshold = budget * percent / 100
    if threshold < est.total <= budget:
        report(f"Stack must stay below {percent:f}% of its monthly budget ({money(threshold)} of {money(budget)}): "
               f"the estimate is {money(est.total)} ({breakdown(est)}).")
    if est.unpriced:
        report("Stack must let paved price every resource; not priced: " + "; ".join(est.unpriced) + ".")


RULE = Rule(
    id="PAVED-COST-011",
    name="monthly-budget-warning",
    description=(
        "Checks whether the infrastructure total of the stack's cost estimate stays at or below warnAtPercent of "
        "monthlyBudgetUsd (going over the budget itself is PAVED-COST-010), and whether every resource could be "
        "priced (values unknown at preview leave lines out)."
    ),
    severity="low",
    remediation=(
        "Run `paved cost --stack <env>` and plan the next change against the remaining budget; keep "
        "monthlyBudgetUsd the same here and in PAVED-COST-010 in policies/config/<env>.json."
    ),
    anchors=("COST-STACK-001", "Infracost cost estimate", "OpenCost allocation"),
    validate_stack=validate_stack,
    config={
        "monthlyBudgetUsd": BUDGET,
        "warnAtPercent": {"type": "number", "minimum": 0, "maximum": 100, "default": 80,
                          "description": "Share of the budget, in percent, above which the estimate is reported."},
    },
    enforcement="advisory",
)
