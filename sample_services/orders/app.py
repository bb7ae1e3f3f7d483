"""orders: accepts orders and runs the order saga (placed, paid, cancelled).

POST /orders publishes ``order-placed``. A ``payment-completed`` confirms the order; a
``payment-failed`` or ``stock-rejected`` cancels it and publishes ``order-cancelled``
(the compensation: inventory releases the stock it reserved). Every transition happens
once, whatever the order and number of deliveries.

State lives in the service's PostgreSQL database when the platform gives one (``PGHOST``),
each change committed with its event in the outbox and the handled event's id
(pavedkit.store); ``python app.py migrate`` creates the schema. GET /orders/{id} reads
through the cache when the platform gives one (``PAVED_CACHE_HOST``), and every change to
an order deletes its cached copy once committed.
"""

from __future__ import annotations

import sys
import uuid
from pathlib import Path

# pavedkit sits next to the service directory, in a checkout and in the image.
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from pavedkit import Event, HttpError, Request, Response, Service, run  # noqa: E402
from pavedkit.cache import Cache  # noqa: E402
from pavedkit.db import Migration  # noqa: E402
from pavedkit.store import OUTBOX_SQL, PROCESSED_EVENTS_SQL, document_table_sql  # noqa: E402

NAME = "orders"
PORT = 8080
METRICS_PORT: int | None = None
PRODUCES: tuple[str, ...] = ("order-placed", "order-cancelled")
CONSUMES: tuple[str, ...] = ("payment-completed", "payment-failed", "stock-rejected")
SECRETS: tuple[str, ...] = ("db-password",)

PENDING, CONFIRMED, CANCELLED = "pending", "confirmed", "cancelled"
TABLES = ("orders", "idempotency_keys")
# Versioned, append-only: a shipped migration is never edited (its checksum is recorded).
MIGRATIONS = (
    Migration(1, "orders", document_table_sql("orders") + document_table_sql("idempotency_keys")),
    Migration(2, "outbox", OUTBOX_SQL),
    Migration(3, "processed-events", PROCESSED_EVENTS_SQL),
    # Expand only: an index the running code does not need, safe under the previous release.
    Migration(4, "orders-by-status", "CREATE INDEX orders_by_status ON orders ((doc->>'status'));"),
)
CACHE_TTL_SECONDS = 60


def parse_order(body: object) -> tuple[str, list[dict]]:
    """The customer id and items of a POST /orders body; 400 on anything else."""
    if not isinstance(body, dict):
        raise HttpError(400, "body must be a JSON object with customer_id and items")
    customer = body.get("customer_id")
    items = body.get("items")
    if not isinstance(customer, str) or not customer:
        raise HttpError(400, "customer_id must be a non-empty string")
    if not isinstance(items, list) or not items:
        raise HttpError(400, "items must be a non-empty list")
    clean = []
    for i, item in enumerate(items):
        if not isinstance(item, dict):
            raise HttpError(400, f"items[{i}] must be an object")
        sku, qty, price = item.get("sku"), item.get("quantity"), item.get("unit_price")
        if not isinstance(sku, str) or not sku:
            raise HttpError(400, f"items[{i}].sku must be a non-empty string")
        if not isinstance(qty, int) or isinstance(qty, bool) or qty < 1:
            raise HttpError(400, f"items[{i}].quantity must be a positive integer")
        if not isinstance(price, (int, float)) or isinstance(price, bool) or price < 0:
            raise HttpError(400, f"items[{i}].unit_price must be a non-negative number")
        clean.append({"sku": sku, "quantity": qty, "unit_price": price})
    return customer, clean


def create(env=None, kafka_clients=None) -> Service:
    """The service, not yet started."""
    svc = Service(NAME, port=PORT, metrics_port=METRICS_PORT, produces=PRODUCES, consumes=CONSUMES,
                  secrets=SECRETS, env=env, kafka_clients=kafka_clients)
    store = svc.use_store(TABLES, MIGRATIONS)
    cache = Cache.from_env(svc.settings.env, NAME)
    if cache is not None:
        svc.attach(cache)
    svc.state = getattr(store, "data", {}).get("orders")  # the orders, in memory mode

    def invalidate(tx, order_id: str) -> None:
        if cache is not None:
            tx.after_commit(lambda: cache.invalidate(f"order:{order_id}"))

    @svc.route("POST", "/orders")
    def place(req: Request) -> Response:
        customer, items = parse_order(req.json())
        key = req.headers.get("idempotency-key")
        order_id = str(uuid.uuid4())
        with store.transaction() as tx:
            if key and not tx.add("idempotency_keys", key, {"order_id": order_id}):
                return Response(200, tx.get("orders", tx.get("idempotency_keys", key)["order_id"]))
            total = round(sum(i["quantity"] * i["unit_price"] for i in items), 2)
            order = {"order_id": order_id, "customer_id": customer, "items": items, "total": total,
                     "currency": "EUR", "status": PENDING, "cancel_reason": None, "refund_due": False}
            tx.put("orders", order_id, order)
            # In the outbox, committed with the order: published after the commit, even if
            # the broker is down now or the process dies first.
            tx.emit(svc.event("order-placed", order_id, {"customer_id": customer, "items": items, "total": total,
                                                         "currency": "EUR"}))
        return Response(201, order, {"Location": f"/orders/{order_id}"})

    @svc.route("GET", "/orders/{order_id}")
    def get(req: Request) -> dict:
        order_id = req.params["order_id"]

        def load() -> dict | None:
            with store.transaction() as tx:
                return tx.get("orders", order_id, lock=False)

        order = cache.get_or_load(f"order:{order_id}", load, CACHE_TTL_SECONDS) if cache else load()
        if order is None:
            raise HttpError(404, f"no order {order_id}")
        return order

    def known(tx, event: Event) -> dict | None:
        order = tx.get("orders", event.order_id)
        if order is None:
            svc.log.warning("event for an unknown order ignored", extra={"order_id": event.order_id,
                                                                        "event_type": event.type})
        return order

    def cancel(event: Event, reason: str) -> None:
        with store.transaction() as tx:
            tx.claim(event)  # a redelivered event ends here (outcome duplicate)
            order = known(tx, event)
            if order is None or order["status"] == CANCELLED:
                return
            if order["status"] == CONFIRMED:
                order["refund_due"] = True  # paid, then stock was refused
            order["status"], order["cancel_reason"] = CANCELLED, reason
            tx.put("orders", order["order_id"], order)
            tx.emit(svc.event("order-cancelled", order["order_id"], {"reason": reason}))
            invalidate(tx, order["order_id"])

    @svc.on("payment-completed")
    def paid(event: Event) -> None:
        with store.transaction() as tx:
            tx.claim(event)  # a redelivered event ends here (outcome duplicate)
            order = known(tx, event)
            if order is None:
                return
            if order["status"] == PENDING:
                order["status"] = CONFIRMED
            elif order["status"] == CANCELLED:
                # Cancelled (out of stock) before the payment went through: money to give back.
                order["refund_due"] = True
                svc.log.warning("payment completed for a cancelled order: refund due",
                                extra={"order_id": event.order_id})
            else:
                return
            tx.put("orders", order["order_id"], order)
            invalidate(tx, order["order_id"])

    @svc.on("payment-failed")
    def payment_failed(event: Event) -> None:
        cancel(event, "payment-failed")

    @svc.on("stock-rejected")
    def stock_rejected(event: Event) -> None:
        cancel(event, "out-of-stock")

    return svc


if __name__ == "__main__":
    sys.exit(run(create))
