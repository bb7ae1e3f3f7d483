"""PAVED-SEC-062: an RDS database has IAM authentication on and no static master password."""

from __future__ import annotations

from policies.framework import Rule
from paved.resources import RDS_INSTANCE, is_off, is_set
from policies.rules.aws.aws_common import subject


def validate(args, report) -> None:
    who = subject(args.resource_type, args.name)
    if is_off(args.props, "iamDatabaseAuthenticationEnabled"):
        report(f"{who} must enable IAM database authentication (iamDatabaseAuthenticationEnabled: true).")
    if is_set(args.props, "password") or is_off(args.props, "manageMasterUserPassword"):
        report(f"{who} must let RDS manage the master password in Secrets Manager (manageMasterUserPassword: true, "
               f"no password input).")


RULE = Rule(
    id="PAVED-SEC-062",
    name="rds-iam-auth",
    description=(
        "Checks whether an RDS DB instance enables iamDatabaseAuthenticationEnabled and manageMasterUserPassword, "
        "and sets no password (a static password would sit in the program and in the state)."
    ),
    severity="high",
    remediation=(
        "Connect services with IAM tokens through their own role (docs/data-contract.md) and let RDS keep the "
        "master password (manageMasterUserPassword: true)."
    ),
    anchors=("CKV_AWS_161", "AWS Foundational Security Best Practices RDS.10"),
    validate=validate,
    resource_types=frozenset({RDS_INSTANCE}),
    enforcement="mandatory",
)
