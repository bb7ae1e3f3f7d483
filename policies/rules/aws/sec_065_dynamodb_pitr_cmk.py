"""PAVED-SEC-065: a DynamoDB table has point-in-time recovery and a customer-managed key."""

from __future__ import annotations

from policies.framework import Rule
from paved.resources import DYNAMODB_TABLE, is_off, is_set
from policies.rules.aws.aws_common import subject


def validate(args, report) -> None:
    who = subject(args.resource_type, args.name)
    if is_off(args.props, "pointInTimeRecovery.enabled"):
        report(f"{who} must enable point-in-time recovery (pointInTimeRecovery.enabled: true).")
    if is_off(args.props, "serverSideEncryption.enabled") or not is_set(args.props, "serverSideEncryption.kmsKeyArn"):
        report(f"{who} must encrypt with a customer-managed KMS key (serverSideEncryption.enabled and kmsKeyArn), "
               f"not the AWS-owned key.")


RULE = Rule(
    id="PAVED-SEC-065",
    name="dynamodb-pitr-cmk",
    description=(
        "Checks whether a DynamoDB table enables pointInTimeRecovery and serverSideEncryption with a kmsKeyArn "
        "(a customer-managed key); an ARN computed at preview counts as set."
    ),
    severity="high",
    remediation="Declare the table in the catalog (`data.tables`): components/data.py sets both.",
    anchors=("CKV_AWS_28", "CKV_AWS_119"),
    validate=validate,
    resource_types=frozenset({DYNAMODB_TABLE}),
    enforcement="mandatory",
)
