"""inventory: tracks stock and reserves items for placed orders.

``order-placed`` → reserve every item, or none → ``stock-reserved`` or ``stock-rejected``.
``order-cancelled`` → release the reservation (compensation). A cancellation that
arrives before its order (topics are not ordered with each other) is remembered, and the
late order is then not reserved.

Stock and reservations live in DynamoDB when the platform gives the tables
(``PAVED_TABLE_STOCK``, ``PAVED_TABLE_RESERVATIONS``): one transaction reserves every item
with a condition ``available >= quantity`` on each and ``attribute_not_exists`` on the
order's reservation, so two orders can never take the same last item and a redelivered
order reserves nothing twice. Otherwise they live in memory.
"""

from __future__ import annotations

import random
import sys
import threading
import time
from collections import Counter
from pathlib import Path

# pavedkit sits next to the service directory, in a checkout and in the image.
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from pavedkit import Event, HttpError, Request, Service, run  # noqa: E402
from pavedkit import tables  # noqa: E402

NAME = "inventory"
PORT = 8080
METRICS_PORT: int | None = None
PRODUCES: tuple[str, ...] = ("stock-reserved", "stock-rejected")
CONSUMES: tuple[str, ...] = ("order-placed", "order-cancelled")
SECRETS: tuple[str, ...] = ("db-password",)

# The sandbox catalogue; PUT /stock/{sku} changes it.
INITIAL_STOCK = {"sku-1": 100, "sku-2": 100, "sku-3": 100, "sku-rare": 1}
RESERVED, REJECTED, RELEASED, CANCELLED_FIRST = "reserved", "rejected", "released", "cancelled-before-placed"
# The catalog's tables: stock (key sku) and reservations (key order_id).
STOCK_TABLE, RESERVATIONS_TABLE = "stock", "reservations"


def _totals(items: list[tuple[str, int]]) -> dict[str, int]:
    totals: Counter[str] = Counter()
    for sku, qty in items:
        totals[sku] += qty
    return dict(totals)


class MemoryStock:
    """Stock and reservations in memory (a laptop without the tables)."""

    durable = False

    def __init__(self) -> None:
        self.available = dict(INITIAL_STOCK)
        self.reservations: dict[str, dict] = {}  # order id → {"state", "items", ...}
        self.lock = threading.Lock()

    def reserve(self, order_id: str, items: list[tuple[str, int]]) -> dict:
        """Reserve every item or none; the order's reservation record (existing or new)."""
        with self.lock:
            record = self.reservations.get(order_id)
            if record is None:
                short = sorted(sku for sku, qty in _totals(items).items() if self.available.get(sku, 0) < qty)
                if short:
                    record = {"state": REJECTED, "items": items, "skus": short, "published": False}
                else:
                    for sku, qty in items:
                        self.available[sku] -= qty
                    record = {"state": RESERVED, "items": items, "published": False}
                self.reservations[order_id] = record
            return dict(record)

    def mark_published(self, order_id: str) -> None:
        """The reservation's outcome event is acknowledged."""
        with self.lock:
            self.reservations[order_id]["published"] = True

    def cancel(self, order_id: str) -> str:
        """Release the order's stock, or remember the cancellation; the resulting state."""
        with self.lock:
            record = self.reservations.get(order_id)
            if record is None:
                self.reservations[order_id] = {"state": CANCELLED_FIRST, "items": [], "published": True}
                return CANCELLED_FIRST
            if record["state"] == RESERVED:
                for sku, qty in record["items"]:
                    self.available[sku] += qty
                record["state"] = RELEASED
            return record["state"]

    def level(self, sku: str) -> dict | None:
        """Available and reserved quantities of ``sku``; None when unknown."""
        with self.lock:
            if sku not in self.available:
                return None
            reserved = sum(q for r in self.reservations.values() if r["state"] == RESERVED
                           for s, q in r["items"] if s == sku)
            return {"sku": sku, "available": self.available[sku], "reserved": reserved}

    def set_level(self, sku: str, qty: int) -> None:
        """Set the available quantity of ``sku``."""
        with self.lock:
            self.available[sku] = qty

    def close(self) -> None:
        """Nothing to close."""


