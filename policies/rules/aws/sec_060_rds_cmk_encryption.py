"""PAVED-SEC-060: an RDS database is encrypted at rest with a customer-managed KMS key."""

from __future__ import annotations

from policies.framework import Rule
from paved.resources import RDS_INSTANCE, is_off, is_set
from policies.rules.aws.aws_common import subject


def validate(args, report) -> None:
    who = subject(args.resource_type, args.name)
    if is_off(args.props, "storageEncrypted"):
        report(f"{who} must encrypt its storage (storageEncrypted: true).")
    if not is_set(args.props, "kmsKeyId"):
        report(f"{who} must encrypt with a customer-managed KMS key (kmsKeyId), not the aws/rds key.")


RULE = Rule(
    id="PAVED-SEC-060",
    name="rds-cmk-encryption",
    description=(
        "Checks whether an RDS DB instance sets storageEncrypted and a customer-managed kmsKeyId; an ARN "
        "computed at preview counts as set."
    ),
    severity="high",
    remediation=(
        "Declare the database in the catalog (`data.postgres`): components/data.py encrypts it with the service's "
        "own key. Encryption and the key cannot change after creation: a new instance restored from a snapshot "
        "copied with the key is the only way."
    ),
    anchors=("CKV_AWS_16", "CKV_AWS_157"),
    validate=validate,
    resource_types=frozenset({RDS_INSTANCE}),
    enforcement="mandatory",
)
