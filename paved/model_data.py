"""The catalog's ``data`` block: a service's PostgreSQL database, DynamoDB tables and cache
(docs/data.md). Part of the catalog model (paved.model), in a module of its own."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BeforeValidator, Field

from paved.model import Model, Name, _as_tuple  # paved.model is loaded up to its import of this module


# PostgreSQL major versions RDS offers in standard support (RDS for PostgreSQL release calendar);
# 13 left standard support in February 2026. A version is a major ("17"), or major.minor.
POSTGRES_MAJOR_VERSIONS = ("14", "15", "16", "17")
POSTGRES_VERSION = r"^(14|15|16|17)(\.[0-9]{1,2})?$"
DB_INSTANCE_CLASS = r"^db\.[a-z0-9]+\.[a-z0-9]+$"
# gp3 storage for RDS PostgreSQL: 20 GiB to 64 TiB.
MIN_DB_STORAGE_GB = 20
MAX_DB_STORAGE_GB = 65536
# DynamoDB attribute names used as keys: 1-255 bytes; paved keeps them to identifier-like text.
ATTRIBUTE_NAME = r"^[A-Za-z0-9_.-]{1,255}$"
# Serverless cache engines and the major versions paved deploys for each.
CACHE_MAJOR_VERSIONS = {"valkey": "8", "redis": "7"}


class Migrate(Model):
    """The service's schema migration, run as a Kubernetes Job before each new image rolls out."""

    command: Annotated[tuple[Annotated[str, Field(min_length=1)], ...], BeforeValidator(_as_tuple)] = Field(
        min_length=1, max_length=64, examples=[["python", "/app/service/app.py", "migrate"]],
        description="Command (the container's argv, no shell) that applies the pending migrations and exits 0; it "
                    "runs with the service's image, environment and identity, and must be safe to run again.")
    timeout_seconds: int = Field(default=600, ge=30, le=7200,
                                 description="How long the migration may run before its Job fails (activeDeadlineSeconds).")


class Postgres(Model):
    """A dedicated RDS for PostgreSQL instance for the service (docs/data.md says why dedicated)."""

    instance_class: str = Field(default="db.t4g.micro", pattern=DB_INSTANCE_CLASS, examples=["db.t4g.medium"],
                                description="RDS instance class; the stack's paved:data.allowedInstanceClasses "
                                            "lists the ones allowed (cost caps).")
    storage_gb: int = Field(default=MIN_DB_STORAGE_GB, ge=MIN_DB_STORAGE_GB, le=MAX_DB_STORAGE_GB, examples=[50],
                            description="Allocated gp3 storage in GiB (20 to 65536).")
    max_storage_gb: int | None = Field(
        default=None, ge=MIN_DB_STORAGE_GB, le=MAX_DB_STORAGE_GB, examples=[200],
        description="Upper bound for storage autoscaling; unset keeps storage at storageGb.")
    engine_version: str = Field(default="17", pattern=POSTGRES_VERSION, examples=["17", "16.4"],
                                description="PostgreSQL major version (RDS picks and upgrades the minor), or "
                                            "major.minor; one of " + ", ".join(POSTGRES_MAJOR_VERSIONS) + ".")
    migrate: Migrate | None = Field(default=None, description="Migration run before each rollout.")

    @property
    def major_version(self) -> str:
        """The major version: ``16.4`` → ``16``."""
        return self.engine_version.split(".")[0]


class KeyAttribute(Model):
    """A key attribute of a DynamoDB table or index."""

    name: str = Field(pattern=ATTRIBUTE_NAME, examples=["sku"], description="Attribute name.")
    type: Literal["S", "N", "B"] = Field(default="S", description="S (string), N (number) or B (binary).")


class SecondaryIndex(Model):
    """A global secondary index."""

    name: str = Field(pattern=r"^[A-Za-z0-9_.-]{3,255}$", examples=["by-warehouse"])
    hash_key: KeyAttribute
    range_key: KeyAttribute | None = None
    projection: Literal["ALL", "KEYS_ONLY"] = Field(default="ALL", description="Attributes copied into the index.")


class Capacity(Model):
    """Provisioned throughput (instead of on-demand), capped by the cost rules."""

    read: int = Field(ge=1, le=40000, description="Read capacity units.")
    write: int = Field(ge=1, le=40000, description="Write capacity units.")


class Table(Model):
    """A DynamoDB table the service owns. On-demand unless ``capacity`` is given."""

    name: Name = Field(examples=["stock-levels"],
                       description="Table name, unique in the catalog; the physical name is <env>-<name>.")
    hash_key: KeyAttribute = Field(description="Partition key.")
    range_key: KeyAttribute | None = Field(default=None, description="Sort key.")
    gsis: Annotated[tuple[SecondaryIndex, ...], BeforeValidator(_as_tuple)] = Field(
        default=(), max_length=20, description="Global secondary indexes.")
    ttl: str | None = Field(default=None, pattern=ATTRIBUTE_NAME, examples=["expiresAt"],
                            description="Attribute holding each item's expiry (epoch seconds).")
    capacity: Capacity | None = Field(default=None, description="Provisioned capacity; unset means on-demand.")


class Cache(Model):
    """An ElastiCache cache (Valkey or Redis OSS), TLS and IAM authentication always on."""

    engine: Literal["valkey", "redis"] = Field(examples=["valkey"], description="valkey or redis (Redis OSS).")
    max_storage_gb: int = Field(default=1, ge=1, le=5000, description="Serverless data storage limit in GB.")
    max_ecpu_per_second: int = Field(default=5000, ge=1000, le=15000000,
                                     description="Serverless compute limit in ElastiCache Processing Units per second.")

    @property
    def major_version(self) -> str:
        """The engine major version paved deploys."""
        return CACHE_MAJOR_VERSIONS[self.engine]


class Data(Model):
    """The service's own datastores: a PostgreSQL database, DynamoDB tables, a cache."""

    postgres: Postgres | None = None
    tables: Annotated[tuple[Table, ...], BeforeValidator(_as_tuple)] = Field(default=(), max_length=50)
    cache: Cache | None = None

    @property
    def empty(self) -> bool:
        """Whether nothing is declared."""
        return self.postgres is None and not self.tables and self.cache is None


class PostgresOverride(Model):
    """Per-environment sizes of the database."""

    instance_class: str | None = Field(default=None, pattern=DB_INSTANCE_CLASS)
    storage_gb: int | None = Field(default=None, ge=MIN_DB_STORAGE_GB, le=MAX_DB_STORAGE_GB)
    max_storage_gb: int | None = Field(default=None, ge=MIN_DB_STORAGE_GB, le=MAX_DB_STORAGE_GB)
    engine_version: str | None = Field(default=None, pattern=POSTGRES_VERSION)


class CacheOverride(Model):
    """Per-environment limits of the cache."""

    max_storage_gb: int | None = Field(default=None, ge=1, le=5000)
    max_ecpu_per_second: int | None = Field(default=None, ge=1000, le=15000000)


class DataOverride(Model):
    """Per-environment sizes of the service's datastores (tables have none: on-demand scales itself)."""

    postgres: PostgresOverride | None = None
    cache: CacheOverride | None = None
