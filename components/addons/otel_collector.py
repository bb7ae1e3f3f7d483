"""The OpenTelemetry Collector: receives OTLP from the services (components/telemetry.py
says where) and exports traces to Jaeger."""

from __future__ import annotations

from dataclasses import dataclass

import pulumi

from components.addons import AddOnContext
from components.addons.chart import chart, disruption_budget, pinned_image, resources, zone_spread
from components.addons.jaeger import JAEGER_SERVICE
from components.security import RESTRICTED_CONTAINER, RESTRICTED_POD
from components.telemetry import (
    COLLECTOR_ROLE,
    COLLECTOR_SERVICE,
    OTLP_GRPC_PORT,
    OTLP_HTTP_PORT,
    ROLE_LABEL,
    monitoring_host,
)
from paved.stack import StackSettings

CHART = "opentelemetry-collector"
COLLECTOR_RESOURCES = resources("125m", "256Mi", "500m", "512Mi")


def collector_config() -> dict:
    """The collector's whole configuration (``alternateConfig``: nothing merged from the chart's
    defaults): OTLP in, memory limiter and batching, OTLP gRPC out to Jaeger."""
    return {
        "extensions": {"health_check": {"endpoint": "${env:MY_POD_IP}:13133"}},
        "receivers": {"otlp": {"protocols": {
            "grpc": {"endpoint": f"${{env:MY_POD_IP}}:{OTLP_GRPC_PORT}"},
            "http": {"endpoint": f"${{env:MY_POD_IP}}:{OTLP_HTTP_PORT}"}}}},
        "processors": {
            "memory_limiter": {"check_interval": "5s", "limit_percentage": 80, "spike_limit_percentage": 25},
            "batch": {},
        },
        "exporters": {"otlp_grpc/jaeger": {
            # Inside the namespace, behind its NetworkPolicies; Jaeger serves no TLS here.
            "endpoint": f"{monitoring_host(JAEGER_SERVICE)}:{OTLP_GRPC_PORT}",
            "tls": {"insecure": True}}},
        "service": {
            "extensions": ["health_check"],
            "telemetry": {"metrics": {"readers": [
                {"pull": {"exporter": {"prometheus": {"host": "${env:MY_POD_IP}", "port": 8888}}}}]}},
            "pipelines": {"traces": {"receivers": ["otlp"], "processors": ["memory_limiter", "batch"],
                                     "exporters": ["otlp_grpc/jaeger"]}},
        },
    }


def collector_values(settings: StackSettings, release: str) -> dict:
    """Values of the OpenTelemetry Collector chart: a Deployment receiving OTLP only, as many
    replicas as Prometheus, spread over zones and kept through a drain when there are several."""
    replicas = settings.observability.prometheus_replicas
    return {
        "fullnameOverride": COLLECTOR_SERVICE,
        "mode": "deployment",
        "replicaCount": replicas,
        "podDisruptionBudget": disruption_budget(replicas),
        "topologySpreadConstraints": zone_spread(settings, {
            "app.kubernetes.io/name": CHART, "app.kubernetes.io/instance": release, "component": "standalone-collector"}),
        "image": pinned_image(CHART),
        "command": {"name": "otelcol-k8s"},
        "alternateConfig": collector_config(),
        "ports": {
            "otlp": {"enabled": True}, "otlp-http": {"enabled": True}, "metrics": {"enabled": True},
            "jaeger-compact": {"enabled": False}, "jaeger-thrift": {"enabled": False},
            "jaeger-grpc": {"enabled": False}, "zipkin": {"enabled": False},
        },
        "serviceMonitor": {"enabled": True},
        "podLabels": {ROLE_LABEL: COLLECTOR_ROLE},
        "podSecurityContext": RESTRICTED_POD,
        "securityContext": RESTRICTED_CONTAINER,
        "resources": COLLECTOR_RESOURCES,
        "serviceAccount": {"automountServiceAccountToken": False},  # no k8s API use
    }


@dataclass(frozen=True)
class OtelCollector:
    """The add-on. Deploy it after Jaeger and after kube-prometheus-stack: its ServiceMonitor
    needs the operator's CRDs."""

    def deploy(self, ctx: AddOnContext) -> pulumi.Resource:
        """The chart."""
        release = f"{ctx.prefix}-otel-collector"
        return chart(release, CHART, ctx.namespace, collector_values(ctx.settings, release), ctx.options())
