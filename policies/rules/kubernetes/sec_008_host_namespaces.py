"""PAVED-SEC-008: pods do not share the node's network, PID or IPC namespace (PSS baseline)."""

from __future__ import annotations

from policies.framework import Rule, pod_check
from paved.resources import UNKNOWN, WORKLOAD_TYPES, lookup

FIELDS = ("hostNetwork", "hostPID", "hostIPC")


def _check(pod, config):
    shared = []
    for field in FIELDS:
        value = lookup(pod, field)
        if value is UNKNOWN:
            shared.append(f"{field} (unknown at preview)")
        elif value is True:
            shared.append(field)
    if shared:
        return f"not share host namespaces (set {', '.join(shared)} to false)"
    return None


RULE = Rule(
    id="PAVED-SEC-008",
    name="no-host-namespaces",
    description="Checks whether a workload's pods share the node's network, PID or IPC namespace (hostNetwork, "
    "hostPID, hostIPC), which exposes node traffic and processes.",
    severity="critical",
    remediation="Remove hostNetwork, hostPID and hostIPC from the pod spec (or set them to false); expose ports "
    "through a Service instead.",
    anchors=("PSS baseline: Host Namespaces", "CKV_K8S_17", "CKV_K8S_18", "CKV_K8S_19", "pol:hostNetworkSet",
             "pol:hostPIDSet", "pol:hostIPCSet", "CIS EKS 4.2.2", "CIS EKS 4.2.3", "CIS EKS 4.2.4"),
    validate=pod_check(_check),
    resource_types=WORKLOAD_TYPES,
)
