"""Kafka events: the envelope, idempotent consumers, and publishing that waits for the ack.

The bus talks to two client objects with the confluent-kafka interface (``Producer``:
``produce``/``poll``/``flush``; ``Consumer``: ``subscribe``/``poll``/``commit``/``close``).
In production they are confluent-kafka's own (``pavedkit.kafka``); tests hand in
stand-ins at exactly that boundary, so everything above the client runs as deployed.

Delivery is at least once: an event is handled, whatever it publishes is acknowledged by
the brokers, and only then is its offset committed. Redeliveries are recognised by event
id and skipped (outcome ``duplicate``).
"""

from __future__ import annotations

import json
import logging
import threading
import time
import uuid
from collections import OrderedDict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

from opentelemetry import propagate, trace
from opentelemetry.trace import SpanKind, Status, StatusCode

from pavedkit.config import KafkaSettings
from pavedkit.metrics import Metrics

log = logging.getLogger("pavedkit.events")
tracer = trace.get_tracer("pavedkit.events")

SCHEMA_VERSION = 1
# Attempts at a handler before the event is counted `failed` and skipped.
MAX_ATTEMPTS = 3


class EventError(Exception):
    """An event could not be read, or published."""


class AlreadyHandled(Exception):
    """Raised by a handler for an event its durable store has handled (outcome ``duplicate``)."""


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")


@dataclass(frozen=True)
class Event:
    """One domain event. Its type is the catalog topic it is published on."""

    type: str
    order_id: str
    data: dict[str, Any] = field(default_factory=dict)
    event_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    occurred_at: str = field(default_factory=_now)
    version: int = SCHEMA_VERSION
    producer: str = ""

    def to_json(self) -> bytes:
        """The wire form: one JSON object."""
        return json.dumps({
            "event_id": self.event_id, "type": self.type, "version": self.version, "order_id": self.order_id,
            "occurred_at": self.occurred_at, "producer": self.producer, "data": self.data,
        }, sort_keys=True).encode()

    @classmethod
    def from_json(cls, raw: bytes | str | None) -> Event:
        """Parse the wire form; EventError when it is not a valid event."""
        try:
            doc = json.loads(raw or b"")
        except (ValueError, UnicodeDecodeError) as exc:
            raise EventError(f"not JSON: {exc}") from None
        if not isinstance(doc, dict):
            raise EventError("not a JSON object")
        missing = [k for k in ("event_id", "type", "order_id", "occurred_at", "version") if not doc.get(k)]
        if missing:
            raise EventError(f"missing {', '.join(missing)}")
        if not isinstance(doc["version"], int) or doc["version"] > SCHEMA_VERSION:
            raise EventError(f"unsupported version {doc['version']!r}")
        data = doc.get("data") or {}
        if not isinstance(data, dict):
            raise EventError("data is not an object")
        return cls(type=str(doc["type"]), order_id=str(doc["order_id"]), data=data, event_id=str(doc["event_id"]),
                   occurred_at=str(doc["occurred_at"]), version=doc["version"], producer=str(doc.get("producer") or ""))


class SeenEvents:
    """Event ids already handled: bounded, oldest forgotten first.

    In memory, so a restart forgets them; a real deployment keeps them in a durable store
    (the service's database, written in the same transaction as the state change).
    """

    def __init__(self, capacity: int = 100_000) -> None:
        self.capacity = capacity
        self._ids: OrderedDict[str, None] = OrderedDict()
        self._lock = threading.Lock()

    def __contains__(self, event_id: str) -> bool:
        with self._lock:
            return event_id in self._ids

    def add(self, event_id: str) -> None:
        """Remember an id; forgets the oldest beyond capacity."""
        with self._lock:
            self._ids[event_id] = None
            self._ids.move_to_end(event_id)
            while len(self._ids) > self.capacity:
                self._ids.popitem(last=False)

    def __len__(self) -> int:
        return len(self._ids)


