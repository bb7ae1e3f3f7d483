"""payments: charges customers for placed orders and reports the outcome.

``order-placed`` → one charge per order at the payment provider → ``payment-completed``
or ``payment-failed``. The sandbox rule is deterministic: an order above
``PAYMENT_LIMIT`` (default 1000) or from a customer id starting with ``declined`` fails.

The payment, the handled event's id and the outcome event commit in one transaction
(pavedkit.store: PostgreSQL when the platform gives ``PGHOST``, with ``python app.py
migrate`` creating the schema), so a redelivered ``order-placed`` charges nothing.
"""

from __future__ import annotations

import sys
import uuid
from pathlib import Path

# pavedkit sits next to the service directory, in a checkout and in the image.
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from pavedkit import Event, HttpError, Request, Service, run  # noqa: E402
from pavedkit.db import Migration  # noqa: E402
from pavedkit.store import OUTBOX_SQL, PROCESSED_EVENTS_SQL, document_table_sql  # noqa: E402

NAME = "payments"
PORT = 8080
METRICS_PORT: int | None = None
PRODUCES: tuple[str, ...] = ("payment-completed", "payment-failed")
CONSUMES: tuple[str, ...] = ("order-placed",)
SECRETS: tuple[str, ...] = ("provider-api-key", "db-password")
TABLES = ("payments",)
# Versioned, append-only: a shipped migration is never edited (its checksum is recorded).
MIGRATIONS = (
    Migration(1, "payments", document_table_sql("payments")),
    Migration(2, "outbox", OUTBOX_SQL),
    Migration(3, "processed-events", PROCESSED_EVENTS_SQL),
)


def create(env=None, kafka_clients=None) -> Service:
    """The service, not yet started."""
    svc = Service(NAME, port=PORT, metrics_port=METRICS_PORT, produces=PRODUCES, consumes=CONSUMES,
                  secrets=SECRETS, env=env, kafka_clients=kafka_clients)
    limit = float(svc.settings.get("PAYMENT_LIMIT", "1000"))
    provider = svc.settings.get("PAYMENT_PROVIDER_URL", "https://sandbox.payments.example.net/v2")
    store = svc.use_store(TABLES, MIGRATIONS)
    svc.state = getattr(store, "data", {}).get("payments")  # order id → the one charge for it, in memory mode

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
        with store.transaction() as tx:
            tx.claim(event)  # a redelivered event ends here (outcome duplicate)
            if tx.get("payments", event.order_id) is not None:
                return  # one charge per order, even for a second event about it
            # The provider call is inside the transaction: should the commit fail, the
            # redelivery charges again, so a real provider gets the order id as its
            # idempotency key.
            amount = float(event.data.get("total", 0))
            payment = {"order_id": event.order_id, "amount": amount,
                       **charge(event.order_id, str(event.data.get("customer_id", "")), amount)}
            tx.put("payments", event.order_id, payment)
            if payment["status"] == "completed":
                tx.emit(svc.event("payment-completed", event.order_id,
                                  {"amount": amount, "currency": "EUR", "payment_id": payment["payment_id"]}))
            else:
                tx.emit(svc.event("payment-failed", event.order_id, {"amount": amount, "reason": payment["reason"]}))

    @svc.route("GET", "/payments/{order_id}")
    def get(req: Request) -> dict:
        with store.transaction() as tx:
            payment = tx.get("payments", req.params["order_id"], lock=False)
        if payment is None:
            raise HttpError(404, f"no payment for order {req.params['order_id']}")
        return payment

    return svc


if __name__ == "__main__":
    sys.exit(run(create))
