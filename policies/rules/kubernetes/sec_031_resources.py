"""PAVED-SEC-031: containers request CPU and memory and cap memory (anchor OPS-K8S-001).

Ephemeral (debug) containers are skipped: the API forbids resources on them.
"""

from __future__ import annotations

from collections.abc import Mapping

from policies.framework import Rule
from paved.resources import WORKLOAD_TYPES, is_set, items, kind_of, lookup, object_name, pod_spec

REQUIRED = ("requests.cpu", "requests.memory", "limits.memory")


def _validate(args, report):
    pod = pod_spec(args.resource_type, args.props)
    if pod is None:
        return
    who = f"{kind_of(args.resource_type)} {object_name(args.props, args.name)}"
    for field in ("initContainers", "containers"):
        for container in items(pod, field):
            if not isinstance(container, Mapping):
                continue
            missing = [f"resources.{p}" for p in REQUIRED if not is_set(container, f"resources.{p}")]
            if missing:
                report(f"{who} container {lookup(container, 'name', '?')} must set {', '.join(missing)}.")


RULE = Rule(
    id="PAVED-SEC-031",
    name="container-resources",
    description="Checks whether every container sets requests.cpu, requests.memory and limits.memory, without "
    "which the scheduler cannot place it fairly and one pod can exhaust a node's memory.",
    severity="medium",
    remediation="Set resources.requests.cpu/memory and resources.limits.memory (the catalog's resources: block).",
    anchors=("CKV_K8S_10", "CKV_K8S_12", "CKV_K8S_13", "ks:container-resources", "pol:cpuRequestsMissing",
             "pol:memoryRequestsMissing", "pol:memoryLimitsMissing", "NSA: Resource policies"),
    validate=_validate,
    resource_types=WORKLOAD_TYPES,
)
