"""Kafka-lag autoscaling of one service: a KEDA ScaledObject and its TriggerAuthentication.

A service with ``scaling.lag`` gets these two objects in place of its HorizontalPodAutoscaler
(KEDA creates and owns an HPA named ``keda-hpa-<service>`` itself). The replica bounds stay the
catalog's ``scaling.min`` and ``scaling.max``, so the replica cap, the quota check and the
no-replicas rule read them from the ScaledObject (paved.resources.autoscalers).
"""

from __future__ import annotations

import pulumi
import pulumi_kubernetes as k8s
from pulumi_kubernetes.meta.v1 import ObjectMetaArgs

from components.labels import service_labels
from paved.model import Service, Team

KEDA_API = "keda.sh/v1alpha1"  # ScaledObject and TriggerAuthentication, served by the keda chart 2.20.2
POLLING_SECONDS = 30


def trigger_authentication_name(service: Service) -> str:
    """The TriggerAuthentication of the service (in its namespace)."""
    return f"{service.name}-kafka"


def consumer_group(service: Service) -> str:
    """The service's consumer group: its name (KAFKA_CONSUMER_GROUP, components/service.py)."""
    return service.name


def trigger_authentication_spec() -> dict:
    """MSK IAM credentials from KEDA's own identity (EKS Pod Identity or IRSA): no secret, no
    static key. Why KEDA's and not the service's: components/addons/keda.py."""
    return {"podIdentity": {"provider": "aws"}}


def scaled_object_spec(service: Service, bootstrap: str, region: str) -> dict:
    """The ScaledObject: the service's Deployment between scaling.min and scaling.max, one
    replica per ``lag.target`` messages of lag of its consumer group on ``lag.topic`` (KEDA
    2.20 ``kafka`` trigger: SASL OAUTHBEARER with the ``aws_msk_iam`` token provider over TLS).
    The scale-down keeps the catalog's stabilisation window, as the HPA it replaces did."""
    lag, scaling = service.scaling.lag, service.scaling
    if lag is None:
        raise ValueError(f"service {service.name!r} has no scaling.lag")
    return {
        "scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": service.name},
        "pollingInterval": POLLING_SECONDS,
        "minReplicaCount": scaling.min,
        "maxReplicaCount": scaling.max,
        # KEDA's HPA takes the service's name (its default is keda-hpa-<name>), so the
        # autoscaler-at-max alert, the dashboard and `paved status` find it as they find an HPA.
        "advanced": {"horizontalPodAutoscalerConfig": {"name": service.name, "behavior": {"scaleDown": {
            "stabilizationWindowSeconds": scaling.scale_down_stabilization_seconds,
            "policies": [{"type": "Pods", "value": 1, "periodSeconds": 60}]}}}},
        "triggers": [{
            "type": "kafka",
            "metadata": {
                "bootstrapServers": bootstrap,
                "consumerGroup": consumer_group(service),
                "topic": lag.topic,
                "lagThreshold": str(lag.target),
                "offsetResetPolicy": "latest",
                "sasl": "oauthbearer",
                "saslTokenProvider": "aws_msk_iam",
                "tls": "enable",
                "awsRegion": region,
            },
            "authenticationRef": {"name": trigger_authentication_name(service)},
        }],
    }


def register(name: str, service: Service, team: Team, environment: str, region: str,
             bootstrap: pulumi.Input[str], keda: pulumi.Resource | None, opts: pulumi.ResourceOptions) -> pulumi.Resource:
    """The TriggerAuthentication and the ScaledObject of a service (children of ``opts.parent``,
    named ``<name>-trigger-auth`` and ``<name>-scaled-object``), both after the KEDA chart that
    serves their CRDs (``keda`` None: a team stack, deployed after the platform stack that has it);
    returns the ScaledObject."""
    after_keda = pulumi.ResourceOptions.merge(opts, pulumi.ResourceOptions(depends_on=[keda] if keda else []))

    def meta(object_name: str) -> ObjectMetaArgs:
        return ObjectMetaArgs(name=object_name, namespace=team.namespace_name,
                              labels=service_labels(service, team, environment))

    auth = k8s.apiextensions.CustomResource(
        f"{name}-trigger-auth", api_version=KEDA_API, kind="TriggerAuthentication",
        metadata=meta(trigger_authentication_name(service)), spec=trigger_authentication_spec(), opts=after_keda)
    spec = pulumi.Output.from_input(bootstrap).apply(lambda b: scaled_object_spec(service, b, region))
    return k8s.apiextensions.CustomResource(
        f"{name}-scaled-object", api_version=KEDA_API, kind="ScaledObject", metadata=meta(service.name), spec=spec,
        opts=pulumi.ResourceOptions.merge(after_keda, pulumi.ResourceOptions(depends_on=[auth])))
