"""A read-through cache in the service's Redis or Valkey (ElastiCache), cache-aside.

The platform gives ``PAVED_CACHE_HOST``, ``PAVED_CACHE_PORT``, ``PAVED_CACHE_TLS``
(true/false), ``PAVED_CACHE_USER``, ``PAVED_CACHE_NAME``, ``PAVED_CACHE_KIND`` (serverless) and
``PAVED_CACHE_AUTH=iam`` (docs/data-contract.md). With ``iam`` the password is an ElastiCache
IAM authentication token: a SigV4-presigned ``connect`` request for the cache's name and the
user's id (service ``elasticache``, valid 15 minutes, ``ResourceType=ServerlessCache`` for a
serverless cache, the ``http://`` prefix stripped), signed with botocore from the pod's AWS
credentials, as AWS's "Authenticating with IAM" guide for ElastiCache describes. A token is
needed only to open a connection (``AUTH <user> <token>``); each new connection gets one, signed
again once the last is 10 minutes old. Without ``PAVED_CACHE_AUTH`` the client connects with no
password (a local server). Without ``PAVED_CACHE_HOST`` there is no cache and reads go to the
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
import threading
import time
from collections.abc import Callable, Mapping
from typing import Any
from urllib.parse import urlencode

from pavedkit.config import ConfigError

log = logging.getLogger("pavedkit.cache")

TIMEOUT_SECONDS = 0.5
# ElastiCache accepts an IAM token for 15 minutes after it is signed; a new one well before.
TOKEN_SECONDS = 900
REFRESH_SECONDS = 600
KINDS = ("serverless", "nodes")


def iam_auth_token(cache_name: str, user_id: str, region: str, credentials: Any, serverless: bool = True) -> str:
    """An ElastiCache IAM authentication token: ``connect`` for the cache and user, presigned with
    SigV4 (botocore's signer, service ``elasticache``) for 15 minutes, without its ``http://``."""
    from botocore.auth import SigV4QueryAuth
    from botocore.awsrequest import AWSRequest

    params = {"Action": "connect", "User": user_id}
    if serverless:
        params["ResourceType"] = "ServerlessCache"
    request = AWSRequest(method="GET", url=f"http://{cache_name.lower()}/?{urlencode(params)}")
    SigV4QueryAuth(credentials, "elasticache", region, expires=TOKEN_SECONDS).add_auth(request)
    return request.url.removeprefix("http://")


class IamCredentials:
    """redis-py's credential provider for an IAM-enabled ElastiCache user: (user, a token), the
    token signed from the current AWS credentials and re-signed before it expires."""

    def __init__(self, cache_name: str, user_id: str, region: str, serverless: bool = True,
                 credentials: Callable[[], Any] | None = None, clock: Callable[[], float] = time.monotonic) -> None:
        self.cache_name, self.user_id, self.region, self.serverless = cache_name, user_id, region, serverless
        self._credentials = credentials or _default_credentials
        self._clock = clock
        self._lock = threading.Lock()
        self._token: str | None = None
        self._signed_at = 0.0

    def get_credentials(self) -> tuple[str, str]:
        with self._lock:
            now = self._clock()
            if self._token is None or now - self._signed_at >= REFRESH_SECONDS:
                self._token = iam_auth_token(self.cache_name, self.user_id, self.region, self._credentials(),
                                             self.serverless)
                self._signed_at = now
            return self.user_id, self._token

    async def get_credentials_async(self) -> tuple[str, str]:
        return self.get_credentials()


def _default_credentials() -> Any:
    import botocore.session

    found = botocore.session.get_session().get_credentials()
    if found is None:
        raise ConfigError("PAVED_CACHE_AUTH=iam needs AWS credentials (the pod's role)")
    return found.get_frozen_credentials()


def credential_provider(env: Mapping[str, str]) -> IamCredentials | None:
    """The IAM credential provider the platform's variables describe, or None (no auth, locally)."""
    auth = (env.get("PAVED_CACHE_AUTH") or "").lower()
    if not auth:
        return None
    if auth != "iam":
        raise ConfigError(f"PAVED_CACHE_AUTH={auth!r} is not supported (iam, or unset for no auth)")
    missing = [k for k in ("PAVED_CACHE_USER", "PAVED_CACHE_NAME") if not env.get(k)]
    region = env.get("AWS_REGION") or env.get("AWS_DEFAULT_REGION")
    if not region:
        missing.append("AWS_REGION")
    if missing:
        raise ConfigError(f"PAVED_CACHE_AUTH=iam needs {', '.join(missing)}")
    kind = env.get("PAVED_CACHE_KIND") or "serverless"
    if kind not in KINDS:
        raise ConfigError(f"PAVED_CACHE_KIND={kind!r} must be one of {', '.join(KINDS)}")
    return IamCredentials(env["PAVED_CACHE_NAME"], env["PAVED_CACHE_USER"], region, serverless=kind == "serverless")


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
        tls = _flag(env, "PAVED_CACHE_TLS")
        provider = credential_provider(env)
        auth: dict[str, Any] = {"credential_provider": provider} if provider is not None else {}
        client = redis.Redis(host=host, port=int(raw_port), ssl=tls, **auth,
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
