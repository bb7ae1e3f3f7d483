"""pavedkit: the platform contract for services on paved, in one small library.

A service built on it listens on its catalog port, answers ``/healthz`` and ``/readyz``,
exposes exactly the metrics contract on ``/metrics``, exports OpenTelemetry traces over
OTLP when the platform says where, logs JSON lines that carry the trace id, reads its
secrets from the files the platform mounts, publishes and consumes Kafka events with MSK
IAM authentication and deduplication, and shuts down gracefully on SIGTERM.

It never imports the platform (``paved``): a service image holds only this library and
the service.
"""

from pavedkit.events import Event, EventError
from pavedkit.service import Service, run
from pavedkit.web import HttpError, Request, Response

__all__ = ["Event", "EventError", "HttpError", "Request", "Response", "Service", "run"]
