"""Cluster Autoscaler: grows and shrinks the EKS managed node groups between their minSize and
maxSize. Without a node autoscaler a node group never leaves desiredSize, so pods at the
autoscalers' maximum stay Pending (PAVED-DEP-003)."""

from __future__ import annotations

from dataclasses import dataclass

import pulumi

from components.addons import AddOnContext, ClusterAccess
from components.addons.chart import chart, operator_replicas, resources, zone_spread
from components.identity import role_annotations
from components.security import RESTRICTED_CONTAINER
from paved.stack import StackSettings

CHART = "cluster-autoscaler"
NAMESPACE = "kube-system"
SERVICE_ACCOUNT = "cluster-autoscaler"
AUTOSCALER_RESOURCES = resources("100m", "300Mi", "200m", "600Mi")


def autoscaler_statements(partition: str, region: str, account: str, cluster_name: str) -> list[dict]:
    """The permissions of the AWS provider of Cluster Autoscaler (its AWS README): discovery
    calls that AWS cannot scope, and scaling only the groups tagged for this cluster (EKS tags
    a managed node group's Auto Scaling group ``k8s.io/cluster-autoscaler/<cluster>: owned``)."""
    return [
        {"Sid": "DiscoverNodeGroups", "Effect": "Allow",
         "Action": ["autoscaling:DescribeAutoScalingGroups", "autoscaling:DescribeAutoScalingInstances",
                    "autoscaling:DescribeLaunchConfigurations", "autoscaling:DescribeScalingActivities",
                    "autoscaling:DescribeTags", "ec2:DescribeImages", "ec2:DescribeInstanceTypes",
                    "ec2:DescribeLaunchTemplateVersions"],
         "Resource": "*"},
        {"Sid": "DescribeOwnNodeGroups", "Effect": "Allow", "Action": "eks:DescribeNodegroup",
         "Resource": f"arn:{partition}:eks:{region}:{account}:nodegroup/{cluster_name}/*/*"},
        {"Sid": "ScaleOwnNodeGroups", "Effect": "Allow",
         "Action": ["autoscaling:SetDesiredCapacity", "autoscaling:TerminateInstanceInAutoScalingGroup"],
         "Resource": f"arn:{partition}:autoscaling:{region}:{account}:autoScalingGroup:*:autoScalingGroupName/eks-*",
         "Condition": {"StringEquals": {f"aws:ResourceTag/k8s.io/cluster-autoscaler/{cluster_name}": "owned"}}},
    ]


def values(settings: StackSettings, release: str, cluster_name: pulumi.Input[str], sa_annotations: dict | None = None) -> dict:
    """Chart values: discover this cluster's node groups by their tags, keep similar groups
    balanced across zones, the restricted container profile, pinned resources; the
    ServiceAccount annotated with its role in IRSA mode."""
    return {
        "autoDiscovery": {"clusterName": cluster_name},
        "awsRegion": settings.aws_region,
        # Leader election keeps one active; the standby takes over within the lease.
        "replicaCount": operator_replicas(settings),
        "topologySpreadConstraints": zone_spread(settings, {
            "app.kubernetes.io/name": "aws-cluster-autoscaler", "app.kubernetes.io/instance": release}),
        "rbac": {"serviceAccount": {"name": SERVICE_ACCOUNT, "annotations": dict(sa_annotations or {})}},
        "extraArgs": {"balance-similar-node-groups": True, "expander": "least-waste"},
        "resources": AUTOSCALER_RESOURCES,
        "containerSecurityContext": RESTRICTED_CONTAINER,
    }


@dataclass(frozen=True)
class ClusterAutoscaler:
    """The add-on, with an AWS role that scales only this cluster's node groups."""

    cluster: ClusterAccess
    partition: pulumi.Input[str]

    def deploy(self, ctx: AddOnContext) -> pulumi.Resource:
        """Its identity, then the chart (which waits for it: credentials come at pod creation)."""
        s = ctx.settings
        statements = pulumi.Output.all(self.partition, self.cluster.account_id, self.cluster.cluster_name).apply(
            lambda v: autoscaler_statements(v[0], s.aws_region, v[1], v[2]))
        identity = self.cluster.identity(f"{ctx.prefix}-cluster-autoscaler-identity", ctx, SERVICE_ACCOUNT,
                                         extra_statements=statements)
        release = f"{ctx.prefix}-cluster-autoscaler"
        return chart(release, CHART, ctx.namespace,
                     values(s, release, self.cluster.cluster_name, role_annotations(s.cluster.identity, identity.role_arn)),
                     ctx.options(identity))
