"""PAVED-SEC-044: EKS nodes require IMDSv2, which only a launch template can set."""

from __future__ import annotations

from policies.framework import Rule
from paved.resources import LAUNCH_TEMPLATE, NODE_GROUP, UNKNOWN, is_set, lookup
from policies.rules.aws.aws_common import subject


def validate(args, report) -> None:
    who = subject(args.resource_type, args.name)
    if args.resource_type == NODE_GROUP:
        if not (is_set(args.props, "launchTemplate.id") or is_set(args.props, "launchTemplate.name")):
            report(f"{who} must use a launch template (launchTemplate.id or .name) that requires IMDSv2; "
                   f"without one the nodes allow IMDSv1.")
        return
    if lookup(args.props, "metadataOptions.httpEndpoint") == "disabled":
        return  # no instance metadata service at all
    tokens = lookup(args.props, "metadataOptions.httpTokens")
    if tokens is not UNKNOWN and tokens != "required":
        report(f'{who} must require IMDSv2 (metadataOptions.httpTokens: "required").')


RULE = Rule(
    id="PAVED-SEC-044",
    name="eks-node-imdsv2",
    description=(
        "Checks whether EC2 launch templates require IMDSv2 (metadataOptions.httpTokens: required, or the "
        "metadata endpoint disabled) and whether every EKS node group uses a launch template, since a node "
        "group without one cannot enforce IMDSv2."
    ),
    severity="high",
    remediation=(
        'Give each node group an aws.ec2.LaunchTemplate with metadataOptions: {httpTokens: "required", '
        "httpPutResponseHopLimit: 1} (pods then use EKS Pod Identity instead of the node role) and "
        "reference it with launchTemplate: {id: lt.id, version: lt.latest_version}."
    ),
    anchors=("CKV_AWS_79", "CIS EKS 5.4.3 (node hardening)", "AWS EKS best practices: restrict IMDS"),
    validate=validate,
    resource_types=frozenset({NODE_GROUP, LAUNCH_TEMPLATE}),
    enforcement="mandatory",
)
