"""PAVED-COST-001: an autoscaler cannot scale a service past the environment's cap."""

from __future__ import annotations

from decimal import Decimal

from paved.resources import HPA_TYPES, kind_of, lookup, number, object_name
from policies.framework import Rule


def validate(args, report) -> None:
    who = f"{kind_of(args.resource_type)} {object_name(args.props, args.name)}"
    cap = args.get_config()["maxReplicas"]
    high = number(lookup(args.props, "spec.maxReplicas"))
    low = number(lookup(args.props, "spec.minReplicas"))
    if isinstance(high, Decimal) and high > Decimal(str(cap)):
        report(f"{who} must scale to at most {cap} replicas (spec.maxReplicas is {high:f}).")
    if isinstance(high, Decimal) and isinstance(low, Decimal) and low > high:
        report(f"{who} must keep spec.minReplicas ({low:f}) at or below spec.maxReplicas ({high:f}).")


RULE = Rule(
    id="PAVED-COST-001",
    name="hpa-max-replicas",
    description=(
        "Checks whether a HorizontalPodAutoscaler's spec.maxReplicas is at most the environment's maxReplicas "
        "and its spec.minReplicas is not above its spec.maxReplicas. A value unknown at preview passes."
    ),
    severity="medium",
    remediation=(
        "Lower scaling.max of the service in services_catalog.yaml (or its environment override), or raise "
        "maxReplicas for the environment in policies/config/<env>.json after checking the namespace quota and "
        "the budget (`paved cost`)."
    ),
    anchors=("COST-K8S-001", "pol:hpaMaxAvailability"),
    validate=validate,
    resource_types=HPA_TYPES,
    config={
        "maxReplicas": {
            "type": "integer", "minimum": 1, "default": 20,
            "description": "Highest spec.maxReplicas an autoscaler may set in this environment.",
        },
    },
    enforcement="mandatory",
)
