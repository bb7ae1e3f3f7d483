"""PostgreSQL for a service: the connection the platform describes, and versioned migrations.

The platform gives libpq's own variables (``PGHOST``, ``PGPORT``, ``PGDATABASE``, ``PGUSER``,
``PGSSLMODE``, ``PGSSLROOTCERT``). With ``PAVED_DB_AUTH=iam`` the password is an RDS IAM
authentication token signed from the pod's AWS credentials (valid 15 minutes, needed only
to open a connection); otherwise libpq's ``PGPASSWORD`` is used, as on a laptop and in the
tests. No password is stored anywhere by this module.

In the migration Job the platform also mounts the RDS-managed master user secret (a JSON
file with ``username`` and ``password``) and names it in ``PAVED_DB_MASTER_SECRET_FILE``;
``migrate`` then first connects as the master user (same host, database and TLS settings),
creates the service's login role (``PGUSER``) if it is missing, grants it ``rds_iam`` (when the
server has that role: RDS does, a plain PostgreSQL does not) and its rights on the database,
and runs the migrations as that role (``SET ROLE``), so the service's user owns its tables.
The service's own pods never get that file.

Migrations are numbered SQL scripts declared in the service's code. ``python app.py
migrate`` (the platform's migration Job) applies the ones the database lacks, each in its
own transaction together with its row in ``schema_migrations``; applying them again is a
no-op. The running service refuses to start on a database that lacks one of its
migrations. Migrations must be backward compatible with the code still running (expand
now, contract in a later release): see sample_services/README.md.
"""

from __future__ import annotations

import hashlib
import json
import logging
import threading
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from pavedkit.config import ConfigError

log = logging.getLogger("pavedkit.db")

# One migration Job at a time per database (two rollouts racing each other wait here).
MIGRATION_LOCK = 7_202_601


@dataclass(frozen=True)
class Migration:
    """One versioned migration: applied once, in version order, never edited once shipped."""

    version: int
    name: str
    sql: str

    @property
    def checksum(self) -> str:
        """What was applied, so an edited migration is caught instead of silently skipped."""
        return hashlib.sha256(self.sql.encode()).hexdigest()


class Unavailable(ConfigError):
    """The database cannot be reached now (a request answers 503; a start stops, exit 1)."""


def enabled(env: Mapping[str, str]) -> bool:
    """Whether the platform gave this service a database (``PGHOST`` is set)."""
    return bool(env.get("PGHOST"))


def connect_kwargs(env: Mapping[str, str]) -> dict[str, Any]:
    """psycopg connection parameters from the platform's variables (libpq names)."""
    params = {"host": env.get("PGHOST"), "port": env.get("PGPORT") or "5432", "dbname": env.get("PGDATABASE"),
              "user": env.get("PGUSER"), "sslmode": env.get("PGSSLMODE"), "sslrootcert": env.get("PGSSLROOTCERT"),
              "connect_timeout": env.get("PGCONNECT_TIMEOUT") or "5", "application_name": env.get("PAVED_SERVICE")}
    auth = (env.get("PAVED_DB_AUTH") or "").lower()
    if auth == "iam":
        params["password"] = iam_token(env, params)
    elif auth:
        raise ConfigError(f"PAVED_DB_AUTH={auth!r} is not supported (iam, or unset for PGPASSWORD)")
    elif env.get("PGPASSWORD"):
        params["password"] = env["PGPASSWORD"]
    return {k: v for k, v in params.items() if v}


MASTER_SECRET_FILE = "PAVED_DB_MASTER_SECRET_FILE"
# The role RDS for PostgreSQL grants to users who log in with an IAM token.
IAM_ROLE = "rds_iam"


def master_credentials(env: Mapping[str, str]) -> tuple[str, str] | None:
    """(user, password) of the RDS-managed master secret the migration Job gets, or None without it."""
    path = env.get(MASTER_SECRET_FILE)
    if not path:
        return None
    try:
        with open(path, encoding="utf-8") as f:
            secret = json.load(f)
    except (OSError, ValueError) as exc:
        raise ConfigError(f"{MASTER_SECRET_FILE}={path}: cannot read the master user secret ({exc})") from None
    if not isinstance(secret, dict) or not secret.get("username") or not secret.get("password"):
        raise ConfigError(f"{MASTER_SECRET_FILE}={path}: the master user secret has no username and password")
    return str(secret["username"]), str(secret["password"])


