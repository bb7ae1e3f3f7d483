"""PAVED-COST-012: RDS instance classes and storage within the environment's caps."""

from __future__ import annotations

from decimal import Decimal

from policies.framework import Rule
from paved.resources import RDS_INSTANCE, lookup, number
from policies.rules.aws.aws_common import subject


def validate(args, report) -> None:
    config = args.get_config()
    who = subject(args.resource_type, args.name)
    allowed = [str(c) for c in config["allowedInstanceClasses"]]
    cls = lookup(args.props, "instanceClass")
    if isinstance(cls, str) and cls not in allowed:
        report(f"{who} must use an instance class from {', '.join(allowed)} (not {cls}).")
    for path in ("allocatedStorage", "maxAllocatedStorage"):
        gb = number(lookup(args.props, path))
        if isinstance(gb, Decimal) and gb > Decimal(str(config["maxStorageGiB"])):
            report(f"{who} must keep {path} at most {config['maxStorageGiB']} GiB (it is {gb:f}).")


RULE = Rule(
    id="PAVED-COST-012",
    name="rds-instance-class-cap",
    description=(
        "Checks whether an RDS DB instance's instanceClass is in config allowedInstanceClasses and its "
        "allocatedStorage and maxAllocatedStorage at most maxStorageGiB."
    ),
    severity="medium",
    remediation=(
        "Pick a class from the stack's paved:data.allowedInstanceClasses (paved validate already refuses others), "
        "or raise the cap in the stack and in policies/config/<env>.json together."
    ),
    anchors=("paved cost",),
    validate=validate,
    resource_types=frozenset({RDS_INSTANCE}),
    config={
        "allowedInstanceClasses": {"type": "array", "items": {"type": "string"},
                                   "default": ["db.t4g.micro", "db.t4g.small", "db.t4g.medium"],
                                   "description": "RDS instance classes allowed."},
        "maxStorageGiB": {"type": "integer", "minimum": 20, "default": 500,
                          "description": "Largest allocated or autoscaled storage."},
    },
    enforcement="mandatory",
)
