"""DynamoDB tables the platform created for the service.

``PAVED_TABLE_<NAME>`` (the catalog's table name upper-cased, ``-`` → ``_``) holds the
physical name; ``AWS_REGION`` the region; ``AWS_ENDPOINT_URL_DYNAMODB`` the VPC's DynamoDB
interface endpoint (``https://vpce-….dynamodb.<region>.vpce.amazonaws.com``, set by the platform),
else ``AWS_ENDPOINT_URL`` (moto in the tests), else boto3's regional endpoint. The service-specific
variable wins over the global one, as in the AWS SDKs' own precedence; both are read from the
given mapping, not only from the process environment. Credentials come from boto3's default chain
(the pod's role on EKS).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pavedkit.config import ConfigError, env_name


def table_name(env: Mapping[str, str], name: str) -> str | None:
    """The physical name of catalog table ``name``, or None when the platform gave none."""
    return env.get(f"PAVED_TABLE_{env_name(name)}") or None


def endpoint_url(env: Mapping[str, str]) -> str | None:
    """Where DynamoDB requests go: the service-specific endpoint, the global one, or boto3's default."""
    return env.get("AWS_ENDPOINT_URL_DYNAMODB") or env.get("AWS_ENDPOINT_URL") or None


def _options(env: Mapping[str, str]) -> dict[str, Any]:
    from botocore.config import Config

    region = env.get("AWS_REGION") or env.get("AWS_DEFAULT_REGION")
    if not region:
        raise ConfigError("DynamoDB tables need AWS_REGION")
    return {"region_name": region, "endpoint_url": endpoint_url(env),
            "config": Config(connect_timeout=2, read_timeout=5, retries={"max_attempts": 3})}


def resource(env: Mapping[str, str]) -> Any:
    """A boto3 DynamoDB resource (Python values) for the platform's region and endpoint."""
    import boto3

    return boto3.resource("dynamodb", **_options(env))


def client(env: Mapping[str, str]) -> Any:
    """A boto3 DynamoDB client (typed attribute values, for transactions)."""
    import boto3

    return boto3.client("dynamodb", **_options(env))
