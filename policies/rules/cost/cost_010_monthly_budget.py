"""PAVED-COST-010: the stack's estimated monthly cost stays within the environment's budget."""

from __future__ import annotations

from paved.cost.estimate import estimate
from paved.cost.output import money
from paved.cost.prices import CostError
from policies.framework import Rule
from policies.rules.cost.budget import BUDGET, breakdown, monthly_budget


def validate_stack(args, report) -> None:
    budget = monthly_budget(args.get_config())
    try:
        est = estimate(args.resources)
    except CostError as exc:
        report(f"Stack must use only resource types paved can price: {exc}")
        return
    if est.total > budget:
        report(f"Stack must stay within its monthly budget of {money(budget)}: the estimate is "
               f"{money(est.total)} ({breakdown(est)}). Run `paved cost` for every line.")


RULE = Rule(
    id="PAVED-COST-010",
    name="monthly-budget",
    description=(
        "Checks whether the infrastructure total of paved.cost.estimate over the stack's resources (EKS control "
        "plane, node groups and disks, NAT gateways, MSK brokers and storage, secrets, KMS keys at the list prices "
        "in paved/data/prices.json) is at most monthlyBudgetUsd. An instance or broker type without a price is "
        "reported too."
    ),
    severity="high",
    remediation=(
        "Run `paved cost --stack <env>` to see every line; shrink the largest (node group size or type, MSK "
        "brokers, NAT gateways per zone), or raise monthlyBudgetUsd in policies/config/<env>.json with the "
        "budget owner's approval."
    ),
    anchors=("COST-STACK-001", "Infracost cost estimate", "OpenCost allocation"),
    validate_stack=validate_stack,
    config={"monthlyBudgetUsd": BUDGET},
    enforcement="mandatory",
)
