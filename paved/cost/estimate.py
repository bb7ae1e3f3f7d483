"""Monthly cost estimate of a plan: ``paved cost`` and the monthly-budget policy share it.

Every price comes from one data file, ``paved/data/prices.json`` (see
:mod:`paved.cost.prices`). Each line is a ``quantity × unit price`` so a total can be
recomputed by hand from the file and the printed quantities; money stays ``Decimal`` and is
rounded to cents only when printed (:mod:`paved.cost.output`).

The input is any iterable of resources given as ``(type token, camelCase inputs)`` pairs,
``(type, inputs, name)`` triples, or pulumi-policy ``PolicyResource`` objects. Inputs are
read only through :mod:`paved.resources`, so the same code runs on the plan
document's plain dicts and on the analyzer's unknown-checking proxies; a value unknown at
preview leaves its line out and is listed under "not priced".

Two views are kept apart, following OpenCost's allocation model:

- infrastructure: what AWS bills (EKS control plane, node groups and their disks, NAT
  gateways, MSK brokers and storage, Secrets Manager secrets, KMS keys, central-logs ingestion
  and storage at an assumed volume per pod, ``paved:logs.gibPerPodMonth``). This is the total
  a budget is compared with.
- pod requests × replicas, at the autoscalers' minimum and maximum, per service and per
  team. Pods run on the node groups, so this is an allocation / fit view of the node
  capacity, not a cost added on top of the nodes.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from paved.cost import datastores
from paved.cost.datastores import TableRequests
from paved.cost.output import quantity_text
from paved.cost import extras
from paved.cost.prices import CostError, Price, Prices, load_prices
from paved.resources import (
    DYNAMODB_TABLE, EKS_CLUSTER, KMS_KEY, LOG_GROUP, LOG_NAMESPACES_TAG, LOG_VOLUME_TAG, MSK_CLUSTER, NAT_GATEWAY,
    NODE_GROUP, RDS_INSTANCE, REPLICATION_GROUP, SECRET, SERVERLESS_CACHE, UNKNOWN, VPC_ENDPOINT, WAF_REQUESTS_TAG,
    WAF_WEB_ACL, Item,
    DEFAULT_MSK_VOLUME_GB, items, launch_template_of, lookup, node_disks, node_instance_types,
    normalize, number, workloads,
)

GIB = Decimal(2**30)


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
    warnings: tuple[str, ...] = ()  # said loudly: a region without prices, pods the nodes cannot hold

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
    lines.append(Line(f"node group {quantity_text(desired)} x {instance}{how}{first}", it.name,
                      _hours(prices, desired), "h", price))
    disks = node_disks(it.props, template)
    if disks is None or any(d is UNKNOWN for d in disks):
        unpriced.append(f"node group {it.name}: node disk size or type unknown (not gp3, unknown at preview, or "
                        "in a launch template not in the plan), disks not priced")
        return
    per_node = sum(disks, Decimal(0))
    if per_node:
        lines.append(Line(f"node disks {quantity_text(desired)} x {quantity_text(per_node)} GB gp3", it.name,
                          desired * per_node, "GB-month", prices.get("ebsGp3", f"node group {it.name} disks")))


def _msk(it: Item, prices: Prices, lines: list[Line], unpriced: list[str], resources: list[Item]) -> None:
    brokers = number(lookup(it.props, "numberOfBrokerNodes"))
    broker_type = lookup(it.props, "brokerNodeGroupInfo.instanceType")
    if brokers is None or brokers is UNKNOWN or not isinstance(broker_type, str):
        unpriced.append(f"MSK cluster {it.name}: numberOfBrokerNodes or brokerNodeGroupInfo.instanceType unknown, "
                        "not priced")
        return
    price = prices.get(f"mskBroker.{broker_type}", f"MSK cluster {it.name} broker type {broker_type!r}")
    lines.append(Line(f"MSK brokers {quantity_text(brokers)} x {broker_type}", it.name, _hours(prices, brokers), "h",
                      price))
    volume = number(lookup(it.props, "brokerNodeGroupInfo.storageInfo.ebsStorageInfo.volumeSize"))
    if volume is UNKNOWN:
        unpriced.append(f"MSK cluster {it.name}: volumeSize unknown at preview, storage not priced")
        return
    volume = Decimal(DEFAULT_MSK_VOLUME_GB) if volume is None else volume
    lines.append(Line(f"MSK storage {quantity_text(brokers)} x {quantity_text(volume)} GB", it.name, brokers * volume,
                      "GB-month", prices.get("mskStorage", f"MSK cluster {it.name} storage")))
    if lookup(it.props, "brokerNodeGroupInfo.storageInfo.ebsStorageInfo.provisionedThroughput.enabled") is True:
        unpriced.append(f"MSK cluster {it.name}: provisioned storage throughput is billed extra, not priced")


GB_PER_GIB = GIB / Decimal(10**9)
DAYS_PER_MONTH = Decimal("30.4167")  # 365 / 12


class _Planned(list):
    """The normalized resources, with their workloads joined to their autoscalers once: the
    log-group pricer counts pods per group, and a per-group join made the estimate quadratic."""

    @functools.cached_property
    def workloads(self) -> list[Any]:
        return workloads(self)


def _log_group(it: Item, prices: Prices, lines: list[Line], unpriced: list[str], resources: _Planned) -> None:
    """A central-logs group: its namespaces' pods at the autoscalers' minimum x the assumed volume
    per pod (ingestion), and what the retention keeps of it in steady state (storage). Other log
    groups (control plane, brokers) carry no volume tag and are not priced."""
    volume = number(lookup(it.props, ("tags", LOG_VOLUME_TAG)))
    if volume is None:
        return
    namespaces = lookup(it.props, ("tags", LOG_NAMESPACES_TAG))
    retention = number(lookup(it.props, "retentionInDays"))
    if volume is UNKNOWN or not isinstance(namespaces, str) or not isinstance(retention, Decimal):
        unpriced.append(f"CloudWatch log group {it.name}: volume, namespaces or retention unknown, not priced")
        return
    wanted = set(namespaces.split())
    pods = sum((w.min_replicas or 0 for w in resources.workloads if w.namespace in wanted), 0)
    ingested = Decimal(pods) * volume * GB_PER_GIB
    lines.append(Line(f"CloudWatch Logs ingestion: {pods} pods x {quantity_text(volume)} GiB (assumed)", it.name,
                      ingested, "GB", prices.get("cloudwatchLogsIngestion", f"log group {it.name}")))
    lines.append(Line(f"CloudWatch Logs storage: {quantity_text(retention)} days kept", it.name,
                      ingested * min(retention, Decimal(3653)) / DAYS_PER_MONTH, "GB-month",
                      prices.get("cloudwatchLogsStorage", f"log group {it.name}")))


def _waf(it: Item, prices: Prices, lines: list[Line], unpriced: list[str], resources: list[Item]) -> None:
    # AWS WAF: the web ACL, each rule (a managed rule group counts as one), and the requests it
    # inspects, whose volume is the stack's stated assumption (tag set by components/waf.py).
    rules = lookup(it.props, "rules")
    lines.append(Line("WAF web ACL", it.name, Decimal(1), "web-ACL-month",
                      prices.get("wafv2WebAcl", f"WAF web ACL {it.name}")))
    if rules is UNKNOWN:
        unpriced.append(f"WAF web ACL {it.name}: rules unknown at preview, rules not priced")
    else:
        count = Decimal(len(items(it.props, "rules")))
        lines.append(Line(f"WAF rules {quantity_text(count)}", it.name, count, "rule-month",
                          prices.get("wafv2Rule", f"WAF web ACL {it.name} rules")))
    assumed = number(lookup(it.props, ("tags", WAF_REQUESTS_TAG)))
    if assumed is None or assumed is UNKNOWN:
        unpriced.append(f"WAF web ACL {it.name}: no assumed request volume (tag {WAF_REQUESTS_TAG}), requests "
                        "not priced")
        return
    lines.append(Line(f"WAF requests, {quantity_text(assumed)} million/month assumed (paved:ingress.wafRequestsMillions)",
                      it.name, assumed, "million requests", prices.get("wafv2Requests", f"WAF web ACL {it.name} requests")))


def _simple(label: str, key: str, quantity_of=None):
    """A flat per-resource price; resources of one type share one line (see :func:`_merge`)."""

    def add(it: Item, prices: Prices, lines: list[Line], unpriced: list[str], resources: list[Item]) -> None:
        count = Decimal(quantity_of(it)) if quantity_of else Decimal(1)
        price = prices.get(key, f"{label} {it.name}")
        hourly = price.unit == "hour"
        lines.append(Line(f"{quantity_text(count)} x {label}", it.name, _hours(prices, count) if hourly else count,
                          "h" if hourly else price.unit, price))
    return add


# Printing order; a node group's instances and disks (and an MSK cluster's brokers and
# storage) share a rank so they stay together.
RANK = {"eksControlPlane": 0, "ec2Instance": 1, "ebsGp3": 1, "natGateway": 2, "natDataProcessed": 2,
        "vpcInterfaceEndpoint": 2, "vpcInterfaceEndpointData": 2, "albHour": 2, "albLcu": 2, "publicIpv4": 2,
        "mskBroker": 3, "mskStorage": 3,
        "secretsManagerSecret": 4, "kmsKey": 5, "cloudwatchLogsIngestion": 6, "cloudwatchLogsStorage": 6,
        "wafv2WebAcl": 6, "wafv2Rule": 6, "wafv2Requests": 6,
        "rdsInstance": 6, "rdsInstanceMultiAz": 6, "rdsStorageGp3": 6, "rdsStorageGp3MultiAz": 6,
        "dynamodbReadRequest": 7, "dynamodbWriteRequest": 7, "dynamodbReadCapacity": 7, "dynamodbWriteCapacity": 7,
        "elasticacheServerlessStorage": 8}
MERGED = {"natGateway": "NAT gateway", "vpcInterfaceEndpoint": "VPC interface endpoint zone",
          "secretsManagerSecret": "Secrets Manager secret", "kmsKey": "KMS key"}


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
        out[i] = Line(f"{quantity_text(count)} x {MERGED[line.price.key]}", ", ".join(ln.resource for ln in group),
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
    LOG_GROUP: _log_group,
    WAF_WEB_ACL: _waf,
    RDS_INSTANCE: lambda it, prices, lines, unpriced, resources: datastores.rds_instance(it, prices, lines, unpriced, Line),
    SERVERLESS_CACHE: lambda it, prices, lines, unpriced, resources: datastores.serverless_cache(
        it, prices, lines, unpriced, Line),
    REPLICATION_GROUP: lambda it, prices, lines, unpriced, resources: datastores.replication_group(
        it, prices, lines, unpriced, Line),
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


def estimate(resources: Iterable[Any], prices: Prices | None = None, strict: bool = True,
             table_requests: TableRequests | None = datastores.DEFAULT_TABLE_REQUESTS) -> Estimate:
    """The monthly estimate of ``resources`` (see the module docstring for the accepted forms).

    ``table_requests`` is the assumed monthly traffic of each on-demand DynamoDB table (the
    stack's paved:data.requests; by default its defaults, which the budget rules use).

    A resource the price file cannot price (an instance or broker type it does not list) raises
    CostError, which the budget rules turn into a violation; with ``strict`` False (``paved
    cost``) it is listed under "not priced" instead.
    """
    prices = prices or load_prices()
    normalized = _Planned(normalize(resources))
    lines: list[Line] = []
    unpriced: list[str] = []
    for it in normalized:
        pricer = PRICERS.get(it.type)
        if pricer is not None:
            try:
                pricer(it, prices, lines, unpriced, normalized)
            except CostError as exc:
                if strict:
                    raise
                unpriced.append(f"not priced: {exc}")
        elif it.type == DYNAMODB_TABLE:
            datastores.dynamodb_table(it, prices, lines, unpriced, Line, table_requests)
    extras.add(normalized, prices, lines, unpriced, strict)

    lines = sorted(_merge(lines, prices), key=lambda ln: RANK.get(ln.price.key.partition(".")[0], len(RANK)))
    services: list[Share] = []
    for w in normalized.workloads:
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
    warnings = extras.region_warnings(normalized, prices) + extras.capacity_warnings(normalized, services)
    return Estimate(prices, tuple(lines), tuple(services), tuple(teams), tuple(unpriced), tuple(warnings))
