"""The sample's cache client authenticates the way the platform's cache does: an ElastiCache IAM
token (a SigV4-presigned `connect` request, botocore's signer) as the password of the service's
IAM-enabled user, re-signed before it expires.

The token's shape is checked for a frozen clock and fixed credentials; against the real
redis-server fixture, an ACL user whose password is the token signed at that time connects
through the sample's client (Redis checks the password as a string; ElastiCache, which checks
the signature with IAM, was not tried).
"""

from __future__ import annotations

import datetime
import sys
from urllib.parse import parse_qs, urlsplit

import pytest

from conftest import ROOT
from datastores import redis_server  # noqa: F401 - session fixture

sys.path.insert(0, str(ROOT / "sample_services"))

FROZEN = datetime.datetime(2026, 12, 3, 12, 0, 0)


@pytest.fixture
def frozen(monkeypatch):
    """botocore's signing clock stopped at FROZEN (the signer reads it through botocore.auth)."""
    import botocore.auth

    clock = {"now": FROZEN}
    monkeypatch.setattr(botocore.auth, "get_current_datetime", lambda remove_tzinfo=True: clock["now"])
    return clock


def _creds(token: str | None = None):
    from botocore.credentials import Credentials

    return Credentials("AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", token)


def _query(token: str) -> tuple[str, dict[str, str]]:
    parts = urlsplit("http://" + token)
    return parts.netloc + parts.path, {k: v[0] for k, v in parse_qs(parts.query).items()}


def test_the_token_is_a_presigned_connect_request_for_the_cache_and_user(frozen):
    from pavedkit.cache import iam_auth_token

    token = iam_auth_token("Prod-Orders", "prod-orders", "us-east-1", _creds())
    assert not token.startswith("http")
    where, q = _query(token)
    assert where == "prod-orders/"  # the cache's name, lower-cased, as AWS signs it
    assert q["Action"] == "connect" and q["User"] == "prod-orders" and q["ResourceType"] == "ServerlessCache"
    assert q["X-Amz-Expires"] == "900" and q["X-Amz-Algorithm"] == "AWS4-HMAC-SHA256"
    assert q["X-Amz-Date"] == "20261203T120000Z"
    assert q["X-Amz-Credential"] == "AKIDEXAMPLE/20261203/us-east-1/elasticache/aws4_request"
    assert q["X-Amz-SignedHeaders"] == "host"
    assert len(q["X-Amz-Signature"]) == 64 and int(q["X-Amz-Signature"], 16) >= 0
    # Deterministic for a clock and credentials; another second is another signature.
    assert iam_auth_token("Prod-Orders", "prod-orders", "us-east-1", _creds()) == token
    frozen["now"] = FROZEN + datetime.timedelta(seconds=1)
    assert _query(iam_auth_token("prod-orders", "prod-orders", "us-east-1", _creds()))[1]["X-Amz-Signature"] != \
        q["X-Amz-Signature"]
    # A node-based cache's token names no ResourceType; temporary credentials carry their session token.
    _, nodes = _query(iam_auth_token("prod-orders", "prod-orders", "us-east-1", _creds("session"), serverless=False))
    assert "ResourceType" not in nodes and nodes["X-Amz-Security-Token"] == "session"


def test_the_token_is_signed_again_before_it_expires(frozen):
    from pavedkit.cache import REFRESH_SECONDS, TOKEN_SECONDS, IamCredentials

    assert REFRESH_SECONDS < TOKEN_SECONDS
    now = {"t": 1000.0}
    signed = []

    def credentials():
        signed.append(now["t"])
        return _creds()

    provider = IamCredentials("prod-orders", "prod-orders", "us-east-1", credentials=credentials,
                              clock=lambda: now["t"])
    user, first = provider.get_credentials()
    assert user == "prod-orders" and len(signed) == 1
    now["t"] += REFRESH_SECONDS - 1
    assert provider.get_credentials()[1] == first and len(signed) == 1
    now["t"] += 1
    frozen["now"] = FROZEN + datetime.timedelta(seconds=REFRESH_SECONDS)
    assert provider.get_credentials()[1] != first and len(signed) == 2


