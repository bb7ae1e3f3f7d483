"""PAVED-COST-004: each namespace's ResourceQuota leaves room for its workloads at full scale.

Every team namespace (its Namespace carries the ``paved.dev/team`` label) must have a quota;
any namespace that has one must have room in it. The platform's operator namespaces (and
kube-system) carry none on purpose: their pods are sized by paved's chart values and priced
by ``paved cost``, while a quota there would refuse every pod without requests, such as those
of EKS add-ons in kube-system and of operator-created StatefulSets the plan cannot see.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from paved.quantity import cpu_cores, memory_bytes
from paved.naming import TEAM_LABEL
from paved.resources import UNKNOWN, labels_at, lookup, memory_text, shown, workloads
from policies.framework import Rule

QUOTA = "kubernetes:core/v1:ResourceQuota"
NAMESPACE = "kubernetes:core/v1:Namespace"
# A quota's hard keys for requests; "cpu" and "memory" are the older spelling of the same.
KEYS = {
    "cpu": (("requests.cpu", "cpu"), cpu_cores, shown),
    "memory": (("requests.memory", "memory"), memory_bytes, memory_text),
    "pods": (("pods",), lambda v: int(Decimal(str(v))), shown),
}


def _hard(quota, resource: str):
    """(key, parsed value) of a quota's hard limit; value UNKNOWN when unknown, None when not set."""
    keys, parse, _ = KEYS[resource]
    for key in keys:
        value = lookup(quota.props, ("spec", "hard", key))
        if value is UNKNOWN:
            return key, UNKNOWN
        if value is not None:
            try:
                return key, parse(value)
            except (ValueError, ArithmeticError):
                return key, UNKNOWN  # malformed: the Kubernetes schema check reports it
    return keys[0], None


def validate_stack(args, report) -> None:
    need: dict[str, dict[str, Decimal]] = {}
    first_urn: dict[str, str | None] = {}
    for w in workloads(args.resources):
        top = w.max_replicas
        if top is None or w.namespace is UNKNOWN:
            continue  # unknown at preview
        n = need.setdefault(w.namespace, {"cpu": Decimal(0), "memory": Decimal(0), "pods": Decimal(0)})
        n["cpu"] += w.requests.cpu * top
        n["memory"] += Decimal(w.requests.memory) * top
        n["pods"] += top
        first_urn.setdefault(w.namespace, getattr(w.item.source, "urn", None))
    quotas: dict[Any, list] = {}
    namespaces: dict[str, str] = {}
    teams: set[str] = set()
    for r in args.resources:
        if r.resource_type == QUOTA:
            ns = lookup(r.props, "metadata.namespace")
            quotas.setdefault(ns if isinstance(ns, str) or ns is UNKNOWN else "default", []).append(r)
        elif r.resource_type == NAMESPACE:
            name = lookup(r.props, "metadata.name")
            if isinstance(name, str):
                namespaces[name] = r.urn
                if TEAM_LABEL in labels_at(r.props, "metadata.labels"):
                    teams.add(name)
    for ns, total in sorted(need.items()):
        wanted = f"{shown(total['cpu'])} CPU and {memory_text(total['memory'])} memory requested"
        if ns not in quotas:
            if ns not in teams or UNKNOWN in quotas:
                continue  # a quota whose namespace is unknown at preview may be this one
            report(f"Namespace {ns} must have a ResourceQuota whose hard requests.cpu and requests.memory cover its "
                   f"workloads at maximum replicas ({wanted}).", namespaces.get(ns, first_urn[ns]))
            continue
        for resource, (keys, _, show) in KEYS.items():
            hards = [(q, *_hard(q, resource)) for q in quotas[ns]]
            if resource != "pods" and all(value is None for _, _, value in hards):
                report(f"Namespace {ns} must have a ResourceQuota that sets hard {keys[0]} (its workloads request "
                       f"{show(total[resource])} at maximum replicas).", namespaces.get(ns, first_urn[ns]))
                continue
            for quota, key, value in hards:
                if value is None or value is UNKNOWN or Decimal(value) >= total[resource]:
                    continue
                name = lookup(quota.props, "metadata.name")
                label = "pods" if resource == "pods" else f"{resource} requests"
                report(f"ResourceQuota {name if isinstance(name, str) else quota.name} in namespace {ns} must allow "
                       f"{key} of at least {show(total[resource])}: its workloads at maximum replicas need that many "
                       f"{label} (hard {key} is {show(value)}).", quota.urn)


RULE = Rule(
    id="PAVED-COST-004",
    name="namespace-quota-covers-workloads",
    description=(
        "Checks whether every team namespace (labelled paved.dev/team) with Deployments, StatefulSets or "
        "ReplicaSets, and every namespace that has a ResourceQuota, has one whose "
        "hard requests.cpu and requests.memory (and pods, when set) are at least the sum of its workloads' pod "
        "requests times their maximum replicas (the HorizontalPodAutoscaler's maxReplicas or the KEDA ScaledObject's "
        "maxReplicaCount, else spec.replicas)."
    ),
    severity="medium",
    remediation=(
        "Raise the team's quota in services_catalog.yaml (teams[].quota) or lower its services' scaling.max or "
        "requests; otherwise the autoscaler stops short of maxReplicas when the quota is exhausted."
    ),
    anchors=("COST-K8S-004", "NSA Kubernetes Hardening Guide: Resource policies"),
    validate_stack=validate_stack,
    enforcement="mandatory",
)
