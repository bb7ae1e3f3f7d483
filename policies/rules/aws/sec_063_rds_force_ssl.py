"""PAVED-SEC-063: PostgreSQL on RDS refuses connections without TLS (rds.force_ssl = 1)."""

from __future__ import annotations

from policies.framework import Rule
from paved.resources import RDS_INSTANCE, RDS_PARAMETER_GROUP, UNKNOWN, items, lookup
from policies.rules.aws.aws_common import subject


def validate(args, report) -> None:
    who = subject(args.resource_type, args.name)
    if args.resource_type == RDS_INSTANCE:
        group = lookup(args.props, "parameterGroupName")
        if group is None or (isinstance(group, str) and group.startswith("default.")):
            report(f"{who} must use its own parameter group with rds.force_ssl = 1 (parameterGroupName), not the "
                   f"default one, which accepts plain-text connections.")
        return
    family = lookup(args.props, "family")
    if not (isinstance(family, str) and family.startswith("postgres")):
        return
    values = {str(lookup(p, "name")): lookup(p, "value") for p in items(args.props, "parameters")}
    value = values.get("rds.force_ssl")
    if value is not UNKNOWN and str(value) != "1":
        report(f"{who} must set rds.force_ssl to 1, so the database refuses connections without TLS.")


RULE = Rule(
    id="PAVED-SEC-063",
    name="rds-force-ssl",
    description=(
        "Checks whether every postgres* RDS parameter group sets rds.force_ssl to 1, and every RDS DB instance "
        "names a parameter group of its own (a default.* group does not force TLS)."
    ),
    severity="high",
    remediation="Use the parameter group components/data.py builds (rds.force_ssl = 1), and PGSSLMODE=verify-full.",
    anchors=("CKV2_AWS_69", "AWS Foundational Security Best Practices RDS.36"),
    validate=validate,
    resource_types=frozenset({RDS_INSTANCE, RDS_PARAMETER_GROUP}),
    enforcement="mandatory",
)
