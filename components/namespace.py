"""Namespaces: one per team (TeamNamespace) with Pod Security, quota, limits and default-deny,
and the platform operators' own (:func:`platform_namespace`)."""

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
    IPBlockArgs,
    NetworkPolicyEgressRuleArgs,
    NetworkPolicyIngressRuleArgs,
    NetworkPolicyInitArgs,
    NetworkPolicyPeerArgs,
    NetworkPolicyPortArgs,
    NetworkPolicySpecArgs,
)

from components.labels import platform_labels, team_labels
from components.versions import POD_SECURITY_LEVEL
from paved.model import MAX_LIMIT_REQUEST_RATIO, Team
from paved.stack import StackSettings

NAMESPACE_NAME_LABEL = "kubernetes.io/metadata.name"
# The EKS Pod Identity Agent (a host-network DaemonSet) answers credential requests on these
# link-local addresses, port 80 (EKS user guide, "Set up the Amazon EKS Pod Identity Agent").
# With network policy enforced, a pod that gets its role through Pod Identity must be allowed
# to reach them.
POD_IDENTITY_AGENT_CIDRS = ("169.254.170.23/32", "fd00:ec2::23/128")
POD_IDENTITY_AGENT_PORT = 80


@dataclass(frozen=True)
class TeamNamespaceArgs:
    """A team and the stack it is deployed in."""

    team: Team
    settings: StackSettings


def pod_security_labels(settings: StackSettings, enforce: str = POD_SECURITY_LEVEL,
                        audit: str = POD_SECURITY_LEVEL) -> dict[str, str]:
    """Pod Security Admission labels: ``enforce`` one level, audit and warn at ``audit``, versions
    pinned. Both default to restricted; only a recorded exception passes anything lower."""
    levels = {"enforce": enforce, "audit": audit, "warn": audit}
    return {
        f"pod-security.kubernetes.io/{mode}{suffix}": value
        for mode, level in levels.items()
        for suffix, value in (("", level), ("-version", settings.pod_security_version))
    }


def namespace_args(team: Team, settings: StackSettings) -> NamespaceInitArgs:
    """The team's Namespace, at the restricted Pod Security level."""
    return NamespaceInitArgs(
        metadata=ObjectMetaArgs(
            name=team.namespace_name,
            labels={**team_labels(team, settings.environment), **pod_security_labels(settings)},
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


def pod_identity_agent_egress() -> NetworkPolicyEgressRuleArgs:
    """Egress to the EKS Pod Identity Agent, where a Pod Identity pod gets its credentials."""
    return NetworkPolicyEgressRuleArgs(
        to=[NetworkPolicyPeerArgs(ip_block=IPBlockArgs(cidr=cidr)) for cidr in POD_IDENTITY_AGENT_CIDRS],
        ports=[NetworkPolicyPortArgs(protocol="TCP", port=POD_IDENTITY_AGENT_PORT)])


def operator_egress_spec(vpc_cidr: str, webhook_port: int | None, pod_identity: bool = False) -> NetworkPolicySpecArgs:
    """An operator reaches the API server (the control plane's network interfaces) and the AWS
    interface endpoints, both inside the VPC, on 443 only; with ``pod_identity`` also the Pod
    Identity Agent for its credentials. A webhook is reached from the control plane's network
    interfaces in the VPC."""
    inside = [NetworkPolicyPeerArgs(ip_block=IPBlockArgs(cidr=vpc_cidr))]
    ingress = []
    if webhook_port:
        ingress.append(NetworkPolicyIngressRuleArgs(
            from_=inside, ports=[NetworkPolicyPortArgs(protocol="TCP", port=webhook_port)]))
    egress = [NetworkPolicyEgressRuleArgs(to=inside, ports=[NetworkPolicyPortArgs(protocol="TCP", port=443)])]
    if pod_identity:
        egress.append(pod_identity_agent_egress())
    return NetworkPolicySpecArgs(
        pod_selector=LabelSelectorArgs(),
        policy_types=["Ingress", "Egress"],
        ingress=ingress,
        egress=egress,
    )


def platform_namespace(name: str, namespace: str, settings: StackSettings, opts: pulumi.ResourceOptions,
                       webhook_port: int | None = None, aws_role: bool = False) -> k8s.core.v1.Namespace:
    """A platform operator's namespace: restricted Pod Security, default-deny, DNS, and only
    the traffic the operator needs; ``aws_role``: the operator calls AWS with its own role (in
    Pod Identity mode it then needs the Pod Identity Agent; IRSA goes to STS on 443)."""
    ns = k8s.core.v1.Namespace(name, NamespaceInitArgs(metadata=ObjectMetaArgs(
        name=namespace, labels={**pod_security_labels(settings), **platform_labels(settings.environment)})), opts=opts)
    in_ns = pulumi.ResourceOptions.merge(opts, pulumi.ResourceOptions(depends_on=[ns]))
    for role, spec in (("default-deny", default_deny_spec()), ("allow-dns", allow_dns_spec()),
                       ("allow-operator", operator_egress_spec(
                           settings.network.cidr, webhook_port,
                           pod_identity=aws_role and settings.cluster.identity == "podIdentity"))):
        k8s.networking.v1.NetworkPolicy(f"{name}-{role}", NetworkPolicyInitArgs(
            metadata=ObjectMetaArgs(name=role, namespace=namespace), spec=spec), opts=in_ns)
    return ns


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
