"""PAVED-SEC-005 (advisory): containers run as a user id of 10000 or more, clear of host users."""

from __future__ import annotations

from policies.framework import Rule, container_check
from paved.resources import UNKNOWN, WORKLOAD_TYPES, effective


def _check(container, pod, config):
    minimum = config.get("minUserId", 10000)
    value = effective(container, pod, "runAsUser")
    if value is UNKNOWN:
        return f"set runAsUser to {minimum} or higher (it is unknown at preview)"
    if not isinstance(value, (int, float)) or isinstance(value, bool):
        return f"set runAsUser to {minimum} or higher (on the container or the pod)"
    if value < minimum:
        return f"set runAsUser to {minimum} or higher (it is {value:g})"
    return None


RULE = Rule(
    id="PAVED-SEC-005",
    name="high-user-id",
    description="Checks whether every container runs as an explicit user id of at least minUserId (10000), so a "
    "container escape does not land on a user that exists on the host.",
    severity="low",
    remediation="Set securityContext.runAsUser (and runAsGroup) to a high id such as 10001 on the pod.",
    anchors=("CKV_K8S_40", "ks:container-security-context-user-group-id"),
    validate=container_check(_check),
    resource_types=WORKLOAD_TYPES,
    config={"minUserId": {"type": "integer", "default": 10000, "description": "Lowest user id a container may run as."}},
    enforcement="advisory",
)
