"""PAVED-SEC-011: pods use only the volume types PSS restricted allows."""

from __future__ import annotations

from collections.abc import Mapping

from policies.framework import Rule, pod_check
from policies.rules.kubernetes import node_access
from paved.resources import UNKNOWN, WORKLOAD_TYPES, items, lookup

RESTRICTED_TYPES = ["configMap", "csi", "downwardAPI", "emptyDir", "ephemeral", "persistentVolumeClaim", "projected", "secret"]


def _check(pod, config):
    allowed = list(config.get("allowedVolumeTypes", RESTRICTED_TYPES))
    if lookup(pod, "volumes") is UNKNOWN:
        return "use only allowed volume types (its volumes are unknown at preview)"
    bad = []
    for volume in items(pod, "volumes"):
        if volume is UNKNOWN:
            bad.append("? (unknown at preview)")
            continue
        if not isinstance(volume, Mapping):
            continue
        # A volume's type is the one source key it carries; with none, the API defaults it to emptyDir.
        types = [key for key in volume if key != "name" and key not in allowed and lookup(volume, (key,)) is not None]
        if types:
            bad.append(f"{lookup(volume, 'name', '?')} is {', '.join(types)}")
    if bad:
        return f"use only {', '.join(allowed)} volumes ({'; '.join(bad)})"
    return None


_check_pod = pod_check(_check)


def _validate(args, report):
    if node_access.allows_host_paths(args.resource_type, args.props):  # a recorded node agent, within its record
        return
    _check_pod(args, report)


RULE = Rule(
    id="PAVED-SEC-011",
    name="restricted-volume-types",
    description="Checks whether every pod volume is of a type PSS restricted allows (configMap, csi, downwardAPI, "
    "emptyDir, ephemeral, persistentVolumeClaim, projected, secret); node-backed and network volumes are not.",
    severity="medium",
    remediation="Use a PersistentVolumeClaim (for nfs, EBS and other storage) or an emptyDir/configMap/secret/projected "
    "volume instead.",
    anchors=("PSS restricted: Volume Types", "pol:hostPathSet"),
    validate=_validate,
    resource_types=WORKLOAD_TYPES,
    config={
        "allowedVolumeTypes": {
            "type": "array", "items": {"type": "string"}, "default": RESTRICTED_TYPES,
            "description": "Volume source keys a pod may use (the PSS restricted list).",
        }
    },
)
