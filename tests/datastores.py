"""Real datastores on 127.0.0.1 for the sample services' tests, one per test session.

- PostgreSQL: a throwaway cluster made with ``initdb`` and run with ``pg_ctl`` on a free port
  in a temporary directory, password authentication (scram-sha-256), stopped at the end.
  Debian's binaries live in /usr/lib/postgresql/<version>/bin (not on PATH); ``initdb`` and
  ``postgres`` refuse to run as root, so as root (CI) they run as ``nobody``.
- Redis: ``redis-server`` on a free port, without persistence.
- DynamoDB: moto's server (``ThreadedMotoServer``).

A fixture whose server binary is missing skips with the reason; ``.ci/run`` installs them
(Debian's ``postgresql`` and ``redis-server``), so CI never skips.
"""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

SUPERUSER = "paved_admin"
SUPERUSER_PASSWORD = "admin-local-only"


def free_port() -> int:
    """A TCP port free on 127.0.0.1 right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def postgres_bin(tool: str, path: str | None = None) -> str | None:
    """``tool`` (initdb, pg_ctl) on PATH, else in the newest /usr/lib/postgresql/<v>/bin."""
    found = shutil.which(tool, path=path)
    if found:
        return found
    candidates = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{tool}"),
                        key=lambda p: int(Path(p).parts[-3]) if Path(p).parts[-3].isdigit() else 0)
    return candidates[-1] if candidates else None


def _as_unprivileged() -> tuple[dict, int | None]:
    """subprocess arguments that drop root to ``nobody`` (PostgreSQL refuses root), and its uid."""
    if os.geteuid() != 0:
        return {}, None
    nobody = pwd.getpwnam("nobody")
    return {"user": nobody.pw_uid, "group": nobody.pw_gid, "extra_groups": []}, nobody.pw_uid


@dataclass
class Postgres:
    """A running throwaway cluster: where it listens and how to make service databases."""

    host: str
    port: int
    datadir: Path
    pg_ctl: str

    def admin_env(self, dbname: str = "postgres") -> dict[str, str]:
        """libpq variables of the superuser."""
        return {"PGHOST": self.host, "PGPORT": str(self.port), "PGDATABASE": dbname, "PGUSER": SUPERUSER,
                "PGPASSWORD": SUPERUSER_PASSWORD, "PGSSLMODE": "disable"}

    def create_database(self, name: str) -> dict[str, str]:
        """A new database owned by a new login role of the same name; that role's libpq variables.

        The platform's contract (PGHOST, PGPORT, PGDATABASE, PGUSER, PGSSLMODE) with libpq's
        PGPASSWORD in place of an IAM token.
        """
        import psycopg
        from psycopg import sql

        password = f"{name}-local-only"
        with psycopg.connect(autocommit=True, **_kw(self.admin_env())) as conn:
            conn.execute(sql.SQL("CREATE ROLE {} LOGIN PASSWORD {}").format(sql.Identifier(name), sql.Literal(password)))
            conn.execute(sql.SQL("CREATE DATABASE {} OWNER {}").format(sql.Identifier(name), sql.Identifier(name)))
        return {"PGHOST": self.host, "PGPORT": str(self.port), "PGDATABASE": name, "PGUSER": name,
                "PGPASSWORD": password, "PGSSLMODE": "disable"}


def _kw(env: dict[str, str]) -> dict[str, str]:
    return {"host": env["PGHOST"], "port": env["PGPORT"], "dbname": env["PGDATABASE"], "user": env["PGUSER"],
            "password": env["PGPASSWORD"], "sslmode": env["PGSSLMODE"]}


@pytest.fixture(scope="session")
def postgres() -> Iterator[Postgres]:
    """A PostgreSQL cluster on 127.0.0.1 for the session."""
    initdb, pg_ctl = postgres_bin("initdb"), postgres_bin("pg_ctl")
    if not initdb or not pg_ctl:
        pytest.skip("PostgreSQL is not installed (initdb/pg_ctl not on PATH nor in /usr/lib/postgresql/*/bin): "
                    "apt-get install postgresql, as .ci/run does")
    pytest.importorskip("psycopg", reason="psycopg is not installed: make test installs the test extras")
    drop, uid = _as_unprivileged()
    # Not under pytest's tmp_path: that is private to root, and the server runs as nobody.
    root = Path(tempfile.mkdtemp(prefix="paved-pg-"))
    datadir, pwfile, logfile = root / "data", root / "pwfile", root / "server.log"
    pwfile.write_text(SUPERUSER_PASSWORD + "\n")
    if uid is not None:
        os.chown(root, uid, -1)
        os.chown(pwfile, uid, -1)
    port = free_port()
    try:
        subprocess.run([initdb, "-D", str(datadir), "-U", SUPERUSER, f"--pwfile={pwfile}", "--auth=scram-sha-256",
                        "-E", "UTF8", "--locale=C", "--no-sync"],
                       check=True, capture_output=True, text=True, timeout=120, cwd=root, **drop)
        opts = f"-c listen_addresses=127.0.0.1 -c port={port} -c unix_socket_directories='' -c fsync=off " \
               "-c max_connections=50"
        subprocess.run([pg_ctl, "-D", str(datadir), "-l", str(logfile), "-o", opts, "-w", "-t", "60", "start"],
                       check=True, capture_output=True, text=True, timeout=90, cwd=root, **drop)
    except subprocess.CalledProcessError as exc:
        log = logfile.read_text() if logfile.exists() else ""
        shutil.rmtree(root, ignore_errors=True)
        raise RuntimeError(f"{exc.cmd[0]} failed: {exc.stdout}{exc.stderr}{log}") from None
    try:
        yield Postgres("127.0.0.1", port, datadir, pg_ctl)
    finally:
        subprocess.run([pg_ctl, "-D", str(datadir), "-m", "fast", "-w", "stop"], capture_output=True, timeout=60,
                       cwd=root,
                       **drop)
        shutil.rmtree(root, ignore_errors=True)


@dataclass
class RedisServer:
    """A running redis-server: its address."""

    host: str
    port: int

    def env(self) -> dict[str, str]:
        """The platform's cache variables for it (no TLS, no auth locally)."""
        return {"PAVED_CACHE_HOST": self.host, "PAVED_CACHE_PORT": str(self.port), "PAVED_CACHE_TLS": "false"}


