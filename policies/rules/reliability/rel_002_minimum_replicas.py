"""PAVED-REL-002: a workload keeps enough replicas to survive losing one pod or node."""

from __future__ import annotations

from paved.resources import workloads
from policies.framework import Rule


# Recorded exceptions (namespace/name): chart workloads that must run exactly one replica.
# prometheus-operator has no leader election (two would fight over the same StatefulSets);
# Jaeger's Badger store is single-writer on a ReadWriteOnce volume; Grafana keeps its state in
# SQLite on its own volume, so replicas would not share it; every kube-state-metrics replica
# exports every object, so a second one doubles each series. docs/policies.md records them.
PLATFORM_SINGLETONS = ["monitoring/kps-operator", "monitoring/jaeger", "monitoring/grafana",
                       "monitoring/kube-state-metrics"]


def validate_stack(args, report) -> None:
    config = args.get_config()
    floor = int(config["minReplicas"])
    singletons = set(config["singletons"])
    for w in workloads(args.resources):
        low = w.min_replicas
        if f"{w.namespace}/{w.name}" in singletons and w.autoscaler is None and low == 1:
            continue
        if low is None or low >= floor:
            continue  # unknown at preview, or enough
        if w.autoscaler is not None:
            why = f"{w.autoscaler.kind} {w.autoscaler.name} has minReplicas {low}"
        elif w.replicas is None:
            why = "spec.replicas is unset, which means 1"
        else:
            why = f"spec.replicas is {low}"
        report(f"{w.kind} {w.name} must run at least {floor} replicas ({why}).", getattr(w.item.source, "urn", None))


RULE = Rule(
    id="PAVED-REL-002",
    name="minimum-replicas",
    description=(
        "Checks whether every Deployment, StatefulSet and ReplicaSet runs at least minReplicas replicas: the "
        "minReplicas of the HorizontalPodAutoscaler targeting it, else spec.replicas (1 when unset). A value "
        "unknown at preview passes."
    ),
    severity="high",
    remediation=(
        "Raise scaling.min of the service in services_catalog.yaml (or its environment override) to at least "
        "minReplicas, so one node drain or pod crash does not take the service down."
    ),
    anchors=(
        "REL-K8S-001", "ks:deployment-replicas", "ks:horizontalpodautoscaler-replicas", "pol:deploymentMissingReplicas",
        "pol:hpaMinAvailability", "PCRP kubernetes-apps-v1-deployment-configure-minimum-replica-count",
    ),
    validate_stack=validate_stack,
    config={
        "minReplicas": {"type": "integer", "minimum": 0, "default": 2,
                        "description": "Fewest replicas a workload may run (autoscaler minimum or spec.replicas)."},
        "singletons": {"type": "array", "items": {"type": "string"}, "default": PLATFORM_SINGLETONS,
                       "description": "Workloads (namespace/name) that run exactly one replica by design: recorded "
                       "exceptions. A list here replaces the default, which holds the platform charts' singletons."},
    },
    enforcement="mandatory",
)
