"""PAVED-SEC-045: no SSH into EKS managed nodes."""

from __future__ import annotations

from policies.framework import Rule
from paved.resources import NODE_GROUP, UNKNOWN, is_set, lookup
from policies.rules.aws.aws_common import subject


def validate(args, report) -> None:
    remote = lookup(args.props, "remoteAccess")
    if remote is UNKNOWN or is_set(args.props, "remoteAccess"):
        report(f"{subject(args.resource_type, args.name)} must not enable SSH (remove remoteAccess); "
               f"use SSM Session Manager.")


RULE = Rule(
    id="PAVED-SEC-045",
    name="eks-node-no-ssh",
    description=(
        "Checks whether an EKS node group leaves remoteAccess (SSH with an EC2 key pair) unset; an unknown "
        "remoteAccess is reported."
    ),
    severity="high",
    remediation=(
        "Remove remoteAccess from the node group. Reach nodes with AWS Systems Manager Session Manager "
        "(AmazonSSMManagedInstanceCore on the node role) when debugging is unavoidable."
    ),
    anchors=("CKV_AWS_100", "CIS EKS 5.4.3"),
    validate=validate,
    resource_types=frozenset({NODE_GROUP}),
    enforcement="mandatory",
)
