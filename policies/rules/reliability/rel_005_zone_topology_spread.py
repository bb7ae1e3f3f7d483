"""PAVED-REL-005: a workload's replicas are spread across availability zones.

A topologySpreadConstraint counts only the pods its ``labelSelector`` matches: without one, or
with labels the workload's own pods do not carry, the scheduler counts nothing and spreads
nothing (Kubernetes' Pod Topology Spread semantics), so such a constraint does not count here.
"""

from __future__ import annotations

from collections.abc import Mapping

from policies.framework import Rule
from paved.resources import ROLLOUT, UNKNOWN, is_set, items, kind_of, labels_at, lookup, number, object_name, pod_spec

SPREAD_TYPES = frozenset({"kubernetes:apps/v1:Deployment", "kubernetes:apps/v1:StatefulSet", ROLLOUT})


def _counts_own_pods(constraint: Mapping, pod_labels: Mapping) -> bool:
    """The constraint's labelSelector selects the workload's own pods (unknown counts as yes)."""
    selector = lookup(constraint, "labelSelector")
    if selector is UNKNOWN:
        return True
    if not isinstance(selector, Mapping):
        return False
    wanted = lookup(selector, "matchLabels")
    if wanted is UNKNOWN or (not isinstance(wanted, Mapping) and is_set(selector, "matchExpressions")):
        return True  # expressions: not evaluated here
    if not isinstance(wanted, Mapping) or not wanted:
        return False
    return all(v is UNKNOWN or pod_labels.get(k) in (v, UNKNOWN) for k, v in wanted.items())


def check(pod, pod_labels, config) -> str | None:
    """What the pod spec must do, or None."""
    key = config["topologyKey"]
    if lookup(pod, "topologySpreadConstraints") is UNKNOWN or is_set(pod, "affinity.podAntiAffinity"):
        return None
    unselected = False
    for constraint in items(pod, "topologySpreadConstraints"):
        if not isinstance(constraint, Mapping):
            return None  # unknown at preview
        if lookup(constraint, "topologyKey") in (key, UNKNOWN):
            if _counts_own_pods(constraint, pod_labels):
                return None
            unselected = True
    if unselected:
        return (f"give its topologySpreadConstraint on {key} a labelSelector matching its own pod labels (without "
                f"one the scheduler counts no pods and spreads nothing)")
    return (f"spread its pods across zones (a topologySpreadConstraint on {key}, or a podAntiAffinity), so one "
            f"zone outage does not take every replica")


def _validate(args, report) -> None:
    pod = pod_spec(args.resource_type, args.props)
    if pod is None or number(lookup(args.props, "spec.replicas")) == 1:
        return  # one pod has nothing to spread; PAVED-REL-002 judges whether one is enough
    must = check(pod, labels_at(args.props, "spec.template.metadata.labels"), args.get_config())
    if must:
        report(f"{kind_of(args.resource_type)} {object_name(args.props, args.name)} must {must}.")


RULE = Rule(
    id="PAVED-REL-005",
    name="zone-topology-spread",
    description=(
        "Checks whether a Deployment, StatefulSet or Argo Rollout that runs more than one pod (spec.replicas unset or above 1) "
        "has a topologySpreadConstraint on topologyKey (topology.kubernetes.io/zone) whose labelSelector matches "
        "its own pod labels, or any podAntiAffinity. Values unknown at preview pass."
    ),
    severity="medium",
    remediation=(
        "Add topologySpreadConstraints with topologyKey topology.kubernetes.io/zone, maxSkew 1 and the "
        "workload's selector labels as labelSelector (the Microservice component does, and chart add-ons through "
        "components/addons/chart.zone_spread; paved:zoneSpread sets whenUnsatisfiable)."
    ),
    anchors=("REL-K8S-004", "ks:pod-topology-spread-constraints", "ks:deployment-has-host-podantiaffinity",
             "pol:topologySpreadConstraint"),
    validate=_validate,
    resource_types=SPREAD_TYPES,
    config={
        "topologyKey": {"type": "string", "default": "topology.kubernetes.io/zone",
                        "description": "Node label replicas must be spread over."},
    },
    enforcement="advisory",
)
