"""ObservabilityStack: the ``monitoring`` namespace and the add-ons that watch the platform.

The stack composes three add-ons (components/addons/), every chart pinned in
components/versions.py:

- kube-prometheus-stack (addons/prometheus.py): the Prometheus Operator, Prometheus,
  Alertmanager, Grafana and kube-state-metrics;
- Jaeger v2 (addons/jaeger.py), memory or Badger on a volume per stack;
- an OpenTelemetry Collector (addons/otel_collector.py) that receives OTLP from the services
  and exports traces to Jaeger.

Pod Security (a deliberate, recorded exception): the namespace *enforces* ``baseline`` and
*audits and warns* at ``restricted``. Every pod paved configures here runs restricted-compliant
(the values set it where the charts do not), but these are third-party charts whose pod
specs paved's policy pack cannot see: a chart upgrade that drops, say, a seccomp profile must
produce a warning, not an admission failure that silently takes monitoring down. Baseline
still forbids privileged pods, host namespaces, hostPath and hostPorts. For the same reason
the Kubernetes node-exporter DaemonSet is *not* installed: it needs hostNetwork, hostPID and
hostPath, which even baseline forbids, and a privileged namespace is a larger hole than the
metrics are worth. Node CPU, memory and network come from the kubelet and cAdvisor instead,
node conditions (disk and memory pressure) from kube-state-metrics; MSK broker hosts keep
their own node exporter. The reason is written on the namespace (annotation
``paved.dev/pod-security-exception``) and policy PAVED-SEC-025 admits ``monitoring`` at baseline.

Needs an EBS CSI driver and a StorageClass for the Prometheus and Badger volumes
(``storage_class``; None takes the cluster default).
"""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_kubernetes as k8s
from pulumi_kubernetes.core.v1 import NamespaceInitArgs
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
from components.addons.jaeger import Jaeger, jaeger_url
from components.addons.otel_collector import OtelCollector
from components.addons.prometheus import (
    GRAFANA_ROLE,
    KUBELET_PORT,
    KubePrometheusStack,
    grafana_url,
    prometheus_url,
)
from components.kafka import JMX_EXPORTER_PORT, NODE_EXPORTER_PORT
from components.labels import part_of_labels, platform_labels
from components.namespace import (
    allow_dns_spec,
    default_deny_spec,
    pod_identity_agent_egress,
    pod_security_labels,
)
from components.telemetry import (
    ALERTMANAGER_ROLE,
    COLLECTOR_ROLE,
    MONITORING_NAMESPACE,
    OTLP_GRPC_PORT,
    OTLP_HTTP_PORT,
    PROMETHEUS_ROLE,
    ROLE_LABEL,
    collector_endpoint,
)
from paved.model import Team
from paved.stack import StackSettings

ENFORCED_LEVEL = "baseline"
AUDITED_LEVEL = "restricted"
EXCEPTION_ANNOTATION = "paved.dev/pod-security-exception"
EXCEPTION_REASON = (
    "enforce baseline, audit and warn restricted: third-party monitoring charts must not be taken down by "
    "admission on an upgrade; node-exporter (needs host access) is not installed"
)
API_SERVER_PORT = 443
# Grafana's CloudWatch data source calls the CloudWatch API through its interface endpoint
# (``monitoring``) from inside the VPC, like Fluent Bit calls CloudWatch Logs.
GRAFANA_CLOUDWATCH_ENDPOINTS = ("monitoring",)


@dataclass(frozen=True)
class ObservabilityStackArgs:
    """The stack's settings and what the observability stack needs from around it.

    ``secret_store`` is the External Secrets chart (any resource that waits for
    the ESO CRDs): the Grafana password generator needs them. ``kafka_bootstrap`` is the MSK
    IAM bootstrap string (``host:9098,...``); without it no broker is scraped.
    """

    settings: StackSettings
    secret_store: pulumi.Resource | None
    kafka_bootstrap: pulumi.Input[str] | None = None
    storage_class: str | None = None
    # The StorageClass resource when this stack creates it: volume claims wait for it
    # (PAVED-DEP-014: the provider must see its WaitForFirstConsumer binding mode).
    storage_class_resource: pulumi.Resource | None = None
    # The catalog's teams, whose alert receivers Alertmanager routes to, and the role (and its
    # policy) that reads the receivers' credentials (SecretStore.alerts_role_arn).
    teams: tuple[Team, ...] = ()
    alerts_role_arn: pulumi.Input[str] | None = None
    alerts_policy: pulumi.Resource | None = None
    # Some service has data: Grafana gets a CloudWatch data source and its own read-only role,
    # bound in this cluster (docs/data.md, "Observability").
    cloudwatch: ClusterAccess | None = None
    partition: pulumi.Input[str] | None = None


