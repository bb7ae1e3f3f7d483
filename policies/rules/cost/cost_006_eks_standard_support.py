"""PAVED-COST-006: the EKS control plane stays on standard support ($0.10/h, not $0.60/h)."""

from __future__ import annotations

from paved.resources import EKS_CLUSTER, UNKNOWN, lookup
from policies.framework import Rule
from policies.rules.aws.aws_common import subject


def validate(args, report) -> None:
    support = lookup(args.props, "upgradePolicy.supportType")
    if support == "STANDARD":
        return
    if support is None:
        why = "unset, which AWS treats as EXTENDED"
    elif support is UNKNOWN:
        why = "unknown at preview"
    else:
        why = support
    report(f"{subject(args.resource_type, args.name)} must set upgradePolicy.supportType to STANDARD "
           f"(it is {why}; once standard support ends, extended support bills the control plane at 6x the "
           f"standard rate).")


RULE = Rule(
    id="PAVED-COST-006",
    name="eks-standard-support",
    description=(
        "Checks whether an EKS cluster sets upgradePolicy.supportType to STANDARD. Unset means EXTENDED in AWS, "
        "and an unknown value cannot be shown to be STANDARD, so both are reported."
    ),
    severity="medium",
    remediation=(
        "Set upgradePolicy.supportType: STANDARD on the cluster (components/) and keep kubernetesVersion inside "
        "standard support; EKS then upgrades the control plane itself when standard support ends instead of "
        "billing $0.60/h of extended support."
    ),
    anchors=("COST-EKS-002", "SEC-EKS-004", "CKV_AWS_339"),
    validate=validate,
    resource_types=frozenset({EKS_CLUSTER}),
    enforcement="mandatory",
)
