"""PAVED-SEC-048: MSK clients authenticate with IAM; no unauthenticated access."""

from __future__ import annotations

from policies.framework import Rule
from paved.resources import MSK_CLUSTER, UNKNOWN, lookup
from policies.rules.aws.aws_common import subject


def validate(args, report) -> None:
    who = subject(args.resource_type, args.name)
    iam = lookup(args.props, "clientAuthentication.sasl.iam")
    if iam is not UNKNOWN and iam is not True:
        report(f"{who} must enable IAM client authentication (clientAuthentication.sasl.iam: true).")
    unauthenticated = lookup(args.props, "clientAuthentication.unauthenticated")
    if unauthenticated is True or unauthenticated is UNKNOWN:
        report(f"{who} must disable unauthenticated access (clientAuthentication.unauthenticated: false).")


RULE = Rule(
    id="PAVED-SEC-048",
    name="msk-iam-auth",
    description=(
        "Checks whether an MSK cluster authenticates clients with IAM (clientAuthentication.sasl.iam true) "
        "and does not allow unauthenticated access (an unknown unauthenticated flag is reported)."
    ),
    severity="high",
    remediation=(
        "Set clientAuthentication: {sasl: {iam: true}, unauthenticated: false} and grant each service's "
        "pod role kafka-cluster:* actions scoped to the cluster, topic and group ARNs."
    ),
    anchors=("AWS Config msk-unrestricted-access-check", "Prowler kafka_cluster_unrestricted_access_disabled"),
    validate=validate,
    resource_types=frozenset({MSK_CLUSTER}),
    enforcement="mandatory",
)
