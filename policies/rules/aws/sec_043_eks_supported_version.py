"""PAVED-SEC-043: the EKS control plane runs a Kubernetes version in EKS standard support."""

from __future__ import annotations

from policies.framework import Rule
from paved.resources import EKS_CLUSTER, UNKNOWN, lookup
from policies.rules.aws.aws_common import subject

# EKS standard support as of 2026-11 (14 months from EKS release): 1.34 until 2026-12-02,
# 1.35 until 2027-03-27, 1.36 after it. Refresh with the EKS release calendar.
SUPPORTED = ["1.34", "1.35", "1.36"]


def validate(args, report) -> None:
    who = subject(args.resource_type, args.name)
    supported = [str(v) for v in args.get_config()["supportedVersions"]]
    version = lookup(args.props, "version")
    if version is UNKNOWN:
        return
    if version is None:
        report(f"{who} must pin version to one of {', '.join(supported)} (unset means whatever is newest at "
               f"creation, then never upgraded).")
    elif str(version) not in supported:
        report(f"{who} must run a Kubernetes version in EKS standard support ({', '.join(supported)}), "
               f"not {version}.")


RULE = Rule(
    id="PAVED-SEC-043",
    name="eks-supported-version",
    description=(
        "Checks whether an EKS cluster pins version to a Kubernetes minor version listed in config "
        "supportedVersions (those in EKS standard support). upgradePolicy.supportType is a cost rule."
    ),
    severity="medium",
    remediation=(
        "Set the stack's kubernetesVersion to a version in supportedVersions and upgrade one minor version "
        "at a time (control plane, then add-ons, then node groups). Refresh supportedVersions from the EKS "
        "release calendar."
    ),
    anchors=("CKV_AWS_339", "NSA Upgrading and application security practices"),
    validate=validate,
    resource_types=frozenset({EKS_CLUSTER}),
    config={
        "supportedVersions": {
            "type": "array", "items": {"type": "string"}, "default": SUPPORTED,
            "description": "Kubernetes minor versions (\"1.35\") an EKS cluster may run.",
        },
    },
    enforcement="mandatory",
)
