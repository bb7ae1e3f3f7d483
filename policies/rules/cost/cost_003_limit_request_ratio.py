"""PAVED-COST-003: limits stay within a fixed multiple of requests (overcommit is bounded)."""

from __future__ import annotations

from decimal import Decimal

from paved.quantity import cpu_cores, memory_bytes
from policies.framework import Rule, container_check
from paved.resources import UNKNOWN, WORKLOAD_TYPES, lookup

PARSERS = {"cpu": cpu_cores, "memory": memory_bytes}
CAPS = {"cpu": "maxCpuRatio", "memory": "maxMemoryRatio"}


def check(container, pod, config) -> str | None:
    musts = []
    for resource, parse in PARSERS.items():
        request = lookup(container, ("resources", "requests", resource))
        limit = lookup(container, ("resources", "limits", resource))
        if request in (None, UNKNOWN) or limit in (None, UNKNOWN):
            continue  # missing requests/limits are the resource-requirements rules' business
        try:
            req, lim = Decimal(parse(request)), Decimal(parse(limit))
        except ValueError:
            continue  # PAVED-COST-002 reports malformed quantities
        cap = Decimal(str(config[CAPS[resource]]))
        if lim > req * cap:
            ratio = "unbounded" if req == 0 else f"{(lim / req).quantize(Decimal('0.01')).normalize():f}x"
            musts.append(f"keep limits.{resource} at most {cap:f}x requests.{resource} "
                         f"({limit} / {request} is {ratio})")
    return " and ".join(musts) or None


RULE = Rule(
    id="PAVED-COST-003",
    name="limit-request-ratio",
    description=(
        "Checks whether every container's limits.cpu / requests.cpu is at most maxCpuRatio (4) and "
        "limits.memory / requests.memory at most maxMemoryRatio (2), the ratios the team namespaces' "
        "LimitRange enforces in the cluster. Containers missing a request or limit, and values unknown at "
        "preview, are not checked here."
    ),
    severity="medium",
    remediation=(
        "Raise resources.requests or lower resources.limits of the service in services_catalog.yaml so the "
        "limit is within the ratio; the namespace LimitRange (maxLimitRequestRatio) would reject the pod."
    ),
    anchors=(
        "COST-K8S-003", "Kubernetes LimitRange maxLimitRequestRatio", "ks:container-resource-requests-equal-limits",
    ),
    validate=container_check(check),
    resource_types=WORKLOAD_TYPES,
    config={
        "maxCpuRatio": {"type": "number", "minimum": 1, "default": 4,
                        "description": "Largest limits.cpu / requests.cpu."},
        "maxMemoryRatio": {"type": "number", "minimum": 1, "default": 2,
                           "description": "Largest limits.memory / requests.memory."},
    },
    enforcement="mandatory",
)
