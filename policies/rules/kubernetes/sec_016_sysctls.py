"""PAVED-SEC-016: pods set only the safe, namespaced sysctls (PSS baseline "Sysctls")."""

from __future__ import annotations

from collections.abc import Mapping

from policies.framework import Rule, pod_check
from paved.resources import UNKNOWN, WORKLOAD_TYPES, items, lookup

# The PSS baseline safe set as of Kubernetes 1.29+ (the keepalive and reserved-ports entries
# joined the original five in 1.27 and 1.29).
SAFE_SYSCTLS = [
    "kernel.shm_rmid_forced",
    "net.ipv4.ip_local_port_range",
    "net.ipv4.ip_unprivileged_port_start",
    "net.ipv4.tcp_syncookies",
    "net.ipv4.ping_group_range",
    "net.ipv4.ip_local_reserved_ports",
    "net.ipv4.tcp_keepalive_time",
    "net.ipv4.tcp_fin_timeout",
    "net.ipv4.tcp_keepalive_intvl",
    "net.ipv4.tcp_keepalive_probes",
]


def _check(pod, config):
    allowed = list(config.get("allowedSysctls", SAFE_SYSCTLS))
    if lookup(pod, "securityContext.sysctls") is UNKNOWN:
        return "set only safe sysctls (securityContext.sysctls is unknown at preview)"
    bad = []
    for sysctl in items(pod, "securityContext.sysctls"):
        name = lookup(sysctl, "name") if isinstance(sysctl, Mapping) else sysctl
        if name is UNKNOWN:
            bad.append("? (unknown at preview)")
        elif name not in allowed:
            bad.append(str(name))
    if bad:
        return f"set only safe sysctls ({', '.join(bad)} not allowed)"
    return None


RULE = Rule(
    id="PAVED-SEC-016",
    name="safe-sysctls",
    description="Checks whether a pod sets sysctls outside the safe, namespaced set, which could weaken the kernel "
    "for every pod on the node.",
    severity="medium",
    remediation="Remove the sysctl from securityContext.sysctls, or tune the node instead.",
    anchors=("PSS baseline: Sysctls",),
    validate=pod_check(_check),
    resource_types=WORKLOAD_TYPES,
    config={
        "allowedSysctls": {
            "type": "array", "items": {"type": "string"}, "default": SAFE_SYSCTLS,
            "description": "Sysctls a pod may set (the PSS baseline safe set).",
        }
    },
)
