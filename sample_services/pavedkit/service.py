"""A service on the platform: HTTP routes, event handlers, probes, metrics, shutdown."""

from __future__ import annotations

import logging
import signal
import sys
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from typing import Any
from urllib.parse import parse_qs, urlsplit

from opentelemetry import propagate, trace
from opentelemetry.trace import SpanKind, Status, StatusCode

from pavedkit import config, logs, tracing
from pavedkit.db import Unavailable
from pavedkit.events import Event, EventBus, EventError
from pavedkit.metrics import Metrics
from pavedkit.web import HttpError, Request, Response, Router, Server, elapsed

log = logging.getLogger("pavedkit")
tracer = trace.get_tracer("pavedkit.http")


class Service:
    """One service: declare routes with ``@svc.route`` and handlers with ``@svc.on``.

    ``produces``, ``consumes`` and ``secrets`` are the service's catalog entry, declared
    in code: publishing another topic or reading another secret is an error, and a test
    keeps the declarations equal to the catalog. Constructing a Service starts nothing.
    """

    LIVENESS_PATH = "/healthz"
    READINESS_PATH = "/readyz"
    METRICS_PATH = "/metrics"

    def __init__(self, name: str, *, port: int, metrics_port: int | None = None, produces: Iterable[str] = (),
                 consumes: Iterable[str] = (), secrets: Iterable[str] = (), env: Mapping[str, str] | None = None,
                 kafka_clients: tuple[Any, Any] | None = None) -> None:
        self.name = name
        self.catalog_port = port
        self.catalog_metrics_port = metrics_port
        self.produces = tuple(produces)
        self.consumes = tuple(consumes)
        self.secrets = tuple(secrets)
        self.settings = config.load(name, port, metrics_port, env)
        self.metrics = Metrics(self.produces, self.consumes)
        self.router = Router()
        self.log = logging.getLogger(name)
        producer, consumer = kafka_clients or (None, None)
        self.events = EventBus(self.settings.service, self.settings.kafka, self.metrics, self.produces,
                               self.consumes, producer, consumer)
        self._kafka_clients_given = kafka_clients is not None
        self._servers: list[Server] = []
        self._threads: list[threading.Thread] = []
        self._started = False
        self._draining = False
        self._in_flight = 0
        self._idle = threading.Condition()
        self.ports: dict[str, int] = {}
        # The service's in-memory state, set by the service for tests and debugging.
        self.state: Any = None
        # Datastores the service opened (pavedkit.store, pavedkit.cache): started after the
        # configuration check, closed after the consumer stops.
        self.store: Any = None
        self._resources: list[Any] = []

    # --- declarations -----------------------------------------------------------------

    def route(self, method: str, template: str) -> Callable:
        """Decorator: serve ``method template`` (``/orders/{order_id}``) with the function."""
        def register(fn: Callable) -> Callable:
            self.router.add(method, template, fn)
            return fn
        return register

    def on(self, topic: str) -> Callable:
        """Decorator: handle events of a consumed topic with the function."""
        def register(fn: Callable[[Event], None]) -> Callable:
            self.events.on(topic, fn)
            return fn
        return register

    # --- using the platform ---------------------------------------------------------------

    def event(self, type: str, order_id: str, data: dict[str, Any] | None = None) -> Event:  # noqa: A002
        """A new event of ``type``, which must be a produced topic (for ``tx.emit``)."""
        if type not in self.produces:
            raise EventError(f"{self.name} does not produce {type!r}; it produces {', '.join(self.produces) or 'nothing'}")
        return Event(type=type, order_id=order_id, data=data or {}, producer=self.settings.service)

    def publish(self, type: str, order_id: str, data: dict[str, Any] | None = None) -> Event:  # noqa: A002
        """Publish an event of ``type`` (a produced topic) and wait for its ack."""
        event = Event(type=type, order_id=order_id, data=data or {}, producer=self.settings.service)
        self.events.publish(event)
        return event

    def secret(self, name: str) -> str:
        """The current value of a declared secret, read from the file the platform mounts."""
        if name not in self.secrets:
            raise KeyError(f"{self.name} does not declare secret {name!r}")
        return self.settings.secret_path(name).read_text(encoding="utf-8").rstrip("\n")

    def use_store(self, tables: Iterable[str], migrations: Iterable[Any] = ()) -> Any:
        """The service's state store: its PostgreSQL database when the platform gave one."""
        from pavedkit.store import open_store

        self.store = open_store(self.events, self.settings.env, tuple(tables), tuple(migrations))
        self._resources.append(self.store)
        return self.store

    def attach(self, resource: Any) -> Any:
        """Close ``resource`` (anything with ``close()``) when the service stops."""
        self._resources.append(resource)
        return resource

    def migrate(self) -> list[int]:
        """Apply the store's migrations (``python app.py migrate``, the platform's Job)."""
        if self.store is None:
            raise config.ConfigError(f"{self.name} keeps no state in a database: nothing to migrate")
        return self.store.migrate()

    @property
    def events_enabled(self) -> bool:
        """Whether a Kafka client is configured (events off on a laptop without a broker)."""
        return self.events.producer is not None or self.events.consumer is not None

    # --- probes ---------------------------------------------------------------------------

    def readiness(self) -> tuple[bool, str]:
        """Ready to take traffic, and why not."""
        if self._draining:
            return False, "shutting down"
        if not self._started:
            return False, "starting"
        if not self.events.healthy:
            return False, "event consumer stopped"
        return True, ""

    # --- start and stop -------------------------------------------------------------------

    def check(self) -> None:
        """Refuse to start on a configuration the platform would not produce."""
        kafka = self.settings.kafka
        for granted, declared, verb in ((kafka.produces, self.produces, "produce"), (kafka.consumes, self.consumes, "consume")):
            if granted is not None and set(granted) != set(declared):
                raise config.ConfigError(
                    f"the platform lets this service {verb} {sorted(granted)}, the code {verb}s {sorted(declared)}: "
                    "update the catalog or the code")
        if (self.produces or self.consumes) and not kafka.bootstrap_servers and not self._kafka_clients_given:
            if not self.settings.local:
                raise config.ConfigError("KAFKA_BOOTSTRAP_SERVERS is not set; this service uses Kafka")
            log.warning("events are off: KAFKA_BOOTSTRAP_SERVERS is not set (publishing answers 503)")
        for name in self.secrets:
            path = self.settings.secret_path(name)
            try:
                path.read_bytes()
            except OSError as exc:
                raise config.ConfigError(f"secret {name!r} cannot be read from {path}: {exc.strerror}") from None

    def start(self, consume: bool = True) -> Service:
        """Check the configuration, connect, listen, and consume; returns self.

        ``consume=False`` leaves consuming to the caller (``events.poll_once``), for tests
        that decide when each event is delivered.
        """
        self.check()
        if not self._kafka_clients_given and self.settings.kafka.bootstrap_servers and (self.produces or self.consumes):
            from pavedkit.kafka import make_clients

            self.events.producer, self.events.consumer = make_clients(
                self.settings.kafka, self.settings.service, bool(self.produces), bool(self.consumes))
        for resource in self._resources:
            if getattr(resource, "durable", True) is False and not self.settings.local:
                log.warning("state is kept in memory and lost on restart: the platform gave this service no "
                            "datastore", extra={"store": type(resource).__name__})
            if hasattr(resource, "check"):
                resource.check()
        for resource in self._resources:
            if hasattr(resource, "start"):
                resource.start()
        s = self.settings
        main = Server((s.bind_address, s.port), self)
        self._servers.append(main)
        self.ports["http"] = main.server_address[1]
        if not self.metrics_on_main_port:
            extra = Server((s.bind_address, s.metrics_port), self, metrics_only=True)
            self._servers.append(extra)
            self.ports["metrics"] = extra.server_address[1]
        else:
            self.ports["metrics"] = self.ports["http"]
        for server in self._servers:
            t = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.2},
                                 name=f"{self.name}-http-{server.server_address[1]}", daemon=True)
            t.start()
            self._threads.append(t)
        if consume:
            self.events.start()
        self._started = True
        log.info("service started", extra={"port": self.ports["http"], "metrics_port": self.ports["metrics"],
                                            "team": s.team, "events": self.events_enabled})
        return self

    @property
    def metrics_on_main_port(self) -> bool:
        """Whether ``/metrics`` is served on the service port (else on its own)."""
        s = self.settings
        if s.port == 0:  # free ports picked at bind time: follow the catalog
            return self.catalog_metrics_port in (None, self.catalog_port)
        return s.metrics_port == s.port

    def shutdown(self) -> None:
        """Graceful stop: fail readiness, keep serving for the delay, then drain and close.

        Kubernetes sends SIGTERM and removes the pod from its Service's endpoints at the
        same time, but the removal takes a few seconds to reach every node and load
        balancer; requests keep arriving meanwhile, so the listener stays open for
        ``PAVED_SHUTDOWN_DELAY_SECONDS`` with readiness failing, then closes, and requests
        in flight get ``PAVED_DRAIN_TIMEOUT_SECONDS`` to finish.
        """
        s = self.settings
        self._draining = True
        log.info("shutting down: readiness fails now", extra={"delay_seconds": s.shutdown_delay_seconds})
        time.sleep(s.shutdown_delay_seconds)
        self.events.stop_consuming(s.drain_timeout_seconds)
        for server in self._servers:
            server.shutdown()
            server.server_close()
        with self._idle:
            drained = self._idle.wait_for(lambda: self._in_flight == 0, timeout=s.drain_timeout_seconds)
        if not drained:
            log.warning("drain timeout: requests still in flight", extra={"in_flight": self._in_flight})
        self.close_resources()
        self.events.close(s.drain_timeout_seconds)
        log.info("service stopped")

    def close_resources(self) -> None:
        """Stop the outbox relay and close the datastores' connections."""
        for resource in reversed(self._resources):
            try:
                resource.close()
            except Exception:
                log.exception("closing a datastore failed")

    # --- HTTP -----------------------------------------------------------------------------

    def request_started(self) -> None:
        """A request to a service route began (probes and metrics are not counted)."""
        with self._idle:
            self._in_flight += 1
        self.metrics.http_in_flight.inc()

    def request_finished(self) -> None:
        """A request's response was sent."""
        self.metrics.http_in_flight.dec()
        with self._idle:
            self._in_flight -= 1
            self._idle.notify_all()

    def handle_http(self, handler: Any, path: str) -> tuple[int, bytes, str, dict[str, str]]:
        """Route, trace, count and log one request; returns what to send."""
        method = handler.command
        route, fn, params, path_known = self.router.match("GET" if method == "HEAD" else method, path)
        start = time.perf_counter()
        headers = {k.lower(): v for k, v in handler.headers.items()}
        with tracer.start_as_current_span(f"{method} {route}", context=propagate.extract(headers),
                                          kind=SpanKind.SERVER) as span:
            span.set_attributes({"http.request.method": method, "http.route": route, "url.path": path})
            try:
                if fn is None:
                    raise HttpError(405 if path_known else 404, "method not allowed" if path_known else "not found")
                query = _query(handler.path)
                req = Request(method, path, route, params, query, headers, handler.read_body())
                result = fn(req)
                resp = result if isinstance(result, Response) else Response(200, result)
            except HttpError as exc:
                resp = Response(exc.status, {"error": exc.message})
            except (EventError, Unavailable) as exc:
                resp = Response(503, {"error": str(exc)})
            except Exception as exc:
                span.record_exception(exc)
                log.exception("request failed", extra={"route": route})
                resp = Response(500, {"error": "internal error"})
            span.set_attribute("http.response.status_code", resp.status)
            if resp.status >= 500:
                span.set_status(Status(StatusCode.ERROR))
            seconds = elapsed(start)
            self.metrics.observe_request(method, route, resp.status, seconds)
            log.info("request", extra={"method": method, "route": route, "path": path, "status": resp.status,
                                       "duration_ms": round(seconds * 1000, 3)})
        body, ctype = resp.encode()
        return resp.status, body, ctype, resp.headers


