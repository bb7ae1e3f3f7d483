"""PAVED-COST-008: the stack runs no more NAT gateways than the environment needs."""

from __future__ import annotations

from paved.cost.output import money
from paved.cost.prices import load_prices
from paved.resources import NAT_GATEWAY
from policies.framework import Rule


def validate_stack(args, report) -> None:
    cap = int(args.get_config()["maxNatGateways"])
    nats = [r for r in args.resources if r.resource_type == NAT_GATEWAY]
    if len(nats) <= cap:
        return
    prices = load_prices()
    monthly = prices.get("natGateway", "NAT gateway").value * prices.hours_per_month
    names = ", ".join(r.name for r in nats)
    for extra in nats[cap:]:
        report(f"NAT gateway {extra.name} must go: the stack may run at most {cap} NAT gateway(s) and has "
               f"{len(nats)} ({names}); each costs {money(monthly)}/month before data processing.", extra.urn)


RULE = Rule(
    id="PAVED-COST-008",
    name="nat-gateway-count",
    description=(
        "Checks whether the stack has at most maxNatGateways aws:ec2/natGateway:NatGateway resources "
        "(one is enough outside prod; prod runs one per zone). Every NAT gateway past the cap is reported."
    ),
    severity="low",
    remediation=(
        "Set paved:network.natGateways to single in the stack file (one shared NAT gateway), or raise "
        "maxNatGateways in policies/config/<env>.json when the environment needs one per zone."
    ),
    anchors=("COST-NET-001",),
    validate_stack=validate_stack,
    config={
        "maxNatGateways": {"type": "integer", "minimum": 0, "default": 3,
                           "description": "Most NAT gateways the stack may run."},
    },
    enforcement="advisory",
)
