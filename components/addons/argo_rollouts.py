"""Argo Rollouts: the controller that releases a catalog service with ``rollout:`` as a canary or
blue-green ``Rollout`` (components/rollout.py) and runs its SLO analysis against Prometheus.

Installed only when some service has ``rollout:``. Its namespace is default-deny like every
platform namespace; the controller reaches the API server (443 in the VPC) and, for the
analysis, the in-cluster Prometheus (9090), whose namespace admits it explicitly.
"""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_kubernetes as k8s
from pulumi_kubernetes.meta.v1 import LabelSelectorArgs, ObjectMetaArgs
from pulumi_kubernetes.networking.v1 import (
    NetworkPolicyEgressRuleArgs,
    NetworkPolicyIngressRuleArgs,
    NetworkPolicyInitArgs,
    NetworkPolicyPeerArgs,
    NetworkPolicyPortArgs,
    NetworkPolicySpecArgs,
)

from components.addons import AddOnContext
from components.addons.chart import SMALL_RESOURCES, chart, operator_replicas, zone_spread
from components.addons.prometheus import PROMETHEUS_PORT
from components.namespace import NAMESPACE_NAME_LABEL, platform_namespace
from components.security import RESTRICTED_CONTAINER, RESTRICTED_POD
from components.telemetry import PROMETHEUS_ROLE, ROLE_LABEL
from paved.naming import MONITORING_NAMESPACE, ROLLOUTS_NAMESPACE
from paved.stack import StackSettings

CHART = "argo-rollouts"
NAMESPACE = ROLLOUTS_NAMESPACE
COMPONENT = "rollouts-controller"  # the chart's controller.component, part of its pods' selector


def selector_labels(release: str) -> dict[str, str]:
    """The labels the chart selects the controller's pods by (its PDB and spread use them)."""
    return {"app.kubernetes.io/name": CHART, "app.kubernetes.io/instance": release,
            "app.kubernetes.io/component": COMPONENT}


def values(settings: StackSettings, release: str) -> dict:
    """Chart values: CRDs with the chart (kept on uninstall: deleting them deletes every Rollout),
    a small controller, highly available where the stack asks (it elects a leader), a PDB and zone
    spread; the restricted container profile; no dashboard, no notifications secret; RBAC for the
    AWS Load Balancer Controller's objects only (paved uses no mesh or gateway)."""
    replicas = operator_replicas(settings)
    return {
        "installCRDs": True,
        "keepCRDs": True,
        "controller": {
            "replicas": replicas,
            "resources": SMALL_RESOURCES,
            # The chart's PDB: maxUnavailable 1 when two run (minAvailable 0 otherwise, which blocks nothing).
            "pdb": {"enabled": replicas > 1, "maxUnavailable": 1},
            "topologySpreadConstraints": zone_spread(settings, selector_labels(release)),
        },
        "podSecurityContext": RESTRICTED_POD,
        "containerSecurityContext": RESTRICTED_CONTAINER,
        "dashboard": {"enabled": False},
        "providerRBAC": {"enabled": True, "providers": {
            "istio": False, "smi": False, "ambassador": False, "awsLoadBalancerController": True, "awsAppMesh": False,
            "traefik": False, "apisix": False, "contour": False, "glooPlatform": False, "gatewayAPI": False}},
    }


def prometheus_egress_spec() -> NetworkPolicySpecArgs:
    """The controller's pods reach Prometheus in the monitoring namespace, on its port only."""
    return NetworkPolicySpecArgs(
        pod_selector=LabelSelectorArgs(), policy_types=["Egress"],
        egress=[NetworkPolicyEgressRuleArgs(
            to=[NetworkPolicyPeerArgs(
                namespace_selector=LabelSelectorArgs(match_labels={NAMESPACE_NAME_LABEL: MONITORING_NAMESPACE}),
                pod_selector=LabelSelectorArgs(match_labels={ROLE_LABEL: PROMETHEUS_ROLE}))],
            ports=[NetworkPolicyPortArgs(protocol="TCP", port=PROMETHEUS_PORT)])])


def prometheus_ingress_spec() -> NetworkPolicySpecArgs:
    """Prometheus (in the default-deny monitoring namespace) admits the analysis queries."""
    return NetworkPolicySpecArgs(
        pod_selector=LabelSelectorArgs(match_labels={ROLE_LABEL: PROMETHEUS_ROLE}), policy_types=["Ingress"],
        ingress=[NetworkPolicyIngressRuleArgs(
            from_=[NetworkPolicyPeerArgs(
                namespace_selector=LabelSelectorArgs(match_labels={NAMESPACE_NAME_LABEL: NAMESPACE}))],
            ports=[NetworkPolicyPortArgs(protocol="TCP", port=PROMETHEUS_PORT)])])


@dataclass(frozen=True)
class ArgoRollouts:
    """The add-on; it needs no AWS access (ALB traffic routing is not used, docs/rollouts.md)."""

    def deploy(self, ctx: AddOnContext) -> pulumi.Resource:
        """Its namespace, the analysis' path to Prometheus, then the chart (which serves the CRDs)."""
        ns = platform_namespace(f"{ctx.prefix}-rollouts-ns", ctx.namespace, ctx.settings, ctx.options())
        k8s.networking.v1.NetworkPolicy(f"{ctx.prefix}-rollouts-ns-allow-prometheus", NetworkPolicyInitArgs(
            metadata=ObjectMetaArgs(name="allow-prometheus", namespace=ctx.namespace), spec=prometheus_egress_spec()),
            opts=ctx.options(ns))
        k8s.networking.v1.NetworkPolicy(f"{ctx.prefix}-rollouts-analysis-to-prometheus", NetworkPolicyInitArgs(
            metadata=ObjectMetaArgs(name="allow-rollouts-analysis", namespace=MONITORING_NAMESPACE),
            spec=prometheus_ingress_spec()), opts=ctx.options())
        release = f"{ctx.prefix}-rollouts"
        return chart(release, CHART, ctx.namespace, values(ctx.settings, release), ctx.options(ns))
