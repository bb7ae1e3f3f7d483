"""PAVED-SEC-014: no custom SELinux user, role or type (PSS baseline "SELinux")."""

from __future__ import annotations

from collections.abc import Mapping

from policies.framework import Rule, container_check, pod_check
from paved.resources import UNKNOWN, WORKLOAD_TYPES, lookup

ALLOWED_TYPES = ("", "container_t", "container_init_t", "container_kvm_t", "container_engine_t")


def _problem(owner, where: str) -> str | None:
    options = lookup(owner, "securityContext.seLinuxOptions")
    if options is None:
        return None
    if options is UNKNOWN or not isinstance(options, Mapping):
        return f"set no custom seLinuxOptions in {where} (they are unknown at preview)"
    bad = []
    kind = lookup(options, "type", "")
    if kind is UNKNOWN or kind not in ALLOWED_TYPES:
        bad.append("type " + ("unknown at preview" if kind is UNKNOWN else str(kind)))
    for field in ("user", "role"):
        value = lookup(options, field, "")
        if value is UNKNOWN or value != "":
            bad.append(f"{field} set")
    if bad:
        return f"set no custom seLinuxOptions in {where} ({', '.join(bad)}; allowed types: {', '.join(t for t in ALLOWED_TYPES if t)})"
    return None


_check_pod = pod_check(lambda pod, config: _problem(pod, "the pod securityContext"))
_check_containers = container_check(lambda c, pod, config: _problem(c, "its securityContext"))


def _validate(args, report):
    _check_pod(args, report)
    _check_containers(args, report)


RULE = Rule(
    id="PAVED-SEC-014",
    name="selinux-options",
    description="Checks whether the pod or a container sets a custom SELinux user or role, or a type other than the "
    "container types, which would lift SELinux confinement.",
    severity="medium",
    remediation="Remove seLinuxOptions.user and .role; leave .type unset or use container_t (level may be set).",
    anchors=("PSS baseline: SELinux",),
    validate=_validate,
    resource_types=WORKLOAD_TYPES,
)
