"""The telemetry contract: how a service and the observability stack find each other.

Both sides import this module. A service is scraped by Prometheus on its metrics port and
path (a ServiceMonitor on its Service), sends traces over OTLP to the collector in
``monitoring`` (the OpenTelemetry environment of its Deployment), and its team namespace
admits exactly that traffic (two NetworkPolicies that select the stack's pods by
:data:`ROLE_LABEL`, which the add-ons put on them).

Nothing here imports ``components.service``, so the service can import :func:`otel_env` and
:func:`metrics_service_port` without an import cycle.
"""

from __future__ import annotations

from pulumi_kubernetes.core.v1 import ServicePortArgs
from pulumi_kubernetes.meta.v1 import LabelSelectorArgs, ObjectMetaArgs
from pulumi_kubernetes.networking.v1 import (
    NetworkPolicyEgressRuleArgs,
    NetworkPolicyIngressRuleArgs,
    NetworkPolicyInitArgs,
    NetworkPolicyPeerArgs,
    NetworkPolicyPortArgs,
    NetworkPolicySpecArgs,
)

from components.labels import image_version, observability_labels, selector_labels
from components.namespace import NAMESPACE_NAME_LABEL
from paved.metrics_contract import SERVICE_LABEL
from paved.model import Service, Team
from paved.naming import HTTP_PORT_NAME, METRICS_PORT_NAME, MONITORING_NAMESPACE
from paved.quantity import plain_number
from paved.stack import StackSettings

# The add-ons label their pods with this key; NetworkPolicies in team namespaces select
# Prometheus and the collector by it (chart-independent, unlike the charts' own labels).
ROLE_LABEL = "paved.dev/observability"
PROMETHEUS_ROLE = "prometheus"
ALERTMANAGER_ROLE = "alertmanager"
COLLECTOR_ROLE = "otel-collector"
COLLECTOR_SERVICE = "otel-collector"
OTLP_GRPC_PORT = 4317
OTLP_HTTP_PORT = 4318
SCRAPE_INTERVAL = "30s"


def monitoring_host(service: str) -> str:
    """The in-cluster DNS name of a Service in ``monitoring``."""
    return f"{service}.{MONITORING_NAMESPACE}.svc.cluster.local"


def monitoring_url(service: str, port: int) -> str:
    """The in-cluster plain-HTTP URL of a Service in ``monitoring`` (behind its NetworkPolicies)."""
    return f"http://{monitoring_host(service)}:{port}"


# --- scraping -----------------------------------------------------------------------------


def metrics_port(service: Service) -> int:
    """The container port Prometheus scrapes: catalog ``metrics.port``, else the service port."""
    return service.metrics.port or service.port


def metrics_port_name(service: Service) -> str:
    """The named Service port the ServiceMonitor selects."""
    return METRICS_PORT_NAME if metrics_port(service) != service.port else HTTP_PORT_NAME


def metrics_service_port(service: Service) -> ServicePortArgs | None:
    """The extra Service port a separate metrics port needs (a ServiceMonitor scrapes Service
    ports by name); None when metrics are served on the service port."""
    if metrics_port_name(service) == HTTP_PORT_NAME:
        return None
    return ServicePortArgs(name=METRICS_PORT_NAME, port=metrics_port(service), target_port=METRICS_PORT_NAME,
                           protocol="TCP")


def service_monitor_spec(service: Service, team: Team) -> dict:
    """The ServiceMonitor: the service's own Service, its metrics port and path.

    The operator already labels each series with the Service name and namespace; the
    relabeling pins ``service`` to the catalog name so rules never depend on how the
    Kubernetes Service happens to be named.
    """
    return {
        "selector": {"matchLabels": selector_labels(service)},
        "namespaceSelector": {"matchNames": [team.namespace_name]},
        "endpoints": [{
            "port": metrics_port_name(service),
            "path": service.metrics.path,
            "scheme": "http",
            "interval": SCRAPE_INTERVAL,
            "honorLabels": False,  # a service cannot overwrite service/namespace
            "relabelings": [{"action": "replace", "targetLabel": SERVICE_LABEL, "replacement": service.name}],
        }],
    }


# --- tracing ------------------------------------------------------------------------------


