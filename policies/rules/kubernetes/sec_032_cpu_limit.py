"""PAVED-SEC-032 (advisory): containers cap CPU (anchor OPS-K8S-001, limits.cpu)."""

from __future__ import annotations

from collections.abc import Mapping

from policies.framework import Rule
from paved.resources import WORKLOAD_TYPES, is_set, items, kind_of, lookup, object_name, pod_spec


def _validate(args, report):
    pod = pod_spec(args.resource_type, args.props)
    if pod is None:
        return
    who = f"{kind_of(args.resource_type)} {object_name(args.props, args.name)}"
    for field in ("initContainers", "containers"):  # ephemeral containers take no resources
        for container in items(pod, field):
            if isinstance(container, Mapping) and not is_set(container, "resources.limits.cpu"):
                report(f"{who} container {lookup(container, 'name', '?')} must set resources.limits.cpu.")


RULE = Rule(
    id="PAVED-SEC-032",
    name="container-cpu-limit",
    description="Checks whether every container sets resources.limits.cpu, which bounds how much CPU a runaway "
    "process takes from its neighbours (advisory: a limit also throttles).",
    severity="low",
    remediation="Set resources.limits.cpu (the catalog's resources.limits.cpu), a few times the request.",
    anchors=("CKV_K8S_11", "pol:cpuLimitsMissing", "ks:container-resources"),
    validate=_validate,
    resource_types=WORKLOAD_TYPES,
    enforcement="advisory",
)
