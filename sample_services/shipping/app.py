"""shipping: books a carrier for orders that are both paid and reserved.

``payment-completed`` and ``stock-reserved`` may arrive in either order; the shipment is
booked once both have, exactly once, and ``shipment-dispatched`` is published.
"""

from __future__ import annotations

import hashlib
import sys
import threading
from pathlib import Path

# pavedkit sits next to the service directory, in a checkout and in the image.
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from pavedkit import Event, HttpError, Request, Service, run  # noqa: E402

NAME = "shipping"
PORT = 8080
METRICS_PORT: int | None = None
PRODUCES: tuple[str, ...] = ("shipment-dispatched",)
CONSUMES: tuple[str, ...] = ("payment-completed", "stock-reserved")
SECRETS: tuple[str, ...] = ("carrier-api-token",)


def create(env=None, kafka_clients=None) -> Service:
    """The service, not yet started."""
    svc = Service(NAME, port=PORT, metrics_port=METRICS_PORT, produces=PRODUCES, consumes=CONSUMES,
                  secrets=SECRETS, env=env, kafka_clients=kafka_clients)
    shipments: dict[str, dict] = {}
    lock = threading.Lock()
    svc.state = shipments

    def record(event: Event, fact: str) -> None:
        with lock:
            s = shipments.setdefault(event.order_id, {"order_id": event.order_id, "paid": False,
                                                      "reserved": False, "status": "waiting"})
            s[fact] = True
            if not (s["paid"] and s["reserved"]) or s["status"] == "dispatched":
                return
            if "tracking_number" not in s:
                svc.secret("carrier-api-token")  # the carrier booking call, simulated
                s["carrier"] = "sandbox-carrier"
                s["tracking_number"] = "TRK-" + hashlib.sha256(event.order_id.encode()).hexdigest()[:12].upper()
            svc.publish("shipment-dispatched", event.order_id,
                        {"carrier": s["carrier"], "tracking_number": s["tracking_number"]})
            s["status"] = "dispatched"

    @svc.on("payment-completed")
    def paid(event: Event) -> None:
        record(event, "paid")

    @svc.on("stock-reserved")
    def reserved(event: Event) -> None:
        record(event, "reserved")

    @svc.route("GET", "/shipments/{order_id}")
    def get(req: Request) -> dict:
        with lock:
            s = shipments.get(req.params["order_id"])
            if s is None:
                raise HttpError(404, f"no shipment for order {req.params['order_id']}")
            return dict(s)

    return svc


if __name__ == "__main__":
    sys.exit(run(create))
