"""The order saga across the six sample services, with Kafka replaced at the client only.

Each service is built by its own ``create()`` and runs its real HTTP server, handlers,
event envelope, deduplication, metrics and tracing. Only the confluent-kafka
``Producer`` and ``Consumer`` objects are stand-ins (``FakeBroker`` below, same methods
and callbacks), so duplicate delivery, reordering across topics and broker failures can
be staged exactly.
"""

from __future__ import annotations

import importlib.util
import json
import sys
import threading
import time
import urllib.error
import urllib.request
from collections import defaultdict
from pathlib import Path

import pytest
from opentelemetry import trace
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from conftest import ROOT

SAMPLES = ROOT / "sample_services"
SERVICES = ("orders", "payments", "inventory", "shipping", "notifications", "analytics")
sys.path.insert(0, str(SAMPLES))


# --- the client boundary -----------------------------------------------------------------


class FakeError:
    """What confluent-kafka hands ``on_delivery`` when a message was not written."""

    def __init__(self, reason: str) -> None:
        self.reason = reason

    def __str__(self) -> str:
        return self.reason


class FakeMessage:
    """confluent_kafka.Message: accessor methods, one partition per topic."""

    def __init__(self, topic, offset, key, value, headers):
        self._topic, self._offset, self._key, self._value, self._headers = topic, offset, key, value, headers

    def topic(self): return self._topic
    def partition(self): return 0
    def offset(self): return self._offset
    def key(self): return self._key
    def value(self): return self._value
    def headers(self): return list(self._headers)
    def error(self): return None


class FakeBroker:
    """Topic logs and committed group offsets, shared by every fake client."""

    def __init__(self) -> None:
        self.log: dict[str, list[FakeMessage]] = defaultdict(list)
        self.committed: dict[tuple[str, str], int] = {}
        self.refuse: dict[str, int] = defaultdict(int)  # topic → writes to fail
        self.changed = threading.Condition()

    def append(self, topic, key, value, headers) -> FakeMessage:
        with self.changed:
            msg = FakeMessage(topic, len(self.log[topic]), key, value, headers)
            self.log[topic].append(msg)
            self.changed.notify_all()
            return msg

    def duplicate_all(self, topic: str) -> None:
        """Write every message of ``topic`` again (a producer retry without idempotence)."""
        for m in list(self.log[topic]):
            self.append(topic, m.key(), m.value(), m.headers())

    def events(self, topic: str) -> list[dict]:
        return [json.loads(m.value()) for m in self.log[topic]]

    def producer(self) -> FakeProducer:
        return FakeProducer(self)

    def consumer(self, group: str) -> FakeConsumer:
        return FakeConsumer(self, group)


class FakeProducer:
    """confluent_kafka.Producer: produce() queues, poll()/flush() deliver and call back."""

    def __init__(self, broker: FakeBroker) -> None:
        self.broker = broker
        self.pending: list[tuple] = []
        self.lock = threading.Lock()

    def produce(self, topic, value=None, key=None, headers=None, on_delivery=None):
        with self.lock:
            self.pending.append((topic, key, value, headers or [], on_delivery))

    def poll(self, timeout=0):
        with self.lock:
            batch, self.pending = self.pending, []
        for topic, key, value, headers, cb in batch:
            if self.broker.refuse[topic] > 0:
                self.broker.refuse[topic] -= 1
                cb(FakeError("KafkaError{code=_MSG_TIMED_OUT}"), None)
            else:
                cb(None, self.broker.append(topic, key, value, headers))
        return len(batch)

    def flush(self, timeout=None):
        self.poll()
        return 0

    def __len__(self):
        return len(self.pending)


