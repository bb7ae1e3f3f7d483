"""PAVED-SEC-040: the EKS API server is reached privately; a public endpoint only from an allow-list."""

from __future__ import annotations

import ipaddress

from policies.framework import Rule
from paved.resources import EKS_CLUSTER, UNKNOWN, items, lookup
from policies.rules.aws.aws_common import subject


def _opens_to_world(cidr: object) -> bool:
    if not isinstance(cidr, str):
        return False  # UNKNOWN: an allow-list computed at preview counts as set
    try:
        return ipaddress.ip_network(cidr.strip(), strict=False).prefixlen == 0
    except ValueError:
        return False  # not a CIDR at all: AWS rejects it


def validate(args, report) -> None:
    who = subject(args.resource_type, args.name)
    config = args.get_config()
    private = lookup(args.props, "vpcConfig.endpointPrivateAccess", False)
    if private is not UNKNOWN and private is not True:
        report(f"{who} must enable the private API endpoint (vpcConfig.endpointPrivateAccess: true).")
    public = lookup(args.props, "vpcConfig.endpointPublicAccess", True)  # EKS defaults it to true
    if public is False:
        return
    if not config["allowPublicAccess"]:
        report(f"{who} must disable the public API endpoint (vpcConfig.endpointPublicAccess: false).")
        return
    cidrs = lookup(args.props, "vpcConfig.publicAccessCidrs")
    if cidrs is UNKNOWN:
        return
    listed = items(args.props, "vpcConfig.publicAccessCidrs")
    if not listed:
        report(f"{who} must restrict its public API endpoint with vpcConfig.publicAccessCidrs "
               f"(EKS opens it to 0.0.0.0/0 by default) or disable it.")
    for cidr in listed:
        if _opens_to_world(cidr):
            report(f"{who} must not open its public API endpoint to {cidr.strip()}.")


RULE = Rule(
    id="PAVED-SEC-040",
    name="eks-private-endpoint",
    description=(
        "Checks whether an EKS cluster enables the private API endpoint and, if the public endpoint "
        "stays on (EKS's default), restricts it to an explicit CIDR allow-list without 0.0.0.0/0 or ::/0. "
        "An unknown endpointPublicAccess counts as public."
    ),
    severity="critical",
    remediation=(
        "Set vpcConfig.endpointPrivateAccess: true and vpcConfig.endpointPublicAccess: false. Where a "
        "public endpoint is allowed (config allowPublicAccess), list the CI/VPN egress ranges in "
        "vpcConfig.publicAccessCidrs; never 0.0.0.0/0."
    ),
    anchors=("CKV_AWS_38", "CKV_AWS_39", "CIS EKS 5.4.1", "CIS EKS 5.4.2",
             "PCRP aws-eks-cluster-disallow-api-endpoint-public-access", "NSA Control plane hardening"),
    validate=validate,
    resource_types=frozenset({EKS_CLUSTER}),
    config={
        "allowPublicAccess": {
            "type": "boolean", "default": True,
            "description": "Whether a public endpoint limited by publicAccessCidrs is acceptable (false: private only).",
        },
    },
    enforcement="mandatory",
)
