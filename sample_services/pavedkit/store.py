"""A service's state with a transactional outbox and an idempotent consumer, in one API.

A handler does everything inside ``with store.transaction() as tx``:

- ``tx.get`` / ``tx.put`` / ``tx.add`` read and write documents of the service's tables;
- ``tx.claim(event)`` records the event id in ``processed_events`` and raises
  ``AlreadyHandled`` (the consumer's outcome ``duplicate``) for an event already handled,
  so a redelivered event changes nothing;
- ``tx.emit(event)`` writes the event to the ``outbox`` table.

All of it commits together or not at all. After the commit a relay publishes the unsent
outbox rows through the service's EventBus (the Kafka producer) and marks them sent, at
once in the committing thread and again from a background thread for whatever could not
be published then (broker down, or the process died). A crash after commit and before
publishing therefore loses nothing; a crash after publishing and before marking sends the
event again, with the same event id, and the consumers' ``claim`` drops the copy. That is
exactly-once *effect*: at-least-once publishing plus idempotent consumers, not
exactly-once delivery.

``PgStore`` keeps it in the service's PostgreSQL database (``PGHOST`` set); ``MemoryStore``
has the same semantics in memory, for a laptop without a database (nothing survives a
restart there).
"""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import Any

from opentelemetry import context as otel_context
from opentelemetry import propagate

from pavedkit import db
from pavedkit.events import AlreadyHandled, Event, EventBus

log = logging.getLogger("pavedkit.store")

# One relay at a time per database (threads and replicas), so events leave in the order they
# were committed.
RELAY_LOCK = 7_202_602
RELAY_BATCH = 100
RELAY_INTERVAL_SECONDS = 0.5

# The tables every service with a store needs; a service's migrations include these two.
OUTBOX_SQL = """
CREATE TABLE outbox (
    id            bigserial PRIMARY KEY,
    event_id      text NOT NULL UNIQUE,
    topic         text NOT NULL,
    payload       bytea NOT NULL,
    trace_context jsonb NOT NULL DEFAULT '{}',
    created_at    timestamptz NOT NULL DEFAULT now(),
    sent_at       timestamptz
);
CREATE INDEX outbox_unsent ON outbox (id) WHERE sent_at IS NULL;
"""
PROCESSED_EVENTS_SQL = """
CREATE TABLE processed_events (
    event_id     text PRIMARY KEY,
    topic        text NOT NULL,
    processed_at timestamptz NOT NULL DEFAULT now()
);
"""


def document_table_sql(table: str) -> str:
    """A table of JSON documents by id, the shape ``tx.get``/``tx.put`` use."""
    return (f"CREATE TABLE {table} (\n    id         text PRIMARY KEY,\n    doc        jsonb NOT NULL,\n"
            f"    updated_at timestamptz NOT NULL DEFAULT now()\n);\n")


class Tx:
    """What a transaction can do; both stores implement it."""

    def get(self, table: str, key: str, lock: bool = True) -> dict | None: ...
    def put(self, table: str, key: str, doc: dict) -> None: ...
    def add(self, table: str, key: str, doc: dict) -> bool: ...
    def claim(self, event: Event) -> None: ...
    def emit(self, event: Event) -> None: ...

    def after_commit(self, fn: Callable[[], None]) -> None:
        """Run ``fn`` once the transaction has committed (a cache invalidation, say)."""
        self._after.append(fn)


def _trace_context() -> dict[str, str]:
    carrier: dict[str, str] = {}
    propagate.inject(carrier)
    return carrier


class _Store:
    """The relay and its thread, shared by both stores."""

    def __init__(self, bus: EventBus, tables: Sequence[str]) -> None:
        self.bus = bus
        self.tables = tuple(tables)
        self._stop = threading.Event()
        self._kick = threading.Event()
        self._thread: threading.Thread | None = None

    def _table(self, table: str) -> str:
        if table not in self.tables:
            raise KeyError(f"{table!r} is not one of this service's tables {self.tables}")
        return table

    def _publish(self, payload: bytes, trace_context: Mapping[str, str]) -> None:
        event = Event.from_json(payload)
        token = otel_context.attach(propagate.extract(dict(trace_context)))
        try:
            self.bus.publish(event)
        finally:
            otel_context.detach(token)

    def _committed(self, emitted: bool, after: list[Callable[[], None]]) -> None:
        for fn in after:
            try:
                fn()
            except Exception:
                log.exception("after-commit action failed")
        if emitted:
            try:
                self.relay_once()
            except Exception as exc:
                log.warning("outbox relay failed; the background relay retries", extra={"reason": str(exc)})
                self._kick.set()

    def relay_once(self) -> int:
        """Publish unsent outbox rows in order, marking each sent; how many were sent."""
        raise NotImplementedError

    def start(self) -> None:
        """Relay in a background thread until ``close``."""
        self._thread = threading.Thread(target=self._loop, name="outbox-relay", daemon=True)
        self._thread.start()

    def _loop(self) -> None:
        while not self._stop.is_set():
            self._kick.wait(RELAY_INTERVAL_SECONDS)
            self._kick.clear()
            if self._stop.is_set():
                return
            try:
                self.relay_once()
            except Exception as exc:  # the database is away: the next round tries again
                log.warning("outbox relay failed", extra={"reason": str(exc)})

    def close(self) -> None:
        """Stop the relay (what is unsent stays in the outbox for the next process)."""
        self._stop.set()
        self._kick.set()
        if self._thread is not None:
            self._thread.join(10)


