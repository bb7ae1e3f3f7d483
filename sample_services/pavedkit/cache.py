"""A read-through cache in the service's Redis or Valkey (ElastiCache), cache-aside.

The platform gives ``PAVED_CACHE_HOST``, ``PAVED_CACHE_PORT``, ``PAVED_CACHE_TLS``
(true/false) and ``PAVED_CACHE_USER``; the user's password (an ElastiCache AUTH token) is
read from the file ``PAVED_CACHE_AUTH_TOKEN_FILE`` names, when there is one (a local
server has no auth). Without ``PAVED_CACHE_HOST`` there is no cache and reads go to the
store.

The cache is never the truth: a value is loaded from the store on a miss and kept for a
TTL; the service deletes the key after committing a change to it (on handling its events),
and the TTL bounds how stale a reader racing that deletion can be. When the cache is down,
reads go to the store and the error is logged, so an outage slows the service instead of
failing it.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from pavedkit.config import ConfigError

log = logging.getLogger("pavedkit.cache")

TIMEOUT_SECONDS = 0.5


def _flag(env: Mapping[str, str], key: str) -> bool:
    raw = (env.get(key) or "false").strip().lower()
    if raw not in ("true", "false"):
        raise ConfigError(f"{key}={raw!r} must be true or false")
    return raw == "true"


class Cache:
    """Cache-aside of JSON values under ``<service>:`` keys."""

    def __init__(self, client: Any, prefix: str) -> None:
        self.client = client
        self.prefix = prefix

    @classmethod
    def from_env(cls, env: Mapping[str, str], service: str) -> Cache | None:
        """The platform's cache, or None when it gave none."""
        host = env.get("PAVED_CACHE_HOST")
        if not host:
            return None
        import redis
        from redis.backoff import NoBackoff
        from redis.retry import Retry

        raw_port = env.get("PAVED_CACHE_PORT") or "6379"
        if not raw_port.isdigit():
            raise ConfigError(f"PAVED_CACHE_PORT={raw_port!r} is not a TCP port")
        token_file = env.get("PAVED_CACHE_AUTH_TOKEN_FILE")
        password = Path(token_file).read_text(encoding="utf-8").strip() if token_file else None
        client = redis.Redis(host=host, port=int(raw_port), ssl=_flag(env, "PAVED_CACHE_TLS"),
                             username=env.get("PAVED_CACHE_USER") or None, password=password,
                             socket_timeout=TIMEOUT_SECONDS, socket_connect_timeout=TIMEOUT_SECONDS,
                             # One retry, at once: a pooled connection the server closed is
                             # replaced; an outage costs one timeout per read, not a backoff.
                             retry=Retry(NoBackoff(), 1))
        return cls(client, f"{service}:")

    def get_or_load(self, key: str, load: Callable[[], Any], ttl_seconds: int) -> Any:
        """The cached value of ``key``, else ``load()`` (cached for the TTL unless None)."""
        import redis

        full = self.prefix + key
        try:
            raw = self.client.get(full)
            if raw is not None:
                return json.loads(raw)
        except redis.RedisError as exc:
            log.warning("cache read failed; reading the store", extra={"key": full, "reason": str(exc)})
            return load()
        value = load()
        if value is not None:
            try:
                self.client.set(full, json.dumps(value), ex=ttl_seconds)
            except redis.RedisError as exc:
                log.warning("cache write failed", extra={"key": full, "reason": str(exc)})
        return value

    def invalidate(self, key: str) -> None:
        """Forget ``key`` (call after the change is committed)."""
        import redis

        try:
            self.client.delete(self.prefix + key)
        except redis.RedisError as exc:
            log.warning("cache invalidation failed; the TTL bounds the staleness",
                        extra={"key": self.prefix + key, "reason": str(exc)})

    def close(self) -> None:
        """Close the connection pool."""
        self.client.close()
