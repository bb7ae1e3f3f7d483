"""Priced items beyond the per-resource list of :mod:`paved.cost.estimate`, and the estimate's warnings.

- Application Load Balancers: one per Ingress group (``alb.ingress.kubernetes.io/group.name``;
  an Ingress without one is its own ALB), ALB-hours plus an assumed LCU load, and the public
  IPv4 addresses of an internet-facing one.
- NAT gateway data processing, at an assumed volume per gateway.
- Data the DynamoDB interface endpoint processes (every DynamoDB request of the pods), at an
  assumed volume per endpoint.
- Public IPv4 addresses: every Elastic IP.
- Volumes the monitoring stack claims: PersistentVolumeClaims, the Prometheus and
  Alertmanager resources' volumeClaimTemplate per replica, StatefulSets' volumeClaimTemplates.

The assumptions live in ``paved/data/prices.json`` (``assumption.*``) beside the prices, with
why; each line names its assumption. Warnings: a stack region the price file has no prices
for, and pods at maximum replicas that need more than the node groups at their maximum size.
"""

from __future__ import annotations

import json
from decimal import Decimal
from functools import cache
from importlib import resources as importlib_resources

from paved.cost.output import quantity_text
from paved.cost.prices import CostError, Prices
from paved.quantity import parse_quantity
from paved.resources import (
    NAT_GATEWAY, NODE_GROUP, UNKNOWN, VPC_ENDPOINT, Item, integer, items, launch_template_of, lookup, node_instance_types, number,
)

INGRESS = "kubernetes:networking.k8s.io/v1:Ingress"
EIP = "aws:ec2/eip:Eip"
PVC = "kubernetes:core/v1:PersistentVolumeClaim"
STATEFULSET = "kubernetes:apps/v1:StatefulSet"
CLAIMING_CRS = ("kubernetes:monitoring.coreos.com/v1:Prometheus", "kubernetes:monitoring.coreos.com/v1:Alertmanager")
AWS_PROVIDER = "pulumi:providers:aws"
GIB = Decimal(2**30)


def _line(item: str, resource: str, quantity: Decimal, unit: str, price):
    from paved.cost.estimate import Line  # the estimate imports this module

    return Line(item, resource, quantity, unit, price)


def _albs(resources: list[Item]) -> dict[str, list[str]]:
    """ALB name (Ingress group, or namespace/name) → the internet-facing flags of its Ingresses."""
    albs: dict[str, list[str]] = {}
    for it in resources:
        if it.type != INGRESS or lookup(it.props, "spec.ingressClassName") not in ("alb", UNKNOWN, None):
            continue
        group = lookup(it.props, ["metadata", "annotations", "alb.ingress.kubernetes.io/group.name"])
        name = group if isinstance(group, str) else f"{lookup(it.props, 'metadata.namespace')}/{it.name}"
        scheme = lookup(it.props, ["metadata", "annotations", "alb.ingress.kubernetes.io/scheme"])
        albs.setdefault(name, []).append(scheme if isinstance(scheme, str) else "internal")
    return albs


def load_balancers(resources: list[Item], prices: Prices, lines: list, unpriced: list[str]) -> None:
    """ALB-hours, assumed LCU-hours and the public addresses of internet-facing ALBs."""
    albs = _albs(resources)
    if not albs:
        return
    names = ", ".join(sorted(albs))
    count = Decimal(len(albs))
    hours = count * prices.hours_per_month
    lcu = prices.get("assumption.albLcuPerHour", "ALB LCU assumption").value
    lines.append(_line(f"{quantity_text(count)} x Application Load Balancer", names, hours, "h",
                       prices.get("albHour", "ALB")))
    lines.append(_line(f"ALB capacity units (assumed {quantity_text(lcu)} LCU per ALB-hour)", names, hours * lcu,
                       "LCU-h", prices.get("albLcu", "ALB LCU")))
    public = [name for name, schemes in albs.items() if "internet-facing" in schemes]
    if public:
        per = prices.get("assumption.albPublicIpv4PerAlb", "ALB addresses assumption").value
        addresses = Decimal(len(public)) * per
        lines.append(_line(f"{quantity_text(addresses)} x public IPv4 address of internet-facing ALBs "
                           f"(assumed {quantity_text(per)} each)", ", ".join(sorted(public)),
                           addresses * prices.hours_per_month, "h", prices.get("publicIpv4", "public IPv4")))


def public_addresses(resources: list[Item], prices: Prices, lines: list, unpriced: list[str]) -> None:
    """Every Elastic IP is a public IPv4 address, billed hourly whether attached or idle."""
    eips = [it.name for it in resources if it.type == EIP]
    if eips:
        lines.append(_line(f"{len(eips)} x public IPv4 address (Elastic IP)", ", ".join(eips),
                           Decimal(len(eips)) * prices.hours_per_month, "h", prices.get("publicIpv4", "Elastic IP")))


def nat_data(resources: list[Item], prices: Prices, lines: list, unpriced: list[str]) -> None:
    """Data processed by the NAT gateways, at the assumed volume per gateway."""
    gateways = [it.name for it in resources if it.type == NAT_GATEWAY]
    if gateways:
        per = prices.get("assumption.natDataGBPerGatewayMonth", "NAT data assumption").value
        lines.append(_line(f"NAT data processing (assumed {quantity_text(per)} GB per gateway-month)",
                           ", ".join(gateways), Decimal(len(gateways)) * per, "GB",
                           prices.get("natDataProcessed", "NAT data processing")))