# --- in memory ----------------------------------------------------------------------------


class _MemoryTx(Tx):
    def __init__(self, store: MemoryStore) -> None:
        self.store = store
        self.writes: dict[tuple[str, str], dict] = {}
        self.claimed: set[str] = set()
        self.events: list[tuple[bytes, dict]] = []
        self._after: list[Callable[[], None]] = []

    def get(self, table, key, lock=True):
        table = self.store._table(table)
        doc = self.writes.get((table, key), self.store.data[table].get(key))
        return json.loads(json.dumps(doc)) if doc is not None else None  # a copy, like a row read

    def put(self, table, key, doc):
        self.writes[(self.store._table(table), key)] = json.loads(json.dumps(doc))

    def add(self, table, key, doc):
        if self.get(table, key) is not None:
            return False
        self.put(table, key, doc)
        return True

    def claim(self, event):
        if event.event_id in self.store.processed or event.event_id in self.claimed:
            raise AlreadyHandled(event.event_id)
        self.claimed.add(event.event_id)

    def emit(self, event):
        self.events.append((event.to_json(), _trace_context()))


class MemoryStore(_Store):
    """The store's semantics in memory: one transaction at a time, gone on restart."""

    durable = False

    def __init__(self, bus: EventBus, tables: Sequence[str]) -> None:
        super().__init__(bus, tables)
        self.data: dict[str, dict[str, dict]] = {t: {} for t in self.tables}
        self.processed: set[str] = set()
        self.outbox: list[dict] = []  # {"payload", "trace_context", "sent"}
        self._lock = threading.RLock()
        self._relay_lock = threading.Lock()

    @contextmanager
    def transaction(self) -> Iterator[Tx]:
        """A transaction: its writes, claims and events apply together when the block ends."""
        with self._lock:
            tx = _MemoryTx(self)
            yield tx
            for (table, key), doc in tx.writes.items():
                self.data[table][key] = doc
            self.processed |= tx.claimed
            self.outbox += [{"payload": p, "trace_context": c, "sent": False} for p, c in tx.events]
        self._committed(bool(tx.events), tx._after)

    def relay_once(self) -> int:
        sent = 0
        with self._relay_lock:
            for i, row in enumerate(self.outbox):
                if row["sent"]:
                    continue
                try:
                    self._publish(row["payload"], row["trace_context"])
                except Exception:
                    log.warning("outbox relay stopped at an unpublished event", extra={"outbox_id": i})
                    break  # the rest waits, in order
                row["sent"] = True
                sent += 1
        return sent

    def migrate(self) -> list[int]:
        from pavedkit.config import ConfigError

        raise ConfigError("PGHOST is not set: this service has no database to migrate")

    def check(self) -> None:
        """Nothing to check in memory."""


# --- PostgreSQL ---------------------------------------------------------------------------


