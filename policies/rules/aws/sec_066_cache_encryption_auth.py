"""PAVED-SEC-066: a cache is encrypted in transit and at rest with a customer-managed key, and requires authentication."""

from __future__ import annotations

from policies.framework import Rule
from paved.resources import REPLICATION_GROUP, SERVERLESS_CACHE, UNKNOWN, is_off, is_set, items, lookup
from policies.rules.aws.aws_common import subject


def _serverless(who: str, props, report) -> None:
    # ElastiCache Serverless always encrypts in transit (TLS only); at rest the key and the users are ours.
    if not is_set(props, "kmsKeyId"):
        report(f"{who} must encrypt at rest with a customer-managed KMS key (kmsKeyId).")
    if not is_set(props, "userGroupId"):
        report(f"{who} must require authentication through a user group (userGroupId); without one the default "
               f"user connects with no password.")


def _nodes(who: str, props, report) -> None:
    # A node-based cache (replication group) encrypts nothing unless asked, and "preferred" TLS
    # still admits plaintext clients. Unknown at preview counts as set.
    if is_off(props, "transitEncryptionEnabled"):
        report(f"{who} must encrypt in transit (transitEncryptionEnabled: true).")
    if lookup(props, "transitEncryptionMode") == "preferred":
        report(f"{who} must require TLS (transitEncryptionMode: required, not preferred).")
    if is_off(props, "atRestEncryptionEnabled"):
        report(f"{who} must encrypt at rest (atRestEncryptionEnabled: true).")
    if not is_set(props, "kmsKeyId"):
        report(f"{who} must encrypt at rest with a customer-managed KMS key (kmsKeyId).")
    if lookup(props, "userGroupIds") is not UNKNOWN and not items(props, "userGroupIds"):
        report(f"{who} must require authentication through a user group (userGroupIds); without one the default "
               f"user connects with no password.")


def validate(args, report) -> None:
    who = subject(args.resource_type, args.name)
    if args.resource_type == REPLICATION_GROUP:
        _nodes(who, args.props, report)
    else:
        _serverless(who, args.props, report)


RULE = Rule(
    id="PAVED-SEC-066",
    name="cache-encryption-auth",
    description=(
        "Checks whether an ElastiCache cache encrypts at rest with a customer-managed key (kmsKeyId) and requires "
        "authentication through a user group: an ElastiCache Serverless cache (always TLS) sets kmsKeyId and "
        "userGroupId; a node-based replication group also sets transitEncryptionEnabled with "
        "transitEncryptionMode required, atRestEncryptionEnabled and userGroupIds."
    ),
    severity="high",
    remediation="Declare the cache in the catalog (`data.cache`): components/data.py adds TLS, the key and an IAM user "
                "group, in either cache mode (paved:data.cacheMode).",
    anchors=("CKV_AWS_191", "CKV_AWS_30", "CKV_AWS_31"),
    validate=validate,
    resource_types=frozenset({SERVERLESS_CACHE, REPLICATION_GROUP}),
    enforcement="mandatory",
)