class DynamoStock:
    """Stock and reservations in the platform's DynamoDB tables, with conditional writes."""

    durable = True

    def __init__(self, env) -> None:
        self.stock_name = tables.table_name(env, STOCK_TABLE)
        self.reservations_name = tables.table_name(env, RESERVATIONS_TABLE)
        if not self.reservations_name:
            raise ValueError("PAVED_TABLE_STOCK is set but PAVED_TABLE_RESERVATIONS is not")
        self.env = env
        self._db = self._client = None

    @property
    def db(self):
        if self._db is None:
            self._db = tables.resource(self.env)
        return self._db

    @property
    def client(self):
        if self._client is None:
            self._client = tables.client(self.env)
        return self._client

    def check(self) -> None:
        """Seed the sandbox catalogue: every sku that does not exist yet (never overwrites)."""
        for sku, qty in INITIAL_STOCK.items():
            try:
                self.client.put_item(TableName=self.stock_name, Item={"sku": {"S": sku}, "available": {"N": str(qty)},
                                                                      "reserved": {"N": "0"}},
                                     ConditionExpression="attribute_not_exists(sku)")
            except self.client.exceptions.ConditionalCheckFailedException:
                pass

    def _record(self, order_id: str) -> dict | None:
        item = self.db.Table(self.reservations_name).get_item(Key={"order_id": order_id}, ConsistentRead=True).get("Item")
        if item is None:
            return None
        return {"state": item["state"], "published": bool(item.get("published")),
                "items": [(str(i["sku"]), int(i["quantity"])) for i in item.get("items", [])],
                "skus": list(item.get("skus", []))}

    def _put_record(self, order_id: str, record: dict) -> bool:
        """Write a new reservation record; False when the order has one already."""
        table = self.db.Table(self.reservations_name)
        try:
            table.put_item(Item={"order_id": order_id, **record,
                                 "items": [{"sku": s, "quantity": q} for s, q in record.get("items", [])]},
                           ConditionExpression="attribute_not_exists(order_id)")
            return True
        except table.meta.client.exceptions.ConditionalCheckFailedException:
            return False

    def reserve(self, order_id: str, items: list[tuple[str, int]]) -> dict:
        totals = _totals(items)
        record = {"state": RESERVED, "items": items, "published": False}
        writes = [{"Put": {"TableName": self.reservations_name,
                           "Item": {"order_id": {"S": order_id}, "state": {"S": RESERVED}, "published": {"BOOL": False},
                                    "items": {"L": [{"M": {"sku": {"S": s}, "quantity": {"N": str(q)}}}
                                                    for s, q in items]}},
                           "ConditionExpression": "attribute_not_exists(order_id)"}}]
        for sku, qty in totals.items():
            # The condition is the reservation: stock never goes below zero, whoever races.
            writes.append({"Update": {"TableName": self.stock_name, "Key": {"sku": {"S": sku}},
                                      "UpdateExpression": "SET available = available - :q, reserved = reserved + :q",
                                      "ConditionExpression": "available >= :q",
                                      "ExpressionAttributeValues": {":q": {"N": str(qty)}}}})
        reasons = self._transact(writes)
        if not reasons:
            return record
        if reasons[0] == "ConditionalCheckFailed":
            existing = self._record(order_id)  # redelivered, or cancelled first
            if existing is not None:
                return existing
        short = sorted(sku for sku, qty in totals.items() if (self.level(sku) or {"available": 0})["available"] < qty)
        rejected = {"state": REJECTED, "items": items, "skus": short or sorted(totals), "published": False}
        if self._put_record(order_id, rejected):
            return rejected
        return self._record(order_id)

    def _transact(self, writes: list[dict], attempts: int = 8) -> list[str]:
        """Run a transaction; [] when it committed, else each write's cancellation code.

        A TransactionConflict (another transaction on the same item at that moment) is
        retried: the conditions are evaluated again, so a retry cannot oversell.
        """
        for attempt in range(attempts):
            try:
                self.client.transact_write_items(TransactItems=writes)
                return []
            except self.client.exceptions.TransactionCanceledException as exc:
                reasons = [r.get("Code") or "None" for r in exc.response.get("CancellationReasons", [])]
                if "TransactionConflict" not in reasons or attempt == attempts - 1:
                    if "ConditionalCheckFailed" not in reasons:
                        raise
                    return reasons
            except self.client.exceptions.TransactionConflictException:
                if attempt == attempts - 1:
                    raise
            time.sleep(random.uniform(0, 0.02 * 2 ** attempt))
        raise AssertionError("unreachable")

    def mark_published(self, order_id: str) -> None:
        self.db.Table(self.reservations_name).update_item(
            Key={"order_id": order_id}, UpdateExpression="SET published = :t", ExpressionAttributeValues={":t": True})

    def cancel(self, order_id: str) -> str:
        if self._put_record(order_id, {"state": CANCELLED_FIRST, "items": [], "published": True}):
            return CANCELLED_FIRST
        record = self._record(order_id)
        if record["state"] != RESERVED:
            return record["state"]
        writes = [{"Update": {"TableName": self.reservations_name, "Key": {"order_id": {"S": order_id}},
                              "UpdateExpression": "SET #s = :released", "ConditionExpression": "#s = :reserved",
                              "ExpressionAttributeNames": {"#s": "state"},
                              "ExpressionAttributeValues": {":released": {"S": RELEASED}, ":reserved": {"S": RESERVED}}}}]
        for sku, qty in _totals(record["items"]).items():
            writes.append({"Update": {"TableName": self.stock_name, "Key": {"sku": {"S": sku}},
                                      "UpdateExpression": "SET available = available + :q, reserved = reserved - :q",
                                      "ExpressionAttributeValues": {":q": {"N": str(qty)}}}})
        self._transact(writes)  # a ConditionalCheckFailed: a concurrent delivery released it
        return RELEASED

    def level(self, sku: str) -> dict | None:
        item = self.db.Table(self.stock_name).get_item(Key={"sku": sku}, ConsistentRead=True).get("Item")
        if item is None:
            return None
        return {"sku": sku, "available": int(item["available"]), "reserved": int(item.get("reserved", 0))}

    def set_level(self, sku: str, qty: int) -> None:
        self.db.Table(self.stock_name).update_item(
            Key={"sku": sku}, UpdateExpression="SET available = :q, reserved = if_not_exists(reserved, :zero)",
            ExpressionAttributeValues={":q": qty, ":zero": 0})

    def close(self) -> None:
        """boto3 holds no connection worth closing."""