def test_the_platform_s_variables_select_iam_and_bad_ones_are_one_line():
    from pavedkit.cache import credential_provider
    from pavedkit.config import ConfigError

    env = {"PAVED_CACHE_AUTH": "iam", "PAVED_CACHE_USER": "prod-orders", "PAVED_CACHE_NAME": "prod-orders",
           "PAVED_CACHE_KIND": "serverless", "AWS_REGION": "us-east-1"}
    provider = credential_provider(env)
    assert (provider.cache_name, provider.user_id, provider.region, provider.serverless) == (
        "prod-orders", "prod-orders", "us-east-1", True)
    assert credential_provider({}) is None  # a local server: no auth
    with pytest.raises(ConfigError, match="needs PAVED_CACHE_NAME, AWS_REGION"):
        credential_provider({"PAVED_CACHE_AUTH": "iam", "PAVED_CACHE_USER": "u"})
    with pytest.raises(ConfigError, match="PAVED_CACHE_AUTH='token' is not supported"):
        credential_provider({"PAVED_CACHE_AUTH": "token"})
    with pytest.raises(ConfigError, match="PAVED_CACHE_KIND"):
        credential_provider({**env, "PAVED_CACHE_KIND": "cluster"})


def test_the_contract_matches_what_the_platform_sets():
    from components import data as d
    from test_data_component import _svc

    _, orders = _svc("prod", "orders")
    env = d.data_env(orders, "prod", "us-east-1", "db.example", "cache.example")
    from pavedkit.cache import credential_provider

    provider = credential_provider(env)
    assert provider is not None and provider.user_id == env["PAVED_CACHE_USER"] == "prod-orders"
    assert provider.cache_name == "prod-orders" and provider.serverless and provider.region == "us-east-1"
    assert env["PAVED_CACHE_TLS"] == "true"


def test_an_acl_user_whose_password_is_the_token_connects_through_the_sample_client(
        frozen, monkeypatch, redis_server, tmp_path):  # noqa: F811
    import redis
    from pavedkit.cache import Cache, iam_auth_token

    # Fixed credentials in the process environment, where botocore's default chain finds them.
    for key in ("AWS_SESSION_TOKEN", "AWS_PROFILE", "AWS_CONTAINER_CREDENTIALS_FULL_URI",
                "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI", "AWS_WEB_IDENTITY_TOKEN_FILE", "AWS_ROLE_ARN"):
        monkeypatch.delenv(key, raising=False)
    creds = _creds()
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", creds.access_key)
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", creds.secret_key)
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    user = "test-orders"
    token = iam_auth_token(user, user, "us-east-1", creds)
    admin = redis.Redis(host=redis_server.host, port=redis_server.port)
    admin.execute_command("ACL", "SETUSER", user, "reset", "on", f">{token}", "~orders:*", "+@all")
    env = {**redis_server.env(), "PAVED_CACHE_AUTH": "iam", "PAVED_CACHE_USER": user, "PAVED_CACHE_NAME": user,
           "PAVED_CACHE_KIND": "serverless", "AWS_REGION": "us-east-1"}
    cache = Cache.from_env(env, "orders")
    try:
        assert cache.client.execute_command("ACL", "WHOAMI") in (user, user.encode())
        assert cache.get_or_load("k", lambda: {"v": 1}, 60) == {"v": 1}
        assert admin.get("orders:k") == b'{"v": 1}'
        # A token signed at another time is another password: refused.
        frozen["now"] = FROZEN + datetime.timedelta(minutes=11)
        stale = Cache.from_env(env, "orders")
        with pytest.raises(redis.AuthenticationError):
            stale.client.ping()
        stale.close()
    finally:
        cache.close()
        admin.execute_command("ACL", "DELUSER", user)
        admin.delete("orders:k")
        admin.close()
