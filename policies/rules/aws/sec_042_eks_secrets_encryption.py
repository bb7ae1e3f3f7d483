"""PAVED-SEC-042: Kubernetes Secrets in etcd are envelope-encrypted with a customer-managed KMS key."""

from __future__ import annotations

from policies.framework import Rule
from paved.resources import EKS_CLUSTER, UNKNOWN, is_set, items, lookup
from policies.rules.aws.aws_common import subject


def validate(args, report) -> None:
    who = subject(args.resource_type, args.name)
    if lookup(args.props, "encryptionConfig.resources") is not UNKNOWN:
        resources = items(args.props, "encryptionConfig.resources")
        if "secrets" not in resources and UNKNOWN not in resources:
            report(f'{who} must envelope-encrypt Kubernetes secrets (encryptionConfig.resources: ["secrets"]).')
    if not is_set(args.props, "encryptionConfig.provider.keyArn"):
        report(f"{who} must encrypt secrets with a customer-managed KMS key (encryptionConfig.provider.keyArn).")


RULE = Rule(
    id="PAVED-SEC-042",
    name="eks-secrets-encryption",
    description=(
        "Checks whether an EKS cluster envelope-encrypts Kubernetes Secrets: encryptionConfig.resources "
        'contains "secrets" and encryptionConfig.provider.keyArn names a KMS key (an ARN computed at '
        "preview counts as set)."
    ),
    severity="high",
    remediation=(
        'Create an aws.kms.Key with rotation enabled and set encryptionConfig: {resources: ["secrets"], '
        "provider: {keyArn: key.arn}}. Encryption cannot be removed once enabled."
    ),
    anchors=("CKV_AWS_58", "CIS EKS 5.3.1", "PCRP aws-eks-cluster-enable-cluster-encryption-config", "NSA Secrets"),
    validate=validate,
    resource_types=frozenset({EKS_CLUSTER}),
    enforcement="mandatory",
)
