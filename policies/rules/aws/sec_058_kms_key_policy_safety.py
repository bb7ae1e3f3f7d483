"""PAVED-SEC-058: KMS keys keep the key-policy lockout check, trust no wildcard, and say what they are for."""

from __future__ import annotations

from policies.framework import Rule
from paved.resources import KMS_KEY, UNKNOWN, is_set, lookup
from policies.rules.aws.aws_common import parse_document, statements, subject, wildcard_principal


def validate(args, report) -> None:
    who = subject(args.resource_type, args.name)
    bypass = lookup(args.props, "bypassPolicyLockoutSafetyCheck")
    if bypass is True or bypass is UNKNOWN:
        report(f"{who} must not bypass the key policy lockout safety check "
               f"(bypassPolicyLockoutSafetyCheck: false).")
    if not is_set(args.props, "description"):
        report(f"{who} must have a description saying what it encrypts.")
    for statement in statements(parse_document(lookup(args.props, "policy")), "policy"):
        if statement.allows and wildcard_principal(statement):
            report(f'{who} must not grant Principal "*" in its key policy ({statement.where}).')


RULE = Rule(
    id="PAVED-SEC-058",
    name="kms-key-policy-safety",
    description=(
        "Checks whether a KMS key leaves bypassPolicyLockoutSafetyCheck off (an unknown value is reported), "
        'has a description, and has no Allow statement for Principal "*" in its key policy.'
    ),
    severity="high",
    remediation=(
        "Remove bypassPolicyLockoutSafetyCheck, set a description (\"paved prod: EKS secrets envelope "
        "encryption\"), and grant named principals in the key policy: the account root for IAM delegation, "
        "the service roles that use the key, with kms:ViaService conditions where a service uses it."
    ),
    anchors=("CKV_AWS_33", "CKV2_AWS_64", "CKV_AWS_227", "PCRP aws-kms-key-disallow-bypass-policy-lockout-safety-check",
             "PCRP aws-kms-key-missing-description"),
    validate=validate,
    resource_types=frozenset({KMS_KEY}),
    enforcement="mandatory",
)