def collector_endpoint() -> str:
    """The OTLP/HTTP endpoint of the collector, as services reach it."""
    return monitoring_url(COLLECTOR_SERVICE, OTLP_HTTP_PORT)


def otel_env(service: Service, team: Team, settings: StackSettings) -> dict[str, str]:
    """OpenTelemetry SDK environment: traces to the collector over OTLP/HTTP (the protocol the
    specification makes the default), sampled per stack and honouring the caller's decision.

    Metrics and logs exporters are off: metrics are scraped by Prometheus (the contract), and
    the collector only runs a traces pipeline.
    """
    attributes = {
        "service.namespace": team.namespace_name,
        "service.version": image_version(service.image),
        "deployment.environment.name": settings.environment,
        "team": team.name,
    }
    return {
        "OTEL_SERVICE_NAME": service.name,
        "OTEL_EXPORTER_OTLP_ENDPOINT": collector_endpoint(),
        "OTEL_EXPORTER_OTLP_PROTOCOL": "http/protobuf",
        "OTEL_TRACES_EXPORTER": "otlp",
        "OTEL_METRICS_EXPORTER": "none",
        "OTEL_LOGS_EXPORTER": "none",
        "OTEL_PROPAGATORS": "tracecontext,baggage",
        "OTEL_TRACES_SAMPLER": "parentbased_traceidratio",
        "OTEL_TRACES_SAMPLER_ARG": plain_number(settings.observability.trace_sampling_ratio),
        # Keys and values are label-safe (DNS names, image tags), so no percent-encoding is needed.
        "OTEL_RESOURCE_ATTRIBUTES": ",".join(f"{k}={v}" for k, v in attributes.items()),
    }


# --- network ------------------------------------------------------------------------------


def _monitoring_pods(role: str) -> NetworkPolicyPeerArgs:
    return NetworkPolicyPeerArgs(
        namespace_selector=LabelSelectorArgs(match_labels={NAMESPACE_NAME_LABEL: MONITORING_NAMESPACE}),
        pod_selector=LabelSelectorArgs(match_labels={ROLE_LABEL: role}),
    )


def scrape_ingress_rule(service: Service) -> NetworkPolicyIngressRuleArgs:
    """Ingress from the Prometheus pods in ``monitoring`` on the metrics port."""
    return NetworkPolicyIngressRuleArgs(
        from_=[_monitoring_pods(PROMETHEUS_ROLE)],
        ports=[NetworkPolicyPortArgs(protocol="TCP", port=metrics_port(service))],
    )


def collector_egress_rule() -> NetworkPolicyEgressRuleArgs:
    """Egress to the collector pods in ``monitoring`` on OTLP gRPC and HTTP."""
    return NetworkPolicyEgressRuleArgs(
        to=[_monitoring_pods(COLLECTOR_ROLE)],
        ports=[NetworkPolicyPortArgs(protocol="TCP", port=p) for p in (OTLP_GRPC_PORT, OTLP_HTTP_PORT)],
    )


def _service_policy(service: Service, team: Team, settings: StackSettings, suffix: str, *,
                    ingress: NetworkPolicyIngressRuleArgs | None = None,
                    egress: NetworkPolicyEgressRuleArgs | None = None) -> NetworkPolicyInitArgs:
    return NetworkPolicyInitArgs(
        metadata=ObjectMetaArgs(name=f"{service.name}-{suffix}", namespace=team.namespace_name,
                                labels=observability_labels(service, team, settings.environment)),
        spec=NetworkPolicySpecArgs(
            pod_selector=LabelSelectorArgs(match_labels=selector_labels(service)),
            policy_types=["Ingress"] if ingress else ["Egress"],
            ingress=[ingress] if ingress else None,
            egress=[egress] if egress else None,
        ),
    )


def scrape_policy_args(service: Service, team: Team, settings: StackSettings) -> NetworkPolicyInitArgs:
    """NetworkPolicy letting Prometheus scrape the service (the team namespace denies by default)."""
    return _service_policy(service, team, settings, "allow-prometheus", ingress=scrape_ingress_rule(service))


def collector_egress_args(service: Service, team: Team, settings: StackSettings) -> NetworkPolicyInitArgs:
    """NetworkPolicy letting the service send traces to the collector."""
    return _service_policy(service, team, settings, "allow-otel-collector", egress=collector_egress_rule())
