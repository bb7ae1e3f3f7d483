"""KEDA: scales the services that declare ``scaling.lag`` on their Kafka consumer-group lag.

KEDA's operator reads the lag (group offsets against topic end offsets) from MSK with IAM
authentication and feeds it, through its metrics API server (``external.metrics.k8s.io``), to
the HorizontalPodAutoscaler it creates for each ScaledObject.

Whose identity reads the lag: KEDA's own. The TriggerAuthentication of a service says
``podIdentity: {provider: aws}`` with the default identity owner (``keda``), and the operator's
role may only *describe* the groups and topics of the lag-scaled services
(:func:`lag_reader_statements`). The alternatives give KEDA more: ``identityOwner: workload``
makes the operator assume the service's own role, which reads the service's secrets and may
read and commit on its topics and group; it also works only where the role is written on the
ServiceAccount (IRSA), not with an EKS Pod Identity association.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import pulumi
import pulumi_kubernetes as k8s
from pulumi_kubernetes.meta.v1 import LabelSelectorArgs, ObjectMetaArgs
from pulumi_kubernetes.networking.v1 import (
    IPBlockArgs,
    NetworkPolicyEgressRuleArgs,
    NetworkPolicyIngressRuleArgs,
    NetworkPolicyInitArgs,
    NetworkPolicyPeerArgs,
    NetworkPolicyPortArgs,
    NetworkPolicySpecArgs,
)

from components.addons import AddOnContext, ClusterAccess
from components.addons.chart import SMALL_RESOURCES, chart, disruption_budget, operator_replicas, resources, zone_spread
from components.identity import kafka_arn, role_annotations
from components.kafka import IAM_PORT as KAFKA_IAM_PORT
from components.namespace import platform_namespace
from components.security import RESTRICTED_CONTAINER, RESTRICTED_POD
from paved.naming import KEDA_NAMESPACE
from paved.stack import StackSettings

CHART = "keda"
NAMESPACE = KEDA_NAMESPACE
OPERATOR = "keda-operator"  # the chart's operator.name: Deployment, ServiceAccount and `app` label
METRICS_SERVER = f"{OPERATOR}-metrics-apiserver"
WEBHOOKS = "keda-admission-webhooks"
# Ports of the chart (templates/*/deployment.yaml): the metrics API server serves the
# kube-apiserver on 6443 (service.portHttpsTarget), the admission webhook listens on 9443, and
# the metrics server asks the operator for metric values over gRPC on 9666.
METRICS_API_PORT = 6443
WEBHOOK_PORT = 9443
OPERATOR_GRPC_PORT = 9666
# The operator caches a Kafka client per trigger and the scaled objects it watches: more memory
# than a small operator. Limits within PAVED-COST-003's ratios (CPU 4x, memory 2x).
OPERATOR_RESOURCES = resources("100m", "256Mi", "400m", "512Mi")


def values(settings: StackSettings, sa_annotations: dict | None = None) -> dict:
    """Chart values: CRDs with the chart, pinned resources, paved's restricted security contexts
    (non-root with a high user id, read-only root, no capabilities, RuntimeDefault seccomp), every
    part highly available where the stack asks (the operator elects a leader, the webhook and
    metrics server are stateless), a PDB each, and the operator's ServiceAccount annotated with
    its role in IRSA mode. The webhook keeps the chart's ``failurePolicy: Ignore``: KEDA down
    must not block a service's deploy."""
    replicas = operator_replicas(settings)
    pdb = {"maxUnavailable": 1} if replicas > 1 else {}

    def spread(app: str) -> list[dict]:
        return zone_spread(settings, {"app": app})

    return {
        "crds": {"install": True},
        "operator": {"replicaCount": replicas},
        "metricsServer": {"replicaCount": replicas},
        "webhooks": {"replicaCount": replicas, "port": WEBHOOK_PORT},
        "podDisruptionBudget": {"operator": pdb, "metricServer": pdb, "webhooks": pdb},
        "topologySpreadConstraints": {"operator": spread(OPERATOR), "metricsServer": spread(METRICS_SERVER),
                                      "webhooks": spread(WEBHOOKS)},
        "resources": {"operator": OPERATOR_RESOURCES, "metricServer": OPERATOR_RESOURCES, "webhooks": SMALL_RESOURCES},
        "serviceAccount": {"operator": {"annotations": dict(sa_annotations or {})}},
        # Scale Deployments and StatefulSets only (granted by the chart anyway), not every
        # `*/scale` of every API group (PAVED-SEC-029).
        "rbac": {"enabledCustomScaledRefKinds": False},
        "image": {"pullPolicy": settings.image_pull_policy},
        # The chart sets runAsNonRoot only; the binaries are static and run as any user.
        "podSecurityContext": {"operator": RESTRICTED_POD, "metricServer": RESTRICTED_POD, "webhooks": RESTRICTED_POD},
        "securityContext": {"operator": RESTRICTED_CONTAINER, "metricServer": RESTRICTED_CONTAINER,
                            "webhooks": RESTRICTED_CONTAINER},
    }


