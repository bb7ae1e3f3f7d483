"""Monthly cost estimate of a plan: ``paved cost`` and the monthly-budget policy share it.

Every price comes from one data file, ``paved/data/prices.json`` (value, unit, region,
source, date). Each line is printed as ``quantity × unit price = amount`` so a total can be
recomputed by hand from the file and the printed quantities; money stays ``Decimal`` and is
rounded to cents only when printed.

The input is any iterable of resources given as ``(type token, camelCase inputs)`` pairs,
``(type, inputs, name)`` triples, or pulumi-policy ``PolicyResource`` objects. Inputs are
read only through :mod:`policies.framework` helpers, so the same code runs on the plan
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
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from importlib import resources as importlib_resources
from pathlib import Path
from typing import Any

from paved.errors import PavedError
from paved.quantity import cpu_cores, memory_bytes
from policies.framework import UNKNOWN, items, lookup, object_name, pod_spec

PRICE_FILE = "paved/data/prices.json"
GIB = Decimal(2**30)
CENT = Decimal("0.01")

EKS_CLUSTER = "aws:eks/cluster:Cluster"
NODE_GROUP = "aws:eks/nodeGroup:NodeGroup"
LAUNCH_TEMPLATE = "aws:ec2/launchTemplate:LaunchTemplate"
NAT_GATEWAY = "aws:ec2/natGateway:NatGateway"
VPC_ENDPOINT = "aws:ec2/vpcEndpoint:VpcEndpoint"
MSK_CLUSTER = "aws:msk/cluster:Cluster"
SECRET = "aws:secretsmanager/secret:Secret"
KMS_KEY = "aws:kms/key:Key"
HPA_TYPES = frozenset({
    "kubernetes:autoscaling/v2:HorizontalPodAutoscaler",
    "kubernetes:autoscaling/v1:HorizontalPodAutoscaler",
})
# Kinds whose replica count an HPA can own (``scaleTargetRef.kind``).
SCALABLE_TYPES = {
    "kubernetes:apps/v1:Deployment": "Deployment",
    "kubernetes:apps/v1:StatefulSet": "StatefulSet",
    "kubernetes:apps/v1:ReplicaSet": "ReplicaSet",
}
SERVICE_LABEL = "app.kubernetes.io/name"
TEAM_LABEL = "paved.dev/team"

# AWS defaults for inputs a resource may leave out.
DEFAULT_NODE_INSTANCE_TYPE = "t3.medium"  # EKS managed node group without instanceTypes
DEFAULT_NODE_DISK_GB = 20  # EKS managed node group diskSize
DEFAULT_MSK_VOLUME_GB = 1000  # MSK storageInfo.ebsStorageInfo.volumeSize

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


# --- reading resources -------------------------------------------------------------------


@dataclass(frozen=True)
class Item:
    """One resource, whatever form it came in."""

    type: str
    props: Any
    name: str
    source: Any = field(compare=False, repr=False)


def normalize(resources: Iterable[Any]) -> list[Item]:
    """``(type, inputs)`` / ``(type, inputs, name)`` tuples or PolicyResource objects → Items."""
    out = []
    for i, r in enumerate(resources):
        if isinstance(r, Item):
            out.append(r)
        elif hasattr(r, "resource_type"):
            out.append(Item(r.resource_type, r.props, r.name, r))
        else:
            name = r[2] if len(r) > 2 and r[2] else f"#{i + 1}"
            out.append(Item(r[0], r[1], name, r))
    return out


def number(value: Any) -> Decimal | None | Any:
    """A count or size as Decimal: ``3``, ``3.0`` and ``"3"`` alike; UNKNOWN stays UNKNOWN;
    None when missing or not a number."""
    if value is UNKNOWN:
        return UNKNOWN
    if value is None or isinstance(value, bool) or not isinstance(value, (int, float, str, Decimal)):
        return None
    try:
        return Decimal(str(value).strip()).normalize()  # 13.0 -> 13, printed with :f
    except ArithmeticError:
        return None


def _labels(props: Any, path: str) -> dict[str, Any]:
    labels = lookup(props, path)
    if not isinstance(labels, Mapping):
        return {}
    return {k: lookup(labels, [k]) for k in list(labels.keys())}


@dataclass(frozen=True)
class Requests:
    """A pod's effective requests: max(app containers + sidecars, largest other init container)."""

    cpu: Decimal
    memory: int
    complete: bool  # False when a request was unknown or malformed (counted as 0)


