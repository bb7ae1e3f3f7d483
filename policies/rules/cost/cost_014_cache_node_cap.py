"""PAVED-COST-014: node-based caches within the environment's node type and node count caps."""

from __future__ import annotations

from decimal import Decimal

from policies.framework import Rule
from paved.resources import REPLICATION_GROUP, lookup, number
from policies.rules.aws.aws_common import subject


def validate(args, report) -> None:
    config = args.get_config()
    who = subject(args.resource_type, args.name)
    allowed = [str(t) for t in config["allowedNodeTypes"]]
    node_type = lookup(args.props, "nodeType")
    if isinstance(node_type, str) and node_type not in allowed:
        report(f"{who} must use a node type from {', '.join(allowed)} (not {node_type}).")
    count = number(lookup(args.props, "numCacheClusters"))
    if isinstance(count, Decimal) and count > Decimal(config["maxNodes"]):
        report(f"{who} must keep numCacheClusters at most {config['maxNodes']} (it is {count:f}).")


RULE = Rule(
    id="PAVED-COST-014",
    name="cache-node-cap",
    description=(
        "Checks whether an ElastiCache replication group's nodeType is in config allowedNodeTypes and its "
        "numCacheClusters (nodes) at most maxNodes."
    ),
    severity="medium",
    remediation=(
        "Set the stack's paved:data.cacheNodes to an allowed nodeType and count, or raise the cap in "
        "policies/config/<env>.json with the budget owner's approval."
    ),
    anchors=("paved cost",),
    validate=validate,
    resource_types=frozenset({REPLICATION_GROUP}),
    config={
        "allowedNodeTypes": {"type": "array", "items": {"type": "string"},
                             "default": ["cache.t4g.micro", "cache.t4g.small", "cache.t4g.medium"],
                             "description": "ElastiCache node types allowed."},
        "maxNodes": {"type": "integer", "minimum": 1, "default": 3,
                     "description": "Most nodes (primary and replicas) per cache."},
    },
    enforcement="mandatory",
)
