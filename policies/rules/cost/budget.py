"""What the monthly-budget rules (PAVED-COST-010 and PAVED-COST-011) share: the budget
setting, reading it from a rule's config, and the short breakdown their messages quote."""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from paved.cost.estimate import Estimate
from paved.cost.output import money

BUDGET = {
    "type": "number", "minimum": 0, "default": 1500,
    "description": "Monthly budget of the environment in USD, compared with the infrastructure total of the "
                   "estimate (`paved cost`).",
}


def monthly_budget(config: Mapping[str, Any]) -> Decimal:
    """``monthlyBudgetUsd`` of a rule's config, exactly (a JSON float read through its text)."""
    return Decimal(str(config["monthlyBudgetUsd"]))


def breakdown(est: Estimate, top: int = 4) -> str:
    """The largest lines of an estimate: ``3 x NAT gateway $98.55, ...``."""
    lines = sorted(est.infrastructure, key=lambda ln: ln.amount, reverse=True)
    shown = ", ".join(f"{ln.item} {money(ln.amount)}" for ln in lines[:top])
    return shown + (f" and {len(lines) - top} more line(s)" if len(lines) > top else "")