class FakeConsumer:
    """confluent_kafka.Consumer of one group: resumes from the group's committed offsets."""

    def __init__(self, broker: FakeBroker, group: str) -> None:
        self.broker, self.group = broker, group
        self.topics: list[str] = []
        self.position: dict[str, int] = {}
        self.held: set[str] = set()
        self.closed = False
        self._next = 0

    def subscribe(self, topics, **_):
        self.topics = list(topics)
        self.position = {t: self.broker.committed.get((self.group, t), 0) for t in topics}

    def hold(self, *topics):
        """Deliver nothing of these topics until ``release`` (staging reordering)."""
        self.held.update(topics)

    def release(self, *topics):
        self.held.difference_update(topics)

    def rewind(self, topic: str, offset: int = 0):
        """Deliver again from ``offset`` (a rebalance after a lost commit)."""
        self.position[topic] = offset

    def _take(self):
        for i in range(len(self.topics)):  # round robin over topics, like partitions of a group
            topic = self.topics[(self._next + i) % len(self.topics)]
            if topic in self.held:
                continue
            pos = self.position[topic]
            if pos < len(self.broker.log[topic]):
                self.position[topic] = pos + 1
                self._next = (self._next + i + 1) % len(self.topics)
                return self.broker.log[topic][pos]
        return None

    def poll(self, timeout=None):
        deadline = time.monotonic() + (timeout or 0)
        with self.broker.changed:
            while True:
                msg = self._take()
                if msg is not None or time.monotonic() >= deadline:
                    return msg
                self.broker.changed.wait(max(0.0, deadline - time.monotonic()))

    def commit(self, message=None, asynchronous=True):
        self.broker.committed[(self.group, message.topic())] = message.offset() + 1

    def close(self):
        self.closed = True


# --- the services ------------------------------------------------------------------------


