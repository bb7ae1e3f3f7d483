"""The metrics contract, as prometheus_client metrics in a registry of their own.

These definitions must equal the platform's contract (``paved/metrics_contract.py``):
names, types, labels, help and buckets. The library does not import the platform, so a
test in the platform repository compares the two. The registry holds nothing else (no
process or GC collectors), so ``/metrics`` exposes exactly the contract.
"""

from __future__ import annotations

from dataclasses import dataclass

import prometheus_client
from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.exposition import CONTENT_TYPE_LATEST

# `_created` series are not in the contract.
prometheus_client.disable_created_metrics()

LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.2, 0.3, 0.5, 0.75, 1.0, 2.0, 5.0, 10.0)
CONSUMER_OUTCOMES = ("processed", "duplicate", "failed")
PRODUCER_OUTCOMES = ("sent", "failed")


@dataclass(frozen=True)
class Definition:
    """One metric family as this library defines it."""

    name: str
    type: str
    labels: tuple[str, ...]
    help: str
    buckets: tuple[float, ...] = ()


HTTP_REQUESTS = Definition(
    "http_server_requests_total", "counter", ("method", "route", "status"),
    "HTTP requests served, by method, route template (not raw path) and status code.",
)
HTTP_DURATION = Definition(
    "http_server_request_duration_seconds", "histogram", ("method", "route", "status"),
    "Time to serve an HTTP request, by method, route template and status code.", LATENCY_BUCKETS,
)
HTTP_IN_FLIGHT = Definition("http_server_active_requests", "gauge", (), "HTTP requests being served right now.")
EVENTS_CONSUMED = Definition(
    "kafka_consumer_events_total", "counter", ("topic", "outcome"),
    "Kafka events handled, by topic and outcome (processed, duplicate, failed).",
)
EVENTS_PRODUCED = Definition(
    "kafka_producer_events_total", "counter", ("topic", "outcome"),
    "Kafka events published, by topic and outcome (sent, failed).",
)
DEFINITIONS = (HTTP_REQUESTS, HTTP_DURATION, HTTP_IN_FLIGHT, EVENTS_CONSUMED, EVENTS_PRODUCED)


class Metrics:
    """The contract's metrics for one service instance."""

    def __init__(self, produces: tuple[str, ...] = (), consumes: tuple[str, ...] = ()) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        r = self.registry
        self.http_requests = Counter(HTTP_REQUESTS.name, HTTP_REQUESTS.help, HTTP_REQUESTS.labels, registry=r)
        self.http_duration = Histogram(
            HTTP_DURATION.name, HTTP_DURATION.help, HTTP_DURATION.labels, buckets=HTTP_DURATION.buckets, registry=r
        )
        self.http_in_flight = Gauge(HTTP_IN_FLIGHT.name, HTTP_IN_FLIGHT.help, registry=r)
        self.consumed = Counter(EVENTS_CONSUMED.name, EVENTS_CONSUMED.help, EVENTS_CONSUMED.labels, registry=r)
        self.produced = Counter(EVENTS_PRODUCED.name, EVENTS_PRODUCED.help, EVENTS_PRODUCED.labels, registry=r)
        # Every known series starts at 0, so rate() and absent() work before the first event.
        for topic in consumes:
            for outcome in CONSUMER_OUTCOMES:
                self.consumed.labels(topic=topic, outcome=outcome)
        for topic in produces:
            for outcome in PRODUCER_OUTCOMES:
                self.produced.labels(topic=topic, outcome=outcome)

    def observe_request(self, method: str, route: str, status: int, seconds: float) -> None:
        """Count one served request."""
        labels = {"method": method, "route": route, "status": str(status)}
        self.http_requests.labels(**labels).inc()
        self.http_duration.labels(**labels).observe(seconds)

    def exposition(self) -> tuple[bytes, str]:
        """The Prometheus text exposition and its content type."""
        return generate_latest(self.registry), CONTENT_TYPE_LATEST
