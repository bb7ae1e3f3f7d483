"""PAVED-DEP-003: every feature the plan uses has the controller that makes it work.

Kubernetes accepts an HPA, a NetworkPolicy or a custom resource whether or not anything acts
on it; without the controller the object is inert (an HPA reports ``FailedGetResourceMetric``,
a NetworkPolicy is silently not enforced) or, for custom resources, rejected because the CRD
is missing. A controller counts as present when the plan holds what its chart renders (its
Deployment, CRDs or APIService), an EKS add-on of it, or a Chart v4 installing its chart.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from paved.resources import HPA_TYPES, NODE_GROUP, UNKNOWN, integer, lookup
from policies.framework import Rule
from policies.rules.deploy.graph import Graph, installed, json_value, kind, shown_name

CRD = "kubernetes:apiextensions.k8s.io/v1:CustomResourceDefinition"
API_SERVICE = "kubernetes:apiregistration.k8s.io/v1:APIService"
INGRESS = "kubernetes:networking.k8s.io/v1:Ingress"
NETWORK_POLICY = "kubernetes:networking.k8s.io/v1:NetworkPolicy"
ADDON = "aws:eks/addon:Addon"


@dataclass(frozen=True)
class Controller:
    """One controller and the marks its installation leaves in a plan."""

    name: str
    source: str
    charts: tuple[str, ...] = ()
    labels: tuple[str, ...] = ()
    images: tuple[str, ...] = ()
    kinds: tuple[tuple[str, str], ...] = ()
    addons: tuple[str, ...] = ()
    present: Callable[[Graph], Any] | None = field(default=None, compare=False)

    def find(self, graph: Graph) -> Any:
        if self.present is not None:
            return self.present(graph)
        return installed(graph, charts=self.charts, labels=self.labels, images=self.images, kinds=self.kinds,
                         addons=self.addons)


def _vpc_cni_network_policy(graph: Graph) -> Any:
    # The VPC CNI enforces NetworkPolicy only with enableNetworkPolicy "true" in the add-on's
    # configurationValues (EKS user guide, "Limit pod traffic with Kubernetes network policies").
    for r in graph.of_type(ADDON):
        if lookup(r.props, "addonName") != "vpc-cni":
            continue
        raw = lookup(r.props, "configurationValues")
        if raw is UNKNOWN:
            return r
        values = json_value(raw) or {}
        if str(values.get("enableNetworkPolicy", "")).lower() == "true":
            return r
    return installed(graph, charts=("tigera-operator", "calico", "cilium"), labels=("calico-node", "cilium"),
                     images=("calico/node", "cilium/cilium"))


METRICS_SERVER = Controller(
    "metrics-server", "kubernetes-sigs/metrics-server (APIService v1beta1.metrics.k8s.io); EKS community add-on "
    "metrics-server", charts=("metrics-server",), labels=("metrics-server",), images=("metrics-server",),
    kinds=((API_SERVICE, "v1beta1.metrics.k8s.io"),), addons=("metrics-server",))
NODE_AUTOSCALER = Controller(
    "Karpenter or cluster-autoscaler", "karpenter.sh (chart karpenter, CRD nodepools.karpenter.sh); kubernetes/"
    "autoscaler chart cluster-autoscaler", charts=("karpenter", "cluster-autoscaler"),
    labels=("karpenter", "aws-cluster-autoscaler", "cluster-autoscaler"), images=("karpenter/controller", "cluster-autoscaler"),
    kinds=((CRD, "nodepools.karpenter.sh"),))
NETWORK_POLICY_ENGINE = Controller(
    "a CNI that enforces NetworkPolicy (vpc-cni with enableNetworkPolicy, Calico or Cilium)",
    "EKS user guide: network policies with the Amazon VPC CNI", present=_vpc_cni_network_policy)
PROMETHEUS_OPERATOR = Controller(
    "the Prometheus operator", "prometheus-operator (CRDs servicemonitors/prometheusrules.monitoring.coreos.com); "
    "chart kube-prometheus-stack", charts=("kube-prometheus-stack", "prometheus-operator", "prometheus-operator-crds"),
    labels=("prometheus-operator", "kube-prometheus-stack-prometheus-operator"), images=("prometheus-operator",),
    kinds=((CRD, "servicemonitors.monitoring.coreos.com"),))
EXTERNAL_SECRETS = Controller(
    "External Secrets Operator", "external-secrets.io (chart external-secrets, CRD externalsecrets.external-secrets.io)",
    charts=("external-secrets",), labels=("external-secrets",), images=("external-secrets/external-secrets",),
    kinds=((CRD, "externalsecrets.external-secrets.io"),))
LOAD_BALANCER_CONTROLLER = Controller(
    "the AWS Load Balancer Controller", "kubernetes-sigs/aws-load-balancer-controller (eks-charts "
    "aws-load-balancer-controller; IngressClass alb)", charts=("aws-load-balancer-controller",),
    labels=("aws-load-balancer-controller",), images=("eks/aws-load-balancer-controller",),
    kinds=((CRD, "ingressclassparams.elbv2.k8s.aws"),))
KEDA = Controller(
    "KEDA", "keda.sh (chart keda, CRD scaledobjects.keda.sh)", charts=("keda",), labels=("keda-operator",),
    images=("kedacore/keda",), kinds=((CRD, "scaledobjects.keda.sh"),))

ARGO_ROLLOUTS = Controller(
    "Argo Rollouts", "argoproj.io (chart argo-rollouts, CRD rollouts.argoproj.io)", charts=("argo-rollouts",),
    labels=("argo-rollouts",), images=("argoproj/argo-rollouts",), kinds=((CRD, "rollouts.argoproj.io"),))


def _node_groups_that_scale(graph: Graph) -> list[Any]:
    out = []
    for r in graph.of_type(NODE_GROUP):
        top, desired = integer(lookup(r.props, "scalingConfig.maxSize")), integer(lookup(r.props, "scalingConfig.desiredSize"))
        if isinstance(top, int) and isinstance(desired, int) and top > desired:
            out.append(r)
    return out


def _alb_ingresses(graph: Graph) -> list[Any]:
    return [r for r in graph.of_type(INGRESS)
            if lookup(r.props, "spec.ingressClassName") == "alb"
            or lookup(r.props, ("metadata", "annotations", "kubernetes.io/ingress.class")) == "alb"]


def _group(prefix: str) -> Callable[[Graph], list[Any]]:
    return lambda graph: [r for r in graph.resources if r.resource_type.startswith(prefix)
                          and not r.resource_type.endswith(":CustomResourceDefinition")]


# (what needs it, the users in the plan, the controller)
PREREQUISITES: tuple[tuple[str, Callable[[Graph], list[Any]], Controller], ...] = (
    ("scale on resource metrics", lambda g: g.of_type(*HPA_TYPES), METRICS_SERVER),
    ("grow beyond desiredSize", _node_groups_that_scale, NODE_AUTOSCALER),
    ("be enforced", lambda g: g.of_type(NETWORK_POLICY), NETWORK_POLICY_ENGINE),
    ("be reconciled", _group("kubernetes:monitoring.coreos.com/"), PROMETHEUS_OPERATOR),
    ("be reconciled", lambda g: [*_group("kubernetes:external-secrets.io/")(g),
                                 *_group("kubernetes:generators.external-secrets.io/")(g)], EXTERNAL_SECRETS),
    ("get a load balancer", _alb_ingresses, LOAD_BALANCER_CONTROLLER),
    ("be reconciled", _group("kubernetes:keda.sh/"), KEDA),
    ("be reconciled", _group("kubernetes:argoproj.io/"), ARGO_ROLLOUTS),
)


def validate_stack(args, report) -> None:
    graph = Graph(args.resources)
    for need, users_of, controller in PREREQUISITES:
        users = users_of(graph)
        if not users or controller.find(graph) is not None:
            continue
        # One violation per missing controller, on its first user: 40 NetworkPolicies share one fix.
        first = users[0]
        what = "NodeGroup" if first.resource_type == NODE_GROUP else kind(first)
        others = f" and {len(users) - 1} more {what}(s)" if len(users) > 1 else ""
        report(f"{what} {shown_name(first)}{others} must have {controller.name} in the stack to {need} (none is "
               f"installed: no chart, add-on or rendered object of it).", first.urn)


RULE = Rule(
    id="PAVED-DEP-003",
    name="controller-prerequisites",
    description=(
        "Checks whether every feature the plan uses has its controller: HorizontalPodAutoscalers metrics-server, "
        "node groups with maxSize above desiredSize Karpenter or cluster-autoscaler, NetworkPolicies an enforcing "
        "CNI (vpc-cni with enableNetworkPolicy \"true\", Calico, Cilium), monitoring.coreos.com objects the "
        "Prometheus operator, External Secrets objects ESO, alb Ingresses the AWS Load Balancer Controller, KEDA "
        "objects KEDA, Argo Rollouts objects (Rollout, AnalysisTemplate) Argo Rollouts; found by a Chart v4 of the "
        "controller's chart, an EKS add-on, or its rendered Deployment, "
        "CRD or APIService."
    ),
    severity="high",
    remediation=(
        "Install the controller in the platform layer (a pinned Chart in components/versions.py, or the EKS add-on: "
        "metrics-server, vpc-cni configurationValues {\"enableNetworkPolicy\": \"true\"}), or drop the feature."
    ),
    anchors=(
        "kubernetes.io/docs/tasks/run-application/horizontal-pod-autoscale (needs the metrics.k8s.io API, "
        "metrics-server)",
        "docs.aws.amazon.com/eks/latest/userguide/cni-network-policy.html (enableNetworkPolicy)",
        "docs.aws.amazon.com/eks/latest/userguide/autoscaling.html (Karpenter, Cluster Autoscaler)",
        "kubernetes.io/docs/concepts/services-networking/network-policies (needs a network plugin that "
        "implements it)",
        "prometheus-operator, external-secrets, aws-load-balancer-controller, keda, argo-rollouts charts",
    ),
    validate_stack=validate_stack,
    enforcement="mandatory",
)
