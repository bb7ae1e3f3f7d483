"""PAVED-COST-013: provisioned DynamoDB capacity within the environment's cap."""

from __future__ import annotations

from decimal import Decimal

from policies.framework import Rule
from paved.resources import DYNAMODB_TABLE, items, lookup, number
from policies.rules.aws.aws_common import subject


def validate(args, report) -> None:
    if lookup(args.props, "billingMode") != "PROVISIONED":
        return
    cap = Decimal(str(args.get_config()["maxCapacityUnits"]))
    who = subject(args.resource_type, args.name)
    places = [("", args.props)] + [(f"index {lookup(g, 'name')} ", g) for g in items(args.props, "globalSecondaryIndexes")]
    for where, node in places:
        for unit in ("readCapacity", "writeCapacity"):
            value = number(lookup(node, unit))
            if isinstance(value, Decimal) and value > cap:
                report(f"{who} must provision at most {cap:f} units ({where}{unit} is {value:f}); use on-demand "
                       f"for spiky traffic.")


RULE = Rule(
    id="PAVED-COST-013",
    name="dynamodb-capacity-cap",
    description=(
        "Checks whether a PROVISIONED DynamoDB table and each of its global secondary indexes keep readCapacity and "
        "writeCapacity at most config maxCapacityUnits (on-demand tables pass)."
    ),
    severity="medium",
    remediation="Lower data.tables[].capacity, drop it for on-demand, or raise paved:data.maxProvisionedCapacity.",
    anchors=("paved cost",),
    validate=validate,
    resource_types=frozenset({DYNAMODB_TABLE}),
    config={"maxCapacityUnits": {"type": "integer", "minimum": 1, "default": 100,
                                 "description": "Largest read or write capacity of a provisioned table or index."}},
    enforcement="mandatory",
)