class _PgTx(Tx):
    def __init__(self, conn: Any, store: PgStore) -> None:
        self.conn = conn
        self.store = store
        self.emitted = False
        self._after: list[Callable[[], None]] = []

    def get(self, table, key, lock=True):
        from psycopg import sql

        # FOR UPDATE: a read that leads to a write holds the row until the commit.
        q = sql.SQL("SELECT doc FROM {} WHERE id = %s" + (" FOR UPDATE" if lock else "")).format(
            sql.Identifier(self.store._table(table)))
        row = self.conn.execute(q, (key,)).fetchone()
        return row[0] if row else None

    def put(self, table, key, doc):
        from psycopg import sql
        from psycopg.types.json import Jsonb

        q = sql.SQL("INSERT INTO {} (id, doc) VALUES (%s, %s) "
                    "ON CONFLICT (id) DO UPDATE SET doc = EXCLUDED.doc, updated_at = now()"
                    ).format(sql.Identifier(self.store._table(table)))
        self.conn.execute(q, (key, Jsonb(doc)))

    def add(self, table, key, doc):
        from psycopg import sql
        from psycopg.types.json import Jsonb

        # A concurrent transaction adding the same key makes this one wait for its commit.
        q = sql.SQL("INSERT INTO {} (id, doc) VALUES (%s, %s) ON CONFLICT (id) DO NOTHING RETURNING id"
                    ).format(sql.Identifier(self.store._table(table)))
        return self.conn.execute(q, (key, Jsonb(doc))).fetchone() is not None

    def claim(self, event):
        row = self.conn.execute("INSERT INTO processed_events (event_id, topic) VALUES (%s, %s) "
                                "ON CONFLICT (event_id) DO NOTHING RETURNING event_id",
                                (event.event_id, event.type)).fetchone()
        if row is None:
            raise AlreadyHandled(event.event_id)

    def emit(self, event):
        from psycopg.types.json import Jsonb

        self.conn.execute("INSERT INTO outbox (event_id, topic, payload, trace_context) VALUES (%s, %s, %s, %s)",
                          (event.event_id, event.type, event.to_json(), Jsonb(_trace_context())))
        self.emitted = True


class PgStore(_Store):
    """The store in the service's PostgreSQL database, through a small connection pool."""

    durable = True

    def __init__(self, bus: EventBus, tables: Sequence[str], env: Mapping[str, str],
                 migrations: Sequence[db.Migration]) -> None:
        super().__init__(bus, tables)
        self.env = env
        self.migrations = tuple(migrations)
        self.pool = db.Pool(env)

    @contextmanager
    def _tx(self) -> Iterator[Any]:
        with self.pool.connection() as conn, conn.transaction():
            yield conn

    @contextmanager
    def transaction(self) -> Iterator[Tx]:
        """A database transaction; its events are in the outbox when it commits."""
        with self._tx() as conn:
            tx = _PgTx(conn, self)
            yield tx
        self._committed(tx.emitted, tx._after)

    def relay_once(self) -> int:
        sent = 0
        with self._tx() as conn:
            # Waits for a relay running now (another thread or replica), then sees what it left.
            conn.execute("SELECT pg_advisory_xact_lock(%s)", (RELAY_LOCK,))
            rows = conn.execute("SELECT id, payload, trace_context FROM outbox WHERE sent_at IS NULL "
                                "ORDER BY id LIMIT %s FOR UPDATE", (RELAY_BATCH,)).fetchall()
            for row_id, payload, trace_context in rows:
                try:
                    self._publish(bytes(payload), trace_context)
                except Exception:
                    log.warning("outbox relay stopped at an unpublished event", extra={"outbox_id": row_id})
                    break  # the rest waits, in order; what was sent is marked at commit
                self._mark_sent(conn, row_id)
                sent += 1
        return sent

    def _mark_sent(self, conn: Any, row_id: int) -> None:
        conn.execute("UPDATE outbox SET sent_at = now() WHERE id = %s", (row_id,))

    def migrate(self) -> list[int]:
        """Apply this service's migrations (the platform's migration Job). With the master user
        secret (``PAVED_DB_MASTER_SECRET_FILE``), first make sure the service's role exists, then
        migrate as that role, so it owns what the migrations create."""
        master = db.master_credentials(self.env)
        if master is None:
            conn = db.connect(self.env)
        else:
            from psycopg import sql

            user, database = self.env.get("PGUSER"), self.env.get("PGDATABASE")
            if not user or not database:
                from pavedkit.config import ConfigError

                raise ConfigError(f"{db.MASTER_SECRET_FILE} needs PGUSER and PGDATABASE (the service's role and database)")
            conn = db.connect_as_master(self.env, master)
            for step in db.ensure_service_role(conn, user, database):
                log.info("database role: %s", step)
            conn.execute(sql.SQL("SET ROLE {}").format(sql.Identifier(user)))
        try:
            return db.migrate(conn, self.migrations)
        finally:
            conn.close()

    def check(self) -> None:
        """Refuse to start on an unreachable or unmigrated database."""
        with self.pool.connection() as conn:
            db.require_migrated(conn, self.migrations)

    def close(self) -> None:
        super().close()
        self.pool.close()


def open_store(bus: EventBus, env: Mapping[str, str], tables: Sequence[str],
               migrations: Sequence[db.Migration]) -> MemoryStore | PgStore:
    """PostgreSQL when the platform gave a database (``PGHOST``), else memory."""
    if db.enabled(env):
        return PgStore(bus, tables, env, migrations)
    return MemoryStore(bus, tables)
