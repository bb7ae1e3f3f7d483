"""PAVED-SEC-007: containers drop ALL capabilities and add back only NET_BIND_SERVICE (PSS restricted)."""

from __future__ import annotations

from policies.framework import Rule, container_check
from paved.resources import UNKNOWN, WORKLOAD_TYPES, items, lookup


def _check(container, pod, config):
    allowed = list(config.get("allowedCapabilities", ["NET_BIND_SERVICE"]))
    problems = []
    drop = lookup(container, "securityContext.capabilities.drop")
    dropped = items(container, "securityContext.capabilities.drop")
    if drop is UNKNOWN or UNKNOWN in dropped:
        problems.append("drop ALL capabilities (capabilities.drop is unknown at preview)")
    elif "ALL" not in dropped:
        problems.append("drop ALL capabilities (securityContext.capabilities.drop: [ALL])")
    add = lookup(container, "securityContext.capabilities.add")
    added = items(container, "securityContext.capabilities.add")
    extra = [str(c) for c in added if c is not UNKNOWN and c not in allowed]
    only = ", ".join(allowed) or "none"
    if add is UNKNOWN or UNKNOWN in added:
        problems.append(f"add no capabilities beyond {only} (capabilities.add is unknown at preview)")
    elif extra:
        problems.append(f"add no capabilities beyond {only} (adds {', '.join(extra)})")
    return " and ".join(problems) or None


RULE = Rule(
    id="PAVED-SEC-007",
    name="restricted-capabilities",
    description="Checks whether every container drops ALL Linux capabilities and adds back only allowedCapabilities "
    "(NET_BIND_SERVICE).",
    severity="high",
    remediation="Set securityContext.capabilities: {drop: [ALL]}; to bind a port below 1024 add only "
    "NET_BIND_SERVICE, or better listen on a high port.",
    anchors=("PSS restricted: Capabilities", "PSS baseline: Capabilities", "CKV_K8S_37", "CKV_K8S_25", "CKV_K8S_28",
             "CKV_K8S_39", "pol:insecureCapabilities", "pol:dangerousCapabilities"),
    validate=container_check(_check),
    resource_types=WORKLOAD_TYPES,
    config={
        "allowedCapabilities": {
            "type": "array", "items": {"type": "string"}, "default": ["NET_BIND_SERVICE"],
            "description": "Capabilities a container may add back after dropping ALL (PSS restricted allows only NET_BIND_SERVICE).",
        }
    },
)
