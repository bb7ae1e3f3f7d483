"""PAVED-DEP-008: each namespace's ResourceQuota leaves room for a rolling update at full scale.

A rolling update creates up to ``maxSurge`` new pods before it removes old ones, and the
quota admission plugin counts them: at maximum replicas a quota sized to exactly
``maxReplicas`` rejects the surge pods (``exceeded quota``), so the rollout stalls and
``pulumi up`` times out. PAVED-COST-004 checks the quota at maximum replicas; this rule adds
the surge.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from paved.quantity import cpu_cores, memory_bytes
from paved.resources import UNKNOWN, RolloutNeed, lookup, memory_text, shown, surge_pods, workloads
from policies.framework import Rule
from policies.rules.deploy.graph import namespace

QUOTA = "kubernetes:core/v1:ResourceQuota"
HARD = {  # resource: (quota keys, parse, show)
    "cpu": (("requests.cpu", "cpu"), cpu_cores, shown),
    "memory": (("requests.memory", "memory"), memory_bytes, memory_text),
    "pods": (("pods",), lambda v: int(Decimal(str(v))), shown),
}


def surge(workload: Any, replicas: int) -> int | None:
    """Extra pods a rolling update of ``workload`` at ``replicas`` may create (None when unknown)."""
    props = workload.item.props
    if workload.kind == "Rollout":  # Argo Rollouts: spec.strategy.canary / spec.strategy.blueGreen
        strategy = "blueGreen" if lookup(props, "spec.strategy.blueGreen") is not None else "canary"
        return surge_pods("Rollout", strategy, lookup(props, "spec.strategy.canary.maxSurge"), replicas)
    return surge_pods(workload.kind, lookup(props, "spec.strategy.type"),
                      lookup(props, "spec.strategy.rollingUpdate.maxSurge"), replicas)


def validate_stack(args, report) -> None:
    need: dict[str, RolloutNeed] = {}
    for w in workloads(args.resources):
        top = w.max_replicas
        extra = surge(w, top) if top is not None else None
        if top is None or extra is None or not isinstance(w.namespace, str):
            continue
        need[w.namespace] = need.get(w.namespace, RolloutNeed()).plus(w.requests.cpu, w.requests.memory, top, extra)
    for quota in args.resources:
        if quota.resource_type != QUOTA or namespace(quota) not in need:
            continue
        total = need[namespace(quota)]
        for resource, (keys, parse, show) in HARD.items():
            for key in keys:
                value = lookup(quota.props, ("spec", "hard", key))
                if value is None:
                    continue
                try:
                    hard = parse(value) if value is not UNKNOWN else None
                except (ValueError, ArithmeticError):
                    hard = None
                if hard is not None and Decimal(hard) < total.of(resource):
                    report(f"ResourceQuota {lookup(quota.props, 'metadata.name', quota.name)} in namespace "
                           f"{namespace(quota)} must allow {key} of at least {show(total.of(resource))}: its workloads at "
                           f"maximum replicas plus rolling-update surge need that (hard {key} is {show(hard)}).",
                           quota.urn)
                break


RULE = Rule(
    id="PAVED-DEP-008",
    name="quota-covers-rollout",
    description=(
        "Checks whether every ResourceQuota's hard requests.cpu, requests.memory and pods are at least the sum of "
        "its namespace's workloads at maximum replicas plus their rolling-update surge (Deployment maxSurge, 25% "
        "rounded up by default; none for Recreate and StatefulSets)."
    ),
    severity="medium",
    remediation=(
        "Raise the team's quota in services_catalog.yaml (teams[].quota), or lower scaling.max, requests or the "
        "Deployment's maxSurge."
    ),
    anchors=(
        "kubernetes.io/docs/concepts/workloads/controllers/deployment (maxSurge, default 25%, rounded up)",
        "kubernetes.io/docs/concepts/policy/resource-quotas (pods exceeding the quota are rejected at creation)",
    ),
    validate_stack=validate_stack,
    enforcement="mandatory",
)
