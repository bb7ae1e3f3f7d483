"""PAVED-COST-001: an autoscaler cannot scale a service past the environment's cap.

A KEDA ScaledObject counts as one: KEDA creates the HPA from its minReplicaCount and
maxReplicaCount, and a ScaledObject without maxReplicaCount scales to KEDA's default, 100."""

from __future__ import annotations

from decimal import Decimal

from paved.resources import (
    AUTOSCALER_TYPES,
    SCALED_OBJECT,
    SCALED_OBJECT_DEFAULT_MAX,
    kind_of,
    object_name,
    replica_bounds,
)
from policies.framework import Rule


def validate(args, report) -> None:
    who = f"{kind_of(args.resource_type)} {object_name(args.props, args.name)}"
    cap = args.get_config()["maxReplicas"]
    low, high = replica_bounds(args.resource_type, args.props)
    low_field, high_field = "spec.minReplicas", "spec.maxReplicas"
    if args.resource_type == SCALED_OBJECT:
        low_field, high_field = "spec.minReplicaCount", "spec.maxReplicaCount"
        if high is None:
            report(f"{who} must scale to at most {cap} replicas (spec.maxReplicaCount is not set: KEDA's default "
                   f"is {SCALED_OBJECT_DEFAULT_MAX}).")
            return
    if isinstance(high, Decimal) and high > Decimal(str(cap)):
        report(f"{who} must scale to at most {cap} replicas ({high_field} is {high:f}).")
    if isinstance(high, Decimal) and isinstance(low, Decimal) and low > high:
        report(f"{who} must keep {low_field} ({low:f}) at or below {high_field} ({high:f}).")


RULE = Rule(
    id="PAVED-COST-001",
    name="hpa-max-replicas",
    description=(
        "Checks whether a HorizontalPodAutoscaler's spec.maxReplicas (a KEDA ScaledObject's spec.maxReplicaCount, "
        "100 when unset) is at most the environment's maxReplicas and its minimum is not above its maximum. A value "
        "unknown at preview passes."
    ),
    severity="medium",
    remediation=(
        "Lower scaling.max of the service in services_catalog.yaml (or its environment override), or raise "
        "maxReplicas for the environment in policies/config/<env>.json after checking the namespace quota and "
        "the budget (`paved cost`)."
    ),
    anchors=("COST-K8S-001", "pol:hpaMaxAvailability"),
    validate=validate,
    resource_types=AUTOSCALER_TYPES,
    config={
        "maxReplicas": {
            "type": "integer", "minimum": 1, "default": 20,
            "description": "Highest spec.maxReplicas an autoscaler may set in this environment.",
        },
    },
    enforcement="mandatory",
)
