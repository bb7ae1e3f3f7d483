"""PAVED-SEC-010: no container binds a port on the node (PSS baseline "Host Ports")."""

from __future__ import annotations

from collections.abc import Mapping

from policies.framework import Rule, container_check
from paved.resources import UNKNOWN, WORKLOAD_TYPES, items, lookup


def _check(container, pod, config):
    if lookup(container, "ports") is UNKNOWN:
        return "not use hostPort (its ports are unknown at preview)"
    bad = []
    for port in items(container, "ports"):
        value = UNKNOWN if port is UNKNOWN else (lookup(port, "hostPort") if isinstance(port, Mapping) else None)
        if value is UNKNOWN:
            bad.append("unknown at preview")
        elif value is not None and value != 0:
            bad.append(f"{value:g}" if isinstance(value, float) else str(value))
    if bad:
        return f"not use hostPort (hostPort {', '.join(bad)})"
    return None


RULE = Rule(
    id="PAVED-SEC-010",
    name="no-host-ports",
    description="Checks whether any container binds a port on the node (ports[].hostPort), which bypasses "
    "NetworkPolicy and pins the pod to nodes.",
    severity="high",
    remediation="Remove hostPort and expose the container port through a Service.",
    anchors=("PSS baseline: Host Ports", "CKV_K8S_26", "pol:hostPortSet"),
    validate=container_check(_check),
    resource_types=WORKLOAD_TYPES,
)
