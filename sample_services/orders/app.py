"""orders: accepts orders and runs the order saga (placed, paid, cancelled).

POST /orders publishes ``order-placed``. A ``payment-completed`` confirms the order; a
``payment-failed`` or ``stock-rejected`` cancels it and publishes ``order-cancelled``
(the compensation: inventory releases the stock it reserved). Every transition happens
once, whatever the order and number of deliveries.
"""

from __future__ import annotations

import sys
import threading
import uuid
from pathlib import Path

# pavedkit sits next to the service directory, in a checkout and in the image.
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from pavedkit import Event, HttpError, Request, Response, Service, run  # noqa: E402

NAME = "orders"
PORT = 8080
METRICS_PORT: int | None = None
PRODUCES: tuple[str, ...] = ("order-placed", "order-cancelled")
CONSUMES: tuple[str, ...] = ("payment-completed", "payment-failed", "stock-rejected")
SECRETS: tuple[str, ...] = ("db-password",)

PENDING, CONFIRMED, CANCELLED = "pending", "confirmed", "cancelled"


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
    # Stands in for the orders database (whose password is the db-password secret).
    orders: dict[str, dict] = {}
    by_idempotency_key: dict[str, str] = {}
    lock = threading.RLock()
    svc.state = orders

    @svc.route("POST", "/orders")
    def place(req: Request) -> Response:
        customer, items = parse_order(req.json())
        key = req.headers.get("idempotency-key")
        with lock:
            if key and key in by_idempotency_key:
                return Response(200, orders[by_idempotency_key[key]])
            order_id = str(uuid.uuid4())
            total = round(sum(i["quantity"] * i["unit_price"] for i in items), 2)
            order = {"order_id": order_id, "customer_id": customer, "items": items, "total": total,
                     "currency": "EUR", "status": PENDING, "cancel_reason": None, "refund_due": False}
            orders[order_id] = order
            try:
                svc.publish("order-placed", order_id, {"customer_id": customer, "items": items, "total": total,
                                                       "currency": "EUR"})
            except Exception:
                del orders[order_id]  # not placed: nobody heard of it
                raise
            if key:
                by_idempotency_key[key] = order_id
            return Response(201, order, {"Location": f"/orders/{order_id}"})

    @svc.route("GET", "/orders/{order_id}")
    def get(req: Request) -> dict:
        with lock:
            order = orders.get(req.params["order_id"])
            if order is None:
                raise HttpError(404, f"no order {req.params['order_id']}")
            return dict(order)

    def known(event: Event) -> dict | None:
        order = orders.get(event.order_id)
        if order is None:
            svc.log.warning("event for an unknown order ignored", extra={"order_id": event.order_id,
                                                                        "event_type": event.type})
        return order

    def cancel(event: Event, reason: str) -> None:
        with lock:
            order = known(event)
            if order is None or order["status"] == CANCELLED:
                return
            if order["status"] == CONFIRMED:
                order["refund_due"] = True  # paid, then stock was refused
            previous = order["status"]
            order["status"], order["cancel_reason"] = CANCELLED, reason
            try:
                svc.publish("order-cancelled", order["order_id"], {"reason": reason})
            except Exception:
                order["status"], order["cancel_reason"] = previous, None  # redelivery retries it
                raise

    @svc.on("payment-completed")
    def paid(event: Event) -> None:
        with lock:
            order = known(event)
            if order is None:
                return
            if order["status"] == PENDING:
                order["status"] = CONFIRMED
            elif order["status"] == CANCELLED:
                # Cancelled (out of stock) before the payment went through: money to give back.
                order["refund_due"] = True
                svc.log.warning("payment completed for a cancelled order: refund due",
                                extra={"order_id": event.order_id})

    @svc.on("payment-failed")
    def payment_failed(event: Event) -> None:
        cancel(event, "payment-failed")

    @svc.on("stock-rejected")
    def stock_rejected(event: Event) -> None:
        cancel(event, "out-of-stock")

    return svc


if __name__ == "__main__":
    sys.exit(run(create))