@pytest.fixture(scope="session")
def redis_server() -> Iterator[RedisServer]:
    """redis-server on 127.0.0.1 for the session, nothing written to disk."""
    binary = shutil.which("redis-server") or shutil.which("valkey-server")
    if not binary:
        pytest.skip("redis-server is not installed: apt-get install redis-server, as .ci/run does")
    redis = pytest.importorskip("redis", reason="redis-py is not installed: make test installs the test extras")
    port = free_port()
    workdir = tempfile.mkdtemp(prefix="paved-redis-")
    proc = subprocess.Popen([binary, "--bind", "127.0.0.1", "--port", str(port), "--save", "", "--appendonly", "no",
                             "--dir", workdir, "--protected-mode", "yes"],
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    client = redis.Redis(host="127.0.0.1", port=port, socket_timeout=1)
    deadline = time.monotonic() + 20
    while True:
        try:
            client.ping()
            break
        except redis.ConnectionError:
            if proc.poll() is not None or time.monotonic() > deadline:
                proc.kill()
                raise RuntimeError(f"redis-server did not start: {proc.stdout.read().decode(errors='replace')}")
            time.sleep(0.05)
    client.close()
    try:
        yield RedisServer("127.0.0.1", port)
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
        shutil.rmtree(workdir, ignore_errors=True)


@dataclass
class DynamoDB:
    """moto's server: the variables that point boto3 at it."""

    endpoint: str

    def env(self) -> dict[str, str]:
        """AWS variables for the moto endpoint (moto accepts any credentials)."""
        return {"AWS_ENDPOINT_URL": self.endpoint, "AWS_REGION": "us-east-1", "AWS_ACCESS_KEY_ID": "testing",
                "AWS_SECRET_ACCESS_KEY": "testing"}

    def client(self):
        """A boto3 DynamoDB client on the server."""
        import boto3

        env = self.env()
        return boto3.client("dynamodb", region_name=env["AWS_REGION"], endpoint_url=self.endpoint,
                            aws_access_key_id="testing", aws_secret_access_key="testing")


@pytest.fixture(scope="session")
def dynamodb() -> Iterator[DynamoDB]:
    """DynamoDB through moto's server on 127.0.0.1 for the session."""
    server_mod = pytest.importorskip("moto.server", reason="moto[server] is not installed")
    port = free_port()
    server = server_mod.ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    try:
        yield DynamoDB(f"http://127.0.0.1:{port}")
    finally:
        server.stop()
