"""The estimate as text and JSON: ``paved cost --format text|json``.

Money is rounded to cents only here, when printed; every line reads
``quantity × unit price = amount``.
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal
from typing import TYPE_CHECKING, Any

from paved.cost.prices import Price

if TYPE_CHECKING:  # only for annotations: the estimate imports quantity_text() from here
    from paved.cost.estimate import Estimate, Line, Share

CENT = Decimal("0.01")

NOTE = (
    "Pods run on the node groups, so the pod lines show how node capacity is allocated "
    "(requests x replicas at the autoscalers' minimum and maximum); they are not added to "
    "the infrastructure total. If pods at maximum cost more than the node groups' instance "
    "hours, the nodes have to grow."
)


def money(amount: Decimal) -> str:
    """``$1,234.57``: rounded half-up to cents, only here."""
    return f"${amount.quantize(CENT, rounding=ROUND_HALF_UP):,.2f}"


JSON_VERSION = 1  # of the `paved cost --format json` document (docs/schemas/cost.schema.json)


def cents(amount: Decimal) -> float:
    """The JSON form of money: a number rounded half-up to cents (the document's ``currency`` beside it)."""
    return float(amount.quantize(CENT, rounding=ROUND_HALF_UP))


def number(value: Decimal | int) -> int | float:
    """A quantity or unit price as a JSON number: an integer where integral."""
    d = Decimal(value)
    return int(d) if d == d.to_integral_value() else float(d)


def quantity_text(value: Decimal | int) -> str:
    """A quantity without trailing zeros, at most 6 decimals."""
    d = Decimal(value)
    if d == d.to_integral_value():
        return f"{int(d):,}"
    text = format(d.quantize(Decimal("0.000001"), rounding=ROUND_HALF_UP).normalize(), "f")
    whole, _, frac = text.partition(".")
    return f"{int(whole):,}.{frac}" if frac else f"{int(whole):,}"


def _unit_price(price: Price) -> str:
    value = price.value.normalize()
    if value.as_tuple().exponent >= -2:  # type: ignore[operator]
        value = value.quantize(CENT)
    unit = "h" if price.unit == "hour" else price.unit.replace("-hour", "-h")
    return f"${format(value, 'f')}/{unit}"


def _resources(names: str) -> str:
    parts = names.split(", ")
    return names if len(parts) <= 3 else f"{', '.join(parts[:3])} and {len(parts) - 3} more"


def _line_text(line: Line) -> str:
    return f"{quantity_text(line.quantity)} {line.unit} x {_unit_price(line.price)} = {money(line.amount)}"


def _pods_text(line_pair: tuple[Line, Line]) -> str:
    cpu, mem = line_pair
    return f"{_line_text(cpu)} + {_line_text(mem)} = {money(cpu.amount + mem.amount)}"


def text(estimate: Estimate, stack: str | None = None) -> str:
    """The estimate as a terminal report: every line as quantity × unit price = amount."""
    p = estimate.prices
    title = f"paved cost --stack {stack}" if stack else "paved cost"
    out = [f"{title}: monthly estimate, {p.currency}, {p.region}, {quantity_text(p.hours_per_month)} h/month, "
           f"on-demand list prices from {p.path}", ""]
    if estimate.warnings:
        out += [*estimate.warnings, ""]
    out.append("Infrastructure")
    if not estimate.infrastructure:
        out.append("  (no priced AWS resources in this plan)")
    labels = [f"{ln.item} [{_resources(ln.resource)}]" for ln in estimate.infrastructure]
    width = min(max([len(label) for label in labels] + [10]), 64)
    for label, ln in zip(labels, estimate.infrastructure):
        out.append(f"  {label.ljust(width)}  {_line_text(ln)}")
    out.append(f"  Infrastructure total: {money(estimate.infrastructure_total)}")
    out.append("")
    out.append("Pod requests by service (replicas x requests x hours, at minimum and maximum replicas)")
    if not estimate.services:
        out.append("  (no workloads in this plan)")
    for s in estimate.services:
        out.append(f"  {s.name} (team {s.team}, namespace {s.namespace}): {quantity_text(s.cpu_per_replica)} vCPU and "
                   f"{quantity_text(s.memory_gib_per_replica)} GiB requested per replica")
        out.append(f"    min {s.min_replicas} replica(s): {_pods_text(s.at_min)}")
        out.append(f"    max {s.max_replicas} replica(s): {_pods_text(s.at_max)}")
    out.append("")
    out.append("Pod requests by team (sum of the team's services)")
    for t in estimate.teams:
        out.append(f"  {t.name}:")
        out.append(f"    min {t.min_replicas} replica(s): {_pods_text(t.at_min)}")
        out.append(f"    max {t.max_replicas} replica(s): {_pods_text(t.at_max)}")
    out.append("")
    out.append("Totals per month")
    out.append("  Infrastructure (what AWS bills; the budget is checked against this): "
               f"{money(estimate.infrastructure_total)}")
    out.append(f"    of which node instance hours: {money(estimate.node_compute_total)}")
    out.append(f"  Pod requests at minimum replicas: {money(estimate.pods_min_total)}")
    out.append(f"  Pod requests at maximum replicas: {money(estimate.pods_max_total)}")
    out.append(f"  {NOTE}")
    if estimate.unpriced:
        out.append("")
        out.append("Not priced")
        out += [f"  {u}" for u in estimate.unpriced]
    return "\n".join(out) + "\n"


def _line_json(line: Line) -> dict[str, Any]:
    return {
        "item": line.item, "resource": line.resource, "quantity": number(line.quantity), "unit": line.unit,
        "unitPrice": number(line.price.value), "priceKey": line.price.key, "amount": cents(line.amount),
    }


def _share_json(s: Share) -> dict[str, Any]:
    d: dict[str, Any] = {"name": s.name, "team": s.team, "namespace": s.namespace}
    if s.cpu_per_replica is not None:
        d["cpuPerReplica"] = number(s.cpu_per_replica)
        d["memoryGiBPerReplica"] = number(s.memory_gib_per_replica)
    for key, count, pair, amount in (("min", s.min_replicas, s.at_min, s.min_amount),
                                     ("max", s.max_replicas, s.at_max, s.max_amount)):
        d[key] = {"replicas": count, "lines": [_line_json(ln) for ln in pair], "amount": cents(amount)}
    return d


def as_json(estimate: Estimate, stack: str | None = None) -> dict[str, Any]:
    """The estimate as JSON-ready data (docs/schemas/cost.schema.json): money and quantities are
    numbers, money rounded to cents in ``currency``."""
    p = estimate.prices
    return {
        "version": JSON_VERSION,
        "stack": stack,
        "currency": p.currency,
        "region": p.region,
        "hoursPerMonth": number(p.hours_per_month),
        "priceFile": p.path,
        "infrastructure": [_line_json(ln) for ln in estimate.infrastructure],
        "services": [_share_json(s) for s in estimate.services],
        "teams": [_share_json(t) for t in estimate.teams],
        "totals": {
            "infrastructure": cents(estimate.infrastructure_total),
            "nodeCompute": cents(estimate.node_compute_total),
            "podsAtMin": cents(estimate.pods_min_total),
            "podsAtMax": cents(estimate.pods_max_total),
        },
        "budgetedTotal": cents(estimate.total),
        "notPriced": list(estimate.unpriced),
        "warnings": list(estimate.warnings),
        "note": NOTE,
    }
