"""confluent-kafka clients for Amazon MSK with IAM authentication.

The platform gives ``KAFKA_SECURITY_PROTOCOL=SASL_SSL`` and ``KAFKA_SASL_MECHANISM=OAUTHBEARER``:
librdkafka then asks ``oauth_cb`` for a token, which AWS's MSK IAM signer makes from the
pod's credentials (EKS Pod Identity or IRSA, through boto3's default chain). No password
exists anywhere. ``PLAINTEXT`` (a local broker) needs no token.
"""

from __future__ import annotations

import logging
import socket
from typing import Any

from pavedkit.config import KafkaSettings

log = logging.getLogger("pavedkit.kafka")


class MskIamToken:
    """librdkafka's ``oauth_cb``: a fresh MSK IAM token and its expiry in seconds."""

    def __init__(self, region: str) -> None:
        self.region = region

    def __call__(self, oauth_config: Any) -> tuple[str, float]:
        from aws_msk_iam_sasl_signer import MSKAuthTokenProvider

        token, expiry_ms = MSKAuthTokenProvider.generate_auth_token(self.region)
        # The signer answers in milliseconds; librdkafka wants seconds since the epoch.
        return token, expiry_ms / 1000


def client_config(kafka: KafkaSettings, client_id: str) -> dict[str, Any]:
    """Settings both clients share: brokers, TLS and authentication, logging."""
    if not kafka.bootstrap_servers:
        raise ValueError("KAFKA_BOOTSTRAP_SERVERS is not set")
    conf: dict[str, Any] = {
        "bootstrap.servers": kafka.bootstrap_servers,
        "client.id": client_id,
        "security.protocol": kafka.security_protocol,
        "logger": logging.getLogger("librdkafka"),
    }
    if kafka.sasl_mechanism == "OAUTHBEARER":
        if not kafka.region:
            raise ValueError("MSK IAM needs a region: set AWS_REGION (or use the MSK bootstrap host names)")
        conf["sasl.mechanism"] = "OAUTHBEARER"
        conf["oauth_cb"] = MskIamToken(kafka.region)
    elif kafka.sasl_mechanism:
        raise ValueError(f"KAFKA_SASL_MECHANISM={kafka.sasl_mechanism} is not supported (OAUTHBEARER for MSK IAM)")
    return conf


def producer_config(kafka: KafkaSettings, service: str) -> dict[str, Any]:
    """An idempotent producer that waits for every in-sync replica."""
    return {**client_config(kafka, f"{service}-{socket.gethostname()}"),
            "acks": "all", "enable.idempotence": True, "linger.ms": 5, "compression.type": "zstd"}


def consumer_config(kafka: KafkaSettings, service: str) -> dict[str, Any]:
    """A consumer of the service's group that commits only what was handled."""
    return {**client_config(kafka, f"{service}-{socket.gethostname()}"),
            "group.id": kafka.consumer_group or service, "enable.auto.commit": False,
            "auto.offset.reset": "earliest", "partition.assignment.strategy": "cooperative-sticky"}


def make_clients(kafka: KafkaSettings, service: str, produce: bool, consume: bool) -> tuple[Any, Any]:
    """confluent-kafka Producer and Consumer (either None when the service does not need it)."""
    import confluent_kafka

    producer = confluent_kafka.Producer(producer_config(kafka, service)) if produce else None
    consumer = confluent_kafka.Consumer(consumer_config(kafka, service)) if consume else None
    return producer, consumer
