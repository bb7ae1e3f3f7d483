"""PAVED-SEC-006: a RuntimeDefault or Localhost seccomp profile applies to every container (PSS restricted)."""

from __future__ import annotations

from policies.framework import Rule, container_check, pod_check
from paved.resources import UNKNOWN, WORKLOAD_TYPES, lookup

ALLOWED = ("RuntimeDefault", "Localhost")
PATH = "securityContext.seccompProfile.type"


def _pod(pod, config):
    value = lookup(pod, PATH)
    if value is UNKNOWN:
        return "set the pod seccompProfile.type to RuntimeDefault or Localhost (it is unknown at preview)"
    if value is not None and value not in ALLOWED:
        return f"set the pod seccompProfile.type to RuntimeDefault or Localhost, not {value}"
    return None


def _container(container, pod, config):
    value = lookup(container, PATH)
    if value is None:
        value = lookup(pod, PATH)
    if value is UNKNOWN:
        return "set securityContext.seccompProfile.type to RuntimeDefault or Localhost (it is unknown at preview)"
    if value is None:
        return "set securityContext.seccompProfile.type to RuntimeDefault or Localhost (on the container or the pod)"
    if value not in ALLOWED:
        return f"set securityContext.seccompProfile.type to RuntimeDefault or Localhost, not {value}"
    return None


_check_pod = pod_check(_pod)
_check_containers = container_check(_container)


def _validate(args, report):
    _check_pod(args, report)
    _check_containers(args, report)


RULE = Rule(
    id="PAVED-SEC-006",
    name="seccomp-profile",
    description="Checks whether every container runs under the RuntimeDefault or a Localhost seccomp profile, set on "
    "the pod or the container, and Unconfined nowhere.",
    severity="high",
    remediation="Set securityContext.seccompProfile: {type: RuntimeDefault} in the pod spec.",
    anchors=("PSS restricted: Seccomp", "PSS baseline: Seccomp", "CKV_K8S_31", "ks:container-seccomp-profile",
             "pol:linuxHardening", "NSA: Hardening container environments"),
    validate=_validate,
    resource_types=WORKLOAD_TYPES,
)