def pod_requests(pod: Mapping[str, Any]) -> Requests:
    """What the scheduler and a ResourceQuota count for one replica of ``pod``: the larger of
    the app containers plus sidecars, and the largest regular init container.

    A container without a request is counted at its limit (what Kubernetes defaults the
    request to), else at 0.
    """
    complete = True

    def one(container: Any, resource: str) -> Decimal | int:
        nonlocal complete
        value = lookup(container, ("resources", "requests", resource))
        if value is None:
            value = lookup(container, ("resources", "limits", resource))
        if value is None:
            return 0
        if value is UNKNOWN:
            complete = False
            return 0
        try:
            return cpu_cores(value) if resource == "cpu" else memory_bytes(value)
        except ValueError:
            complete = False
            return 0

    # Sidecars (init containers with restartPolicy Always) run alongside the app containers.
    inits = [c for c in items(pod, "initContainers") if isinstance(c, Mapping)]
    sidecars = [c for c in inits if lookup(c, "restartPolicy") == "Always"]
    app = [c for c in items(pod, "containers") if isinstance(c, Mapping)] + sidecars
    init = [c for c in inits if not any(c is s for s in sidecars)]
    cpu = max([sum((Decimal(one(c, "cpu")) for c in app), Decimal(0)), *(Decimal(one(c, "cpu")) for c in init)])
    memory = max([sum((int(one(c, "memory")) for c in app), 0), *(int(one(c, "memory")) for c in init)])
    return Requests(cpu, memory, complete)


@dataclass(frozen=True)
class Autoscaler:
    """A HorizontalPodAutoscaler and the workload it scales."""

    name: str
    namespace: str
    target_kind: Any
    target_name: Any
    min_replicas: Any  # int, or UNKNOWN
    max_replicas: Any  # int, None (missing) or UNKNOWN
    item: Item = field(compare=False, repr=False)


@dataclass(frozen=True)
class Workload:
    """A Deployment, StatefulSet or ReplicaSet with its requests and replica range."""

    kind: str
    name: str
    namespace: Any  # str, or UNKNOWN at preview
    service: str
    team: str
    pod_labels: Mapping[str, Any]
    requests: Requests
    replicas: Any  # spec.replicas: int, None (not set) or UNKNOWN
    autoscaler: Autoscaler | None
    item: Item = field(compare=False, repr=False)
    # An autoscaler whose target (or this workload's own name) is unknown at preview may own it.
    maybe_autoscaled: bool = False

    def _bound(self, attr: str) -> int | None:
        if self.autoscaler is None and self.maybe_autoscaled:
            return None
        if self.autoscaler is not None:
            value = getattr(self.autoscaler, attr)
        else:
            value = 1 if self.replicas is None else self.replicas
        return None if value is UNKNOWN or value is None else int(value)

    @property
    def min_replicas(self) -> int | None:
        """The autoscaler's minReplicas, else spec.replicas (default 1); None when unknown."""
        return self._bound("min_replicas")

    @property
    def max_replicas(self) -> int | None:
        """The autoscaler's maxReplicas, else spec.replicas (default 1); None when unknown."""
        return self._bound("max_replicas")


def _namespace(props: Any) -> Any:
    """``metadata.namespace``: ``default`` when unset, UNKNOWN when unknown at preview."""
    ns = lookup(props, "metadata.namespace")
    return ns if isinstance(ns, str) or ns is UNKNOWN else "default"


def _int(value: Any, default: Any = None) -> Any:
    n = number(value)
    if n is UNKNOWN:
        return UNKNOWN
    return default if n is None else int(n)


def autoscalers(resources: Iterable[Any]) -> list[Autoscaler]:
    """Every HorizontalPodAutoscaler among ``resources``."""
    out = []
    for it in normalize(resources):
        if it.type not in HPA_TYPES:
            continue
        out.append(Autoscaler(
            name=object_name(it.props, it.name), namespace=_namespace(it.props),
            target_kind=lookup(it.props, "spec.scaleTargetRef.kind"),
            target_name=lookup(it.props, "spec.scaleTargetRef.name"),
            min_replicas=_int(lookup(it.props, "spec.minReplicas"), 1),
            max_replicas=_int(lookup(it.props, "spec.maxReplicas")),
            item=it,
        ))
    return out


