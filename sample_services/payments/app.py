"""payments: charges customers for placed orders and reports the outcome.

``order-placed`` → one charge per order at the payment provider → ``payment-completed``
or ``payment-failed``. The sandbox rule is deterministic: an order above
``PAYMENT_LIMIT`` (default 1000) or from a customer id starting with ``declined`` fails.
"""

from __future__ import annotations

import sys
import threading
import uuid
from pathlib import Path

# pavedkit sits next to the service directory, in a checkout and in the image.
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from pavedkit import Event, HttpError, Request, Service, run  # noqa: E402

NAME = "payments"
PORT = 8080
METRICS_PORT: int | None = None
PRODUCES: tuple[str, ...] = ("payment-completed", "payment-failed")
CONSUMES: tuple[str, ...] = ("order-placed",)
SECRETS: tuple[str, ...] = ("provider-api-key", "db-password")


def create(env=None, kafka_clients=None) -> Service:
    """The service, not yet started."""
    svc = Service(NAME, port=PORT, metrics_port=METRICS_PORT, produces=PRODUCES, consumes=CONSUMES,
                  secrets=SECRETS, env=env, kafka_clients=kafka_clients)
    limit = float(svc.settings.get("PAYMENT_LIMIT", "1000"))
    provider = svc.settings.get("PAYMENT_PROVIDER_URL", "https://sandbox.payments.example.net/v2")
    payments: dict[str, dict] = {}  # order id → the one charge for it
    lock = threading.Lock()
    svc.state = payments

    def charge(order_id: str, customer: str, amount: float) -> dict:
        # The provider call, simulated: the key is read when used, so a rotated key is picked up.
        svc.secret("provider-api-key")
        svc.log.info("charging", extra={"order_id": order_id, "amount": amount, "provider": provider})
        if amount > limit:
            return {"status": "failed", "reason": f"amount {amount} is above the limit {limit:g}"}
        if customer.startswith("declined"):
            return {"status": "failed", "reason": "card declined"}
        return {"status": "completed", "payment_id": str(uuid.uuid4())}

    @svc.on("order-placed")
    def order_placed(event: Event) -> None:
        with lock:
            payment = payments.get(event.order_id)
            if payment is None:
                # One charge per order, even if the order's event is delivered again.
                amount = float(event.data.get("total", 0))
                payment = {"order_id": event.order_id, "amount": amount, "published": False,
                           **charge(event.order_id, str(event.data.get("customer_id", "")), amount)}
                payments[event.order_id] = payment
            if payment["published"]:
                return
            if payment["status"] == "completed":
                svc.publish("payment-completed", event.order_id, {"amount": payment["amount"], "currency": "EUR",
                                                                  "payment_id": payment["payment_id"]})
            else:
                svc.publish("payment-failed", event.order_id, {"amount": payment["amount"],
                                                               "reason": payment["reason"]})
            payment["published"] = True

    @svc.route("GET", "/payments/{order_id}")
    def get(req: Request) -> dict:
        with lock:
            payment = payments.get(req.params["order_id"])
            if payment is None:
                raise HttpError(404, f"no payment for order {req.params['order_id']}")
            return {k: v for k, v in payment.items() if k != "published"}

    return svc


if __name__ == "__main__":
    sys.exit(run(create))
