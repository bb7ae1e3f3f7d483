"""PAVED-DEP-014: a PersistentVolumeClaim is created after the StorageClass it binds through.

pulumi-kubernetes waits for a new PersistentVolumeClaim to be Bound, unless it can read the
claim's StorageClass and finds ``volumeBindingMode: WaitForFirstConsumer``: then Pending is
ready (pulumi/pulumi-kubernetes#3130, since v4.16). Such a claim binds only once a pod that
mounts it is scheduled, and that pod's workload waits for the claim. So when the StorageClass
is in the same stack and does not exist yet when the claim is awaited, the provider waits for
Bound, the consumer is never created, and ``pulumi up`` times out after ten minutes. The claim
must be ordered after its class: the one ``storageClassName`` names, or the stack's default
class (``storageclass.kubernetes.io/is-default-class``) when it names none, since the
DefaultStorageClass admission plugin fills the name in only if that class exists.
"""

from __future__ import annotations

from paved.resources import UNKNOWN, lookup
from policies.framework import Rule
from policies.rules.deploy.graph import Graph, name, shown_name

CLAIM = "kubernetes:core/v1:PersistentVolumeClaim"
STORAGE_CLASS = "kubernetes:storage.k8s.io/v1:StorageClass"
DEFAULT_ANNOTATION = "storageclass.kubernetes.io/is-default-class"


def validate_stack(args, report) -> None:
    graph = Graph(args.resources)
    classes = {name(c): c for c in graph.of_type(STORAGE_CLASS) if isinstance(name(c), str)}
    defaults = [c for c in classes.values()
                if str(lookup(c.props, ("metadata", "annotations", DEFAULT_ANNOTATION))).lower() == "true"]
    for claim in graph.of_type(CLAIM):
        wanted = lookup(claim.props, "spec.storageClassName")
        if wanted is UNKNOWN or wanted == "":
            continue  # unknown at preview, or "" (no class: static binding)
        targets = [classes[wanted]] if wanted in classes else ([] if wanted is not None else defaults)
        for target in targets:
            if lookup(target.props, "volumeBindingMode") != "WaitForFirstConsumer":
                continue
            if not graph.ordered_after(claim, target):
                report(f"PersistentVolumeClaim {shown_name(claim)} must depend on StorageClass {name(target)}"
                       f"{graph.via(target, claim)}: the provider reads its WaitForFirstConsumer binding mode to "
                       f"stop waiting for Bound, and without it waits for a pod that waits for the claim.", claim.urn)


RULE = Rule(
    id="PAVED-DEP-014",
    name="volume-binding-order",
    description=(
        "Checks whether every PersistentVolumeClaim whose StorageClass (named, or the stack's default class when it "
        "names none) is a WaitForFirstConsumer class of the same stack is ordered after that StorageClass."
    ),
    severity="high",
    remediation=(
        "Create the claim with dependsOn on the StorageClass (the EksCluster component exposes it as "
        "storage_class_resource), so pulumi-kubernetes sees its binding mode and does not wait for Bound."
    ),
    anchors=("github.com/pulumi/pulumi-kubernetes/pull/3130", "github.com/pulumi/pulumi-kubernetes/issues/895",
             "kubernetes.io/docs/concepts/storage/storage-classes/#volume-binding-mode"),
    validate_stack=validate_stack,
    enforcement="mandatory",
)