def workloads(resources: Iterable[Any]) -> list[Workload]:
    """Every scalable workload, joined with the autoscaler targeting it (same namespace, kind, name).

    A workload no known autoscaler targets is ``maybe_autoscaled`` when an autoscaler in its
    namespace has a target unknown at preview, or when its own name or namespace is unknown and
    some autoscaler's target matches no other workload; its replica range is then unknown.
    """
    normalized = normalize(resources)
    scalers = autoscalers(normalized)
    known = {(a.namespace, a.target_kind, a.target_name): a for a in scalers
             if all(isinstance(v, str) for v in (a.namespace, a.target_kind, a.target_name))}
    vague = [a for a in scalers if (a.namespace, a.target_kind, a.target_name) not in known]
    found = []
    for it in normalized:
        kind = SCALABLE_TYPES.get(it.type)
        pod = pod_spec(it.type, it.props) if kind else None
        if kind is None or pod is None:
            continue
        name = lookup(it.props, "metadata.name")
        found.append((it, kind, name, _namespace(it.props), pod))
    matched = {(ns, kind, name) for _, kind, name, ns, _ in found if (ns, kind, name) in known}
    spare = [a for key, a in known.items() if key not in matched]
    out = []
    for it, kind, name, namespace, pod in found:
        autoscaler = known.get((namespace, kind, name))
        unclear = name is UNKNOWN or namespace is UNKNOWN
        maybe = autoscaler is None and (
            any(a.namespace in (namespace, UNKNOWN) or unclear for a in vague)
            or (unclear and any(namespace in (a.namespace, UNKNOWN) for a in spare))
        )
        shown_name = name if isinstance(name, str) else it.name
        labels = _labels(it.props, "metadata.labels")
        service, team = labels.get(SERVICE_LABEL), labels.get(TEAM_LABEL)
        out.append(Workload(
            kind=kind, name=shown_name, namespace=namespace,
            service=service if isinstance(service, str) else shown_name,
            team=team if isinstance(team, str) else str(namespace),
            pod_labels=_labels(it.props, "spec.template.metadata.labels"),
            requests=pod_requests(pod),
            replicas=_int(lookup(it.props, "spec.replicas")),
            autoscaler=autoscaler,
            item=it,
            maybe_autoscaled=maybe,
        ))
    return out


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


def launch_template_of(node_group: Item, resources: list[Item]) -> Item | None:
    """The LaunchTemplate a node group uses, when it can be told.

    Its ``launchTemplate.id`` is unknown until the template exists, so the link is, in order:
    the engine's property dependencies of ``launchTemplate``; the one LaunchTemplate among its
    dependencies; a LaunchTemplate named ``<node group>-lt`` (paved's naming); a known
    ``launchTemplate.name`` equal to a template's ``name`` input; the only LaunchTemplate there is.
    """
    templates = [r for r in resources if r.type == LAUNCH_TEMPLATE]
    source = node_group.source
    by_urn = {getattr(t.source, "urn", None): t for t in templates}
    for deps in ((getattr(source, "property_dependencies", None) or {}).get("launchTemplate"),
                 getattr(source, "dependencies", None)):
        found = [by_urn[d.urn] for d in deps or [] if getattr(d, "urn", None) in by_urn]
        if len(found) == 1:
            return found[0]
    named = [t for t in templates if t.name == f"{node_group.name}-lt"]
    if len(named) == 1:
        return named[0]
    wanted = lookup(node_group.props, "launchTemplate.name")
    if isinstance(wanted, str):
        named = [t for t in templates if lookup(t.props, "name") == wanted]
        if len(named) == 1:
            return named[0]
    return templates[0] if len(templates) == 1 else None


def node_disks(props: Any, template: Item | None) -> list[Any] | None:
    """Root volume sizes (GiB) of one node: ``diskSize`` (20 when unset), or the template's EBS
    block devices; None when a template is used but not found. Entries may be UNKNOWN."""
    if lookup(props, "launchTemplate") is None:
        disk = number(lookup(props, "diskSize"))
        return [Decimal(DEFAULT_NODE_DISK_GB) if disk is None else disk]
    if template is None:
        return None
    sizes = []
    for mapping in items(template.props, "blockDeviceMappings"):
        if mapping is UNKNOWN:
            sizes.append(UNKNOWN)
        elif isinstance(mapping, Mapping) and lookup(mapping, "ebs") is not None:
            kind = lookup(mapping, "ebs.volumeType")
            size = number(lookup(mapping, "ebs.volumeSize"))
            sizes.append(UNKNOWN if kind not in (None, "gp3") or size is None else size)
    return sizes


def node_instance_types(props: Any, template: Item | None) -> list[Any] | None:
    """A node group's instance types: ``instanceTypes``, else its template's ``instanceType``,
    else t3.medium (EKS's default); None when a template is used but not found."""
    if lookup(props, "instanceTypes") is UNKNOWN:
        return [UNKNOWN]
    types = items(props, "instanceTypes")
    if types:
        return types
    if lookup(props, "launchTemplate") is None:
        return [DEFAULT_NODE_INSTANCE_TYPE]
    if template is None:
        return None
    instance = lookup(template.props, "instanceType")
    return [instance] if instance is not None else [DEFAULT_NODE_INSTANCE_TYPE]


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


def memory_text(value: int | Decimal) -> str:
    """Bytes as a Kubernetes quantity a person reads: ``16Gi``, ``6912Mi``, else bytes."""
    value = int(value)
    for unit, factor in (("Gi", 2**30), ("Mi", 2**20), ("Ki", 2**10)):
        if value and value % factor == 0:
            return f"{value // factor}{unit}"
    return str(value)


def shown(value: Any) -> str:
    """A raw input value for a message: numbers without a trailing ``.0`` (the engine sends floats)."""
    if isinstance(value, (int, float, Decimal)) and not isinstance(value, bool):
        return format(Decimal(str(value)).normalize(), "f")
    return str(value)
