"""PAVED-SEC-066: a cache is encrypted at rest with a customer-managed key and requires authentication."""

from __future__ import annotations

from policies.framework import Rule
from paved.resources import SERVERLESS_CACHE, is_set
from policies.rules.aws.aws_common import subject


def validate(args, report) -> None:
    who = subject(args.resource_type, args.name)
    # ElastiCache Serverless always encrypts in transit (TLS only); at rest the key and the users are ours.
    if not is_set(args.props, "kmsKeyId"):
        report(f"{who} must encrypt at rest with a customer-managed KMS key (kmsKeyId).")
    if not is_set(args.props, "userGroupId"):
        report(f"{who} must require authentication through a user group (userGroupId); without one the default "
               f"user connects with no password.")


RULE = Rule(
    id="PAVED-SEC-066",
    name="cache-encryption-auth",
    description=(
        "Checks whether an ElastiCache Serverless cache sets kmsKeyId (at rest; in transit it is always TLS) and a "
        "userGroupId, so clients authenticate."
    ),
    severity="high",
    remediation="Declare the cache in the catalog (`data.cache`): components/data.py adds the key and an IAM user group.",
    anchors=("CKV_AWS_191", "CKV_AWS_30", "CKV_AWS_31"),
    validate=validate,
    resource_types=frozenset({SERVERLESS_CACHE}),
    enforcement="mandatory",
)