def connect_as_master(env: Mapping[str, str], credentials: tuple[str, str]) -> Any:
    """An autocommit connection as the master user: the service's host, database and TLS settings,
    the secret's password in place of the service's IAM token."""
    import psycopg

    params = {k: v for k, v in connect_kwargs({k: v for k, v in env.items() if k != "PAVED_DB_AUTH"}).items()
              if k != "password"}
    params.update(user=credentials[0], password=credentials[1])
    try:
        return psycopg.connect(autocommit=True, **params)
    except psycopg.OperationalError as exc:
        raise Unavailable(f"cannot connect to PostgreSQL at {env.get('PGHOST')}:{env.get('PGPORT') or 5432} as the "
                          f"master user: {str(exc).strip()}") from None


def ensure_service_role(conn: Any, user: str, database: str) -> list[str]:
    """Create the service's login role if missing and give it what it needs; the steps taken now.

    Idempotent: an existing role, membership or grant is left as it is (a second run takes no step).
    The connection's user (the master) becomes a member of the role, so it can ``SET ROLE`` to it.
    """
    from psycopg import sql

    me = conn.execute("SELECT current_user").fetchone()[0]
    role = sql.Identifier(user)
    steps: list[str] = []

    def member(of: str, who: str) -> bool:
        return bool(conn.execute("SELECT EXISTS (SELECT 1 FROM pg_auth_members m JOIN pg_roles r ON r.oid = m.roleid "
                                 "JOIN pg_roles u ON u.oid = m.member WHERE r.rolname = %s AND u.rolname = %s)",
                                 (of, who)).fetchone()[0])

    if not conn.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", (user,)).fetchone():
        conn.execute(sql.SQL("CREATE ROLE {} LOGIN").format(role))
        steps.append(f"created role {user}")
    if conn.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", (IAM_ROLE,)).fetchone() and not member(IAM_ROLE, user):
        conn.execute(sql.SQL("GRANT {} TO {}").format(sql.Identifier(IAM_ROLE), role))
        steps.append(f"granted {IAM_ROLE} to {user}")
    if not conn.execute("SELECT has_database_privilege(%s, %s, 'CREATE')", (user, database)).fetchone()[0]:
        conn.execute(sql.SQL("GRANT ALL ON DATABASE {} TO {}").format(sql.Identifier(database), role))
        steps.append(f"granted all on database {database} to {user}")
    # PostgreSQL 15+ no longer lets every role create in the public schema.
    if not conn.execute("SELECT has_schema_privilege(%s, 'public', 'CREATE')", (user,)).fetchone()[0]:
        conn.execute(sql.SQL("GRANT USAGE, CREATE ON SCHEMA public TO {}").format(role))
        steps.append(f"granted create on schema public to {user}")
    if not member(user, me):
        conn.execute(sql.SQL("GRANT {} TO {}").format(role, sql.Identifier(me)))
        steps.append(f"granted {user} to {me}")
    return steps


def iam_token(env: Mapping[str, str], params: Mapping[str, Any]) -> str:
    """An RDS IAM authentication token for the connection's host, port and user."""
    import boto3

    region = env.get("AWS_REGION") or env.get("AWS_DEFAULT_REGION")
    if not region:
        raise ConfigError("PAVED_DB_AUTH=iam needs AWS_REGION")
    if not params.get("user"):
        raise ConfigError("PAVED_DB_AUTH=iam needs PGUSER")
    client = boto3.client("rds", region_name=region)
    return client.generate_db_auth_token(DBHostname=params["host"], Port=int(params["port"]),
                                         DBUsername=params["user"], Region=region)


def connect(env: Mapping[str, str]) -> Any:
    """A new autocommit connection (transactions are explicit: ``with conn.transaction()``)."""
    import psycopg

    try:
        return psycopg.connect(autocommit=True, **connect_kwargs(env))
    except psycopg.OperationalError as exc:
        raise Unavailable(f"cannot connect to PostgreSQL at {env.get('PGHOST')}:{env.get('PGPORT') or 5432}: "
                          f"{str(exc).strip()}") from None


class PoolTimeout(Unavailable):
    """Every connection of the pool stayed busy for the whole wait."""