def _query(raw_path: str) -> dict[str, list[str]]:
    return parse_qs(urlsplit(raw_path).query)


def run(create: Callable[[], Service], argv: list[str] | None = None) -> int:
    """Build a service, run it until SIGTERM or SIGINT, stop it gracefully; the exit code.

    ``app.py migrate`` instead applies the service's database migrations and exits (0 when
    the schema is current): the command the platform's migration Job runs before rollout.
    """
    args = sys.argv[1:] if argv is None else argv
    if args:
        if args != ["migrate"]:
            print(f"usage: app.py [migrate] (got {' '.join(args)})", file=sys.stderr)
            return 2
        return _migrate(create)
    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.set())
    try:
        svc = create()
    except config.ConfigError as exc:
        print(f"configuration error: {exc}", file=sys.stderr)
        return 1
    logs.setup(svc.settings.service, svc.settings.environment, svc.settings.log_level)
    provider = tracing.setup(svc.settings.service, svc.settings.env)
    try:
        svc.start()
    except (config.ConfigError, OSError, ValueError) as exc:
        svc.close_resources()
        log.error("cannot start: %s", exc)
        return 1
    while not stop.wait(0.5):
        pass
    svc.shutdown()
    if provider is not None:
        provider.shutdown()  # exports the spans still buffered
    return 0


def _migrate(create: Callable[[], Service]) -> int:
    try:
        svc = create()
        logs.setup(svc.settings.service, svc.settings.environment, svc.settings.log_level)
        done = svc.migrate()
    except config.ConfigError as exc:
        print(f"migration failed: {exc}", file=sys.stderr)
        return 1
    except Exception as exc:  # a failing migration: its SQL error, for the Job's log
        print(f"migration failed: {type(exc).__name__}: {exc}", file=sys.stderr)
        return 1
    log.info("schema is current", extra={"applied_now": done})
    return 0
