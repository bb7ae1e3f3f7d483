"""PAVED-COST-005: node groups use allowed instance types, bounded sizes and spot only where allowed."""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal

from paved.resources import (
    DEFAULT_NODE_DISK_GB,
    DEFAULT_NODE_INSTANCE_TYPE,
    LAUNCH_TEMPLATE,
    NODE_GROUP,
    UNKNOWN,
    items,
    lookup,
    number,
)
from policies.framework import Rule
from policies.rules.aws.aws_common import subject


def _node_group(args, config, who, report) -> None:
    allowed = [str(t) for t in config["allowedInstanceTypes"]]
    if lookup(args.props, "instanceTypes") is not UNKNOWN:
        types = items(args.props, "instanceTypes")
        if not types and lookup(args.props, "launchTemplate") is None:
            types = [DEFAULT_NODE_INSTANCE_TYPE]  # what EKS picks when none is given
        bad = [t for t in types if isinstance(t, str) and t not in allowed]
        if bad:
            report(f"{who} must use instance types from {', '.join(allowed)} (not {', '.join(bad)}).")
    top = number(lookup(args.props, "scalingConfig.maxSize"))
    if isinstance(top, Decimal) and top > Decimal(str(config["maxNodes"])):
        report(f"{who} must scale to at most {config['maxNodes']} nodes (scalingConfig.maxSize is {top:f}).")
    capacity = lookup(args.props, "capacityType")
    if not config["allowSpot"] and (capacity == "SPOT" or capacity is UNKNOWN):
        shown = "unknown at preview" if capacity is UNKNOWN else capacity
        report(f"{who} must use ON_DEMAND capacity in this environment (capacityType is {shown}).")
    if lookup(args.props, "launchTemplate") is None:
        disk = number(lookup(args.props, "diskSize"))
        disk = Decimal(DEFAULT_NODE_DISK_GB) if disk is None else disk
        if isinstance(disk, Decimal) and disk > Decimal(str(config["maxDiskSizeGiB"])):
            report(f"{who} must give nodes at most {config['maxDiskSizeGiB']} GiB of disk (diskSize is {disk:f}).")


def _launch_template(args, config, who, report) -> None:
    allowed = [str(t) for t in config["allowedInstanceTypes"]]
    instance = lookup(args.props, "instanceType")
    if isinstance(instance, str) and instance not in allowed:
        report(f"{who} must use an instance type from {', '.join(allowed)} (not {instance}).")
    for mapping in items(args.props, "blockDeviceMappings"):
        size = number(lookup(mapping, "ebs.volumeSize")) if isinstance(mapping, Mapping) else None
        if isinstance(size, Decimal) and size > Decimal(str(config["maxDiskSizeGiB"])):
            device = lookup(mapping, "deviceName", "?")
            report(f"{who} must give nodes at most {config['maxDiskSizeGiB']} GiB of disk "
                   f"(block device {device} has volumeSize {size:f}).")


def validate(args, report) -> None:
    config = args.get_config()
    who = subject(args.resource_type, args.name)
    if args.resource_type == NODE_GROUP:
        _node_group(args, config, who, report)
    else:
        _launch_template(args, config, who, report)


RULE = Rule(
    id="PAVED-COST-005",
    name="node-group-sizing",
    description=(
        "Checks whether an EKS managed node group's instanceTypes (t3.medium when unset) are all in "
        "allowedInstanceTypes, scalingConfig.maxSize is at most maxNodes, and capacityType is not SPOT unless "
        "allowSpot; and whether node disks (a node group's diskSize, 20 when unset, or a launch template's EBS "
        "volumeSize) are at most maxDiskSizeGiB and a launch template's instanceType is allowed. Unknown sizes and "
        "types pass; an unknown capacityType is reported where spot is not allowed."
    ),
    severity="medium",
    remediation=(
        "Change the node group in the stack's paved:cluster.nodeGroups (instanceTypes, maxSize, diskSizeGib, "
        "capacityType) to fit the environment's limits in policies/config/<env>.json; every allowed type needs a "
        "price in paved/data/prices.json for `paved cost` and the budget rule."
    ),
    anchors=("COST-EKS-001",),
    validate=validate,
    resource_types=frozenset({NODE_GROUP, LAUNCH_TEMPLATE}),
    config={
        "allowedInstanceTypes": {
            "type": "array", "items": {"type": "string"}, "default": ["m6i.large", "m5.large"],
            "description": "EC2 instance types node groups may use.",
        },
        "maxNodes": {"type": "integer", "minimum": 1, "default": 10,
                     "description": "Highest scalingConfig.maxSize of a node group."},
        "maxDiskSizeGiB": {"type": "integer", "minimum": 1, "default": 100,
                           "description": "Largest node root volume (diskSize or launch template volumeSize), in GiB."},
        "allowSpot": {"type": "boolean", "default": False,
                      "description": "Whether capacityType SPOT is allowed."},
    },
    enforcement="mandatory",
)
