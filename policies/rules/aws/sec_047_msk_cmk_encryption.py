"""PAVED-SEC-047: MSK data at rest is encrypted with a customer-managed KMS key."""

from __future__ import annotations

from policies.framework import Rule
from paved.resources import MSK_CLUSTER, is_set
from policies.rules.aws.aws_common import subject


def validate(args, report) -> None:
    if not is_set(args.props, "encryptionInfo.encryptionAtRestKmsKeyArn"):
        report(f"{subject(args.resource_type, args.name)} must encrypt data at rest with a customer-managed "
               f"KMS key (encryptionInfo.encryptionAtRestKmsKeyArn).")


RULE = Rule(
    id="PAVED-SEC-047",
    name="msk-cmk-encryption",
    description=(
        "Checks whether an MSK cluster sets encryptionInfo.encryptionAtRestKmsKeyArn (a customer-managed key "
        "instead of the aws/msk managed key); an ARN computed at preview counts as set."
    ),
    severity="medium",
    remediation=(
        "Create an aws.kms.Key with rotation enabled and set encryptionInfo.encryptionAtRestKmsKeyArn: "
        "key.arn. Changing the key replaces the cluster, so set it at creation."
    ),
    anchors=("Turbot: MSK clusters should be encrypted with KMS CMK", "CKV_AWS_81 (notes the gap)"),
    validate=validate,
    resource_types=frozenset({MSK_CLUSTER}),
    enforcement="mandatory",
)
