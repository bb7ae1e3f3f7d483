"""PAVED-REL-013: in protected stacks an RDS database has deletion protection and a final snapshot."""

from __future__ import annotations

from policies.framework import Rule
from paved.resources import RDS_INSTANCE, is_off, is_set, lookup
from policies.rules.aws.aws_common import subject


def validate(args, report) -> None:
    if not args.get_config()["requireDeletionProtection"]:
        return
    who = subject(args.resource_type, args.name)
    if is_off(args.props, "deletionProtection"):
        report(f"{who} must enable deletion protection (deletionProtection: true).")
    skip = lookup(args.props, "skipFinalSnapshot")
    if skip is True or not is_set(args.props, "finalSnapshotIdentifier"):
        report(f"{who} must take a final snapshot on delete (skipFinalSnapshot: false and a finalSnapshotIdentifier).")


RULE = Rule(
    id="PAVED-REL-013",
    name="rds-deletion-protection",
    description=(
        "Checks whether an RDS DB instance sets deletionProtection, skipFinalSnapshot false and a "
        "finalSnapshotIdentifier where config requireDeletionProtection is true (prod)."
    ),
    severity="high",
    remediation="Set paved:protectStateful: true in the stack; components/data.py then sets all three.",
    anchors=("CKV_AWS_293", "AWS Foundational Security Best Practices RDS.8"),
    validate=validate,
    resource_types=frozenset({RDS_INSTANCE}),
    config={"requireDeletionProtection": {"type": "boolean", "default": False,
                                          "description": "Whether databases must be protected from deletion."}},
    enforcement="mandatory",
)
