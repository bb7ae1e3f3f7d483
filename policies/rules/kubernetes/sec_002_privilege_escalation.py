"""PAVED-SEC-002: allowPrivilegeEscalation is false on every container (PSS restricted)."""

from __future__ import annotations

from policies.framework import Rule, container_check
from paved.resources import UNKNOWN, WORKLOAD_TYPES, lookup


def _check(container, pod, config):
    # Unset means true: the kernel lets setuid binaries and file capabilities raise privileges.
    value = lookup(container, "securityContext.allowPrivilegeEscalation")
    if value is UNKNOWN:
        return "set securityContext.allowPrivilegeEscalation to false (it is unknown at preview)"
    if value is not False:
        return "set securityContext.allowPrivilegeEscalation to false"
    return None


RULE = Rule(
    id="PAVED-SEC-002",
    name="no-privilege-escalation",
    description="Checks whether every container sets securityContext.allowPrivilegeEscalation to false, so setuid "
    "binaries cannot gain privileges (unset means allowed).",
    severity="high",
    remediation="Set securityContext.allowPrivilegeEscalation: false on every container, init container and "
    "ephemeral container.",
    anchors=("PSS restricted: Privilege Escalation", "CKV_K8S_20", "pol:privilegeEscalationAllowed", "CIS EKS 4.2.5"),
    validate=container_check(_check),
    resource_types=WORKLOAD_TYPES,
)
