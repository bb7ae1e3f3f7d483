"""PAVED-SEC-049: MSK brokers are not reachable from the internet."""

from __future__ import annotations

from policies.framework import Rule
from paved.resources import MSK_CLUSTER, lookup
from policies.rules.aws.aws_common import subject


def validate(args, report) -> None:
    kind = lookup(args.props, "brokerNodeGroupInfo.connectivityInfo.publicAccess.type", "DISABLED")
    if kind != "DISABLED":
        report(f"{subject(args.resource_type, args.name)} must disable public access "
               f'(brokerNodeGroupInfo.connectivityInfo.publicAccess.type: "DISABLED").')


RULE = Rule(
    id="PAVED-SEC-049",
    name="msk-no-public-access",
    description=(
        "Checks whether an MSK cluster leaves brokerNodeGroupInfo.connectivityInfo.publicAccess.type unset or "
        "DISABLED; SERVICE_PROVIDED_EIPS and an unknown type are reported."
    ),
    severity="critical",
    remediation=(
        "Remove connectivityInfo.publicAccess (or set type DISABLED). Reach the cluster from inside the VPC, "
        "or from other VPCs through multi-VPC private connectivity (vpcConnectivity)."
    ),
    anchors=("CKV_AWS_291", "AWS Config msk-cluster-public-access-disabled", "KICS MSK Broker Is Publicly Accessible"),
    validate=validate,
    resource_types=frozenset({MSK_CLUSTER}),
    enforcement="mandatory",
)