def lag_reader_statements(cluster_arn: str, groups: Iterable[str], topics: Iterable[str]) -> list[dict[str, Any]]:
    """The operator's rights: connect, and describe exactly the lag-scaled services' consumer
    groups (their committed offsets) and topics (their end offsets). No ReadData, no AlterGroup:
    KEDA reads offsets, never messages, and never commits for a group."""
    return [
        {"Sid": "ConnectToKafka", "Effect": "Allow", "Action": "kafka-cluster:Connect", "Resource": cluster_arn},
        {"Sid": "DescribeLagScaledGroups", "Effect": "Allow", "Action": "kafka-cluster:DescribeGroup",
         "Resource": sorted({kafka_arn(cluster_arn, "group", g) for g in groups})},
        {"Sid": "DescribeLagScaledTopics", "Effect": "Allow", "Action": "kafka-cluster:DescribeTopic",
         "Resource": sorted({kafka_arn(cluster_arn, "topic", t) for t in topics})},
    ]


def network_policy_spec(vpc_cidr: str) -> NetworkPolicySpecArgs:
    """What KEDA needs beyond the operator defaults (API server on 443, Pod Identity Agent): the
    kube-apiserver (in the VPC) reaches the metrics API server and the webhook; the metrics
    server reaches the operator's gRPC port; the operator reaches the MSK brokers' IAM port."""
    vpc = [NetworkPolicyPeerArgs(ip_block=IPBlockArgs(cidr=vpc_cidr))]
    keda = [NetworkPolicyPeerArgs(pod_selector=LabelSelectorArgs())]

    def tcp(port: int) -> list[NetworkPolicyPortArgs]:
        return [NetworkPolicyPortArgs(protocol="TCP", port=port)]

    return NetworkPolicySpecArgs(
        pod_selector=LabelSelectorArgs(),
        policy_types=["Ingress", "Egress"],
        ingress=[NetworkPolicyIngressRuleArgs(from_=vpc, ports=tcp(WEBHOOK_PORT)),
                 NetworkPolicyIngressRuleArgs(from_=keda, ports=tcp(OPERATOR_GRPC_PORT))],
        egress=[NetworkPolicyEgressRuleArgs(to=keda, ports=tcp(OPERATOR_GRPC_PORT)),
                NetworkPolicyEgressRuleArgs(to=vpc, ports=tcp(KAFKA_IAM_PORT))],
    )


@dataclass(frozen=True)
class Keda:
    """The add-on, with an AWS role that may describe the lag-scaled groups and topics."""

    cluster: ClusterAccess
    kafka_cluster_arn: pulumi.Input[str]
    groups: tuple[str, ...]
    topics: tuple[str, ...]

    def deploy(self, ctx: AddOnContext) -> pulumi.Resource:
        """Its namespace (the metrics API server is the namespace's webhook-like port) and
        identity, then the chart, which waits for both (credentials come at pod creation)."""
        ns = platform_namespace(f"{ctx.prefix}-keda-ns", ctx.namespace, ctx.settings, ctx.options(),
                                webhook_port=METRICS_API_PORT, aws_role=True)
        k8s.networking.v1.NetworkPolicy(f"{ctx.prefix}-keda-ns-allow-keda", NetworkPolicyInitArgs(
            metadata=ObjectMetaArgs(name="allow-keda", namespace=ctx.namespace),
            spec=network_policy_spec(ctx.settings.network.cidr)), opts=ctx.options(ns))
        statements = pulumi.Output.from_input(self.kafka_cluster_arn).apply(
            lambda arn: lag_reader_statements(arn, self.groups, self.topics))
        identity = self.cluster.identity(f"{ctx.prefix}-keda", ctx, OPERATOR, extra_statements=statements)
        annotations = role_annotations(ctx.settings.cluster.identity, identity.role_arn)
        return chart(f"{ctx.prefix}-keda", CHART, ctx.namespace, values(ctx.settings, annotations),
                     ctx.options(ns, identity))
