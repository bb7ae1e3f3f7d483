"""PAVED-SEC-015: containers keep the default masked /proc (PSS baseline "/proc Mount Type")."""

from __future__ import annotations

from policies.framework import Rule, container_check
from paved.resources import UNKNOWN, WORKLOAD_TYPES, lookup


def _check(container, pod, config):
    value = lookup(container, "securityContext.procMount")
    if value is UNKNOWN:
        return "keep securityContext.procMount Default (it is unknown at preview)"
    if value is not None and value != "Default":
        return f"keep securityContext.procMount Default, not {value}"
    return None


RULE = Rule(
    id="PAVED-SEC-015",
    name="default-proc-mount",
    description="Checks whether any container unmasks /proc (securityContext.procMount other than Default), which "
    "exposes host kernel information.",
    severity="medium",
    remediation="Remove securityContext.procMount or set it to Default.",
    anchors=("PSS baseline: /proc Mount Type",),
    validate=container_check(_check),
    resource_types=WORKLOAD_TYPES,
)