def endpoint_data(resources: list[Item], prices: Prices, lines: list, unpriced: list[str]) -> None:
    """Data processed by the DynamoDB interface endpoints, at the assumed volume per endpoint (the
    endpoint's hours per zone are priced with the other interface endpoints)."""
    endpoints = [it.name for it in resources if it.type == VPC_ENDPOINT
                 and lookup(it.props, "vpcEndpointType") == "Interface"
                 and str(lookup(it.props, "serviceName")).endswith(".dynamodb")]
    if endpoints:
        per = prices.get("assumption.dynamodbEndpointDataGBPerMonth", "DynamoDB endpoint data assumption").value
        lines.append(_line(f"DynamoDB endpoint data processing (assumed {quantity_text(per)} GB per endpoint-month)",
                           ", ".join(endpoints), Decimal(len(endpoints)) * per, "GB",
                           prices.get("vpcInterfaceEndpointData", "interface endpoint data processing")))


def _storage_gb(spec) -> Decimal | None:
    value = lookup(spec, "resources.requests.storage")
    if not isinstance(value, str):
        return None
    try:
        return Decimal(parse_quantity(value)) / GIB  # EBS bills per GiB-month (AWS writes GB-month)
    except (ValueError, ArithmeticError):
        return None


def volumes(resources: list[Item], prices: Prices, lines: list, unpriced: list[str]) -> None:
    """EBS volumes the plan claims (priced as gp3, what the platform's storage class provisions)."""
    claims: list[tuple[str, Decimal]] = []
    for it in resources:
        templates: list[tuple[object, int | None]] = []
        if it.type == PVC:
            templates = [(lookup(it.props, "spec"), 1)]
        elif it.type in CLAIMING_CRS:
            template = lookup(it.props, "spec.storage.volumeClaimTemplate.spec")
            if template is not None:
                templates = [(template, integer(lookup(it.props, "spec.replicas"), 1))]
        elif it.type == STATEFULSET:
            replicas = integer(lookup(it.props, "spec.replicas"), 1)
            templates = [(lookup(t, "spec"), replicas) for t in items(it.props, "spec.volumeClaimTemplates")]
        for spec, replicas in templates:
            size = _storage_gb(spec)
            if size is None or not isinstance(replicas, int):
                unpriced.append(f"{it.type.rsplit(':', 1)[-1]} {it.name}: volume size or replicas unknown, not priced")
                continue
            claims.append((it.name, size * replicas))
    if claims:
        total = sum((gb for _, gb in claims), Decimal(0))
        lines.append(_line(f"cluster volumes ({len(claims)} claim{'s' if len(claims) != 1 else ''}, gp3)", ", ".join(n for n, _ in claims), total,
                           "GB-month", prices.get("ebsGp3", "cluster volumes")))


def region_warnings(resources: list[Item], prices: Prices) -> list[str]:
    """A loud warning when the stack's region (the AWS provider's) is not the price file's."""
    regions = {lookup(it.props, "region") for it in resources if it.type == AWS_PROVIDER}
    regions = {r for r in regions if isinstance(r, str) and r}
    return [f"WARNING: {prices.path} has prices for {prices.region} only; this stack runs in {r}, so every amount "
            f"here is {prices.region}'s list price and the real bill differs. Add {r}'s prices before relying on it."
            for r in sorted(regions - {prices.region})]


@cache
def _instance_sizes() -> dict[str, dict[str, int]]:
    text = importlib_resources.files("paved").joinpath("data", "instance_types.json").read_text(encoding="utf-8")
    return json.loads(text)["types"]


def capacity_warnings(resources: list[Item], services: list) -> list[str]:
    """Pods at maximum replicas against the node groups at their maximum size (nominal vCPU and
    memory of the instance type, before what the kubelet and system pods keep)."""
    cpu = sum((s.cpu_per_replica * s.max_replicas for s in services), Decimal(0))
    memory = sum((s.memory_gib_per_replica * s.max_replicas for s in services), Decimal(0))
    node_cpu, node_gib, unknown = Decimal(0), Decimal(0), []
    for it in resources:
        if it.type != NODE_GROUP:
            continue
        size = number(lookup(it.props, "scalingConfig.maxSize"))
        template = launch_template_of(it, resources) if lookup(it.props, "launchTemplate") is not None else None
        types = node_instance_types(it.props, template)
        spec = _instance_sizes().get(types[0]) if types and isinstance(types[0], str) else None
        if size is None or size is UNKNOWN or spec is None:
            unknown.append(it.name)
            continue
        node_cpu += size * spec["vcpu"]
        node_gib += size * Decimal(spec["memoryMiB"]) / 1024
    if unknown or not (cpu or memory):
        return []
    out = []
    for what, need, have, unit in (("CPU", cpu, node_cpu, "vCPU"), ("memory", memory, node_gib, "GiB")):
        if need > have:
            out.append(f"WARNING: the services' pods at maximum replicas request {quantity_text(need)} {unit} of {what}, "
                       f"more than the node groups hold at their maximum size ({quantity_text(have)} {unit}): "
                       "raise the node groups' maxSize or lower the services' scaling.max.")
    return out


ADDERS = (load_balancers, public_addresses, nat_data, endpoint_data, volumes)


def add(resources: list[Item], prices: Prices, lines: list, unpriced: list[str], strict: bool = True) -> None:
    """Every extra line; a price the file lacks raises CostError, or with ``strict`` False is
    listed as not priced."""
    for adder in ADDERS:
        try:
            adder(resources, prices, lines, unpriced)
        except CostError as exc:
            if strict:
                raise
            unpriced.append(f"not priced: {exc}")
