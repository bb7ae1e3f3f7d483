"""PAVED-REL-003: multi-replica workloads have a PodDisruptionBudget that still lets nodes drain."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from paved.resources import UNKNOWN, items, lookup, number, object_name, shown, workloads
from policies.framework import Rule

PDB_TYPES = frozenset({"kubernetes:policy/v1:PodDisruptionBudget", "kubernetes:policy/v1beta1:PodDisruptionBudget"})


def selects(selector: Any, labels: Mapping[str, Any]) -> bool:
    """Whether a label selector matches pod labels. An empty selector matches every pod, a missing one
    none (policy/v1); an unknown selector or label value counts as matching."""
    if selector is UNKNOWN:
        return True
    if not isinstance(selector, Mapping):
        return False
    match = lookup(selector, "matchLabels")
    if match is UNKNOWN:
        return True
    if isinstance(match, Mapping):
        for key in list(match.keys()):
            want, have = lookup(match, [key]), labels.get(key)
            if want is UNKNOWN or have is UNKNOWN:
                continue
            if want != have:
                return False
    for expr in items(selector, "matchExpressions"):
        if not isinstance(expr, Mapping):
            return True  # unknown expression
        key, op = lookup(expr, "key"), lookup(expr, "operator")
        values = items(expr, "values")
        if UNKNOWN in (key, op) or UNKNOWN in values or labels.get(key) is UNKNOWN:
            continue
        present = key in labels
        if op == "In" and not (present and labels[key] in values):
            return False
        if op == "NotIn" and present and labels[key] in values:
            return False
        if op == "Exists" and not present:
            return False
        if op == "DoesNotExist" and present:
            return False
    return True


def _percent(value: Any) -> int | None:
    if isinstance(value, str) and value.strip().endswith("%"):
        try:
            return int(value.strip()[:-1])
        except ValueError:
            return None
    return None


def blocks_eviction(pdb_props: Any, replicas: list[int]) -> str | None:
    """Why a PDB never allows a voluntary disruption, or None."""
    unavailable = lookup(pdb_props, "spec.maxUnavailable")
    available = lookup(pdb_props, "spec.minAvailable")
    if unavailable is not None and unavailable is not UNKNOWN:
        n = number(unavailable) if _percent(unavailable) is None else _percent(unavailable)
        if n is not None and n == 0:
            return f"maxUnavailable is {shown(unavailable)}"
    if available is not None and available is not UNKNOWN:
        if _percent(available) is not None:
            if _percent(available) >= 100:
                return f"minAvailable is {shown(available)}"
        else:
            n = number(available)
            low = [r for r in replicas if n is not None and n >= r]
            if low:
                return f"minAvailable {shown(available)} is not below the {min(low)} replica(s) it covers"
    return None


def validate_stack(args, report) -> None:
    threshold = int(args.get_config()["minReplicasForPdb"])
    pdbs = [r for r in args.resources if r.resource_type in PDB_TYPES]
    ws = workloads(args.resources)

    # PDBs by namespace, read once: a workload is compared only with its namespace's PDBs
    # (and those whose namespace is unknown at preview, which may match anything).
    by_namespace: dict[object, list] = {}
    for p in pdbs:
        ns = lookup(p.props, "metadata.namespace")
        by_namespace.setdefault(ns if isinstance(ns, str) or ns is UNKNOWN else "default", []).append(
            (p, lookup(p.props, "spec.selector")))

    def candidates(w) -> list:
        if w.namespace is UNKNOWN:
            return [pair for pairs in by_namespace.values() for pair in pairs]
        return [*by_namespace.get(w.namespace, []), *by_namespace.get(UNKNOWN, [])]

    covered: dict[str, list] = {}
    for w in ws:
        matching = [p for p, selector in candidates(w) if selects(selector, w.pod_labels)]
        for p in matching:
            covered.setdefault(p.urn, []).append(w)
        low = w.min_replicas
        if low is not None and low >= threshold and not matching:
            report(f"{w.kind} {w.name} must have a PodDisruptionBudget in namespace {w.namespace} whose selector "
                   f"matches its pod labels (it runs at least {low} replicas).", getattr(w.item.source, "urn", None))
    for p in pdbs:
        replicas = [w.min_replicas for w in covered.get(p.urn, []) if w.min_replicas is not None]
        why = blocks_eviction(p.props, replicas)
        if why:
            report(f"PodDisruptionBudget {object_name(p.props, p.name)} must allow at least one voluntary disruption "
                   f"({why}); set maxUnavailable: 1 so nodes can drain.", p.urn)


RULE = Rule(
    id="PAVED-REL-003",
    name="pod-disruption-budget",
    description=(
        "Checks whether every Deployment, StatefulSet, ReplicaSet and Argo Rollout running at least minReplicasForPdb "
        "replicas (autoscaler minimum, else spec.replicas) has a PodDisruptionBudget in its namespace whose selector matches "
        "its pod template labels, and whether every PodDisruptionBudget allows a voluntary disruption (not "
        "maxUnavailable 0 or 0%, not minAvailable 100% or at least the replicas it covers)."
    ),
    severity="medium",
    remediation=(
        "Give the workload a PodDisruptionBudget with maxUnavailable: 1 and the Deployment's selector labels "
        "(the Microservice component creates one when scaling.min is 2 or more)."
    ),
    anchors=(
        "REL-K8S-002", "ks:deployment-has-poddisruptionbudget", "ks:statefulset-has-poddisruptionbudget",
        "ks:poddisruptionbudget-has-policy", "pol:missingPodDisruptionBudget", "pol:pdbDisruptionsIsZero",
        "pol:pdbMinAvailableGreaterThanHPAMinReplicas",
        "PCRP kubernetes-policy-v1-poddisruptionbudget-disallow-zero-voluntary-disruption",
    ),
    validate_stack=validate_stack,
    config={
        "minReplicasForPdb": {"type": "integer", "minimum": 2, "default": 2,
                              "description": "Workloads with at least this many replicas need a PodDisruptionBudget."},
    },
    enforcement="mandatory",
)
