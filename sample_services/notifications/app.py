"""notifications: tells customers about their orders by e-mail.

One message per order and kind (placed, payment failed, dispatched, cancelled), however
often an event is delivered.
"""

from __future__ import annotations

import sys
import threading
from pathlib import Path

# pavedkit sits next to the service directory, in a checkout and in the image.
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from pavedkit import Event, Request, Service, run  # noqa: E402

NAME = "notifications"
PORT = 8080
METRICS_PORT: int | None = None
PRODUCES: tuple[str, ...] = ()
CONSUMES: tuple[str, ...] = ("order-placed", "payment-failed", "shipment-dispatched", "order-cancelled")
SECRETS: tuple[str, ...] = ("smtp-password",)

SUBJECTS = {
    "order-placed": "We have your order",
    "payment-failed": "Your payment did not go through",
    "shipment-dispatched": "Your order is on its way",
    "order-cancelled": "Your order was cancelled",
}


def create(env=None, kafka_clients=None) -> Service:
    """The service, not yet started."""
    svc = Service(NAME, port=PORT, metrics_port=METRICS_PORT, produces=PRODUCES, consumes=CONSUMES,
                  secrets=SECRETS, env=env, kafka_clients=kafka_clients)
    sender = svc.settings.get("SENDER_ADDRESS", "no-reply@shop.example.com")
    sent: list[dict] = []
    lock = threading.Lock()
    svc.state = sent

    def notify(event: Event) -> None:
        with lock:
            if any(m["order_id"] == event.order_id and m["kind"] == event.type for m in sent):
                return
            svc.secret("smtp-password")  # the relay login, simulated
            message = {"order_id": event.order_id, "kind": event.type, "from": sender,
                       "subject": SUBJECTS[event.type], "event_id": event.event_id}
            sent.append(message)
            svc.log.info("notification sent", extra={"order_id": event.order_id, "kind": event.type})

    for topic in CONSUMES:
        svc.on(topic)(notify)

    @svc.route("GET", "/notifications")
    def list_sent(req: Request) -> list:
        order_id = (req.query.get("order_id") or [None])[0]
        with lock:
            return [m for m in sent if order_id is None or m["order_id"] == order_id]

    return svc


if __name__ == "__main__":
    sys.exit(run(create))
