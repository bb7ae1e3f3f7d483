"""PAVED-SEC-061: an RDS database is not publicly accessible."""

from __future__ import annotations

from policies.framework import Rule
from paved.resources import RDS_INSTANCE, UNKNOWN, is_set, lookup
from policies.rules.aws.aws_common import subject


def validate(args, report) -> None:
    who = subject(args.resource_type, args.name)
    public = lookup(args.props, "publiclyAccessible")
    if public is True or public is UNKNOWN:
        report(f"{who} must not be publicly accessible (publiclyAccessible: false).")
    if not is_set(args.props, "dbSubnetGroupName"):
        report(f"{who} must sit in a DB subnet group of private subnets (dbSubnetGroupName), not the default VPC.")


RULE = Rule(
    id="PAVED-SEC-061",
    name="rds-no-public-access",
    description=(
        "Checks whether an RDS DB instance keeps publiclyAccessible false (unknown at preview is a violation) "
        "and names a dbSubnetGroupName."
    ),
    severity="critical",
    remediation="Set publiclyAccessible: false and a subnet group of private subnets (components/data.py does both).",
    anchors=("CKV_AWS_17", "AWS Foundational Security Best Practices RDS.2"),
    validate=validate,
    resource_types=frozenset({RDS_INSTANCE}),
    enforcement="mandatory",
)
