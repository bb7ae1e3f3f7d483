"""PAVED-REL-012: RDS keeps automated backups at least the stack's minimum number of days."""

from __future__ import annotations

from decimal import Decimal

from policies.framework import Rule
from paved.resources import RDS_INSTANCE, UNKNOWN, lookup, number
from policies.rules.aws.aws_common import subject


def validate(args, report) -> None:
    minimum = int(args.get_config()["minBackupRetentionDays"])
    days = number(lookup(args.props, "backupRetentionPeriod"))
    if days is UNKNOWN:
        return
    if days is None or days < Decimal(minimum):
        report(f"{subject(args.resource_type, args.name)} must keep backups at least {minimum} days "
               f"(backupRetentionPeriod is {'unset' if days is None else format(days, 'f')}).")


RULE = Rule(
    id="PAVED-REL-012",
    name="rds-backup-retention",
    description="Checks whether an RDS DB instance's backupRetentionPeriod is at least config minBackupRetentionDays.",
    severity="high",
    remediation="Raise paved:data.backupRetentionDays in the stack (at least 7 where paved:protectStateful is set).",
    anchors=("CKV_AWS_133", "AWS Foundational Security Best Practices RDS.11"),
    validate=validate,
    resource_types=frozenset({RDS_INSTANCE}),
    config={"minBackupRetentionDays": {"type": "integer", "minimum": 1, "maximum": 35, "default": 1,
                                       "description": "Fewest days of automated backups."}},
    enforcement="mandatory",
)
