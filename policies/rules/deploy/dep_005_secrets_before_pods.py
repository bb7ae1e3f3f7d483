"""PAVED-DEP-005: every Secret a pod needs is created by the plan, before the pod.

The kubelet does not start a container whose non-optional secret volume, ``envFrom`` or
``secretKeyRef`` names a Secret that does not exist (``CreateContainerConfigError``, or the
pod stays ``ContainerCreating`` on the volume). So the Secret must come from the plan (a
Secret object, an ExternalSecret whose target it is, or a chart rendering it) and the
workload must be ordered after its creator.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from paved.resources import WORKLOAD_TYPES, containers, items, lookup, pod_spec
from policies.framework import Rule
from policies.rules.deploy.graph import Graph, kind, name, namespace, shown_name

SECRET = "kubernetes:core/v1:Secret"
EXTERNAL_SECRET_GROUP = "kubernetes:external-secrets.io/"


def secret_refs(pod: Mapping[str, Any]) -> Iterator[tuple[str, str]]:
    """(secret name, where) of every non-optional Secret a pod spec needs to start."""
    for volume in items(pod, "volumes"):
        if not isinstance(volume, Mapping):
            continue
        n = lookup(volume, "secret.secretName")
        if isinstance(n, str) and lookup(volume, "secret.optional") is not True:
            yield n, f"volume {lookup(volume, 'name', '?')}"
        for source in items(volume, "projected.sources"):
            n = lookup(source, "secret.name")
            if isinstance(n, str) and lookup(source, "secret.optional") is not True:
                yield n, f"projected volume {lookup(volume, 'name', '?')}"
    for c in containers(pod):
        cname = lookup(c, "name", "?")
        for env_from in items(c, "envFrom"):
            n = lookup(env_from, "secretRef.name")
            if isinstance(n, str) and lookup(env_from, "secretRef.optional") is not True:
                yield n, f"container {cname} envFrom"
        for env in items(c, "env"):
            n = lookup(env, "valueFrom.secretKeyRef.name")
            if isinstance(n, str) and lookup(env, "valueFrom.secretKeyRef.optional") is not True:
                yield n, f"container {cname} env {lookup(env, 'name', '?')}"


def creators(graph: Graph) -> dict[tuple[str, str], list[Any]]:
    """(namespace, Secret name) → the resources that create that Secret."""
    out: dict[tuple[str, str], list[Any]] = {}
    for r in graph.resources:
        if r.resource_type == SECRET:
            key = (namespace(r), name(r))
        elif r.resource_type.startswith(EXTERNAL_SECRET_GROUP) and kind(r) == "ExternalSecret":
            key = (namespace(r), lookup(r.props, "spec.target.name") or name(r))
        else:
            continue
        if all(isinstance(k, str) for k in key):
            out.setdefault(key, []).append(r)
    return out


def _same_chart(workload: Any, creator: Any) -> bool:
    """Both rendered by one chart: Chart v4 applies its objects together and the kubelet retries
    the mount until the Secret exists (seconds), so no order between them is needed; a Secret
    from elsewhere may never come, which is what this rule is about."""
    parent = getattr(workload, "parent", None)
    return (parent is not None and getattr(parent, "resource_type", None) == "kubernetes:helm.sh/v4:Chart"
            and getattr(getattr(creator, "parent", None), "urn", None) == parent.urn)


def validate_stack(args, report) -> None:
    graph = Graph(args.resources)
    made = creators(graph)
    for r in graph.of_type(*WORKLOAD_TYPES):
        ns, pod = namespace(r), pod_spec(r.resource_type, r.props)
        if not isinstance(ns, str) or pod is None:
            continue
        seen: set[str] = set()
        for secret, where in secret_refs(pod):
            if secret in seen:
                continue
            seen.add(secret)
            found = made.get((ns, secret))
            if not found:
                report(f"{kind(r)} {shown_name(r)} must use only Secrets the stack creates: Secret {ns}/{secret} "
                       f"({where}) comes from no Secret, ExternalSecret or chart in the plan, so its pods never "
                       f"start.", r.urn)
            elif not any(graph.ordered_after(r, c) or _same_chart(r, c) for c in found):
                c = found[0]
                report(f"{kind(r)} {shown_name(r)} must depend on {kind(c)} {shown_name(c)}{graph.via(c, r)}, "
                       f"which creates Secret {ns}/{secret} ({where}).", r.urn)


RULE = Rule(
    id="PAVED-DEP-005",
    name="secrets-before-pods",
    description=(
        "Checks whether every Secret a pod template needs (secret and projected volumes, envFrom secretRef, env "
        "secretKeyRef, unless optional) is created in the plan by a Secret, an ExternalSecret whose target it is, or "
        "a chart that renders it, and whether the workload is ordered after that creator."
    ),
    severity="high",
    remediation=(
        "Declare the secret in the catalog (services[].secrets) so the service gets its ExternalSecret, and create "
        "the workload with dependsOn on it (the Microservice component does this for its own secrets)."
    ),
    anchors=(
        "kubernetes.io/docs/concepts/configuration/secret (a pod referencing a missing non-optional Secret does "
        "not start)",
        "external-secrets.io: ExternalSecret spec.target.name (defaults to the ExternalSecret's name)",
    ),
    validate_stack=validate_stack,
    enforcement="mandatory",
)
