"""PAVED-SEC-023: workloads run under their own ServiceAccount, never ``default``."""

from __future__ import annotations

from policies.framework import Rule, pod_check
from paved.resources import UNKNOWN, WORKLOAD_TYPES, lookup


def _check(pod, config):
    name = lookup(pod, "serviceAccountName")
    if name is None:
        name = lookup(pod, "serviceAccount")  # the deprecated alias
    if name is UNKNOWN:
        return None  # computed from a ServiceAccount this stack creates
    if name in (None, "", "default"):
        return "run under its own ServiceAccount (set serviceAccountName; not default)"
    return None


RULE = Rule(
    id="PAVED-SEC-023",
    name="dedicated-service-account",
    description="Checks whether a workload names its own ServiceAccount instead of the namespace's default one, "
    "whose permissions every unconfigured pod shares.",
    severity="medium",
    remediation="Create a ServiceAccount per service (paved's Microservice does) and set serviceAccountName to it.",
    anchors=("CIS EKS 4.1.5", "CKV_K8S_41", "CKV_K8S_42", "CIS EKS 5.2.1"),
    validate=pod_check(_check),
    resource_types=WORKLOAD_TYPES,
)