# --- pure builders ------------------------------------------------------------------------


def namespace_args(settings: StackSettings) -> NamespaceInitArgs:
    """The ``monitoring`` namespace, with its Pod Security exception written on it."""
    return NamespaceInitArgs(metadata=ObjectMetaArgs(
        name=MONITORING_NAMESPACE,
        labels={**pod_security_labels(settings, enforce=ENFORCED_LEVEL, audit=AUDITED_LEVEL),
                **platform_labels(settings.environment)},
        annotations={EXCEPTION_ANNOTATION: EXCEPTION_REASON},
    ))


def _role(role: str) -> LabelSelectorArgs:
    return LabelSelectorArgs(match_labels={ROLE_LABEL: role})


def _tcp(port: int, end_port: int | None = None) -> NetworkPolicyPortArgs:
    return NetworkPolicyPortArgs(protocol="TCP", port=port, end_port=end_port)


def alertmanager_egress_spec(settings: StackSettings) -> NetworkPolicySpecArgs:
    """Alertmanager's pods only, to the receivers' blocks the stack lists (``alertEgress``)."""
    return NetworkPolicySpecArgs(
        pod_selector=_role(ALERTMANAGER_ROLE), policy_types=["Egress"],
        egress=[NetworkPolicyEgressRuleArgs(to=[NetworkPolicyPeerArgs(ip_block=IPBlockArgs(cidr=rule.cidr))],
                                            ports=[_tcp(p) for p in rule.ports])
                for rule in settings.observability.alert_egress])


def grafana_aws_egress_spec(settings: StackSettings) -> NetworkPolicySpecArgs:
    """Grafana's pods to the CloudWatch (``monitoring``) and STS interface endpoints in the VPC on
    443, and with Pod Identity to the agent that hands out its role's credentials."""
    egress = [NetworkPolicyEgressRuleArgs(to=[NetworkPolicyPeerArgs(ip_block=IPBlockArgs(cidr=settings.network.cidr))],
                                          ports=[_tcp(API_SERVER_PORT)])]
    if settings.cluster.identity == "podIdentity":
        egress.append(pod_identity_agent_egress())
    return NetworkPolicySpecArgs(pod_selector=_role(GRAFANA_ROLE), policy_types=["Egress"], egress=egress)


