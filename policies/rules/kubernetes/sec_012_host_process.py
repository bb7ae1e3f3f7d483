"""PAVED-SEC-012: no Windows HostProcess pods or containers (PSS baseline "HostProcess")."""

from __future__ import annotations

from policies.framework import Rule, container_check, pod_check
from paved.resources import UNKNOWN, WORKLOAD_TYPES, lookup

PATH = "securityContext.windowsOptions.hostProcess"


def _problem(value, where: str) -> str | None:
    if value is UNKNOWN:
        return f"not run as a Windows HostProcess ({where} windowsOptions.hostProcess is unknown at preview)"
    if value is True:
        return f"not run as a Windows HostProcess (set {where} windowsOptions.hostProcess to false)"
    return None


_check_pod = pod_check(lambda pod, config: _problem(lookup(pod, PATH), "the pod"))
_check_containers = container_check(lambda c, pod, config: _problem(lookup(c, PATH), "its"))


def _validate(args, report):
    _check_pod(args, report)
    _check_containers(args, report)


RULE = Rule(
    id="PAVED-SEC-012",
    name="no-host-process",
    description="Checks whether the pod or any container asks to run as a Windows HostProcess, which has full "
    "access to the node.",
    severity="critical",
    remediation="Remove securityContext.windowsOptions.hostProcess (or set it to false).",
    anchors=("PSS baseline: HostProcess", "pol:hostProcess"),
    validate=_validate,
    resource_types=WORKLOAD_TYPES,
)
