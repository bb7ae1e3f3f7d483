"""The AWS security rules (PAVED-SEC-040..), listed explicitly: this is the category's index."""

from __future__ import annotations

from policies.framework import Rule
from policies.rules.aws import (
    sec_040_eks_private_endpoint,
    sec_041_eks_control_plane_logs,
    sec_042_eks_secrets_encryption,
    sec_043_eks_supported_version,
    sec_044_eks_node_imdsv2,
    sec_045_eks_node_no_ssh,
    sec_046_msk_tls_in_transit,
    sec_047_msk_cmk_encryption,
    sec_048_msk_iam_auth,
    sec_049_msk_no_public_access,
    sec_050_msk_monitoring,
    sec_051_secretsmanager_cmk_encryption,
    sec_052_secretsmanager_rotation,
    sec_053_secretsmanager_third_party_rotation,
    sec_054_iam_no_wildcard_actions,
    sec_055_iam_no_wildcard_resources,
    sec_056_iam_scoped_trust,
    sec_057_kms_key_rotation,
    sec_058_kms_key_policy_safety,
    sec_059_aws_required_tags,
)

RULES: tuple[Rule, ...] = (
    sec_040_eks_private_endpoint.RULE,
    sec_041_eks_control_plane_logs.RULE,
    sec_042_eks_secrets_encryption.RULE,
    sec_043_eks_supported_version.RULE,
    sec_044_eks_node_imdsv2.RULE,
    sec_045_eks_node_no_ssh.RULE,
    sec_046_msk_tls_in_transit.RULE,
    sec_047_msk_cmk_encryption.RULE,
    sec_048_msk_iam_auth.RULE,
    sec_049_msk_no_public_access.RULE,
    sec_050_msk_monitoring.RULE,
    sec_051_secretsmanager_cmk_encryption.RULE,
    sec_052_secretsmanager_rotation.RULE,
    sec_053_secretsmanager_third_party_rotation.RULE,
    sec_054_iam_no_wildcard_actions.RULE,
    sec_055_iam_no_wildcard_resources.RULE,
    sec_056_iam_scoped_trust.RULE,
    sec_057_kms_key_rotation.RULE,
    sec_058_kms_key_policy_safety.RULE,
    sec_059_aws_required_tags.RULE,
)
