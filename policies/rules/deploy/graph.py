"""What the deploy rules share: the order ``pulumi up`` creates resources in, Kubernetes
object identity (namespace, name, labels), and which controllers a plan installs.

Ordering follows the engine: a resource waits for its ``dependencies`` (which the Python SDK
expands from ``dependsOn``: a component stands for its children, ``pulumi.runtime.rpc.
_add_dependency``), and for its parent's registration, which in turn waits for the parent's
dependencies. So a resource is *ordered after* everything reachable through its own and its
ancestors' dependencies, a component dependency covering every descendant of that component.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from paved.layers import deployed_before, stack_of_urn
from paved.resources import UNKNOWN, items, kind_of, labels_at, lookup, namespace_of

# Components a provider implements (multi-language components). Their children are created
# before the component's registration completes, so depending on one covers its children.
REMOTE_COMPONENTS = frozenset({
    "kubernetes:helm.sh/v4:Chart",
    "kubernetes:yaml/v2:ConfigGroup",
    "kubernetes:yaml/v2:ConfigFile",
    "kubernetes:kustomize/v2:Directory",
})
CHART = "kubernetes:helm.sh/v4:Chart"
NAMESPACE = "kubernetes:core/v1:Namespace"
# Kubernetes objects that are not namespaced (metadata.namespace does not apply).
CLUSTER_SCOPED_KINDS = frozenset({
    "Namespace", "ClusterRole", "ClusterRoleBinding", "CustomResourceDefinition", "StorageClass",
    "ValidatingWebhookConfiguration", "MutatingWebhookConfiguration", "APIService", "PriorityClass",
    "ClusterSecretStore", "IngressClass", "PersistentVolume", "ClusterIssuer", "NodePool", "EC2NodeClass",
})


def is_component(resource_type: str) -> bool:
    """A component resource (the program's own ``paved:*`` ones or a provider's remote ones)."""
    return resource_type in REMOTE_COMPONENTS or not resource_type.startswith(("aws:", "kubernetes:", "pulumi:"))


def is_kubernetes_object(resource_type: str) -> bool:
    """A custom Kubernetes resource that is one API object."""
    return resource_type.startswith("kubernetes:") and not is_component(resource_type) \
        and not resource_type.split(":")[1].startswith(("helm.sh", "yaml", "kustomize"))


class Graph:
    """The stack's resources with their parents, children and creation order."""

    def __init__(self, resources: Iterable[Any]):
        self.resources = list(resources)
        self.by_urn = {r.urn: r for r in self.resources}
        self.children: dict[str, list[Any]] = {}
        for r in self.resources:
            parent = getattr(r, "parent", None)
            if parent is not None:
                self.children.setdefault(parent.urn, []).append(r)
        self._after: dict[str, frozenset[str]] = {}

    def of_type(self, *types: str) -> list[Any]:
        """Resources of the given type tokens, in plan order."""
        return [r for r in self.resources if r.resource_type in types]

    def ancestors(self, r: Any) -> list[Any]:
        """Parent, grandparent, ... of ``r``."""
        out, seen = [], set()
        node = getattr(r, "parent", None)
        while node is not None and node.urn not in seen:
            seen.add(node.urn)
            out.append(node)
            node = getattr(node, "parent", None)
        return out

    def descendants(self, r: Any) -> list[Any]:
        """Children, grandchildren, ... of ``r``."""
        out, todo = [], list(self.children.get(r.urn, []))
        while todo:
            node = todo.pop()
            out.append(node)
            todo.extend(self.children.get(node.urn, []))
        return out

    def after(self, r: Any) -> frozenset[str]:
        """URNs of every resource ``pulumi up`` finishes before it creates ``r``."""
        if r.urn in self._after:
            return self._after[r.urn]
        reached: set[str] = set()
        todo = [r, *self.ancestors(r)]
        visited: set[str] = set()
        while todo:
            node = todo.pop()
            if node.urn in visited:
                continue
            visited.add(node.urn)
            for dep in getattr(node, "dependencies", None) or []:
                dep = self.by_urn.get(dep.urn, dep)
                covered = [dep, *(self.descendants(dep) if is_component(dep.resource_type) else [])]
                for c in covered:
                    reached.add(c.urn)
                    todo.append(c)
                todo.extend(self.ancestors(dep))
        result = frozenset(reached)
        self._after[r.urn] = result
        return result

    def ordered_after(self, r: Any, target: Any) -> bool:
        """Whether ``r`` is created only once ``target`` (or the component holding it) is done; a
        resource of a team stack is created after everything of its platform stack (a lower layer)."""
        return deployed_before(stack_of_urn(target.urn), stack_of_urn(r.urn)) or target.urn in self.after(r)

    def holder(self, target: Any, dependent: Any | None = None) -> Any:
        """What ``dependent`` should name in its dependsOn to wait for ``target``: the nearest component
        holding ``target`` that is not one of ``dependent``'s own ancestors (a cycle), else ``target``."""
        own = {a.urn for a in self.ancestors(dependent)} if dependent is not None else set()
        for a in self.ancestors(target):
            if is_component(a.resource_type) and a.urn not in own:
                return a
        return target

    def via(self, target: Any, dependent: Any) -> str:
        """`` (or its component X)`` when a component holds ``target``, for messages."""
        holder = self.holder(target, dependent)
        return "" if holder is target else f" (or its component {holder.name})"


# --- Kubernetes objects ---------------------------------------------------------------------


