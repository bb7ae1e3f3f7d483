"""PAVED-SEC-046: MSK traffic is TLS only, client to broker and broker to broker."""

from __future__ import annotations

from policies.framework import Rule
from paved.resources import MSK_CLUSTER, UNKNOWN, lookup
from policies.rules.aws.aws_common import subject


def validate(args, report) -> None:
    who = subject(args.resource_type, args.name)
    client = lookup(args.props, "encryptionInfo.encryptionInTransit.clientBroker", "TLS")  # AWS default
    if client is not UNKNOWN and client != "TLS":
        report(f'{who} must accept only TLS from clients (encryptionInfo.encryptionInTransit.clientBroker: '
               f'"TLS", not {client}).')
    in_cluster = lookup(args.props, "encryptionInfo.encryptionInTransit.inCluster")
    if in_cluster is False or in_cluster is UNKNOWN:
        report(f"{who} must encrypt traffic between brokers (encryptionInfo.encryptionInTransit.inCluster: true).")


RULE = Rule(
    id="PAVED-SEC-046",
    name="msk-tls-in-transit",
    description=(
        "Checks whether an MSK cluster encrypts data in transit: clientBroker is TLS (unset means TLS, the "
        "AWS default; TLS_PLAINTEXT and PLAINTEXT fail) and inCluster is not false (an unknown inCluster "
        "is reported)."
    ),
    severity="high",
    remediation=(
        'Set encryptionInfo.encryptionInTransit: {clientBroker: "TLS", inCluster: true}; clients connect to '
        "the TLS/IAM bootstrap brokers (port 9098)."
    ),
    anchors=("CKV_AWS_81",),
    validate=validate,
    resource_types=frozenset({MSK_CLUSTER}),
    enforcement="mandatory",
)
