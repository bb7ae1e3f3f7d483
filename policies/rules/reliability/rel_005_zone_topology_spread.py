"""PAVED-REL-005: a workload's replicas are spread across availability zones."""

from __future__ import annotations

from collections.abc import Mapping

from policies.framework import Rule, pod_check
from paved.resources import UNKNOWN, is_set, items, lookup

SPREAD_TYPES = frozenset({"kubernetes:apps/v1:Deployment", "kubernetes:apps/v1:StatefulSet"})


def check(pod, config) -> str | None:
    key = config["topologyKey"]
    if lookup(pod, "topologySpreadConstraints") is UNKNOWN or is_set(pod, "affinity.podAntiAffinity"):
        return None
    for constraint in items(pod, "topologySpreadConstraints"):
        if not isinstance(constraint, Mapping) or lookup(constraint, "topologyKey") in (key, UNKNOWN):
            return None
    return (f"spread its pods across zones (a topologySpreadConstraint on {key}, or a podAntiAffinity), so one "
            f"zone outage does not take every replica")


RULE = Rule(
    id="PAVED-REL-005",
    name="zone-topology-spread",
    description=(
        "Checks whether a Deployment or StatefulSet pod spec has a topologySpreadConstraint whose topologyKey is "
        "topologyKey (topology.kubernetes.io/zone), or any podAntiAffinity. Values unknown at preview pass."
    ),
    severity="medium",
    remediation=(
        "Add topologySpreadConstraints with topologyKey topology.kubernetes.io/zone, maxSkew 1 and the "
        "workload's selector labels (the Microservice component does; paved:zoneSpread sets whenUnsatisfiable)."
    ),
    anchors=("REL-K8S-004", "ks:pod-topology-spread-constraints", "ks:deployment-has-host-podantiaffinity",
             "pol:topologySpreadConstraint"),
    validate=pod_check(check),
    resource_types=SPREAD_TYPES,
    config={
        "topologyKey": {"type": "string", "default": "topology.kubernetes.io/zone",
                        "description": "Node label replicas must be spread over."},
    },
    enforcement="advisory",
)
