"""PAVED-COST-007: MSK brokers of an allowed type, count and storage size."""

from __future__ import annotations

from decimal import Decimal

from paved.resources import DEFAULT_MSK_VOLUME_GB, MSK_CLUSTER, UNKNOWN, lookup, number
from policies.framework import Rule
from policies.rules.aws.aws_common import subject

EBS = "brokerNodeGroupInfo.storageInfo.ebsStorageInfo"


def validate(args, report) -> None:
    config = args.get_config()
    who = subject(args.resource_type, args.name)
    allowed = [str(t) for t in config["allowedBrokerTypes"]]
    broker = lookup(args.props, "brokerNodeGroupInfo.instanceType")
    if isinstance(broker, str) and broker not in allowed:
        report(f"{who} must use a broker type from {', '.join(allowed)} (not {broker}).")
    count = number(lookup(args.props, "numberOfBrokerNodes"))
    if isinstance(count, Decimal) and count > Decimal(str(config["maxBrokers"])):
        report(f"{who} must run at most {config['maxBrokers']} brokers (numberOfBrokerNodes is {count:f}).")
    volume = number(lookup(args.props, f"{EBS}.volumeSize"))
    shown = "unset, which means 1000" if volume is None else None
    volume = Decimal(DEFAULT_MSK_VOLUME_GB) if volume is None else volume
    if isinstance(volume, Decimal) and volume > Decimal(str(config["maxBrokerStorageGiB"])):
        report(f"{who} must give each broker at most {config['maxBrokerStorageGiB']} GiB of storage "
               f"(volumeSize is {shown or format(volume, 'f')}).")
    throughput = lookup(args.props, f"{EBS}.provisionedThroughput.enabled")
    if not config["allowProvisionedThroughput"] and (throughput is True or throughput is UNKNOWN):
        report(f"{who} must not enable provisioned storage throughput in this environment "
               f"(provisionedThroughput.enabled is {'unknown at preview' if throughput is UNKNOWN else 'true'}).")


RULE = Rule(
    id="PAVED-COST-007",
    name="msk-broker-sizing",
    description=(
        "Checks whether an MSK cluster's brokerNodeGroupInfo.instanceType is in allowedBrokerTypes, "
        "numberOfBrokerNodes is at most maxBrokers, ebsStorageInfo.volumeSize (1000 when unset) is at most "
        "maxBrokerStorageGiB, and provisioned storage throughput is enabled only where allowed. Unknown sizes and "
        "types pass; unknown provisioned throughput is reported where it is not allowed."
    ),
    severity="medium",
    remediation=(
        "Change the stack's paved:kafka settings (brokerType, brokersPerZone, volumeSizeGib) to the environment's "
        "limits in policies/config/<env>.json; every allowed broker type needs a price in paved/data/prices.json."
    ),
    anchors=("COST-MSK-001",),
    validate=validate,
    resource_types=frozenset({MSK_CLUSTER}),
    config={
        "allowedBrokerTypes": {
            "type": "array", "items": {"type": "string"}, "default": ["kafka.m5.large"],
            "description": "MSK broker instance types allowed.",
        },
        "maxBrokers": {"type": "integer", "minimum": 1, "default": 6,
                       "description": "Highest numberOfBrokerNodes."},
        "maxBrokerStorageGiB": {"type": "integer", "minimum": 1, "default": 1000,
                                "description": "Largest EBS volume per broker (volumeSize), in GiB."},
        "allowProvisionedThroughput": {"type": "boolean", "default": False,
                                       "description": "Whether provisioned storage throughput may be enabled."},
    },
    enforcement="mandatory",
)
