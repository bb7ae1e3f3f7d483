"""The metrics contract: what every service on paved exposes on its metrics endpoint.

One source of truth. The alert rules and dashboards paved generates query only these
names and labels, the sample services expose exactly these, and ``docs/metrics-contract.md``
is generated from this module (a test keeps it current).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Metric:
    """One metric family of the contract."""

    name: str
    type: str  # "counter" | "histogram" | "gauge"
    labels: tuple[str, ...]
    help: str
    buckets: tuple[float, ...] = ()


# Latency buckets in seconds: fine below 100 ms where most SLOs sit, coarse above.
LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.2, 0.3, 0.5, 0.75, 1.0, 2.0, 5.0, 10.0)

HTTP_REQUESTS = Metric(
    "http_server_requests_total", "counter", ("method", "route", "status"),
    "HTTP requests served, by method, route template (not raw path) and status code.",
)
HTTP_DURATION = Metric(
    "http_server_request_duration_seconds", "histogram", ("method", "route", "status"),
    "Time to serve an HTTP request, by method, route template and status code.", LATENCY_BUCKETS,
)
HTTP_IN_FLIGHT = Metric(
    "http_server_active_requests", "gauge", (),
    "HTTP requests being served right now.",
)
EVENTS_CONSUMED = Metric(
    "kafka_consumer_events_total", "counter", ("topic", "outcome"),
    "Kafka events handled, by topic and outcome (processed, duplicate, failed).",
)
EVENTS_PRODUCED = Metric(
    "kafka_producer_events_total", "counter", ("topic", "outcome"),
    "Kafka events published, by topic and outcome (sent, failed).",
)

CONTRACT: tuple[Metric, ...] = (HTTP_REQUESTS, HTTP_DURATION, HTTP_IN_FLIGHT, EVENTS_CONSUMED, EVENTS_PRODUCED)

# Outcomes a consumer or producer reports; the label values are part of the contract.
CONSUMER_OUTCOMES = ("processed", "duplicate", "failed")
PRODUCER_OUTCOMES = ("sent", "failed")

# Label every series carries once Prometheus scrapes it (from the ServiceMonitor's target
# labels), so rules and dashboards select a service by it.
SERVICE_LABEL = "service"
NAMESPACE_LABEL = "namespace"


def exposed_names(metric: Metric) -> tuple[str, ...]:
    """The series names Prometheus stores for a metric family."""
    if metric.type == "histogram":
        return (f"{metric.name}_bucket", f"{metric.name}_sum", f"{metric.name}_count")
    return (metric.name,)


def all_series_names() -> frozenset[str]:
    """Every series name in the contract."""
    return frozenset(n for m in CONTRACT for n in exposed_names(m))


def markdown() -> str:
    """The contract as the document ``docs/metrics-contract.md``."""
    lines = [
        "# Metrics contract",
        "",
        "Every service on paved exposes these metrics in the Prometheus text format on its",
        "metrics port and path (catalog `metrics`, default the service port and `/metrics`).",
        "paved's alert rules and dashboards query only these. Generated from",
        "`paved/metrics_contract.py`; do not edit by hand.",
        "",
        "| metric | type | labels | meaning |",
        "|---|---|---|---|",
    ]
    for m in CONTRACT:
        labels = ", ".join(f"`{label}`" for label in m.labels) or "none"
        lines.append(f"| `{m.name}` | {m.type} | {labels} | {m.help} |")
    lines += [
        "",
        f"Histogram buckets (seconds): {', '.join(str(b) for b in LATENCY_BUCKETS)}.",
        "",
        "Rules:",
        "",
        "- `route` is the route template (`/orders/{id}`), never the raw path: raw paths make",
        "  one series per id and exhaust Prometheus.",
        "- `status` is the numeric HTTP status code as a string (`\"200\"`, `\"503\"`). Errors are",
        "  statuses 5xx.",
        f"- Consumer `outcome` is one of {', '.join(CONSUMER_OUTCOMES)}; producer `outcome` is one of"
        f" {', '.join(PRODUCER_OUTCOMES)}.",
        f"- Prometheus adds `{SERVICE_LABEL}` and `{NAMESPACE_LABEL}` from the ServiceMonitor; services",
        "  must not set them.",
        "- Probe endpoints (`/healthz`, `/readyz`) and the metrics endpoint are not counted.",
        "",
    ]
    return "\n".join(lines)
