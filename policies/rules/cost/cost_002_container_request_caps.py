"""PAVED-COST-002: no container requests more CPU or memory than the environment allows."""

from __future__ import annotations

from paved.quantity import cpu_cores, memory_bytes
from policies.framework import Rule, container_check
from paved.resources import UNKNOWN, WORKLOAD_TYPES, lookup

PARSERS = {"cpu": cpu_cores, "memory": memory_bytes}
CAPS = {"cpu": "maxCpuRequest", "memory": "maxMemoryRequest"}


def check(container, pod, config) -> str | None:
    musts = []
    for resource, parse in PARSERS.items():
        value = lookup(container, ("resources", "requests", resource))
        source = "requests"
        if value is None:  # Kubernetes defaults a missing request to the limit.
            value, source = lookup(container, ("resources", "limits", resource)), "limits"
        if value is None or value is UNKNOWN:
            continue
        cap = str(config[CAPS[resource]])
        try:
            too_big = parse(value) > parse(cap)
        except ValueError:
            musts.append(f"set {source}.{resource} to a valid quantity (not {value!r})")
            continue
        if too_big:
            musts.append(f"request at most {cap} {resource} ({source}.{resource} is {value})")
    return " and ".join(musts) or None


RULE = Rule(
    id="PAVED-COST-002",
    name="container-request-caps",
    description=(
        "Checks whether every container's requests.cpu and requests.memory (or its limit, when no request is "
        "set) are at most the environment's maxCpuRequest and maxMemoryRequest. Quantities are parsed "
        "(250m, 0.5, 512Mi, 1G); a value unknown at preview passes."
    ),
    severity="medium",
    remediation=(
        "Lower resources.requests of the service in services_catalog.yaml (size from observed usage), or split "
        "the work; raise maxCpuRequest / maxMemoryRequest in policies/config/<env>.json only if the node type "
        "can fit such pods."
    ),
    anchors=("COST-K8S-002", "NSA Kubernetes Hardening Guide: Resource policies"),
    validate=container_check(check),
    resource_types=WORKLOAD_TYPES,
    config={
        "maxCpuRequest": {
            "type": "string", "default": "2",
            "description": "Largest CPU request of one container (a Kubernetes quantity: \"500m\", \"2\").",
        },
        "maxMemoryRequest": {
            "type": "string", "default": "4Gi",
            "description": "Largest memory request of one container (a Kubernetes quantity: \"1Gi\").",
        },
    },
    enforcement="mandatory",
)
