"""The sample services on real datastores on 127.0.0.1: PostgreSQL, Redis, DynamoDB (moto).

orders and payments keep their saga state in PostgreSQL with a transactional outbox and
an idempotent consumer (pavedkit.store); orders reads through Redis; inventory reserves
stock with DynamoDB conditional writes. Kafka is the in-memory broker of test_saga.py at
the confluent-kafka client boundary: no Kafka server exists here, so what is proven about
the broker is what the producer was asked to write.
"""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
import threading
import time
import urllib.request
import uuid
from pathlib import Path

import pytest

from conftest import ROOT
from datastores import dynamodb, free_port, postgres, redis_server  # noqa: F401 - session fixtures
from test_saga import FakeBroker

SAMPLES = ROOT / "sample_services"
sys.path.insert(0, str(SAMPLES))


def load_app(name: str):
    spec = importlib.util.spec_from_file_location(f"sample_{name}_ds", SAMPLES / name / "app.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def service_env(name: str, tmp: Path, extra: dict[str, str]) -> dict[str, str]:
    """What the platform gives the container (as test_saga.Shop builds it), plus ``extra``."""
    from paved.catalog import load_catalog

    entry = load_catalog(ROOT / "services_catalog.yaml", {e: None for e in ("dev", "staging", "prod")}).service(name)
    env = {"PAVED_SERVICE": name, "PAVED_TEAM": entry.team, "PAVED_ENVIRONMENT": "test", "PORT": "0",
           "PAVED_BIND_ADDRESS": "127.0.0.1", "PAVED_SHUTDOWN_DELAY_SECONDS": "0", "PAVED_DRAIN_TIMEOUT_SECONDS": "5",
           "KAFKA_PUBLISH_TIMEOUT_SECONDS": "1", "KAFKA_CONSUMER_GROUP": name, **dict(entry.env)}
    for secret in entry.secrets:
        path = tmp / f"{name}-{secret.name}"
        path.write_text(f"value-of-{secret.name}\n")
        env[f"{secret.env_name}_FILE"] = str(path)
    return {**env, **extra}


def psql(env: dict[str, str], query: str, params=()) -> list[tuple]:
    import psycopg

    with psycopg.connect(host=env["PGHOST"], port=env["PGPORT"], dbname=env["PGDATABASE"], user=env["PGUSER"],
                         password=env["PGPASSWORD"], autocommit=True) as conn:
        cur = conn.execute(query, params)
        return cur.fetchall() if cur.description else []


def migrate_cli(name: str, env: dict[str, str]) -> subprocess.CompletedProcess:
    """``python app.py migrate``, the command the platform's migration Job runs."""
    return subprocess.run([sys.executable, str(SAMPLES / name / "app.py"), "migrate"], env={"PATH": "/usr/bin:/bin", **env},
                          capture_output=True, text=True, timeout=60)


@pytest.fixture
def db_env(postgres, request):  # noqa: F811 - the fixture imported above
    """A fresh database and role for one test: the service's libpq variables."""
    return lambda name: postgres.create_database(f"{name}_{uuid.uuid4().hex[:8]}")


def migrated(name: str, db_env) -> dict[str, str]:
    env = db_env(name)
    proc = migrate_cli(name, env)
    assert proc.returncode == 0, proc.stderr
    return env


def deliver(broker: FakeBroker, topic: str, event) -> None:
    broker.append(topic, event.order_id.encode(), event.to_json(), [("event_id", event.event_id.encode())])


# --- migrations -----------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["orders", "payments"])
def test_migrations_apply_from_empty_and_reapply_as_a_no_op(name, db_env, tmp_path):
    app = load_app(name)
    env = db_env(name)
    first = migrate_cli(name, env)
    assert first.returncode == 0, first.stderr
    ledger = psql(env, "SELECT version, name, checksum, applied_at FROM schema_migrations ORDER BY version")
    assert [(v, n, c) for v, n, c, _ in ledger] == [(m.version, m.name, m.checksum) for m in app.MIGRATIONS]
    tables = {r[0] for r in psql(env, "SELECT tablename FROM pg_tables WHERE schemaname = 'public'")}
    assert tables >= {*app.TABLES, "outbox", "processed_events", "schema_migrations"}

    again = migrate_cli(name, env)
    assert again.returncode == 0, again.stderr
    assert psql(env, "SELECT version, name, checksum, applied_at FROM schema_migrations ORDER BY version") == ledger
    assert '"applied_now": []' in again.stdout


def _rds_like_database(postgres, name: str) -> tuple[dict[str, str], dict[str, str]]:
    """A database as RDS creates it: owned by a master user that may create roles (not a superuser),
    with a stand-in ``rds_iam`` role it may grant. (The service's env, the master's env.)"""
    import psycopg
    from psycopg import sql

    from datastores import _kw

    master, password = f"{name}_master", f"{name}-master-local-only"
    with psycopg.connect(autocommit=True, **_kw(postgres.admin_env())) as conn:
        if not conn.execute("SELECT 1 FROM pg_roles WHERE rolname = 'rds_iam'").fetchone():
            conn.execute("CREATE ROLE rds_iam NOLOGIN")
        conn.execute(sql.SQL("CREATE ROLE {} LOGIN CREATEROLE PASSWORD {}").format(
            sql.Identifier(master), sql.Literal(password)))
        conn.execute(sql.SQL("GRANT rds_iam TO {} WITH ADMIN OPTION").format(sql.Identifier(master)))
        conn.execute(sql.SQL("CREATE DATABASE {} OWNER {}").format(sql.Identifier(name), sql.Identifier(master)))
    service = {"PGHOST": postgres.host, "PGPORT": str(postgres.port), "PGDATABASE": name, "PGUSER": f"{name}_svc",
               "PGSSLMODE": "disable"}
    return service, {**service, "PGUSER": master, "PGPASSWORD": password}


def test_migrate_with_the_master_secret_creates_the_service_s_role_which_owns_the_tables(postgres, tmp_path):  # noqa: F811
    name = f"orders_{uuid.uuid4().hex[:8]}"
    env, admin = _rds_like_database(postgres, name)
    secret = tmp_path / "master.json"
    # What the RDS-managed secret holds (docs/data-contract.md): the master user's name and password.
    secret.write_text(json.dumps({"username": admin["PGUSER"], "password": admin["PGPASSWORD"]}))
    secret.chmod(0o400)
    job_env = {**env, "PAVED_DB_MASTER_SECRET_FILE": str(secret)}
    first = migrate_cli("orders", job_env)
    assert first.returncode == 0, first.stderr
    user = env["PGUSER"]
    assert f"created role {user}" in first.stdout and f"granted rds_iam to {user}" in first.stdout
    (login,) = psql(admin, "SELECT rolcanlogin FROM pg_roles WHERE rolname = %s", (user,))
    assert login == (True,)
    assert psql(admin, "SELECT pg_has_role(%s, 'rds_iam', 'MEMBER')", (user,)) == [(True,)]
    owners = dict(psql(admin, "SELECT tablename, tableowner FROM pg_tables WHERE schemaname = 'public'"))
    assert {"orders", "outbox", "schema_migrations"} <= set(owners) and set(owners.values()) == {user}, owners
    ledger = psql(admin, "SELECT version, applied_at FROM schema_migrations ORDER BY version")

    again = migrate_cli("orders", job_env)
    assert again.returncode == 0, again.stderr
    assert "database role:" not in again.stdout and '"applied_now": []' in again.stdout
    assert psql(admin, "SELECT version, applied_at FROM schema_migrations ORDER BY version") == ledger
    # The role logs in with an IAM token on RDS; here a password set by the test shows it can use its tables.
    psql(admin, f'ALTER ROLE "{user}" PASSWORD \'svc-local-only\'')
    assert psql({**env, "PGPASSWORD": "svc-local-only"}, "SELECT count(*) FROM schema_migrations") == [(len(ledger),)]


def test_a_bad_master_secret_file_is_one_line_and_exit_1(postgres, tmp_path):  # noqa: F811
    env, _ = _rds_like_database(postgres, f"orders_{uuid.uuid4().hex[:8]}")
    bad = tmp_path / "master.json"
    bad.write_text('{"username": "x"}')
    proc = migrate_cli("orders", {**env, "PAVED_DB_MASTER_SECRET_FILE": str(bad)})
    assert proc.returncode == 1 and "has no username and password" in proc.stderr
    proc = migrate_cli("orders", {**env, "PAVED_DB_MASTER_SECRET_FILE": str(tmp_path / "missing.json")})
    assert proc.returncode == 1 and "cannot read the master user secret" in proc.stderr


def test_service_refuses_to_start_on_a_database_without_its_migrations(db_env, tmp_path):
    env = db_env("orders")
    svc = load_app("orders").create(env=service_env("orders", tmp_path, env), kafka_clients=(None, None))
    with pytest.raises(Exception, match=r"lacks migration\(s\) 1, 2, 3, 4: run `python app.py migrate`"):
        svc.start(consume=False)
    svc.close_resources()


def test_an_edited_migration_is_refused(db_env, tmp_path):
    from pavedkit import db

    env = migrated("payments", db_env)
    app = load_app("payments")
    edited = (db.Migration(1, "payments", app.MIGRATIONS[0].sql + "-- edited\n"), *app.MIGRATIONS[1:])
    conn = db.connect(env)
    try:
        with pytest.raises(db.ConfigError, match="migration 1 \\(payments\\) was changed after it was applied"):
            db.migrate(conn, edited)
    finally:
        conn.close()


def test_migrate_without_a_database_exits_1():
    proc = migrate_cli("orders", {"PAVED_SERVICE": "orders"})
    assert proc.returncode == 1 and "PGHOST is not set" in proc.stderr
    proc = migrate_cli("inventory", {"PAVED_SERVICE": "inventory"})
    assert proc.returncode == 1 and "nothing to migrate" in proc.stderr


def test_a_failing_migration_applies_nothing_and_exits_1(db_env):
    from pavedkit import db

    env = db_env("orders")
    broken = (db.Migration(1, "ok", "CREATE TABLE a (id int);"), db.Migration(2, "broken", "CREATE TABLE a (id int);"))
    conn = db.connect(env)
    try:
        with pytest.raises(Exception, match='relation "a" already exists'):
            db.migrate(conn, broken)
        assert db.applied(conn).keys() == {1}  # version 2 rolled back whole, ledger row included
    finally:
        conn.close()


# --- the outbox ---------------------------------------------------------------------------


def place(svc, customer="c-1", items=None) -> dict:
    from pavedkit import Request

    items = items or [{"sku": "sku-1", "quantity": 2, "unit_price": 10.0}]
    body = json.dumps({"customer_id": customer, "items": items}).encode()
    route, fn, params, _ = svc.router.match("POST", "/orders")
    resp = fn(Request("POST", "/orders", route, params, {}, {}, body))
    assert resp.status == 201, resp.body
    return resp.body


def test_outbox_survives_a_crash_after_commit_and_before_publish(db_env, tmp_path):
    env = service_env("orders", tmp_path, migrated("orders", db_env))
    dead = FakeBroker()
    dead.refuse["order-placed"] = 10**6  # the broker never acknowledges: the event stays in the outbox
    a = load_app("orders").create(env=env, kafka_clients=(dead.producer(), None))
    order = place(a)  # committed; publishing failed
    assert dead.log["order-placed"] == []
    (row,) = psql(env, "SELECT event_id, topic, sent_at FROM outbox")
    assert row[1:] == ("order-placed", None)
    a.close_resources()  # the process dies: nothing in memory survives

    broker = FakeBroker()
    b = load_app("orders").create(env=env, kafka_clients=(broker.producer(), None))
    try:
        b.start(consume=False)  # its relay publishes what the outbox holds
        deadline = time.monotonic() + 10
        while not broker.log["order-placed"] and time.monotonic() < deadline:
            time.sleep(0.05)
        time.sleep(1.5)  # three more relay rounds: nothing is sent twice
        published = [json.loads(m.value()) for m in broker.log["order-placed"]]
        assert [(e["event_id"], e["order_id"]) for e in published] == [(row[0], order["order_id"])]
        assert psql(env, "SELECT count(*) FROM outbox WHERE sent_at IS NULL") == [(0,)]
    finally:
        b.shutdown()


def test_a_crash_after_publish_before_marking_duplicates_and_the_consumer_drops_the_copy(db_env, tmp_path):
    orders_env = service_env("orders", tmp_path, migrated("orders", db_env))
    payments_env = service_env("payments", tmp_path, migrated("payments", db_env))
    broker = FakeBroker()
    a = load_app("orders").create(env=orders_env, kafka_clients=(broker.producer(), None))

    def crash(conn, row_id):
        raise RuntimeError("process killed after the broker's ack")

    a.store.relay_once = lambda: 0  # no relay at commit: the crash is staged below
    order = place(a)
    a.store._mark_sent = crash
    with pytest.raises(RuntimeError):
        type(a.store).relay_once(a.store)  # published, then the transaction marking it dies
    a.close_resources()
    b = load_app("orders").create(env=orders_env, kafka_clients=(broker.producer(), None))
    assert b.store.relay_once() == 1  # the restarted relay sends it again
    copies = [json.loads(m.value()) for m in broker.log["order-placed"]]
    assert len(copies) == 2 and copies[0]["event_id"] == copies[1]["event_id"]
    assert b.store.relay_once() == 0
    b.close_resources()

    payments = load_app("payments").create(env=payments_env, kafka_clients=(broker.producer(), broker.consumer("payments")))
    try:
        while payments.events.poll_once(0):
            pass
        assert psql(payments_env, "SELECT id FROM payments") == [(order["order_id"],)]
        assert psql(payments_env, "SELECT topic FROM outbox") == [("payment-completed",)]
        assert [json.loads(m.value())["order_id"] for m in broker.log["payment-completed"]] == [order["order_id"]]
    finally:
        payments.close_resources()


def test_the_idempotent_consumer_ignores_a_redelivered_event_even_after_a_restart(db_env, tmp_path):
    from pavedkit import Event

    env = service_env("payments", tmp_path, migrated("payments", db_env))
    broker = FakeBroker()
    event = Event(type="order-placed", order_id=str(uuid.uuid4()), data={"customer_id": "c-1", "total": 20.0},
                  producer="orders")
    deliver(broker, "order-placed", event)
    first = load_app("payments").create(env=env, kafka_clients=(broker.producer(), broker.consumer("payments")))
    assert first.events.poll_once(0)
    first.close_resources()
    # Redelivered after a restart (the offset commit was lost): the in-memory dedup is gone,
    # the processed_events row is not.
    broker.committed.clear()
    deliver(broker, "order-placed", event)
    second = load_app("payments").create(env=env, kafka_clients=(broker.producer(), broker.consumer("payments")))
    try:
        assert second.events.poll_once(0) and second.events.poll_once(0)
        assert psql(env, "SELECT count(*) FROM payments") == [(1,)]
        assert psql(env, "SELECT event_id FROM processed_events") == [(event.event_id,)]
        assert len(broker.log["payment-completed"]) == 1
        assert second.metrics.registry.get_sample_value(
            "kafka_consumer_events_total", {"topic": "order-placed", "outcome": "duplicate"}) == 2
    finally:
        second.close_resources()


def test_a_handler_that_fails_rolls_back_its_claim_so_the_retry_applies(db_env, tmp_path, monkeypatch):
    from pavedkit import Event

    env = service_env("orders", tmp_path, migrated("orders", db_env))
    broker = FakeBroker()
    svc = load_app("orders").create(env=env, kafka_clients=(broker.producer(), broker.consumer("orders")))
    try:
        order = place(svc)
        calls = {"n": 0}
        real_put = None

        def flaky(self, table, key, doc):
            calls["n"] += 1
            if calls["n"] == 1:
                raise RuntimeError("connection reset")
            return real_put(self, table, key, doc)

        from pavedkit import store as store_mod
        real_put = store_mod._PgTx.put
        monkeypatch.setattr(store_mod._PgTx, "put", flaky)
        deliver(broker, "payment-completed", Event(type="payment-completed", order_id=order["order_id"],
                                                   producer="payments"))
        assert svc.events.poll_once(0)
        (doc,) = psql(env, "SELECT doc FROM orders")
        assert doc[0]["status"] == "confirmed" and calls["n"] == 2
    finally:
        svc.close_resources()


# --- the cache ---------------------------------------------------------------------------------


def test_orders_reads_through_the_cache_and_its_events_invalidate_it(db_env, redis_server, tmp_path):  # noqa: F811
    import redis
    from pavedkit import Event

    env = service_env("orders", tmp_path, {**migrated("orders", db_env), **redis_server.env()})
    broker = FakeBroker()
    svc = load_app("orders").create(env=env, kafka_clients=(broker.producer(), broker.consumer("orders")))
    client = redis.Redis(host=redis_server.host, port=redis_server.port)
    try:
        svc.start(consume=False)
        order = place(svc)
        key = f"orders:order:{order['order_id']}"
        url = f"http://127.0.0.1:{svc.ports['http']}/orders/{order['order_id']}"

        def get() -> dict:
            with urllib.request.urlopen(url, timeout=5) as resp:
                return json.loads(resp.read())

        assert get()["status"] == "pending"
        assert json.loads(client.get(key))["status"] == "pending" and 0 < client.ttl(key) <= 60
        # Read-through: a change behind the service's back is not seen while cached...
        psql(env, "UPDATE orders SET doc = jsonb_set(doc, '{customer_id}', '\"changed\"')")
        assert get()["customer_id"] == "c-1"
        # ...but the service's own change, on its event, deletes the key after the commit.
        deliver(broker, "payment-completed", Event(type="payment-completed", order_id=order["order_id"],
                                                   producer="payments"))
        assert svc.events.poll_once(0)
        assert client.get(key) is None
        assert get()["status"] == "confirmed" and get()["customer_id"] == "changed"
    finally:
        client.close()
        svc.shutdown()


def test_a_cache_outage_falls_back_to_the_database(db_env, tmp_path):
    from pavedkit import Request

    dead_port = free_port()
    env = service_env("orders", tmp_path, {**migrated("orders", db_env), "PAVED_CACHE_HOST": "127.0.0.1",
                                           "PAVED_CACHE_PORT": str(dead_port), "PAVED_CACHE_TLS": "false"})
    svc = load_app("orders").create(env=env, kafka_clients=(FakeBroker().producer(), None))
    try:
        order = place(svc)
        route, fn, params, _ = svc.router.match("GET", f"/orders/{order['order_id']}")
        assert fn(Request("GET", "/", route, params, {}, {}, b""))["order_id"] == order["order_id"]
    finally:
        svc.close_resources()


# --- DynamoDB ------------------------------------------------------------------------------------


@pytest.fixture
def inventory_env(dynamodb, tmp_path, monkeypatch):  # noqa: F811
    """Fresh stock and reservations tables on moto, as the platform would create them."""
    for key, value in dynamodb.env().items():
        monkeypatch.setenv(key, value)  # boto3's credential chain reads the process environment
    client = dynamodb.client()
    suffix = uuid.uuid4().hex[:8]
    names = {"stock": f"inventory-stock-{suffix}", "reservations": f"inventory-reservations-{suffix}"}
    for logical, key in (("stock", "sku"), ("reservations", "order_id")):
        client.create_table(TableName=names[logical], BillingMode="PAY_PER_REQUEST",
                            AttributeDefinitions=[{"AttributeName": key, "AttributeType": "S"}],
                            KeySchema=[{"AttributeName": key, "KeyType": "HASH"}])
    return service_env("inventory", tmp_path, {**dynamodb.env(), "PAVED_TABLE_STOCK": names["stock"],
                                               "PAVED_TABLE_RESERVATIONS": names["reservations"]})


def test_dynamodb_conditional_reservation_refuses_oversell(inventory_env):
    from pavedkit import Event

    broker = FakeBroker()
    svc = load_app("inventory").create(env=inventory_env, kafka_clients=(broker.producer(), None))
    stock = svc.state
    stock.check()  # seeds the sandbox catalogue: sku-rare has 1
    # Eight orders for the last item, one after the other. Not concurrently: moto's
    # transactions are not safe across threads (a failed one restores a copy of the whole
    # table, wiping a write committed meanwhile), so a race here would test moto, not the
    # condition. DynamoDB itself serialises transactions on an item.
    results = {str(uuid.uuid4()): "" for _ in range(8)}
    for order_id in results:
        results[order_id] = stock.reserve(order_id, [("sku-rare", 1)])["state"]
    assert sorted(results.values()) == ["rejected"] * 7 + ["reserved"], results
    assert stock.level("sku-rare") == {"sku": "sku-rare", "available": 0, "reserved": 1}
    # All or nothing: an order short of one item reserves none of the others.
    mixed = str(uuid.uuid4())
    assert stock.reserve(mixed, [("sku-1", 5), ("sku-rare", 1)])["state"] == "rejected"
    assert stock.level("sku-1")["available"] == 100
    # A redelivered order reserves nothing twice; its handler publishes the outcome once.
    winner = next(o for o, s in results.items() if s == "reserved")
    ev = Event(type="order-placed", order_id=winner, data={"items": [{"sku": "sku-rare", "quantity": 1}]})
    svc.events.handlers["order-placed"](ev)
    svc.events.handlers["order-placed"](ev)
    assert len(broker.log["stock-reserved"]) == 1
    assert stock.level("sku-rare")["available"] == 0


def test_dynamodb_cancellation_releases_once_and_remembers_an_early_cancel(inventory_env):
    from pavedkit import Event

    broker = FakeBroker()
    svc = load_app("inventory").create(env=inventory_env, kafka_clients=(broker.producer(), None))
    svc.state.check()
    placed, cancelled = svc.events.handlers["order-placed"], svc.events.handlers["order-cancelled"]
    order_id = str(uuid.uuid4())
    placed(Event(type="order-placed", order_id=order_id, data={"items": [{"sku": "sku-2", "quantity": 30}]}))
    assert svc.state.level("sku-2") == {"sku": "sku-2", "available": 70, "reserved": 30}
    for _ in range(2):
        cancelled(Event(type="order-cancelled", order_id=order_id))
    assert svc.state.level("sku-2") == {"sku": "sku-2", "available": 100, "reserved": 0}
    early = str(uuid.uuid4())
    cancelled(Event(type="order-cancelled", order_id=early))
    placed(Event(type="order-placed", order_id=early, data={"items": [{"sku": "sku-2", "quantity": 1}]}))
    assert svc.state.level("sku-2")["available"] == 100
    assert [json.loads(m.value())["order_id"] for m in broker.log["stock-reserved"]] == [order_id]


def test_inventory_http_reads_and_sets_stock_in_dynamodb(inventory_env):
    from pavedkit import Request

    svc = load_app("inventory").create(env=inventory_env, kafka_clients=(FakeBroker().producer(), None))
    svc.state.check()

    def call(method, path, body=None):
        route, fn, params, _ = svc.router.match(method, path)
        return fn(Request(method, path, route, params, {}, {}, json.dumps(body).encode() if body else b""))

    assert call("PUT", "/stock/sku-new", {"available": 7}) == {"sku": "sku-new", "available": 7}
    assert call("GET", "/stock/sku-new") == {"sku": "sku-new", "available": 7, "reserved": 0}
    svc.state.check()  # seeding again never overwrites
    assert call("GET", "/stock/sku-1")["available"] == 100


def test_inventory_uses_the_platform_s_dynamodb_endpoint_when_it_is_set(inventory_env):
    """AWS_ENDPOINT_URL_DYNAMODB (the VPC endpoint on EKS; moto here) wins over AWS_ENDPOINT_URL,
    which points at a closed port: a request there would fail."""
    from pavedkit import tables

    env = {**inventory_env, "AWS_ENDPOINT_URL": f"http://127.0.0.1:{free_port()}",
           "AWS_ENDPOINT_URL_DYNAMODB": inventory_env["AWS_ENDPOINT_URL"]}
    assert tables.endpoint_url(env) == inventory_env["AWS_ENDPOINT_URL"]
    svc = load_app("inventory").create(env=env, kafka_clients=(FakeBroker().producer(), None))
    svc.state.check()
    assert svc.state.level("sku-1")["available"] == 100
    assert tables.endpoint_url({"AWS_REGION": "us-east-1"}) is None  # boto3's regional endpoint


# --- the contract --------------------------------------------------------------------------------


def test_iam_auth_signs_an_rds_token_as_the_password(monkeypatch):
    from pavedkit import db

    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIDEXAMPLE")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "secret")
    env = {"PGHOST": "orders.abc.us-east-1.rds.amazonaws.com", "PGPORT": "5432", "PGDATABASE": "orders",
           "PGUSER": "orders", "PGSSLMODE": "verify-full", "PGSSLROOTCERT": "/etc/ssl/rds/global-bundle.pem",
           "PAVED_DB_AUTH": "iam", "AWS_REGION": "us-east-1", "PGPASSWORD": "never-used"}
    kw = db.connect_kwargs(env)
    assert kw["password"].startswith("orders.abc.us-east-1.rds.amazonaws.com:5432/?Action=connect")
    assert "DBUser=orders" in kw["password"] and "X-Amz-Signature=" in kw["password"]
    assert (kw["sslmode"], kw["sslrootcert"]) == ("verify-full", "/etc/ssl/rds/global-bundle.pem")
    with pytest.raises(db.ConfigError, match="PAVED_DB_AUTH='password' is not supported"):
        db.connect_kwargs({**env, "PAVED_DB_AUTH": "password"})
    assert db.connect_kwargs({**env, "PAVED_DB_AUTH": ""})["password"] == "never-used"


def test_full_saga_on_real_datastores(db_env, redis_server, inventory_env, tmp_path):  # noqa: F811
    """orders (PostgreSQL + Redis), payments (PostgreSQL), inventory (DynamoDB), the rest in memory."""
    from test_saga import Shop

    extra = {"orders": {**migrated("orders", db_env), **redis_server.env()}, "payments": migrated("payments", db_env),
             "inventory": {k: v for k, v in inventory_env.items() if k.startswith(("PAVED_TABLE_", "AWS_"))}}
    shop = Shop(tmp_path, extra_env=extra)
    try:
        order_id = shop.place()
        shop.settle()
        assert shop.http("orders", "GET", f"/orders/{order_id}")[1]["status"] == "confirmed"
        assert shop.http("shipping", "GET", f"/shipments/{order_id}")[1]["status"] == "dispatched"
        assert shop.http("inventory", "GET", "/stock/sku-1")[1] == {"sku": "sku-1", "available": 98, "reserved": 2}
        rare = shop.place(items=[{"sku": "sku-rare", "quantity": 2, "unit_price": 5.0}])
        shop.settle()
        assert shop.http("orders", "GET", f"/orders/{rare}")[1]["status"] == "cancelled"
    finally:
        shop.close()


def test_refuses_to_start_without_its_database_in_one_line(tmp_path):
    """An unreachable database: exit 1, the address in one log line, no traceback."""
    env = service_env("payments", tmp_path, {"PGHOST": "127.0.0.1", "PGPORT": str(free_port()), "PGDATABASE": "payments",
                                             "PGUSER": "payments", "PGPASSWORD": "x", "PGSSLMODE": "disable",
                                             "KAFKA_BOOTSTRAP_SERVERS": "127.0.0.1:9", "PAVED_ENVIRONMENT": ""})
    proc = subprocess.run([sys.executable, str(SAMPLES / "payments" / "app.py")], env={"PATH": "/usr/bin:/bin", **env},
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert f"cannot connect to PostgreSQL at 127.0.0.1:{env['PGPORT']}" in proc.stdout
    assert "Traceback" not in proc.stdout + proc.stderr


def test_the_fixture_finds_debians_binaries_off_path_and_runs_them_unprivileged(postgres):  # noqa: F811
    import glob
    import os
    import pwd

    from datastores import postgres_bin

    debian = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
    if debian:  # Debian's package puts them here, off PATH
        assert postgres_bin("initdb", path="/nonexistent") in debian
    if os.geteuid() == 0:  # initdb and postgres refuse root: the cluster is nobody's
        assert postgres.datadir.stat().st_uid == pwd.getpwnam("nobody").pw_uid


def test_concurrent_requests_share_a_bounded_pool_of_connections(db_env, tmp_path):
    """One thread per HTTP request must not mean one database connection per request."""
    env = service_env("orders", tmp_path, migrated("orders", db_env))
    svc = load_app("orders").create(env=env, kafka_clients=(FakeBroker().producer(), None))
    errors: list[str] = []

    def work():
        try:
            place(svc)
        except Exception as exc:
            errors.append(repr(exc))

    try:
        threads = [threading.Thread(target=work) for _ in range(40)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(60)
        assert errors == []
        assert psql(env, "SELECT count(*) FROM orders") == [(40,)]
        assert psql(env, "SELECT count(*) FROM outbox WHERE sent_at IS NULL") == [(0,)]
        (opened,) = psql(env, "SELECT count(*) FROM pg_stat_activity WHERE datname = %s AND application_name = %s",
                         (env["PGDATABASE"], "orders"))
        assert 1 <= opened[0] <= svc.store.pool.size
    finally:
        svc.close_resources()
    deadline = time.monotonic() + 10  # a backend exits a moment after its client closed
    while psql(env, "SELECT count(*) FROM pg_stat_activity WHERE datname = %s AND application_name = %s",
               (env["PGDATABASE"], "orders")) != [(0,)]:
        assert time.monotonic() < deadline, "connections left open after close"
        time.sleep(0.05)


def test_a_request_while_the_database_is_away_answers_503(tmp_path):
    env = service_env("payments", tmp_path, {"PGHOST": "127.0.0.1", "PGPORT": str(free_port()), "PGDATABASE": "p",
                                             "PGUSER": "p", "PGPASSWORD": "x", "PGSSLMODE": "disable"})
    svc = load_app("payments").create(env=env, kafka_clients=(FakeBroker().producer(), None))

    class Handler:
        command = "GET"
        headers: dict = {}
        path = "/payments/o-1"

        def read_body(self):
            return b""

    status, body, _, _ = svc.handle_http(Handler(), "/payments/o-1")
    assert status == 503 and b"cannot connect to PostgreSQL" in body
    svc.close_resources()


def test_two_replicas_relaying_at_once_publish_each_event_once_in_commit_order(db_env, tmp_path):
    env = service_env("orders", tmp_path, migrated("orders", db_env))
    dead = FakeBroker()
    dead.refuse["order-placed"] = 10**6
    a = load_app("orders").create(env=env, kafka_clients=(dead.producer(), None))
    placed = [place(a)["order_id"] for _ in range(20)]
    a.close_resources()
    broker = FakeBroker()
    replicas = [load_app("orders").create(env=env, kafka_clients=(broker.producer(), None)) for _ in range(2)]
    try:
        threads = [threading.Thread(target=r.store.relay_once) for r in replicas for _ in range(3)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(30)
        assert [json.loads(m.value())["order_id"] for m in broker.log["order-placed"]] == placed
    finally:
        for r in replicas:
            r.close_resources()
