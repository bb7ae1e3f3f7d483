"""PAVED-SEC-004: no runAsUser 0 on the pod or any container (PSS restricted "Running as Non-root user")."""

from __future__ import annotations

from policies.framework import Rule, container_check, pod_check
from policies.rules.kubernetes import node_access
from paved.resources import UNKNOWN, WORKLOAD_TYPES, lookup


def _problem(value, where: str) -> str | None:
    if value is UNKNOWN:
        return f"set a non-zero runAsUser in {where} (it is unknown at preview)"
    if isinstance(value, (int, float)) and not isinstance(value, bool) and value == 0:
        return f"not set runAsUser to 0 in {where}"
    return None


def _pod(pod, config):
    return _problem(lookup(pod, "securityContext.runAsUser"), "the pod securityContext")


def _container(container, pod, config):
    return _problem(lookup(container, "securityContext.runAsUser"), "its securityContext")


_check_pod = pod_check(_pod)
_check_containers = container_check(_container)


def _validate(args, report):
    if node_access.allows_root(args.resource_type, args.props):  # a recorded node agent, within its record
        return
    _check_pod(args, report)
    _check_containers(args, report)


RULE = Rule(
    id="PAVED-SEC-004",
    name="no-root-user-id",
    description="Checks whether the pod or any container sets runAsUser to 0 (root), which runAsNonRoot alone does "
    "not catch when the user is given explicitly.",
    severity="high",
    remediation="Remove runAsUser: 0; run as a dedicated non-zero user id (paved uses 10001).",
    anchors=("PSS restricted: Running as Non-root user", "CKV_K8S_23", "ks:container-security-context-user-group-id",
             "pol:runAsRootAllowed"),
    validate=_validate,
    resource_types=WORKLOAD_TYPES,
)
