"""Settings from the environment the platform gives a container, and secrets from files.

The platform sets ``PAVED_SERVICE``, ``PAVED_TEAM``, ``PAVED_ENVIRONMENT``, ``PORT``, one
``<SECRET>_FILE`` per declared secret and the ``KAFKA_*`` variables; everything has a
default that suits a run on a laptop.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

# Where the platform mounts secrets when `<NAME>_FILE` is not set (components/service.py).
SECRETS_DIR = "/var/run/secrets/paved"
LOCAL = "local"
_KAFKA_REGION = re.compile(r"\.kafka\.([a-z0-9-]+)\.amazonaws\.com")


class ConfigError(Exception):
    """The environment does not describe a service that can start."""


def env_name(name: str) -> str:
    """``db-password`` → ``DB_PASSWORD``; ``order-placed`` → ``ORDER_PLACED``."""
    return re.sub(r"[^A-Za-z0-9]", "_", name).upper()


def _number(env: Mapping[str, str], key: str, default: float) -> float:
    raw = env.get(key)
    if raw is None or raw == "":
        return default
    try:
        value = float(raw)
    except ValueError:
        raise ConfigError(f"{key}={raw!r} is not a number") from None
    if value < 0:
        raise ConfigError(f"{key}={raw!r} must not be negative")
    return value


def _port(env: Mapping[str, str], key: str, default: int) -> int:
    raw = env.get(key)
    if raw is None or raw == "":
        return default
    if not raw.isdigit() or not 0 <= int(raw) <= 65535:
        raise ConfigError(f"{key}={raw!r} is not a TCP port")
    return int(raw)


def _csv(raw: str | None) -> tuple[str, ...] | None:
    if raw is None:
        return None
    return tuple(t.strip() for t in raw.split(",") if t.strip())


@dataclass(frozen=True)
class KafkaSettings:
    """How to reach the brokers; ``None`` bootstrap servers means events are off."""

    bootstrap_servers: str | None
    security_protocol: str = "PLAINTEXT"
    sasl_mechanism: str | None = None
    consumer_group: str = ""
    region: str | None = None
    produces: tuple[str, ...] | None = None  # what the platform granted, when it says
    consumes: tuple[str, ...] | None = None
    topic_names: dict[str, str] = field(default_factory=dict)  # ORDER_PLACED → broker name
    publish_timeout_seconds: float = 10.0

    def physical(self, topic: str) -> str:
        """The broker's name of a catalog topic (``KAFKA_TOPIC_<NAME>``, else the same)."""
        return self.topic_names.get(env_name(topic), topic)


@dataclass(frozen=True)
class Settings:
    """Everything a service reads from its environment."""

    service: str
    team: str
    environment: str
    port: int
    metrics_port: int
    bind_address: str
    log_level: str
    shutdown_delay_seconds: float
    drain_timeout_seconds: float
    kafka: KafkaSettings
    env: Mapping[str, str] = field(repr=False, default_factory=dict)

    @property
    def local(self) -> bool:
        """True when not running on the platform (no ``PAVED_ENVIRONMENT``)."""
        return self.environment == LOCAL

    def secret_path(self, name: str) -> Path:
        """Where the platform delivers secret ``name``: ``$<NAME>_FILE``."""
        return Path(self.env.get(f"{env_name(name)}_FILE") or f"{SECRETS_DIR}/{name}")

    def get(self, key: str, default: str | None = None) -> str | None:
        """A plain environment variable (the catalog's ``env`` entries)."""
        return self.env.get(key, default)


def load(name: str, port: int, metrics_port: int | None = None, env: Mapping[str, str] | None = None) -> Settings:
    """Settings for service ``name`` whose catalog port is ``port``."""
    env = dict(os.environ if env is None else env)
    service = env.get("PAVED_SERVICE") or name
    port_ = _port(env, "PORT", port)
    # The catalog's metrics port, when it differs from the service port, is the code's
    # default; METRICS_PORT overrides it (0 picks a free port, for tests).
    metrics_default = metrics_port if metrics_port is not None else port_
    bootstrap = env.get("KAFKA_BOOTSTRAP_SERVERS") or None
    region = env.get("AWS_REGION") or env.get("AWS_DEFAULT_REGION")
    if not region and bootstrap:
        m = _KAFKA_REGION.search(bootstrap)
        region = m.group(1) if m else None
    topics = {
        key[len("KAFKA_TOPIC_"):]: value for key, value in env.items() if key.startswith("KAFKA_TOPIC_") and value
    }
    kafka = KafkaSettings(
        bootstrap_servers=bootstrap,
        security_protocol=(env.get("KAFKA_SECURITY_PROTOCOL") or "PLAINTEXT").upper(),
        sasl_mechanism=(env.get("KAFKA_SASL_MECHANISM") or "").upper() or None,
        consumer_group=env.get("KAFKA_CONSUMER_GROUP") or service,
        region=region,
        produces=_csv(env.get("KAFKA_PRODUCES")),
        consumes=_csv(env.get("KAFKA_CONSUMES")),
        topic_names=topics,
        publish_timeout_seconds=_number(env, "KAFKA_PUBLISH_TIMEOUT_SECONDS", 10.0),
    )
    return Settings(
        service=service,
        team=env.get("PAVED_TEAM") or "",
        environment=env.get("PAVED_ENVIRONMENT") or LOCAL,
        port=port_,
        metrics_port=_port(env, "METRICS_PORT", metrics_default),
        bind_address=env.get("PAVED_BIND_ADDRESS") or "0.0.0.0",
        log_level=(env.get("LOG_LEVEL") or "info").upper(),
        shutdown_delay_seconds=_number(env, "PAVED_SHUTDOWN_DELAY_SECONDS", 5.0),
        drain_timeout_seconds=_number(env, "PAVED_DRAIN_TIMEOUT_SECONDS", 20.0),
        kafka=kafka,
        env=env,
    )