def network_policy_specs(settings: StackSettings, cloudwatch: bool = False) -> dict[str, NetworkPolicySpecArgs]:
    """The namespace's NetworkPolicies by name: default-deny and DNS, then only what each part needs.

    - pods of the stack talk to each other (Grafana → Prometheus and Jaeger, collector → Jaeger,
      Prometheus → Alertmanager and the stack's own metrics);
    - every pod may reach the Kubernetes API (its endpoint network interfaces are in the VPC);
    - Prometheus scrapes pods in any namespace (their policies admit it, see
      components.telemetry), the kubelets, and the MSK brokers' exporters in the VPC;
    - the collector accepts OTLP from paved's namespaces;
    - with ``cloudwatch``, Grafana reaches CloudWatch and its credentials (:func:`grafana_aws_egress_spec`).
    """
    vpc = [NetworkPolicyPeerArgs(ip_block=IPBlockArgs(cidr=settings.network.cidr))]
    same_namespace = [NetworkPolicyPeerArgs(pod_selector=LabelSelectorArgs())]
    paved_namespaces = [NetworkPolicyPeerArgs(namespace_selector=LabelSelectorArgs(match_labels=part_of_labels()))]
    every_pod = [NetworkPolicyPeerArgs(namespace_selector=LabelSelectorArgs())]
    return {
        "default-deny": default_deny_spec(),
        "allow-dns": allow_dns_spec(),
        "allow-same-namespace": NetworkPolicySpecArgs(
            pod_selector=LabelSelectorArgs(), policy_types=["Ingress", "Egress"],
            ingress=[NetworkPolicyIngressRuleArgs(from_=same_namespace)],
            egress=[NetworkPolicyEgressRuleArgs(to=same_namespace)]),
        "allow-kube-api": NetworkPolicySpecArgs(
            pod_selector=LabelSelectorArgs(), policy_types=["Egress"],
            egress=[NetworkPolicyEgressRuleArgs(to=vpc, ports=[_tcp(API_SERVER_PORT)])]),
        "allow-prometheus-scrape": NetworkPolicySpecArgs(
            pod_selector=_role(PROMETHEUS_ROLE), policy_types=["Egress"],
            egress=[
                NetworkPolicyEgressRuleArgs(to=every_pod),
                NetworkPolicyEgressRuleArgs(to=vpc, ports=[
                    _tcp(KUBELET_PORT), _tcp(JMX_EXPORTER_PORT, NODE_EXPORTER_PORT)]),
            ]),
        **({"allow-alertmanager-egress": alertmanager_egress_spec(settings)} if settings.observability.alert_egress
           else {}),
        **({"allow-grafana-cloudwatch": grafana_aws_egress_spec(settings)} if cloudwatch else {}),
        "allow-otlp": NetworkPolicySpecArgs(
            pod_selector=_role(COLLECTOR_ROLE), policy_types=["Ingress"],
            ingress=[NetworkPolicyIngressRuleArgs(from_=paved_namespaces,
                                                  ports=[_tcp(OTLP_GRPC_PORT), _tcp(OTLP_HTTP_PORT)])]),
    }


# --- the component ------------------------------------------------------------------------


class ObservabilityStack(pulumi.ComponentResource):
    """The monitoring namespace with kube-prometheus-stack, Jaeger and an OpenTelemetry Collector."""

    namespace_name: pulumi.Output[str]
    collector_endpoint: pulumi.Output[str]
    prometheus_url: pulumi.Output[str]
    grafana_url: pulumi.Output[str]
    jaeger_url: pulumi.Output[str]

    def __init__(self, name: str, args: ObservabilityStackArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("paved:observability:ObservabilityStack", name, None, opts)
        if args.secret_store is None:
            raise ValueError("ObservabilityStackArgs.secret_store is required: Grafana's admin password is generated "
                             "by External Secrets, so the SecretStore (and its CRDs) must exist")
        s = args.settings
        ns = k8s.core.v1.Namespace(f"{name}-ns", namespace_args(s), opts=pulumi.ResourceOptions(parent=self))
        in_ns = AddOnContext(prefix=name, namespace=MONITORING_NAMESPACE, settings=s, parent=self, depends_on=(ns,))
        for role, spec in network_policy_specs(s, cloudwatch=args.cloudwatch is not None).items():
            k8s.networking.v1.NetworkPolicy(f"{name}-{role}", NetworkPolicyInitArgs(
                metadata=ObjectMetaArgs(name=role, namespace=MONITORING_NAMESPACE), spec=spec), opts=in_ns.options())

        kps = KubePrometheusStack(secret_store=args.secret_store, kafka_bootstrap=args.kafka_bootstrap,
                                  storage_class=args.storage_class, teams=args.teams,
                                  alerts_role_arn=args.alerts_role_arn, alerts_policy=args.alerts_policy,
                                  cloudwatch=args.cloudwatch, partition=args.partition).deploy(in_ns)
        jaeger = Jaeger(storage_class=args.storage_class, storage_class_resource=args.storage_class_resource).deploy(in_ns)
        OtelCollector().deploy(in_ns.after(jaeger, kps))

        self.namespace_name = ns.metadata.apply(lambda m: m.name)
        self.collector_endpoint = pulumi.Output.from_input(collector_endpoint())
        self.prometheus_url = pulumi.Output.from_input(prometheus_url())
        self.grafana_url = pulumi.Output.from_input(grafana_url())
        self.jaeger_url = pulumi.Output.from_input(jaeger_url())
        self.register_outputs({"namespace_name": self.namespace_name, "collector_endpoint": self.collector_endpoint,
                               "prometheus_url": self.prometheus_url, "grafana_url": self.grafana_url,
                               "jaeger_url": self.jaeger_url})
