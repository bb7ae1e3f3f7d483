"""Monthly cost estimate of a plan: ``paved cost`` and the monthly-budget policy share it.

Every price comes from one data file, ``paved/data/prices.json`` (value, unit, region,
source, date). Each line is printed as ``quantity × unit price = amount`` so a total can be
recomputed by hand from the file and the printed quantities; money stays ``Decimal`` and is
rounded to cents only when printed.

The input is any iterable of resources given as ``(type token, camelCase inputs)`` pairs,
``(type, inputs, name)`` triples, or pulumi-policy ``PolicyResource`` objects. Inputs are
read only through :mod:`paved.resources`, so the same code runs on the plan
document's plain dicts and on the analyzer's unknown-checking proxies; a value unknown at
preview leaves its line out and is listed under "not priced".

Two views are kept apart, following OpenCost's allocation model:

- infrastructure: what AWS bills (EKS control plane, node groups and their disks, NAT
  gateways, MSK brokers and storage, Secrets Manager secrets, KMS keys). This is the total
  a budget is compared with.
- pod requests × replicas, at the autoscalers' minimum and maximum, per service and per
  team. Pods run on the node groups, so this is an allocation / fit view of the node
  capacity, not a cost added on top of the nodes.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from importlib import resources as importlib_resources
from pathlib import Path
from typing import Any

from paved.errors import PavedError
from paved.resources import (
    EKS_CLUSTER, KMS_KEY, MSK_CLUSTER, NAT_GATEWAY, NODE_GROUP, SECRET, UNKNOWN, VPC_ENDPOINT, Item,
    DEFAULT_MSK_VOLUME_GB, items, launch_template_of, lookup, node_disks, node_instance_types,
    normalize, number, workloads,
)

PRICE_FILE = "paved/data/prices.json"
GIB = Decimal(2**30)
CENT = Decimal("0.01")

NOTE = (
    "Pods run on the node groups, so the pod lines show how node capacity is allocated "
    "(requests x replicas at the autoscalers' minimum and maximum); they are not added to "
    "the infrastructure total. If pods at maximum cost more than the node groups' instance "
    "hours, the nodes have to grow."
)


class CostError(PavedError):
    """A resource the price file cannot price (an instance or broker type it does not list)."""


# --- prices ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Price:
    """One list price from the price file."""

    key: str
    value: Decimal
    unit: str
    region: str
    source: str
    date: str


@dataclass(frozen=True)
class Prices:
    """The price file, loaded: hours per month and every price by dotted key."""

    hours_per_month: Decimal
    currency: str
    region: str
    entries: Mapping[str, Price]
    path: str = PRICE_FILE

    def get(self, key: str, what: str) -> Price:
        """The price at ``key`` (``"ec2Instance.t3.medium"``), or CostError naming the file."""
        price = self.entries.get(key)
        if price is None:
            group, _, name = key.partition(".")
            listed = sorted(k.partition(".")[2] for k in self.entries if k.startswith(group + ".") and k != group)
            hint = f"; it lists {', '.join(listed)}" if listed else ""
            raise CostError(f"{what}: no price for {name or group!r} in {self.path} ({group}){hint}. "
                            "Add it there with its value, unit, region, source and date.")
        return price


def _price(key: str, raw: Mapping[str, Any], path: str) -> Price:
    try:
        return Price(key, Decimal(str(raw["value"])), raw["unit"], raw["region"], raw["source"], raw["date"])
    except (KeyError, TypeError, ArithmeticError) as exc:
        raise CostError(f"{path}: {key}: every price needs value, unit, region, source and date ({exc})") from None


def load_prices(path: str | Path | None = None) -> Prices:
    """The price file (``paved/data/prices.json`` unless ``path`` is given)."""
    return _default_prices() if path is None else _load(path)


@functools.cache
def _default_prices() -> Prices:
    # Read once per process: the budget rules estimate the stack on every preview.
    return _load(None)


def _load(path: str | Path | None) -> Prices:
    if path is None:
        text = importlib_resources.files("paved").joinpath("data", "prices.json").read_text(encoding="utf-8")
        display = PRICE_FILE
    else:
        text, display = Path(path).read_text(encoding="utf-8"), str(path)
    data = json.loads(text, parse_float=Decimal)
    entries: dict[str, Price] = {}
    for group, value in data.items():
        if not isinstance(value, dict) or group == "hoursPerMonth":
            continue
        if "value" in value:
            entries[group] = _price(group, value, display)
        else:
            for name, raw in value.items():
                entries[f"{group}.{name}"] = _price(f"{group}.{name}", raw, display)
    hours = data["hoursPerMonth"]
    return Prices(Decimal(str(hours["value"] if isinstance(hours, dict) else hours)), data["currency"], data["region"],
                  entries, display)


# --- the estimate ------------------------------------------------------------------------


@dataclass(frozen=True)
class Line:
    """One priced quantity: ``quantity`` ``unit`` × unit price = amount."""

    item: str
    resource: str
    quantity: Decimal
    unit: str
    price: Price

    @property
    def amount(self) -> Decimal:
        """quantity × unit price, unrounded."""
        return self.quantity * self.price.value


@dataclass(frozen=True)
class Share:
    """Pod requests of a service (or a team's services) priced at minimum and maximum replicas."""

    name: str
    team: str
    namespace: str
    cpu_per_replica: Decimal | None  # None for a team (its services differ)
    memory_gib_per_replica: Decimal | None
    min_replicas: int
    max_replicas: int
    at_min: tuple[Line, Line]  # vCPU-hours, GiB-hours
    at_max: tuple[Line, Line]

    @property
    def min_amount(self) -> Decimal:
        """Monthly cost of the requests at minimum replicas."""
        return sum((line.amount for line in self.at_min), Decimal(0))

    @property
    def max_amount(self) -> Decimal:
        """Monthly cost of the requests at maximum replicas."""
        return sum((line.amount for line in self.at_max), Decimal(0))


@dataclass(frozen=True)
class Estimate:
    """A monthly estimate: infrastructure lines, pod shares per service and team, what was not priced."""

    prices: Prices
    infrastructure: tuple[Line, ...]
    services: tuple[Share, ...]
    teams: tuple[Share, ...]
    unpriced: tuple[str, ...]

    @property
    def infrastructure_total(self) -> Decimal:
        """What AWS bills per month for the priced resources."""
        return sum((line.amount for line in self.infrastructure), Decimal(0))

    @property
    def node_compute_total(self) -> Decimal:
        """The node groups' instance hours (the capacity the pods share)."""
        lines = [line for line in self.infrastructure if line.price.key.startswith("ec2Instance.")]
        return sum((line.amount for line in lines), Decimal(0))

    @property
    def pods_min_total(self) -> Decimal:
        """All pod requests at the autoscalers' minimum."""
        return sum((s.min_amount for s in self.services), Decimal(0))

    @property
    def pods_max_total(self) -> Decimal:
        """All pod requests at the autoscalers' maximum."""
        return sum((s.max_amount for s in self.services), Decimal(0))

    @property
    def total(self) -> Decimal:
        """The monthly total a budget is compared with: the infrastructure total."""
        return self.infrastructure_total


def _hours(prices: Prices, count: Decimal | int) -> Decimal:
    return Decimal(count) * prices.hours_per_month


def _eks(it: Item, prices: Prices, lines: list[Line], unpriced: list[str], resources: list[Item]) -> None:
    support = lookup(it.props, "upgradePolicy.supportType")
    if support is UNKNOWN:
        unpriced.append(f"EKS cluster {it.name}: upgradePolicy.supportType unknown at preview, priced at STANDARD")
    extended = support == "EXTENDED"
    key = "eksControlPlane.EXTENDED" if extended else "eksControlPlane.STANDARD"
    label = "extended" if extended else "standard"
    lines.append(Line(f"EKS control plane ({label} support)", it.name, _hours(prices, 1), "h",
                      prices.get(key, f"EKS cluster {it.name}")))


def _node_group(it: Item, prices: Prices, lines: list[Line], unpriced: list[str], resources: list[Item]) -> None:
    desired = number(lookup(it.props, "scalingConfig.desiredSize"))
    if desired is None:
        desired = number(lookup(it.props, "scalingConfig.minSize"))
    if desired is None or desired is UNKNOWN:
        unpriced.append(f"node group {it.name}: scalingConfig.desiredSize unknown, nodes not priced")
        return
    template = launch_template_of(it, resources) if lookup(it.props, "launchTemplate") is not None else None
    types = node_instance_types(it.props, template)
    if types is None or not isinstance(types[0], str):
        unpriced.append(f"node group {it.name}: instance type unknown (at preview, or in a launch template not in "
                        "the plan), nodes not priced")
        return
    instance = types[0]
    price = prices.get(f"ec2Instance.{instance}", f"node group {it.name} instance type {instance!r}")
    capacity = lookup(it.props, "capacityType")
    how = " (spot, priced at on-demand)" if capacity == "SPOT" else ""
    first = ", first of instanceTypes" if len(types) > 1 else ""
    lines.append(Line(f"node group {_fmt_qty(desired)} x {instance}{how}{first}", it.name,
                      _hours(prices, desired), "h", price))
    disks = node_disks(it.props, template)
    if disks is None or any(d is UNKNOWN for d in disks):
        unpriced.append(f"node group {it.name}: node disk size or type unknown (not gp3, unknown at preview, or "
                        "in a launch template not in the plan), disks not priced")
        return
    per_node = sum(disks, Decimal(0))
    if per_node:
        lines.append(Line(f"node disks {_fmt_qty(desired)} x {_fmt_qty(per_node)} GB gp3", it.name, desired * per_node,
                          "GB-month", prices.get("ebsGp3", f"node group {it.name} disks")))


def _msk(it: Item, prices: Prices, lines: list[Line], unpriced: list[str], resources: list[Item]) -> None:
    brokers = number(lookup(it.props, "numberOfBrokerNodes"))
    broker_type = lookup(it.props, "brokerNodeGroupInfo.instanceType")
    if brokers is None or brokers is UNKNOWN or not isinstance(broker_type, str):
        unpriced.append(f"MSK cluster {it.name}: numberOfBrokerNodes or brokerNodeGroupInfo.instanceType unknown, "
                        "not priced")
        return
    price = prices.get(f"mskBroker.{broker_type}", f"MSK cluster {it.name} broker type {broker_type!r}")
    lines.append(Line(f"MSK brokers {_fmt_qty(brokers)} x {broker_type}", it.name, _hours(prices, brokers), "h", price))
    volume = number(lookup(it.props, "brokerNodeGroupInfo.storageInfo.ebsStorageInfo.volumeSize"))
    if volume is UNKNOWN:
        unpriced.append(f"MSK cluster {it.name}: volumeSize unknown at preview, storage not priced")
        return
    volume = Decimal(DEFAULT_MSK_VOLUME_GB) if volume is None else volume
    lines.append(Line(f"MSK storage {_fmt_qty(brokers)} x {_fmt_qty(volume)} GB", it.name, brokers * volume, "GB-month",
                      prices.get("mskStorage", f"MSK cluster {it.name} storage")))
    if lookup(it.props, "brokerNodeGroupInfo.storageInfo.ebsStorageInfo.provisionedThroughput.enabled") is True:
        unpriced.append(f"MSK cluster {it.name}: provisioned storage throughput is billed extra, not priced")


def _simple(label: str, key: str, quantity_of=None):
    """A flat per-resource price; resources of one type share one line (see :func:`_merge`)."""

    def add(it: Item, prices: Prices, lines: list[Line], unpriced: list[str], resources: list[Item]) -> None:
        count = Decimal(quantity_of(it)) if quantity_of else Decimal(1)
        price = prices.get(key, f"{label} {it.name}")
        hourly = price.unit == "hour"
        lines.append(Line(f"{_fmt_qty(count)} x {label}", it.name, _hours(prices, count) if hourly else count,
                          "h" if hourly else price.unit, price))
    return add


# Printing order; a node group's instances and disks (and an MSK cluster's brokers and
# storage) share a rank so they stay together.
RANK = {"eksControlPlane": 0, "ec2Instance": 1, "ebsGp3": 1, "natGateway": 2, "vpcInterfaceEndpoint": 2,
        "mskBroker": 3, "mskStorage": 3,
        "secretsManagerSecret": 4, "kmsKey": 5}
MERGED = {"natGateway": "NAT gateway", "vpcInterfaceEndpoint": "VPC interface endpoint zone", "secretsManagerSecret": "Secrets Manager secret", "kmsKey": "KMS key"}


def _merge(lines: list[Line], prices: Prices) -> list[Line]:
    """One line per flat-priced type (``20 x Secrets Manager secret``) instead of one per resource."""
    out: list[Line] = []
    groups: dict[str, list[Line]] = {}
    for line in lines:
        if line.price.key in MERGED:
            if line.price.key not in groups:
                groups[line.price.key] = []
                out.append(line)  # placeholder, replaced below
            groups[line.price.key].append(line)
        else:
            out.append(line)
    for i, line in enumerate(out):
        group = groups.get(line.price.key)
        if group is None:
            continue
        quantity = sum((ln.quantity for ln in group), Decimal(0))
        count = quantity / prices.hours_per_month if line.unit == "h" else quantity
        out[i] = Line(f"{_fmt_qty(count)} x {MERGED[line.price.key]}", ", ".join(ln.resource for ln in group),
                      quantity, line.unit, line.price)
    return out


def _endpoint_zones(it: Item) -> int:
    # An interface endpoint is billed per Availability Zone it has a network interface in.
    return len(items(it.props, "subnetIds")) if lookup(it.props, "vpcEndpointType") == "Interface" else 0


def _secret_copies(it: Item) -> int:
    # Each replica region of a secret is billed as a secret of its own.
    return 1 + len(items(it.props, "replicas"))


PRICERS = {
    EKS_CLUSTER: _eks,
    NODE_GROUP: _node_group,
    MSK_CLUSTER: _msk,
    NAT_GATEWAY: _simple("NAT gateway", "natGateway"),
    VPC_ENDPOINT: _simple("VPC interface endpoint zone", "vpcInterfaceEndpoint", _endpoint_zones),
    SECRET: _simple("Secrets Manager secret", "secretsManagerSecret", _secret_copies),
    KMS_KEY: _simple("KMS key", "kmsKey"),
}


def _pod_lines(prices: Prices, replicas: int, cpu: Decimal, memory_gib: Decimal, what: str) -> tuple[Line, Line]:
    hours = _hours(prices, replicas)
    return (
        Line("pod CPU requests", what, hours * cpu, "vCPU-h", prices.get("podVcpu", what)),
        Line("pod memory requests", what, hours * memory_gib, "GiB-h", prices.get("podMemory", what)),
    )


def _team_share(team: str, shares: list[Share], prices: Prices) -> Share:
    def summed(attr: str) -> tuple[Line, Line]:
        lines = [getattr(s, attr) for s in shares]
        return tuple(
            Line(lines[0][i].item, team, sum((ls[i].quantity for ls in lines), Decimal(0)), lines[0][i].unit,
                 lines[0][i].price)
            for i in range(2)
        )  # type: ignore[return-value]

    namespaces = sorted({s.namespace for s in shares})
    return Share(team, team, ",".join(namespaces), None, None, sum(s.min_replicas for s in shares),
                 sum(s.max_replicas for s in shares), summed("at_min"), summed("at_max"))


def estimate(resources: Iterable[Any], prices: Prices | None = None) -> Estimate:
    """The monthly estimate of ``resources`` (see the module docstring for the accepted forms).

    Raises CostError for an instance or broker type the price file does not list.
    """
    prices = prices or load_prices()
    normalized = normalize(resources)
    lines: list[Line] = []
    unpriced: list[str] = []
    for it in normalized:
        pricer = PRICERS.get(it.type)
        if pricer is not None:
            pricer(it, prices, lines, unpriced, normalized)

    lines = sorted(_merge(lines, prices), key=lambda ln: RANK.get(ln.price.key.partition(".")[0], len(RANK)))
    services: list[Share] = []
    for w in workloads(normalized):
        low, high = w.min_replicas, w.max_replicas
        if low is None or high is None:
            unpriced.append(f"{w.kind} {w.namespace}/{w.name}: replica count unknown at preview, pods not priced")
            continue
        if not w.requests.complete:
            unpriced.append(f"{w.kind} {w.namespace}/{w.name}: a container request is unknown or malformed, "
                            "counted as 0")
        memory_gib = Decimal(w.requests.memory) / GIB
        what = f"{w.service}"
        services.append(Share(w.service, w.team, str(w.namespace), w.requests.cpu, memory_gib, low, high,
                              _pod_lines(prices, low, w.requests.cpu, memory_gib, what),
                              _pod_lines(prices, high, w.requests.cpu, memory_gib, what)))
    services.sort(key=lambda s: (s.team, s.name))
    by_team: dict[str, list[Share]] = {}
    for s in services:
        by_team.setdefault(s.team, []).append(s)
    teams = [_team_share(team, shares, prices) for team, shares in sorted(by_team.items())]
    return Estimate(prices, tuple(lines), tuple(services), tuple(teams), tuple(unpriced))


# --- output ------------------------------------------------------------------------------


def money(amount: Decimal) -> str:
    """``$1,234.57``: rounded half-up to cents, only here."""
    return f"${amount.quantize(CENT, rounding=ROUND_HALF_UP):,.2f}"


def cents(amount: Decimal) -> str:
    """The JSON form of money: a string with two decimals (never a float)."""
    return str(amount.quantize(CENT, rounding=ROUND_HALF_UP))


def _fmt_qty(value: Decimal | int) -> str:
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
    return f"{_fmt_qty(line.quantity)} {line.unit} x {_unit_price(line.price)} = {money(line.amount)}"


def _pods_text(line_pair: tuple[Line, Line]) -> str:
    cpu, mem = line_pair
    return f"{_line_text(cpu)} + {_line_text(mem)} = {money(cpu.amount + mem.amount)}"


def text(estimate: Estimate, stack: str | None = None) -> str:
    """The estimate as a terminal report: every line as quantity × unit price = amount."""
    p = estimate.prices
    title = f"paved cost --stack {stack}" if stack else "paved cost"
    out = [f"{title}: monthly estimate, {p.currency}, {p.region}, {_fmt_qty(p.hours_per_month)} h/month, "
           f"on-demand list prices from {p.path}", ""]
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
        out.append(f"  {s.name} (team {s.team}, namespace {s.namespace}): {_fmt_qty(s.cpu_per_replica)} vCPU and "
                   f"{_fmt_qty(s.memory_gib_per_replica)} GiB requested per replica")
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
        "item": line.item, "resource": line.resource, "quantity": str(line.quantity), "unit": line.unit,
        "unitPrice": str(line.price.value), "priceKey": line.price.key, "amount": cents(line.amount),
    }


def _share_json(s: Share) -> dict[str, Any]:
    d: dict[str, Any] = {"name": s.name, "team": s.team, "namespace": s.namespace}
    if s.cpu_per_replica is not None:
        d["cpuPerReplica"] = str(s.cpu_per_replica)
        d["memoryGiBPerReplica"] = str(s.memory_gib_per_replica)
    for key, count, pair, amount in (("min", s.min_replicas, s.at_min, s.min_amount),
                                     ("max", s.max_replicas, s.at_max, s.max_amount)):
        d[key] = {"replicas": count, "lines": [_line_json(ln) for ln in pair], "amount": cents(amount)}
    return d


def as_json(estimate: Estimate, stack: str | None = None) -> dict[str, Any]:
    """The estimate as JSON-ready data; money and quantities are strings (exact decimals)."""
    p = estimate.prices
    return {
        "stack": stack,
        "currency": p.currency,
        "region": p.region,
        "hoursPerMonth": str(p.hours_per_month),
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
        "note": NOTE,
    }


