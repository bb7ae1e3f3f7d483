"""PAVED-REL-014: in prod an RDS database has a standby in a second zone."""

from __future__ import annotations

from policies.framework import Rule
from paved.resources import RDS_INSTANCE, is_off
from policies.rules.aws.aws_common import subject


def validate(args, report) -> None:
    if not args.get_config()["requireMultiAz"]:
        return
    if is_off(args.props, "multiAz"):
        report(f"{subject(args.resource_type, args.name)} must run multi-AZ (multiAz: true) in this environment.")


RULE = Rule(
    id="PAVED-REL-014",
    name="rds-multi-az",
    description="Checks whether an RDS DB instance sets multiAz where config requireMultiAz is true (prod).",
    severity="high",
    remediation="Set paved:data.multiAz: true in the stack.",
    anchors=("CKV_AWS_157", "AWS Foundational Security Best Practices RDS.5"),
    validate=validate,
    resource_types=frozenset({RDS_INSTANCE}),
    config={"requireMultiAz": {"type": "boolean", "default": False,
                               "description": "Whether databases must have a standby in another zone."}},
    enforcement="mandatory",
)
