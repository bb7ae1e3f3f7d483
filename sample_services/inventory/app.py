"""inventory: tracks stock and reserves items for placed orders.

``order-placed`` → reserve every item, or none → ``stock-reserved`` or ``stock-rejected``.
``order-cancelled`` → release the reservation (compensation). A cancellation that
arrives before its order (topics are not ordered with each other) is remembered, and the
late order is then not reserved.
"""

from __future__ import annotations

import sys
import threading
from pathlib import Path

# pavedkit sits next to the service directory, in a checkout and in the image.
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from pavedkit import Event, HttpError, Request, Service, run  # noqa: E402

NAME = "inventory"
PORT = 8080
METRICS_PORT: int | None = None
PRODUCES: tuple[str, ...] = ("stock-reserved", "stock-rejected")
CONSUMES: tuple[str, ...] = ("order-placed", "order-cancelled")
SECRETS: tuple[str, ...] = ("db-password",)

# The sandbox catalogue; PUT /stock/{sku} changes it.
INITIAL_STOCK = {"sku-1": 100, "sku-2": 100, "sku-3": 100, "sku-rare": 1}
RESERVED, REJECTED, RELEASED, CANCELLED_FIRST = "reserved", "rejected", "released", "cancelled-before-placed"


def create(env=None, kafka_clients=None) -> Service:
    """The service, not yet started."""
    svc = Service(NAME, port=PORT, metrics_port=METRICS_PORT, produces=PRODUCES, consumes=CONSUMES,
                  secrets=SECRETS, env=env, kafka_clients=kafka_clients)
    available = dict(INITIAL_STOCK)
    reservations: dict[str, dict] = {}  # order id → {"state", "items"}
    lock = threading.Lock()
    svc.state = {"available": available, "reservations": reservations}

    @svc.on("order-placed")
    def order_placed(event: Event) -> None:
        items = [(str(i["sku"]), int(i["quantity"])) for i in event.data.get("items", [])]
        with lock:
            record = reservations.get(event.order_id)
            if record is not None and record["state"] == CANCELLED_FIRST:
                svc.log.info("order was cancelled before it arrived: nothing reserved", extra={"order_id": event.order_id})
                return
            if record is None:
                short = sorted(sku for sku, qty in items if available.get(sku, 0) < qty)
                if short:
                    record = {"state": REJECTED, "items": items, "skus": short, "published": False}
                else:
                    for sku, qty in items:
                        available[sku] -= qty
                    record = {"state": RESERVED, "items": items, "published": False}
                reservations[event.order_id] = record
            if record["published"]:
                return
            if record["state"] == REJECTED:
                svc.publish("stock-rejected", event.order_id, {"reason": "insufficient stock", "skus": record["skus"]})
            else:
                svc.publish("stock-reserved", event.order_id,
                            {"items": [{"sku": s, "quantity": q} for s, q in record["items"]]})
            record["published"] = True

    @svc.on("order-cancelled")
    def order_cancelled(event: Event) -> None:
        with lock:
            record = reservations.get(event.order_id)
            if record is None:
                reservations[event.order_id] = {"state": CANCELLED_FIRST, "items": [], "published": True}
            elif record["state"] == RESERVED:
                for sku, qty in record["items"]:
                    available[sku] += qty
                record["state"] = RELEASED
                svc.log.info("reservation released", extra={"order_id": event.order_id})

    @svc.route("GET", "/stock/{sku}")
    def stock(req: Request) -> dict:
        sku = req.params["sku"]
        with lock:
            if sku not in available:
                raise HttpError(404, f"unknown sku {sku}")
            reserved = sum(q for r in reservations.values() if r["state"] == RESERVED for s, q in r["items"] if s == sku)
            return {"sku": sku, "available": available[sku], "reserved": reserved}

    @svc.route("PUT", "/stock/{sku}")
    def set_stock(req: Request) -> dict:
        body = req.json()
        qty = body.get("available") if isinstance(body, dict) else None
        if not isinstance(qty, int) or isinstance(qty, bool) or qty < 0:
            raise HttpError(400, "available must be a non-negative integer")
        with lock:
            available[req.params["sku"]] = qty
        return {"sku": req.params["sku"], "available": qty}

    return svc


if __name__ == "__main__":
    sys.exit(run(create))
