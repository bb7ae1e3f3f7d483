"""PAVED-SEC-003: runAsNonRoot is true for every container (PSS restricted "Running as Non-root").

Mirrors Pod Security Admission: the pod may set it for all containers, a container may set it
itself, and neither may set it to false.
"""

from __future__ import annotations

from policies.framework import Rule, container_check, pod_check
from policies.rules.kubernetes import node_access
from paved.resources import UNKNOWN, WORKLOAD_TYPES, effective, lookup


def _pod(pod, config):
    value = lookup(pod, "securityContext.runAsNonRoot")
    if value is UNKNOWN:
        return "set runAsNonRoot to true in the pod securityContext (it is unknown at preview)"
    if value is False:
        return "not set runAsNonRoot to false in the pod securityContext"
    return None


def _container(container, pod, config):
    value = effective(container, pod, "runAsNonRoot")
    if value is UNKNOWN:
        return "set securityContext.runAsNonRoot to true (it is unknown at preview)"
    if value is not True:
        return "set securityContext.runAsNonRoot to true (on the container or the pod)"
    return None


_check_pod = pod_check(_pod)
_check_containers = container_check(_container)


def _validate(args, report):
    if node_access.allows_root(args.resource_type, args.props):  # a recorded node agent, within its record
        return
    _check_pod(args, report)
    _check_containers(args, report)


RULE = Rule(
    id="PAVED-SEC-003",
    name="run-as-non-root",
    description="Checks whether every container must run as a non-root user (securityContext.runAsNonRoot: true on "
    "the pod or the container, and false nowhere).",
    severity="high",
    remediation="Set securityContext.runAsNonRoot: true in the pod spec (and a non-zero runAsUser), and build the "
    "image with a numeric non-root USER.",
    anchors=("PSS restricted: Running as Non-root", "CKV_K8S_23", "ks:container-security-context-user-group-id",
             "pol:runAsRootAllowed", "NSA: Non-root containers"),
    validate=_validate,
    resource_types=WORKLOAD_TYPES,
)
