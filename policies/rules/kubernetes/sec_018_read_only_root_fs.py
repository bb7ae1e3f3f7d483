"""PAVED-SEC-018: containers have a read-only root file system (mandatory; advisory in dev through config)."""

from __future__ import annotations

from policies.framework import Rule, container_check
from paved.resources import UNKNOWN, WORKLOAD_TYPES, lookup


def _check(container, pod, config):
    value = lookup(container, "securityContext.readOnlyRootFilesystem")
    if value is UNKNOWN:
        return "set securityContext.readOnlyRootFilesystem to true (it is unknown at preview)"
    if value is not True:
        return "set securityContext.readOnlyRootFilesystem to true"
    return None


RULE = Rule(
    id="PAVED-SEC-018",
    name="read-only-root-filesystem",
    description="Checks whether every container mounts its root file system read-only, so a compromised process "
    "cannot alter binaries or drop tools.",
    severity="medium",
    remediation="Set securityContext.readOnlyRootFilesystem: true and mount an emptyDir at the paths the process "
    "writes (paved mounts one at /tmp).",
    anchors=("CKV_K8S_22", "ks:container-security-context-readonlyrootfilesystem", "pol:notReadOnlyRootFilesystem",
             "PCRP kubernetes-apps-v1-deployment-enable-read-only-root-filesystem", "NSA: Immutable container file systems"),
    validate=container_check(_check),
    resource_types=WORKLOAD_TYPES,
)