def kind(r: Any) -> str:
    """The object kind (``Deployment``)."""
    value = lookup(r.props, "kind")
    return value if isinstance(value, str) else kind_of(r.resource_type)


def name(r: Any) -> Any:
    """``metadata.name`` (str or UNKNOWN), or the logical name when missing."""
    value = lookup(r.props, "metadata.name")
    return value if isinstance(value, str) or value is UNKNOWN else r.name


def shown_name(r: Any) -> str:
    value = name(r)
    return value if isinstance(value, str) else r.name


def namespace(r: Any) -> Any:
    """The object's namespace (``default`` when unset; None when cluster-scoped; UNKNOWN)."""
    if kind(r) in CLUSTER_SCOPED_KINDS:
        return None
    return namespace_of(r.props)


def api_group(r: Any) -> str:
    """``kubernetes:apps/v1:Deployment`` → ``apps``; the core group is ``""``."""
    module = r.resource_type.split(":")[1]
    group = module.rsplit("/", 1)[0] if "/" in module else ""
    return "" if group == "core" else group


def namespace_labels(graph: Graph) -> dict[str, dict[str, Any]]:
    """Labels of every Namespace object in the plan, by name."""
    out = {}
    for ns in graph.of_type(NAMESPACE):
        n = lookup(ns.props, "metadata.name")
        if isinstance(n, str):
            out[n] = labels_at(ns.props, "metadata.labels")
    return out


def namespace_objects(graph: Graph) -> dict[str, Any]:
    """Namespace resources by name."""
    return {lookup(ns.props, "metadata.name"): ns for ns in graph.of_type(NAMESPACE)
            if isinstance(lookup(ns.props, "metadata.name"), str)}


def json_value(value: Any) -> Any:
    """A JSON document given as a string (how pulumi-aws passes policies and add-on values), parsed;
    a mapping as is; None when unknown or unparsable."""
    if value is UNKNOWN or value is None:
        return None
    if isinstance(value, str):
        try:
            return json.loads(value)
        except ValueError:
            return None
    return value


def plain(value: Any) -> Any:
    """A pulumi-policy proxy as plain dicts and lists (UNKNOWN where unknown)."""
    if isinstance(value, Mapping):
        return {k: plain(lookup(value, [k])) for k in list(value.keys())}
    if isinstance(value, Sequence) and not isinstance(value, str):
        return [plain(v) for v in items({"v": value}, "v")]
    return value


# --- controllers ------------------------------------------------------------------------------


def chart_name(r: Any) -> str | None:
    """The chart a ``helm.sh/v4:Chart`` installs: ``external-secrets`` for ``external-secrets``,
    ``oci://public.ecr.aws/karpenter/karpenter`` or ``charts/karpenter-1.2.0.tgz``."""
    value = lookup(r.props, "chart")
    if not isinstance(value, str):
        return None
    last = value.rstrip("/").rsplit("/", 1)[-1]
    if last.endswith(".tgz"):
        last = last[:-4]
        head, _, tail = last.rpartition("-")
        if head and tail[:1].isdigit():
            last = head
    return last


def installed(graph: Graph, *, charts: Iterable[str] = (), labels: Iterable[str] = (), images: Iterable[str] = (),
              kinds: Iterable[tuple[str, str]] = (), addons: Iterable[str] = ()) -> Any:
    """The first resource showing that a controller is in the plan, or None.

    ``charts``: Chart v4 resources installing one of these charts; ``labels``: workloads whose
    ``app.kubernetes.io/name`` label is one of these; ``images``: workloads running an image
    whose repository ends in one of these; ``kinds``: (type token, metadata.name) of objects its
    chart renders (CRDs, APIService); ``addons``: EKS add-ons by ``addonName``.
    """
    charts, labels, images, addons = set(charts), set(labels), tuple(images), set(addons)
    kinds = set(kinds)
    from paved.resources import containers, pod_spec

    for r in graph.resources:
        t = r.resource_type
        if t == CHART and chart_name(r) in charts:
            return r
        if t == "aws:eks/addon:Addon" and lookup(r.props, "addonName") in addons:
            return r
        if kinds and (t, lookup(r.props, "metadata.name")) in kinds:
            return r
        pod = pod_spec(t, r.props)
        if pod is None:
            continue
        if labels_at(r.props, "metadata.labels").get("app.kubernetes.io/name") in labels:
            return r
        for c in containers(pod):
            if images and image_repository(lookup(c, "image")).endswith(images):
                return r
    return None


def image_repository(image: Any) -> str:
    """``registry/repo:tag@digest`` → ``registry/repo`` ("" when not a string)."""
    if not isinstance(image, str):
        return ""
    image = image.split("@", 1)[0]
    head, _, tail = image.rpartition(":")
    return head if head and "/" not in tail else image


def environment(args: Any) -> str | None:
    """The stack's environment: the rule's ``environment`` setting (policies/config/<env>.json), else the
    ``environment`` default tag of the aws provider (paved sets it on every stack)."""
    configured = (args.get_config() or {}).get("environment")
    if isinstance(configured, str) and configured:
        return configured
    for r in args.resources:
        provider = r if r.resource_type == "pulumi:providers:aws" else getattr(r, "provider", None)
        if provider is None or provider.resource_type != "pulumi:providers:aws":
            continue
        tags = json_value(lookup(provider.props, "defaultTags")) or {}
        value = (tags.get("tags") or {}).get("environment") if isinstance(tags, Mapping) else None
        if isinstance(value, str) and value:
            return value
    return None
