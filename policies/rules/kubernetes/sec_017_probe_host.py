"""PAVED-SEC-017: probes and lifecycle hooks target the pod itself (PSS baseline "Host Probes / Lifecycle Hooks", 1.34+)."""

from __future__ import annotations

from policies.framework import Rule, container_check
from paved.resources import UNKNOWN, WORKLOAD_TYPES, lookup

HANDLERS = ("livenessProbe", "readinessProbe", "startupProbe", "lifecycle.postStart", "lifecycle.preStop")


def _check(container, pod, config):
    bad = []
    for handler in HANDLERS:
        for action in ("httpGet", "tcpSocket"):
            host = lookup(container, f"{handler}.{action}.host")
            if host is UNKNOWN:
                bad.append(f"{handler}.{action}.host unknown at preview")
            elif host not in (None, ""):
                bad.append(f"{handler}.{action}.host {host}")
    if bad:
        return f"not point probes or lifecycle hooks at another host ({'; '.join(bad)})"
    return None


RULE = Rule(
    id="PAVED-SEC-017",
    name="no-probe-host",
    description="Checks whether a probe or lifecycle hook sets httpGet.host or tcpSocket.host, which makes the "
    "kubelet send requests to an arbitrary address from the node.",
    severity="medium",
    remediation="Remove the host field: probes and hooks then target the pod's own IP.",
    anchors=("PSS baseline: Host Probes / Lifecycle Hooks",),
    validate=container_check(_check),
    resource_types=WORKLOAD_TYPES,
)
