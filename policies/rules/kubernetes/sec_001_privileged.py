"""PAVED-SEC-001: no privileged containers (PSS baseline "Privileged Containers")."""

from __future__ import annotations

from policies.framework import Rule, container_check
from paved.resources import UNKNOWN, WORKLOAD_TYPES, lookup


def _check(container, pod, config):
    value = lookup(container, "securityContext.privileged")
    if value is UNKNOWN:
        return "not run privileged (securityContext.privileged is unknown at preview; set it to false)"
    if value is True:
        return "not run privileged (set securityContext.privileged to false)"
    return None


RULE = Rule(
    id="PAVED-SEC-001",
    name="no-privileged-containers",
    description="Checks whether every container of a workload runs unprivileged: a privileged container is root on the node.",
    severity="critical",
    remediation="Remove securityContext.privileged or set it to false; if the process needs one kernel privilege, "
    "grant that capability instead (and only NET_BIND_SERVICE is allowed, see PAVED-SEC-007).",
    anchors=("PSS baseline: Privileged Containers", "CKV_K8S_16", "ks:container-security-context-privileged",
             "pol:runAsPrivileged", "CIS EKS 4.2.1", "NSA: Pod security"),
    validate=container_check(_check),
    resource_types=WORKLOAD_TYPES,
)
