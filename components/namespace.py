"""TeamNamespace: one namespace per team with Pod Security, quota, limits and default-deny."""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_kubernetes as k8s
from pulumi_kubernetes.core.v1 import (
    LimitRangeItemArgs,
    LimitRangeSpecArgs,
    NamespaceInitArgs,
    ResourceQuotaSpecArgs,
)
from pulumi_kubernetes.meta.v1 import LabelSelectorArgs, ObjectMetaArgs
from pulumi_kubernetes.networking.v1 import (
    NetworkPolicyEgressRuleArgs,
    NetworkPolicyPeerArgs,
    NetworkPolicyPortArgs,
    NetworkPolicySpecArgs,
)

from components.labels import team_labels
from components.versions import POD_SECURITY_LEVEL
from paved.model import MAX_LIMIT_REQUEST_RATIO, Team
from paved.stack import StackSettings

NAMESPACE_NAME_LABEL = "kubernetes.io/metadata.name"


@dataclass(frozen=True)
class TeamNamespaceArgs:
    """A team and the stack it is deployed in."""

    team: Team
    settings: StackSettings


def restricted_labels(settings: StackSettings) -> dict[str, str]:
    """Pod Security Admission enforcing, auditing and warning at restricted, version pinned."""
    return {
        f"pod-security.kubernetes.io/{mode}{suffix}": value
        for mode in ("enforce", "audit", "warn")
        for suffix, value in (("", POD_SECURITY_LEVEL), ("-version", settings.pod_security_version))
    }


def namespace_args(team: Team, settings: StackSettings) -> NamespaceInitArgs:
    """The team's Namespace, at the restricted Pod Security level."""
    return NamespaceInitArgs(
        metadata=ObjectMetaArgs(
            name=team.namespace_name,
            labels={**team_labels(team, settings.environment), **restricted_labels(settings)},
            annotations={"paved.dev/owner": team.owner},
        )
    )


def _meta(team: Team, settings: StackSettings, name: str) -> ObjectMetaArgs:
    return ObjectMetaArgs(name=name, namespace=team.namespace_name, labels=team_labels(team, settings.environment))


def quota_spec(team: Team) -> ResourceQuotaSpecArgs:
    """The team's ResourceQuota: total requests and pods."""
    return ResourceQuotaSpecArgs(
        hard={"requests.cpu": team.quota.cpu, "requests.memory": team.quota.memory, "pods": str(team.quota.pods)}
    )


def limit_range_spec() -> LimitRangeSpecArgs:
    """Defaults for containers that set nothing, and the limit/request ratios paved allows."""
    return LimitRangeSpecArgs(
        limits=[
            LimitRangeItemArgs(
                type="Container",
                default={"cpu": "500m", "memory": "256Mi"},
                default_request={"cpu": "100m", "memory": "128Mi"},
                max_limit_request_ratio={k: str(v) for k, v in MAX_LIMIT_REQUEST_RATIO.items()},
            )
        ]
    )


def default_deny_spec() -> NetworkPolicySpecArgs:
    """Deny all ingress and egress for every pod; services then allow what they declare."""
    return NetworkPolicySpecArgs(pod_selector=LabelSelectorArgs(), policy_types=["Ingress", "Egress"])


def allow_dns_spec() -> NetworkPolicySpecArgs:
    """Let every pod resolve names through the cluster DNS in kube-system."""
    return NetworkPolicySpecArgs(
        pod_selector=LabelSelectorArgs(),
        policy_types=["Egress"],
        egress=[
            NetworkPolicyEgressRuleArgs(
                to=[
                    NetworkPolicyPeerArgs(
                        namespace_selector=LabelSelectorArgs(match_labels={NAMESPACE_NAME_LABEL: "kube-system"}),
                        pod_selector=LabelSelectorArgs(match_labels={"k8s-app": "kube-dns"}),
                    )
                ],
                ports=[NetworkPolicyPortArgs(protocol=p, port=53) for p in ("UDP", "TCP")],
            )
        ],
    )


class TeamNamespace(pulumi.ComponentResource):
    """A team's namespace: restricted Pod Security, ResourceQuota, LimitRange, default-deny."""

    namespace_name: pulumi.Output[str]

    def __init__(self, name: str, args: TeamNamespaceArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("paved:namespace:TeamNamespace", name, None, opts)
        self.paved_team = args.team.name
        team, settings = args.team, args.settings
        child = pulumi.ResourceOptions(parent=self)

        namespace = k8s.core.v1.Namespace(f"{name}-ns", namespace_args(team, settings), opts=child)
        in_ns = pulumi.ResourceOptions(parent=self, depends_on=[namespace])
        k8s.core.v1.ResourceQuota(
            f"{name}-quota",
            k8s.core.v1.ResourceQuotaInitArgs(metadata=_meta(team, settings, "team-quota"), spec=quota_spec(team)),
            opts=in_ns,
        )
        k8s.core.v1.LimitRange(
            f"{name}-limits",
            k8s.core.v1.LimitRangeInitArgs(metadata=_meta(team, settings, "container-defaults"), spec=limit_range_spec()),
            opts=in_ns,
        )
        k8s.networking.v1.NetworkPolicy(
            f"{name}-default-deny",
            k8s.networking.v1.NetworkPolicyInitArgs(metadata=_meta(team, settings, "default-deny"), spec=default_deny_spec()),
            opts=in_ns,
        )
        k8s.networking.v1.NetworkPolicy(
            f"{name}-allow-dns",
            k8s.networking.v1.NetworkPolicyInitArgs(metadata=_meta(team, settings, "allow-dns"), spec=allow_dns_spec()),
            opts=in_ns,
        )
        self.namespace = namespace
        self.namespace_name = namespace.metadata.apply(lambda m: m.name)
        self.register_outputs({"namespace_name": self.namespace_name})
