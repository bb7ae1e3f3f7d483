"""OpenTelemetry tracing, configured only from the standard OTEL_* environment.

``OTEL_SERVICE_NAME`` and ``OTEL_RESOURCE_ATTRIBUTES`` name the service (``PAVED_SERVICE``
when unset). ``OTEL_EXPORTER_OTLP_ENDPOINT`` (or ``..._TRACES_ENDPOINT``) turns on the OTLP
exporter, over ``OTEL_EXPORTER_OTLP_PROTOCOL``: ``http/protobuf`` (the specification's
default, and what the platform sets) or ``grpc``; the exporter reads its other
``OTEL_EXPORTER_OTLP_*`` settings itself. Without an endpoint (or with
``OTEL_TRACES_EXPORTER=none``) no span leaves the process, but spans still exist so logs
carry trace ids. ``OTEL_TRACES_SAMPLER`` / ``OTEL_TRACES_SAMPLER_ARG`` choose the sampler,
``OTEL_PROPAGATORS`` the propagation format, and ``OTEL_SDK_DISABLED=true`` turns it all off.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping

from opentelemetry import trace
from opentelemetry.sdk.resources import SERVICE_NAME, Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor

log = logging.getLogger("pavedkit.tracing")


def exporter_endpoint(env: Mapping[str, str]) -> str | None:
    """The OTLP endpoint traces go to, or None when none is configured."""
    return env.get("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT") or env.get("OTEL_EXPORTER_OTLP_ENDPOINT") or None


def _exporter(protocol: str):
    try:
        if protocol == "http/protobuf":
            from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
        elif protocol == "grpc":
            from opentelemetry.exporter.otlp.proto.grpc.trace_exporter import OTLPSpanExporter
        else:
            log.error("unsupported OTLP protocol %r (http/protobuf or grpc); traces are not exported", protocol)
            return None
    except ImportError:
        log.error("the OTLP %s exporter is not installed; traces are not exported", protocol)
        return None
    return OTLPSpanExporter()


def setup(service: str, env: Mapping[str, str] | None = None) -> TracerProvider | None:
    """Install the process's TracerProvider; returns it (None when the SDK is disabled)."""
    env = os.environ if env is None else env
    if (env.get("OTEL_SDK_DISABLED") or "").lower() == "true":
        return None
    # Resource.create merges OTEL_RESOURCE_ATTRIBUTES and OTEL_SERVICE_NAME itself; the
    # platform's name is only a fallback.
    attributes = {} if env.get("OTEL_SERVICE_NAME") else {SERVICE_NAME: service}
    provider = TracerProvider(resource=Resource.create(attributes))
    endpoint = exporter_endpoint(env)
    if endpoint and (env.get("OTEL_TRACES_EXPORTER") or "otlp") == "otlp":
        protocol = env.get("OTEL_EXPORTER_OTLP_TRACES_PROTOCOL") or env.get("OTEL_EXPORTER_OTLP_PROTOCOL") or "http/protobuf"
        exporter = _exporter(protocol)
        if exporter is not None:
            provider.add_span_processor(BatchSpanProcessor(exporter))
            log.info("exporting traces over OTLP", extra={"otlp_endpoint": endpoint, "otlp_protocol": protocol})
    trace.set_tracer_provider(provider)
    return provider