def load_app(name: str):
    """A sample service's app.py as a module (each its own module object)."""
    spec = importlib.util.spec_from_file_location(f"sample_{name}_app", SAMPLES / name / "app.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def spans():
    """Spans of every service in this process (one global TracerProvider)."""
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    trace.set_tracer_provider(provider)
    if not isinstance(trace.get_tracer_provider(), TracerProvider):  # pragma: no cover - already set elsewhere
        pytest.skip("another test set the global TracerProvider")
    return exporter


class Shop:
    """The six services on one fake broker, each started on 127.0.0.1 without consumer threads."""

    def __init__(self, tmp: Path, threaded: bool = False, extra_env: dict[str, dict[str, str]] | None = None) -> None:
        from paved.catalog import load_catalog

        self.broker = FakeBroker()
        catalog = load_catalog(ROOT / "services_catalog.yaml", {e: None for e in ("dev", "staging", "prod")})
        self.svc = {}
        for name in SERVICES:
            entry = catalog.service(name)
            env = {"PAVED_SERVICE": name, "PAVED_TEAM": entry.team, "PAVED_ENVIRONMENT": "test", "PORT": "0",
                   "PAVED_BIND_ADDRESS": "127.0.0.1", "PAVED_SHUTDOWN_DELAY_SECONDS": "0",
                   "PAVED_DRAIN_TIMEOUT_SECONDS": "5", "KAFKA_PUBLISH_TIMEOUT_SECONDS": "2",
                   # what the platform sets (components/service.py kafka_env), minus the bootstrap
                   "KAFKA_PRODUCES": ",".join(t.name for t in entry.kafka.produces),
                   "KAFKA_CONSUMES": ",".join(entry.kafka.consumes), "KAFKA_CONSUMER_GROUP": name,
                   **dict(entry.env)}
            if entry.metrics.port:
                env["METRICS_PORT"] = "0"
            for secret in entry.secrets:
                path = tmp / f"{name}-{secret.name}"
                path.write_text(f"value-of-{secret.name}\n")
                env[f"{secret.env_name}_FILE"] = str(path)
            env.update((extra_env or {}).get(name, {}))  # datastores (test_samples_datastores.py)
            clients = (self.broker.producer(), self.broker.consumer(name))
            self.svc[name] = load_app(name).create(env=env, kafka_clients=clients).start(consume=threaded)

    def settle(self, max_messages: int = 500) -> int:
        """Deliver until no consumer has anything left; the number of messages handled."""
        handled = 0
        while True:
            progressed = False
            for svc in self.svc.values():
                if svc.consumes and svc.events.poll_once(0):
                    handled += 1
                    progressed = True
            if not progressed:
                return handled
            assert handled < max_messages, "the saga does not settle"

    def http(self, service: str, method: str, path: str, body=None, headers=None) -> tuple[int, dict]:
        port = self.svc[service].ports["http"]
        data = json.dumps(body).encode() if body is not None else None
        req = urllib.request.Request(f"http://127.0.0.1:{port}{path}", data=data, method=method,
                                     headers={"Content-Type": "application/json", **(headers or {})})
        try:
            with urllib.request.urlopen(req, timeout=5) as resp:
                return resp.status, json.loads(resp.read() or b"null")
        except urllib.error.HTTPError as exc:
            return exc.code, json.loads(exc.read() or b"null")

    def place(self, customer="c-1", items=None, **kw) -> str:
        items = items or [{"sku": "sku-1", "quantity": 2, "unit_price": 10.0}]
        status, body = self.http("orders", "POST", "/orders", {"customer_id": customer, "items": items}, **kw)
        assert status == 201, body
        return body["order_id"]

    def consumer(self, name: str) -> FakeConsumer:
        return self.svc[name].events.consumer

    def counter(self, service: str, name: str, **labels) -> float:
        return self.svc[service].metrics.registry.get_sample_value(name, labels) or 0.0

    def close(self) -> None:
        threads = [threading.Thread(target=svc.shutdown) for svc in self.svc.values()]
        for t in threads:
            t.start()
        for t in threads:
            t.join(15)


@pytest.fixture
def shop(tmp_path, spans):
    s = Shop(tmp_path)
    yield s
    s.close()


def order(shop: Shop, order_id: str) -> dict:
    status, body = shop.http("orders", "GET", f"/orders/{order_id}")
    assert status == 200, body
    return body


def kinds(shop: Shop, order_id: str) -> list[str]:
    return sorted(m["kind"] for m in shop.svc["notifications"].state if m["order_id"] == order_id)


# --- the saga ------------------------------------------------------------------------------


def test_happy_path_confirms_reserves_ships_and_notifies(shop, spans):
    spans.clear()
    order_id = shop.place(items=[{"sku": "sku-1", "quantity": 2, "unit_price": 10.0}])
    shop.settle()
    assert order(shop, order_id)["status"] == "confirmed"
    assert shop.http("payments", "GET", f"/payments/{order_id}")[1]["status"] == "completed"
    assert shop.http("inventory", "GET", "/stock/sku-1")[1] == {"sku": "sku-1", "available": 98, "reserved": 2}
    shipment = shop.http("shipping", "GET", f"/shipments/{order_id}")[1]
    assert shipment["status"] == "dispatched" and shipment["tracking_number"].startswith("TRK-")
    assert kinds(shop, order_id) == ["order-placed", "shipment-dispatched"]
    day = next(iter(shop.http("analytics", "GET", "/sales/daily")[1].values()))
    assert day == {"orders": 1, "payments": 1, "shipments": 1, "reservations": 1, "revenue": 20.0}
    # Every event is one envelope: id, type = topic, order id, time, version.
    for topic in ("order-placed", "payment-completed", "stock-reserved", "shipment-dispatched"):
        (event,) = shop.broker.events(topic)
        assert event["type"] == topic and event["order_id"] == order_id and event["version"] == 1
        assert event["event_id"] and event["occurred_at"].endswith("Z")
    assert shop.broker.log["order-cancelled"] == []
    # One trace from the HTTP request through every consumer and what they published.
    traces = {s.context.trace_id for s in spans.get_finished_spans() if s.name != "GET /orders/{order_id}"
              and not s.name.startswith("GET ")}
    assert len(traces) == 1, sorted(s.name for s in spans.get_finished_spans())
    assert shop.counter("payments", "kafka_consumer_events_total", topic="order-placed", outcome="processed") == 1
    assert shop.counter("orders", "kafka_producer_events_total", topic="order-placed", outcome="sent") == 1


def test_failed_payment_cancels_the_order_and_releases_stock(shop):
    order_id = shop.place(items=[{"sku": "sku-2", "quantity": 3, "unit_price": 500.0}])  # 1500 > limit
    shop.settle()
    o = order(shop, order_id)
    assert (o["status"], o["cancel_reason"], o["refund_due"]) == ("cancelled", "payment-failed", False)
    assert shop.http("payments", "GET", f"/payments/{order_id}")[1]["status"] == "failed"
    # Compensation: the stock inventory reserved is back, nothing ships.
    assert shop.http("inventory", "GET", "/stock/sku-2")[1] == {"sku": "sku-2", "available": 100, "reserved": 0}
    assert shop.svc["inventory"].state["reservations"][order_id]["state"] == "released"
    assert shop.http("shipping", "GET", f"/shipments/{order_id}")[1]["status"] == "waiting"
    assert shop.broker.log["shipment-dispatched"] == []
    assert [e["data"]["reason"] for e in shop.broker.events("order-cancelled")] == ["payment-failed"]
    assert kinds(shop, order_id) == ["order-cancelled", "order-placed", "payment-failed"]


def test_declined_customer_fails_payment_too(shop):
    order_id = shop.place(customer="declined-42")
    shop.settle()
    assert order(shop, order_id)["cancel_reason"] == "payment-failed"


def test_rejected_stock_cancels_a_paid_order_and_flags_the_refund(shop):
    order_id = shop.place(items=[{"sku": "sku-rare", "quantity": 2, "unit_price": 5.0}])
    # Payment completes before orders hears of the rejection.
    shop.consumer("orders").hold("stock-rejected")
    shop.settle()
    assert order(shop, order_id)["status"] == "confirmed"
    shop.consumer("orders").release("stock-rejected")
    shop.settle()
    o = order(shop, order_id)
    assert (o["status"], o["cancel_reason"], o["refund_due"]) == ("cancelled", "out-of-stock", True)
    assert shop.http("shipping", "GET", f"/shipments/{order_id}")[1]["status"] == "waiting"
    assert len(shop.broker.log["order-cancelled"]) == 1


def test_duplicate_delivery_changes_nothing(shop):
    first = shop.place()
    failed = shop.place(items=[{"sku": "sku-2", "quantity": 1, "unit_price": 5000.0}])
    shop.settle()
    before = {t: len(m) for t, m in shop.broker.log.items()}
    # Every consumer gets everything again (a rebalance after lost commits)...
    for name in SERVICES:
        for topic in shop.svc[name].consumes:
            shop.consumer(name).rewind(topic, 0)
    # ...and every event is also on its topic twice (a producer retry).
    for topic in list(shop.broker.log):
        shop.broker.duplicate_all(topic)
    shop.settle()
    after = {t: len(m) for t, m in shop.broker.log.items()}
    assert after == {t: 2 * n for t, n in before.items()}, "a duplicate made a service publish again"
    assert order(shop, first)["status"] == "confirmed"
    assert order(shop, failed)["status"] == "cancelled"
    assert len(shop.svc["payments"].state) == 2
    assert shop.http("inventory", "GET", "/stock/sku-1")[1]["available"] == 98
    assert kinds(shop, first) == ["order-placed", "shipment-dispatched"]
    assert kinds(shop, failed) == ["order-cancelled", "order-placed", "payment-failed"]
    day = next(iter(shop.http("analytics", "GET", "/sales/daily")[1].values()))
    assert (day["orders"], day["payments"], day["shipments"]) == (2, 1, 1)
    # 2 order-placed events, each delivered twice more to payments (rewound, and copied).
    assert shop.counter("payments", "kafka_consumer_events_total", topic="order-placed", outcome="duplicate") == 4
    assert shop.counter("payments", "kafka_consumer_events_total", topic="order-placed", outcome="processed") == 2


def test_out_of_order_events(shop):
    # shipping sees the reservation before the payment, for one order...
    a = shop.place()
    shop.consumer("shipping").hold("payment-completed")
    shop.settle()
    assert shop.http("shipping", "GET", f"/shipments/{a}")[1]["status"] == "waiting"
    shop.consumer("shipping").release("payment-completed")
    shop.settle()
    assert shop.http("shipping", "GET", f"/shipments/{a}")[1]["status"] == "dispatched"
    # ...and the payment before the reservation for another: dispatched once either way.
    b = shop.place()
    shop.consumer("shipping").hold("stock-reserved")
    shop.settle()
    assert shop.http("shipping", "GET", f"/shipments/{b}")[1]["status"] == "waiting"
    shop.consumer("shipping").release("stock-reserved")
    shop.settle()
    assert [e["order_id"] for e in shop.broker.events("shipment-dispatched")] == [a, b]


def test_cancellation_overtaking_its_order_reserves_nothing(shop):
    # inventory is slow on order-placed; the payment fails and the cancellation arrives first.
    shop.consumer("inventory").hold("order-placed")
    order_id = shop.place(items=[{"sku": "sku-3", "quantity": 4, "unit_price": 400.0}])
    shop.settle()
    assert order(shop, order_id)["status"] == "cancelled"
    shop.consumer("inventory").release("order-placed")
    shop.settle()
    assert shop.http("inventory", "GET", "/stock/sku-3")[1]["available"] == 100
    assert shop.broker.log["stock-reserved"] == [] and shop.broker.log["stock-rejected"] == []


def test_publish_failure_is_retried_before_the_offset_moves(shop):
    shop.broker.refuse["stock-reserved"] = 1  # the first write times out
    order_id = shop.place()
    shop.settle()
    assert len(shop.broker.log["stock-reserved"]) == 1
    assert shop.http("shipping", "GET", f"/shipments/{order_id}")[1]["status"] == "dispatched"
    assert shop.counter("inventory", "kafka_producer_events_total", topic="stock-reserved", outcome="failed") == 1
    assert shop.counter("inventory", "kafka_consumer_events_total", topic="order-placed", outcome="processed") == 1


def test_order_accepted_and_its_event_published_once_the_broker_recovers(shop):
    """The order and its event commit together (outbox): a broker failure delays the event."""
    shop.broker.refuse["order-placed"] = 1
    order_id = shop.place(customer="c", items=[{"sku": "sku-1", "quantity": 1, "unit_price": 1}])
    assert shop.svc["orders"].state[order_id]["status"] == "pending"
    deadline = time.monotonic() + 10
    while not shop.broker.log["order-placed"] and time.monotonic() < deadline:
        time.sleep(0.05)  # the background relay retries
    assert [json.loads(m.value())["order_id"] for m in shop.broker.log["order-placed"]] == [order_id]
    assert shop.counter("orders", "kafka_producer_events_total", topic="order-placed", outcome="failed") == 1
    shop.settle()
    assert order(shop, order_id)["status"] == "confirmed"


def test_idempotency_key_places_one_order(shop):
    a = shop.place(headers={"Idempotency-Key": "k-1"})
    status, body = shop.http("orders", "POST", "/orders",
                             {"customer_id": "c-1", "items": [{"sku": "sku-1", "quantity": 2, "unit_price": 10.0}]},
                             headers={"Idempotency-Key": "k-1"})
    assert (status, body["order_id"]) == (200, a)
    assert len(shop.broker.log["order-placed"]) == 1


def test_unreadable_message_is_counted_and_skipped(shop):
    shop.broker.append("order-placed", b"x", b"{not json", [])
    order_id = shop.place()
    shop.settle()
    assert shop.counter("payments", "kafka_consumer_events_total", topic="order-placed", outcome="failed") == 1
    assert order(shop, order_id)["status"] == "confirmed"


def test_invalid_order_is_refused(shop):
    status, body = shop.http("orders", "POST", "/orders", {"customer_id": "c", "items": [{"sku": "x", "quantity": 0}]})
    assert status == 400 and "quantity" in body["error"]
    assert shop.broker.log["order-placed"] == []


def test_consumer_threads_run_the_saga_end_to_end(tmp_path, spans):
    shop = Shop(tmp_path, threaded=True)
    try:
        order_id = shop.place()
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            if shop.http("shipping", "GET", f"/shipments/{order_id}")[1].get("status") == "dispatched":
                break
            time.sleep(0.05)
        assert order(shop, order_id)["status"] == "confirmed"
        assert shop.http("shipping", "GET", f"/shipments/{order_id}")[1]["status"] == "dispatched"
        assert all(shop.svc[n].readiness() == (True, "") for n in SERVICES)
    finally:
        shop.close()
    assert all(shop.consumer(n).closed for n in SERVICES if shop.svc[n].consumes)
