"""PAVED-SEC-053: third-party secrets (vendor API keys) should be rotated too (stack rule, advisory)."""

from __future__ import annotations

from paved.resources import SECRET
from policies.framework import Rule
from policies.rules.aws.aws_common import (
    THIRD_PARTY_TAG,
    THIRD_PARTY_VALUE,
    is_third_party,
    rotation_problem,
    rotations_by_secret,
    subject,
)


def validate_stack(args, report) -> None:
    max_days = float(args.get_config()["maxRotationDays"])
    rotations = rotations_by_secret(args.resources)
    for secret in args.resources:
        if secret.resource_type != SECRET or not is_third_party(secret.props):
            continue
        must = rotation_problem(rotations.get(secret.urn, []), max_days)
        if must:
            report(f"{subject(secret.resource_type, secret.name)} (third-party) must {must}, or be rotated by "
                   f"hand with the vendor on that schedule.", secret.urn)


RULE = Rule(
    id="PAVED-SEC-053",
    name="secretsmanager-third-party-rotation",
    description=(
        f"Checks whether Secrets Manager secrets tagged {THIRD_PARTY_TAG}: {THIRD_PARTY_VALUE} (values issued "
        "by a vendor) have a SecretRotation of at most maxRotationDays days; advisory, since many vendors "
        "offer no rotation API."
    ),
    severity="low",
    remediation=(
        "Where the vendor has a key API, add a SecretRotation with a rotation Lambda calling it; otherwise "
        "rotate the key by hand at least every maxRotationDays days and record it. Remove the "
        f"{THIRD_PARTY_TAG} tag from secrets we generate ourselves: they fall under PAVED-SEC-052."
    ),
    anchors=("CKV_AWS_304", "CKV2_AWS_57"),
    validate_stack=validate_stack,
    config={
        "maxRotationDays": {
            "type": "number", "default": 90,
            "description": "Longest rotation period recommended, in days.",
        },
    },
    enforcement="advisory",
)