def create(env=None, kafka_clients=None) -> Service:
    """The service, not yet started."""
    svc = Service(NAME, port=PORT, metrics_port=METRICS_PORT, produces=PRODUCES, consumes=CONSUMES,
                  secrets=SECRETS, env=env, kafka_clients=kafka_clients)
    use_dynamodb = tables.table_name(svc.settings.env, STOCK_TABLE) is not None
    stock = svc.attach(DynamoStock(svc.settings.env) if use_dynamodb else MemoryStock())
    svc.store = None  # no database to migrate: DynamoDB tables are created by the platform
    svc.state = stock if use_dynamodb else {"available": stock.available, "reservations": stock.reservations}

    @svc.on("order-placed")
    def order_placed(event: Event) -> None:
        items = [(str(i["sku"]), int(i["quantity"])) for i in event.data.get("items", [])]
        record = stock.reserve(event.order_id, items)
        if record["state"] == CANCELLED_FIRST:
            svc.log.info("order was cancelled before it arrived: nothing reserved", extra={"order_id": event.order_id})
            return
        if record["published"]:
            return
        # Published after the write and marked after the ack: a crash in between publishes
        # again on redelivery (same outcome, new event id), never loses the outcome.
        if record["state"] == REJECTED:
            svc.publish("stock-rejected", event.order_id, {"reason": "insufficient stock", "skus": record["skus"]})
        else:
            svc.publish("stock-reserved", event.order_id,
                        {"items": [{"sku": s, "quantity": q} for s, q in record["items"]]})
        stock.mark_published(event.order_id)

    @svc.on("order-cancelled")
    def order_cancelled(event: Event) -> None:
        if stock.cancel(event.order_id) == RELEASED:
            svc.log.info("reservation released", extra={"order_id": event.order_id})

    @svc.route("GET", "/stock/{sku}")
    def level(req: Request) -> dict:
        found = stock.level(req.params["sku"])
        if found is None:
            raise HttpError(404, f"unknown sku {req.params['sku']}")
        return found

    @svc.route("PUT", "/stock/{sku}")
    def set_level(req: Request) -> dict:
        body = req.json()
        qty = body.get("available") if isinstance(body, dict) else None
        if not isinstance(qty, int) or isinstance(qty, bool) or qty < 0:
            raise HttpError(400, "available must be a non-negative integer")
        stock.set_level(req.params["sku"], qty)
        return {"sku": req.params["sku"], "available": qty}

    return svc


if __name__ == "__main__":
    sys.exit(run(create))
