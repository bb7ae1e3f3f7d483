"""PAVED-REL-008: MSK brokers are spread evenly over its zones, enough to survive losing one."""

from __future__ import annotations

from decimal import Decimal

from paved.resources import MSK_CLUSTER, UNKNOWN, items, lookup, number
from policies.framework import Rule
from policies.rules.aws.aws_common import subject


def validate(args, report) -> None:
    who = subject(args.resource_type, args.name)
    floor = int(args.get_config()["minBrokers"])
    count = number(lookup(args.props, "numberOfBrokerNodes"))
    if not isinstance(count, Decimal):
        return  # unknown at preview (or missing: the provider requires it)
    if count < floor:
        report(f"{who} must run at least {floor} brokers (numberOfBrokerNodes is {count:f}).")
    if lookup(args.props, "brokerNodeGroupInfo.clientSubnets") is UNKNOWN:
        return
    zones = len(items(args.props, "brokerNodeGroupInfo.clientSubnets"))
    if zones and count % zones != 0:
        report(f"{who} must run a number of brokers that is a multiple of its {zones} client subnets, one per zone "
               f"(numberOfBrokerNodes is {count:f}).")


RULE = Rule(
    id="PAVED-REL-008",
    name="msk-brokers-per-zone",
    description=(
        "Checks whether an MSK cluster's numberOfBrokerNodes is a multiple of the number of "
        "brokerNodeGroupInfo.clientSubnets (one subnet per zone) and at least minBrokers. Values unknown at "
        "preview pass."
    ),
    severity="high",
    remediation=(
        "Set paved:kafka.brokersPerZone (numberOfBrokerNodes = brokers per zone x zones); in prod use 3 zones so "
        "topics with replication factor 3 and min.insync.replicas 2 survive a zone outage."
    ),
    anchors=("REL-MSK-001",),
    validate=validate,
    resource_types=frozenset({MSK_CLUSTER}),
    config={
        "minBrokers": {"type": "integer", "minimum": 1, "default": 3,
                       "description": "Fewest brokers an MSK cluster may run."},
    },
    enforcement="mandatory",
)
