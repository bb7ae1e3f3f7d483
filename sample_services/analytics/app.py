"""analytics: aggregates order and fulfilment events into daily sales figures.

Metrics are on their own port (the catalog's ``metrics.port``, 9102), as its catalog
entry declares.
"""

from __future__ import annotations

import sys
import threading
from pathlib import Path

# pavedkit sits next to the service directory, in a checkout and in the image.
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from pavedkit import Event, Request, Service, run  # noqa: E402

NAME = "analytics"
PORT = 8080
METRICS_PORT: int | None = 9102
PRODUCES: tuple[str, ...] = ()
CONSUMES: tuple[str, ...] = ("order-placed", "payment-completed", "shipment-dispatched", "stock-reserved")
SECRETS: tuple[str, ...] = ("warehouse-password",)

COUNTERS = {"order-placed": "orders", "payment-completed": "payments", "shipment-dispatched": "shipments",
            "stock-reserved": "reservations"}


def create(env=None, kafka_clients=None) -> Service:
    """The service, not yet started."""
    svc = Service(NAME, port=PORT, metrics_port=METRICS_PORT, produces=PRODUCES, consumes=CONSUMES,
                  secrets=SECRETS, env=env, kafka_clients=kafka_clients)
    days: dict[str, dict] = {}
    lock = threading.Lock()
    svc.state = days

    def count(event: Event) -> None:
        day = event.occurred_at[:10]
        with lock:
            figures = days.setdefault(day, {"orders": 0, "payments": 0, "shipments": 0, "reservations": 0,
                                            "revenue": 0.0})
            figures[COUNTERS[event.type]] += 1
            if event.type == "payment-completed":
                figures["revenue"] = round(figures["revenue"] + float(event.data.get("amount", 0)), 2)

    for topic in CONSUMES:
        svc.on(topic)(count)

    @svc.route("GET", "/sales/daily")
    def daily(req: Request) -> dict:
        with lock:
            return {day: dict(f) for day, f in sorted(days.items())}

    return svc


if __name__ == "__main__":
    sys.exit(run(create))
