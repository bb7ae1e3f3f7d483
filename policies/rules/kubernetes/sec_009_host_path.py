"""PAVED-SEC-009: no hostPath volumes (PSS baseline "HostPath Volumes")."""

from __future__ import annotations

from collections.abc import Mapping

from policies.framework import Rule, pod_check
from policies.rules.kubernetes import node_access
from paved.resources import UNKNOWN, WORKLOAD_TYPES, items, lookup


def _check(pod, config):
    if lookup(pod, "volumes") is UNKNOWN:
        return "mount no hostPath volumes (its volumes are unknown at preview)"
    bad = []
    for volume in items(pod, "volumes"):
        if volume is UNKNOWN:
            bad.append("? (unknown at preview)")
        elif isinstance(volume, Mapping) and lookup(volume, "hostPath") is not None:
            bad.append(str(lookup(volume, "name", "?")))
    if bad:
        return f"mount no hostPath volumes (volumes {', '.join(bad)})"
    return None


_check_pod = pod_check(_check)


def _validate(args, report):
    if node_access.allows_host_paths(args.resource_type, args.props):  # a recorded node agent, within its record
        return
    _check_pod(args, report)


RULE = Rule(
    id="PAVED-SEC-009",
    name="no-host-path-volumes",
    description="Checks whether a workload mounts hostPath volumes, which expose the node's file system (the "
    "container runtime socket, kubelet credentials) to the pod.",
    severity="critical",
    remediation="Replace the hostPath volume with an emptyDir, a ConfigMap/Secret, or a PersistentVolumeClaim.",
    anchors=("PSS baseline: HostPath Volumes", "CKV_K8S_27", "pol:hostPathSet", "NSA: Pod security"),
    validate=_validate,
    resource_types=WORKLOAD_TYPES,
)
