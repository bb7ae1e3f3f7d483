"""PAVED-SEC-057: symmetric KMS keys rotate their key material at least yearly."""

from __future__ import annotations

from policies.framework import Rule
from paved.resources import KMS_KEY, UNKNOWN, is_set, lookup
from policies.rules.aws.aws_common import subject


def validate(args, report) -> None:
    who = subject(args.resource_type, args.name)
    spec = lookup(args.props, "customerMasterKeySpec", "SYMMETRIC_DEFAULT")
    if isinstance(spec, str) and spec != "SYMMETRIC_DEFAULT":
        return  # AWS rotates only symmetric encryption keys
    if is_set(args.props, "customKeyStoreId") or is_set(args.props, "xksKeyId"):
        return  # nor keys in a custom (CloudHSM / external) key store
    enabled = lookup(args.props, "enableKeyRotation")
    if enabled is not UNKNOWN and enabled is not True:
        report(f"{who} must enable automatic key rotation (enableKeyRotation: true).")
        return
    period = lookup(args.props, "rotationPeriodInDays")
    limit = args.get_config()["maxRotationPeriodDays"]
    if isinstance(period, (int, float)) and not isinstance(period, bool) and period > limit:
        report(f"{who} must rotate at least every {limit:g} days (rotationPeriodInDays), not every {period:g}.")


RULE = Rule(
    id="PAVED-SEC-057",
    name="kms-key-rotation",
    description=(
        "Checks whether a symmetric KMS key enables automatic rotation (enableKeyRotation true) with "
        "rotationPeriodInDays at most maxRotationPeriodDays; asymmetric, HMAC and custom key store keys, which "
        "AWS cannot rotate, are skipped."
    ),
    severity="medium",
    remediation="Set enableKeyRotation: true (rotationPeriodInDays defaults to 365; 90 to 365 is accepted).",
    anchors=("CKV_AWS_7", "AWSGuard cmk-backing-key-rotation-enabled", "PCRP aws-kms-key-enable-key-rotation"),
    validate=validate,
    resource_types=frozenset({KMS_KEY}),
    config={
        "maxRotationPeriodDays": {
            "type": "number", "default": 365,
            "description": "Longest rotationPeriodInDays accepted.",
        },
    },
    enforcement="mandatory",
)