def _headers(msg: Any) -> dict[str, str]:
    out: dict[str, str] = {}
    for key, value in msg.headers() or []:
        out[key] = value.decode() if isinstance(value, bytes) else str(value or "")
    return out


Handler = Callable[[Event], None]


class EventBus:
    """Publishes the service's own topics and dispatches the topics it consumes."""

    def __init__(self, service: str, kafka: KafkaSettings, metrics: Metrics, produces: Iterable[str],
                 consumes: Iterable[str], producer: Any = None, consumer: Any = None) -> None:
        self.service = service
        self.kafka = kafka
        self.metrics = metrics
        self.produces = tuple(produces)
        self.consumes = tuple(consumes)
        self.producer = producer
        self.consumer = consumer
        self.handlers: dict[str, Handler] = {}
        self.seen = SeenEvents()
        self._logical = {kafka.physical(t): t for t in self.consumes}
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._subscribed = False

    # --- publishing -----------------------------------------------------------------

    def publish(self, event: Event) -> None:
        """Send ``event`` on its topic and wait for the brokers' ack; EventError if it fails."""
        if event.type not in self.produces:
            raise EventError(f"{self.service} does not produce {event.type!r}; it produces {', '.join(self.produces) or 'nothing'}")
        if self.producer is None:
            raise EventError("Kafka is not configured (KAFKA_BOOTSTRAP_SERVERS is unset)")
        if not event.producer:
            event = Event(**{**event.__dict__, "producer": self.service})
        with tracer.start_as_current_span(f"{event.type} publish", kind=SpanKind.PRODUCER) as span:
            span.set_attributes({"messaging.system": "kafka", "messaging.destination.name": event.type,
                                 "messaging.message.id": event.event_id, "messaging.operation.type": "send"})
            carrier: dict[str, str] = {}
            propagate.inject(carrier)
            headers = [("event_id", event.event_id.encode()), ("event_type", event.type.encode())]
            headers += [(k, v.encode()) for k, v in carrier.items()]
            done = threading.Event()
            errors: list[Any] = []

            def delivered(err: Any, msg: Any) -> None:
                if err is not None:
                    errors.append(err)
                done.set()

            try:
                self.producer.produce(self.kafka.physical(event.type), value=event.to_json(),
                                      key=event.order_id.encode(), headers=headers, on_delivery=delivered)
                deadline = time.monotonic() + self.kafka.publish_timeout_seconds
                while not done.is_set() and time.monotonic() < deadline:
                    self.producer.poll(0.05)
            except Exception as exc:  # BufferError, KafkaException: the client refused it
                errors.append(exc)
            if errors or not done.is_set():
                reason = str(errors[0]) if errors else f"no ack within {self.kafka.publish_timeout_seconds}s"
                self.metrics.produced.labels(topic=event.type, outcome="failed").inc()
                span.set_status(Status(StatusCode.ERROR, reason))
                log.error("event not published", extra={"event_type": event.type, "event_id": event.event_id,
                                                        "order_id": event.order_id, "reason": reason})
                raise EventError(f"{event.type} {event.event_id} not published: {reason}")
            self.metrics.produced.labels(topic=event.type, outcome="sent").inc()
            log.info("event published", extra={"event_type": event.type, "event_id": event.event_id,
                                               "order_id": event.order_id})

    # --- consuming ------------------------------------------------------------------

    def on(self, topic: str, handler: Handler) -> None:
        """Handle events of ``topic``, which the service must declare it consumes."""
        if topic not in self.consumes:
            raise ValueError(f"{self.service} does not consume {topic!r}; it consumes {', '.join(self.consumes) or 'nothing'}")
        if topic in self.handlers:
            raise ValueError(f"two handlers for {topic!r}")
        self.handlers[topic] = handler

    def subscribe(self) -> None:
        """Subscribe the consumer to every consumed topic (once)."""
        if self.consumer is not None and self.consumes and not self._subscribed:
            missing = [t for t in self.consumes if t not in self.handlers]
            if missing:
                raise ValueError(f"{self.service} declares it consumes {', '.join(missing)} but handles none")
            self.consumer.subscribe([self.kafka.physical(t) for t in self.consumes])
            self._subscribed = True

    def poll_once(self, timeout: float = 1.0) -> bool:
        """Receive and handle at most one message; False when none arrived."""
        self.subscribe()
        msg = self.consumer.poll(timeout)
        if msg is None:
            return False
        if msg.error():
            log.warning("consumer error", extra={"kafka_error": str(msg.error())})
            return True
        topic = self._logical.get(msg.topic(), msg.topic())
        headers = _headers(msg)
        parent = propagate.extract(headers)
        with tracer.start_as_current_span(f"{topic} process", context=parent, kind=SpanKind.CONSUMER) as span:
            span.set_attributes({"messaging.system": "kafka", "messaging.destination.name": topic,
                                 "messaging.operation.type": "process",
                                 "messaging.kafka.offset": msg.offset() if msg.offset() is not None else -1})
            outcome = self._handle(topic, msg, span)
        self.metrics.consumed.labels(topic=topic, outcome=outcome).inc()
        # Committed after the handler and whatever it published: at least once.
        self.consumer.commit(message=msg, asynchronous=False)
        return True

    def _handle(self, topic: str, msg: Any, span: Any) -> str:
        try:
            event = Event.from_json(msg.value())
        except EventError as exc:
            # A message no version of this code can read would block the partition forever.
            span.set_status(Status(StatusCode.ERROR, str(exc)))
            log.error("unreadable event skipped", extra={"topic": topic, "offset": msg.offset(), "reason": str(exc)})
            return "failed"
        span.set_attribute("messaging.message.id", event.event_id)
        fields = {"event_type": event.type, "event_id": event.event_id, "order_id": event.order_id, "topic": topic}
        if event.event_id in self.seen:
            log.info("duplicate event skipped", extra=fields)
            return "duplicate"
        handler = self.handlers[topic]
        for attempt in range(1, MAX_ATTEMPTS + 1):
            try:
                handler(event)
            except AlreadyHandled:
                self.seen.add(event.event_id)
                log.info("duplicate event skipped (already in the store)", extra=fields)
                return "duplicate"
            except Exception as exc:
                span.record_exception(exc)
                if attempt == MAX_ATTEMPTS:
                    span.set_status(Status(StatusCode.ERROR, str(exc)))
                    log.exception("event handling failed; skipped", extra={**fields, "attempts": attempt})
                    return "failed"
                time.sleep(0.05 * 2 ** attempt)
                continue
            self.seen.add(event.event_id)
            log.info("event processed", extra=fields)
            return "processed"
        raise AssertionError("unreachable")

    # --- lifecycle ------------------------------------------------------------------

    def start(self) -> None:
        """Consume in a background thread until ``stop``."""
        if self.consumer is None or not self.consumes:
            return
        self.subscribe()
        self._thread = threading.Thread(target=self._loop, name=f"{self.service}-consumer", daemon=True)
        self._thread.start()

    def _loop(self) -> None:
        while not self._stop.is_set():
            try:
                self.poll_once(0.5)
            except Exception:
                log.exception("consumer loop error")
                time.sleep(1.0)

    @property
    def healthy(self) -> bool:
        """Whether consuming works: the consumer thread runs (or there is nothing to consume)."""
        return self._thread is None or self._thread.is_alive() or self._stop.is_set()

    def stop_consuming(self, timeout: float = 10.0) -> None:
        """Finish the event in hand and take no more."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)

    def close(self, timeout: float = 10.0) -> None:
        """Leave the consumer group and deliver what is still buffered."""
        self.stop_consuming(timeout)
        if self.consumer is not None:
            self.consumer.close()
        if self.producer is not None:
            self.producer.flush(timeout)


