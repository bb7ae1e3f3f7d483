"""Recorded exceptions to the node-access rules: exactly which workload may read the node.

A node-level agent (the log shipper) needs what the Pod Security Standards forbid a pod: a
hostPath and uid 0. The rules about those (PAVED-SEC-003 run as non-root, SEC-004 no root
user id, SEC-009 no hostPath, SEC-011 volume types) accept one workload listed here, by kind,
namespace and name, and only while it stays within what was recorded: hostPath volumes on the
listed paths, mounted read-only by every container, and containers that keep no capability,
cannot escalate and are not privileged. Anything more is reported as it would be anywhere.
The namespace's own Pod Security label exception is PAVED-SEC-025's ``privilegedNamespaces``;
docs/exceptions.md lists both, and tests/policies/test_security_kubernetes.py fails when an
entry names a workload the plan no longer has.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from paved.resources import UNKNOWN, containers, items, kind_of, lookup, pod_spec


@dataclass(frozen=True)
class NodeAccess:
    """One workload allowed to read the node: its hostPath paths (read-only) and whether it runs as root."""

    kind: str
    namespace: str
    name: str
    host_paths: frozenset[str]
    root: bool
    why: str


RECORDED = (
    NodeAccess("DaemonSet", "logging", "fluent-bit", frozenset({"/var/log"}), True,
               "Fluent Bit reads every container's log file under /var/log/pods, which the kubelet writes "
               "root-owned with mode 0640 (components/addons/fluent_bit.py)"),
)


def recorded(resource_type: str, props: Any) -> NodeAccess | None:
    """The recorded exception naming this workload, if any."""
    kind = kind_of(resource_type)
    namespace, name = lookup(props, "metadata.namespace"), lookup(props, "metadata.name")
    for entry in RECORDED:
        if (entry.kind, entry.namespace, entry.name) == (kind, namespace, name):
            return entry
    return None


def _hardened(container: Mapping[str, Any]) -> bool:
    ctx = lookup(container, "securityContext")
    if not isinstance(ctx, Mapping):
        return False
    drop = [str(c).upper() for c in items(ctx, "capabilities.drop")]
    return (lookup(ctx, "allowPrivilegeEscalation") is False and lookup(ctx, "privileged") is not True
            and "ALL" in drop and not items(ctx, "capabilities.add"))


def within(resource_type: str, props: Any) -> bool:
    """Whether the workload is a recorded one and stays within its record: only the listed
    hostPaths, each mounted read-only, and every container hardened (no capabilities, no
    escalation, not privileged). Anything unknown at preview is not within."""
    entry = recorded(resource_type, props)
    pod = pod_spec(resource_type, props) if entry else None
    if entry is None or pod is None or lookup(pod, "volumes") is UNKNOWN:
        return False
    host = {}
    for volume in items(pod, "volumes"):
        if not isinstance(volume, Mapping):
            return False
        path = lookup(volume, "hostPath.path")
        if lookup(volume, "hostPath") is not None:
            if path not in entry.host_paths:
                return False
            host[lookup(volume, "name")] = path
    for c in containers(pod):
        if not isinstance(c, Mapping) or (entry.root and not _hardened(c)):
            return False
        for mount in items(c, "volumeMounts"):
            if isinstance(mount, Mapping) and lookup(mount, "name") in host and lookup(mount, "readOnly") is not True:
                return False
    return True


def host_paths(resource_type: str, props: Any) -> set[str]:
    """The hostPath paths a workload's pod mounts (for the staleness test)."""
    pod = pod_spec(resource_type, props)
    return {lookup(v, "hostPath.path") for v in items(pod or {}, "volumes")
            if isinstance(v, Mapping) and lookup(v, "hostPath") is not None}


def allows_root(resource_type: str, props: Any) -> bool:
    """Whether a recorded, within-record workload may run as uid 0."""
    entry = recorded(resource_type, props)
    return entry is not None and entry.root and within(resource_type, props)


def allows_host_paths(resource_type: str, props: Any) -> bool:
    """Whether a recorded, within-record workload may mount its hostPaths."""
    return within(resource_type, props)