class Pool:
    """A few connections shared by the service's threads (one HTTP thread per request).

    Bounded, so a burst of requests waits for a connection instead of exhausting the
    server's ``max_connections``; a connection that broke, or was left inside a
    transaction, is closed instead of reused. Each new connection gets a fresh IAM token.
    """

    def __init__(self, env: Mapping[str, str], size: int = 5, timeout_seconds: float = 5.0) -> None:
        self.env = env
        self.size = size
        self.timeout_seconds = timeout_seconds
        self._idle: list[Any] = []
        self._open = 0
        self._closed = False
        self._cond = threading.Condition()

    @contextmanager
    def connection(self) -> Iterator[Any]:
        """A connection for the block, returned to the pool afterwards."""
        conn = self._acquire()
        try:
            yield conn
        finally:
            self._release(conn)

    def _acquire(self) -> Any:
        deadline = time.monotonic() + self.timeout_seconds
        with self._cond:
            while True:
                if self._closed:
                    raise PoolTimeout("the connection pool is closed")
                while self._idle:
                    conn = self._idle.pop()
                    if not conn.closed and not conn.broken:
                        return conn
                    self._open -= 1
                if self._open < self.size:
                    self._open += 1
                    break
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise PoolTimeout(f"all {self.size} database connections busy for {self.timeout_seconds:g}s")
                self._cond.wait(remaining)
        try:
            return connect(self.env)
        except BaseException:
            with self._cond:
                self._open -= 1
                self._cond.notify()
            raise

    def _release(self, conn: Any) -> None:
        from psycopg.pq import TransactionStatus

        with self._cond:
            if self._closed or conn.closed or conn.broken or conn.info.transaction_status != TransactionStatus.IDLE:
                conn.close()
                self._open -= 1
            else:
                self._idle.append(conn)
            self._cond.notify()

    def close(self) -> None:
        """Close the idle connections; those in use close when they come back."""
        with self._cond:
            self._closed = True
            for conn in self._idle:
                conn.close()
            self._open -= len(self._idle)
            self._idle.clear()
            self._cond.notify_all()


_LEDGER = """
CREATE TABLE IF NOT EXISTS schema_migrations (
    version    integer PRIMARY KEY,
    name       text NOT NULL,
    checksum   text NOT NULL,
    applied_at timestamptz NOT NULL DEFAULT now()
)"""


def _check_order(migrations: Sequence[Migration]) -> None:
    versions = [m.version for m in migrations]
    if versions != sorted(set(versions)):
        raise ValueError(f"migration versions must be unique and ascending: {versions}")


def applied(conn: Any) -> dict[int, str]:
    """Applied versions and their checksums ({} on an empty database)."""
    cur = conn.execute("SELECT to_regclass('schema_migrations') IS NOT NULL")
    if not cur.fetchone()[0]:
        return {}
    return dict(conn.execute("SELECT version, checksum FROM schema_migrations").fetchall())


def _edited(migrations: Sequence[Migration], done: Mapping[int, str]) -> None:
    for m in migrations:
        if m.version in done and done[m.version] != m.checksum:
            raise ConfigError(f"migration {m.version} ({m.name}) was changed after it was applied: "
                              "add a new migration instead")


def migrate(conn: Any, migrations: Sequence[Migration]) -> list[int]:
    """Apply the migrations the database lacks, in order; the versions applied now."""
    _check_order(migrations)
    conn.execute("SELECT pg_advisory_lock(%s)", (MIGRATION_LOCK,))
    try:
        conn.execute(_LEDGER)
        done = applied(conn)
        _edited(migrations, done)
        now: list[int] = []
        for m in migrations:
            if m.version in done:
                continue
            with conn.transaction():
                conn.execute(m.sql)
                conn.execute("INSERT INTO schema_migrations (version, name, checksum) VALUES (%s, %s, %s)",
                             (m.version, m.name, m.checksum))
            log.info("migration applied", extra={"version": m.version, "migration": m.name})
            now.append(m.version)
        return now
    finally:
        conn.execute("SELECT pg_advisory_unlock(%s)", (MIGRATION_LOCK,))


def require_migrated(conn: Any, migrations: Sequence[Migration]) -> None:
    """ConfigError when the database lacks a migration this code needs (newer ones are fine)."""
    done = applied(conn)
    _edited(migrations, done)
    missing = [m.version for m in migrations if m.version not in done]
    if missing:
        raise ConfigError(f"the database lacks migration(s) {', '.join(map(str, missing))}: "
                          "run `python app.py migrate` first (the platform's migration Job does)")
