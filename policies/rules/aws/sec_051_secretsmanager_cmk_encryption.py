"""PAVED-SEC-051: Secrets Manager secrets are encrypted with a customer-managed KMS key."""

from __future__ import annotations

from policies.framework import Rule
from paved.resources import SECRET, is_set, lookup
from policies.rules.aws.aws_common import subject

AWS_MANAGED = "alias/aws/secretsmanager"


def validate(args, report) -> None:
    who = subject(args.resource_type, args.name)
    key = lookup(args.props, "kmsKeyId")
    if not is_set(args.props, "kmsKeyId"):
        report(f"{who} must be encrypted with a customer-managed KMS key (kmsKeyId).")
    elif isinstance(key, str) and key.strip().endswith(AWS_MANAGED):
        report(f"{who} must use a customer-managed KMS key, not the AWS managed {AWS_MANAGED}.")


RULE = Rule(
    id="PAVED-SEC-051",
    name="secretsmanager-cmk-encryption",
    description=(
        "Checks whether a Secrets Manager secret sets kmsKeyId to a customer-managed key (not unset and not "
        "alias/aws/secretsmanager); a key id computed at preview counts as set."
    ),
    severity="medium",
    remediation=(
        "Set kmsKeyId to the platform's secrets KMS key (key.arn); its key policy then decides who may "
        "decrypt, including across accounts."
    ),
    anchors=("CKV_AWS_149", "PCRP aws-secretsmanager-secret-configure-customer-managed-key"),
    validate=validate,
    resource_types=frozenset({SECRET}),
    enforcement="mandatory",
)
