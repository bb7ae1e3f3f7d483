"""PAVED-SEC-041: every EKS control-plane log type goes to CloudWatch."""

from __future__ import annotations

from policies.framework import Rule
from paved.resources import EKS_CLUSTER, UNKNOWN, items, lookup
from policies.rules.aws.aws_common import subject

LOG_TYPES = ["api", "audit", "authenticator", "controllerManager", "scheduler"]


def validate(args, report) -> None:
    if lookup(args.props, "enabledClusterLogTypes") is UNKNOWN:
        return
    enabled = items(args.props, "enabledClusterLogTypes")
    if UNKNOWN in enabled:
        return  # a computed entry may be any of the missing ones
    missing = [t for t in args.get_config()["requiredLogTypes"] if t not in enabled]
    if missing:
        report(f"{subject(args.resource_type, args.name)} must enable the control-plane log types "
               f"{', '.join(missing)} (enabledClusterLogTypes).")


RULE = Rule(
    id="PAVED-SEC-041",
    name="eks-control-plane-logs",
    description=(
        "Checks whether an EKS cluster sends all five control-plane log types (api, audit, authenticator, "
        "controllerManager, scheduler) to CloudWatch through enabledClusterLogTypes."
    ),
    severity="medium",
    remediation=(
        'Set enabledClusterLogTypes: ["api", "audit", "authenticator", "controllerManager", "scheduler"] and '
        "give the /aws/eks/<cluster>/cluster log group a retention and a KMS key."
    ),
    anchors=("CKV_AWS_37", "CIS EKS 2.1.1", "CIS EKS 2.1.2", "NSA Audit logging"),
    validate=validate,
    resource_types=frozenset({EKS_CLUSTER}),
    config={
        "requiredLogTypes": {
            "type": "array", "items": {"type": "string"}, "default": LOG_TYPES,
            "description": "Control-plane log types that must be enabled.",
        },
    },
    enforcement="mandatory",
)
