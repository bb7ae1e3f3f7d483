"""PAVED-COST-010: the stack's estimated monthly cost stays within the environment's budget."""

from __future__ import annotations

from decimal import Decimal

from paved.cost.estimate import Estimate, estimate
from paved.cost.output import money
from paved.cost.prices import CostError
from policies.framework import Rule

BUDGET = {
    "type": "number", "minimum": 0, "default": 1500,
    "description": "Monthly budget of the environment in USD, compared with the infrastructure total of the "
                   "estimate (`paved cost`).",
}


def breakdown(est: Estimate, top: int = 4) -> str:
    """The largest lines of an estimate: ``3 x NAT gateway $98.55, ...``."""
    lines = sorted(est.infrastructure, key=lambda ln: ln.amount, reverse=True)
    shown = ", ".join(f"{ln.item} {money(ln.amount)}" for ln in lines[:top])
    return shown + (f" and {len(lines) - top} more line(s)" if len(lines) > top else "")


def validate_stack(args, report) -> None:
    budget = Decimal(str(args.get_config()["monthlyBudgetUsd"]))
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
