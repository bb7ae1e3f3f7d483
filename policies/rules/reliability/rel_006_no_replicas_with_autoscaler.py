"""PAVED-REL-006: Pulumi does not fight the autoscaler over a workload's replica count."""

from __future__ import annotations

from paved.resources import UNKNOWN, workloads
from policies.framework import Rule

# ignoreChanges entries that cover spec.replicas.
IGNORED = {"spec.replicas", 'spec["replicas"]', "spec['replicas']", "spec", "spec.*", "*"}


def validate_stack(args, report) -> None:
    for w in workloads(args.resources):
        if w.autoscaler is None or w.replicas is None:
            continue
        opts = getattr(w.item.source, "opts", None)
        ignored = [str(p).replace(" ", "") for p in (getattr(opts, "ignore_changes", None) or [])]
        if any(p in IGNORED for p in ignored):
            continue
        shown = "unknown at preview" if w.replicas is UNKNOWN else w.replicas
        report(f"{w.kind} {w.name} must not set spec.replicas (it is {shown}) while {w.autoscaler.kind} "
               f"{w.autoscaler.name} owns its scale, or must list spec.replicas in ignoreChanges.",
               getattr(w.item.source, "urn", None))


RULE = Rule(
    id="PAVED-REL-006",
    name="no-replicas-with-autoscaler",
    description=(
        "Checks whether a Deployment, StatefulSet, ReplicaSet or Argo Rollout targeted by a HorizontalPodAutoscaler or a KEDA "
        "ScaledObject in the same namespace (scaleTargetRef kind and name) leaves spec.replicas unset, or ignores changes to it "
        "(ignoreChanges spec.replicas). An unknown spec.replicas counts as set."
    ),
    severity="medium",
    remediation=(
        "Drop spec.replicas from the workload (the HorizontalPodAutoscaler sets the count), or add "
        "ignore_changes=[\"spec.replicas\"] to its resource options; otherwise every `pulumi up` resets the "
        "autoscaled count and `pulumi preview --expect-no-changes` always sees a diff."
    ),
    anchors=("REL-K8S-005", "ks:deployment-targeted-by-hpa-does-not-have-replicas-configured"),
    validate_stack=validate_stack,
    enforcement="mandatory",
)
