"""PAVED-SEC-052: every secret we can rotate is rotated at least every 90 days (stack rule)."""

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
        if secret.resource_type != SECRET or is_third_party(secret.props):
            continue
        must = rotation_problem(rotations.get(secret.urn, []), max_days)
        if must:
            report(f"{subject(secret.resource_type, secret.name)} must {must}.", secret.urn)


RULE = Rule(
    id="PAVED-SEC-052",
    name="secretsmanager-rotation",
    description=(
        "Checks whether every Secrets Manager secret in the stack has a SecretRotation (linked through its "
        "secretId) that rotates it at least every maxRotationDays days. Secrets tagged "
        f"{THIRD_PARTY_TAG}: {THIRD_PARTY_VALUE} are left to the advisory PAVED-SEC-053."
    ),
    severity="medium",
    remediation=(
        "Add an aws.secretsmanager.SecretRotation with secretId: secret.id, a rotationLambdaArn and "
        "rotationRules: {automaticallyAfterDays: 30}. A vendor-issued value (an API key) that no Lambda of ours "
        f"can rotate is marked with the tag {THIRD_PARTY_TAG}: {THIRD_PARTY_VALUE} on the Secret, which moves "
        "it to PAVED-SEC-053 (advisory)."
    ),
    anchors=("CKV_AWS_304", "CKV2_AWS_57"),
    validate_stack=validate_stack,
    config={
        "maxRotationDays": {
            "type": "number", "default": 90,
            "description": "Longest rotation period accepted, in days.",
        },
    },
    enforcement="mandatory",
)
