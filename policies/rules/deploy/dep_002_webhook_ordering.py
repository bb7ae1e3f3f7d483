"""PAVED-DEP-002: objects a fail-closed admission webhook intercepts are created after its backend.

With ``failurePolicy: Fail`` (the admissionregistration.k8s.io/v1 default) the API server
rejects every request the webhook matches while its Service has no ready endpoint. In one
``pulumi up`` that is the window between the WebhookConfiguration and its Deployment being
ready, so the intercepted objects must depend on the Deployment (or the chart holding it).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from paved.resources import UNKNOWN, WORKLOAD_TYPES, items, labels_at, lookup
from policies.framework import Rule
from policies.rules.deploy.graph import (
    Graph,
    api_group,
    is_kubernetes_object,
    kind,
    name,
    namespace,
    namespace_labels,
    shown_name,
)

WEBHOOK_TYPES = (
    "kubernetes:admissionregistration.k8s.io/v1:ValidatingWebhookConfiguration",
    "kubernetes:admissionregistration.k8s.io/v1:MutatingWebhookConfiguration",
)
SERVICE = "kubernetes:core/v1:Service"


def plural(kind_name: str) -> str:
    """The resource (plural, lower case) of a kind, as webhook rules name it."""
    lower = kind_name.lower()
    if lower.endswith(("s", "x", "ch", "sh")):
        return lower + "es"
    if lower.endswith("y") and lower[-2:-1] not in "aeiou":
        return lower[:-1] + "ies"
    return lower + "s"


def _matches_list(values: list[Any], wanted: str) -> bool:
    return any(v is UNKNOWN or v == "*" or v == wanted for v in values)


def selects(selector: Any, labels: Mapping[str, Any]) -> bool:
    """A label selector (matchLabels, matchExpressions) against labels; a missing or empty one selects all."""
    from policies.rules.deploy.graph import plain

    selector = plain(selector) if selector is not None else {}
    if selector is UNKNOWN or not isinstance(selector, Mapping):
        return True
    for key, want in (selector.get("matchLabels") or {}).items():
        if want is not UNKNOWN and labels.get(key) not in (want, UNKNOWN):
            return False
    for expr in selector.get("matchExpressions") or []:
        if not isinstance(expr, Mapping):
            continue
        key, op, values = expr.get("key"), expr.get("operator"), expr.get("values") or []
        present = key in labels
        if (op == "In" and not (present and labels[key] in values)) or (op == "NotIn" and present and labels[key] in values) \
                or (op == "Exists" and not present) or (op == "DoesNotExist" and present):
            return False
    return True


def intercepts(webhook: Any, obj: Any, ns_labels: dict[str, dict[str, Any]]) -> bool:
    """Whether a webhook entry's rules and selectors match creating ``obj``."""
    group, version, resource = api_group(obj), obj.resource_type.split(":")[1].rsplit("/", 1)[-1], plural(kind(obj))
    ruled = False
    for rule in items(webhook, "rules"):
        if not isinstance(rule, Mapping):
            continue
        scope = lookup(rule, "scope", "*")
        ns = namespace(obj)
        if (scope == "Namespaced" and ns is None) or (scope == "Cluster" and ns is not None):
            continue
        if (_matches_list(items(rule, "apiGroups"), group) and _matches_list(items(rule, "apiVersions"), version)
                and _matches_list(items(rule, "resources"), resource)
                and _matches_list(items(rule, "operations"), "CREATE")):
            ruled = True
            break
    if not ruled:
        return False
    ns = namespace(obj)
    if isinstance(ns, str) and not selects(lookup(webhook, "namespaceSelector"), ns_labels.get(ns, {"kubernetes.io/metadata.name": ns})):
        return False
    return selects(lookup(webhook, "objectSelector"), labels_at(obj.props, "metadata.labels"))


def backends(graph: Graph, webhook: Any) -> list[Any] | None:
    """The workloads behind a webhook's ``clientConfig.service``; None when it calls a URL or a Service
    the plan does not hold."""
    svc_ns, svc_name = lookup(webhook, "clientConfig.service.namespace"), lookup(webhook, "clientConfig.service.name")
    if not (isinstance(svc_ns, str) and isinstance(svc_name, str)):
        return None
    services = [s for s in graph.of_type(SERVICE) if namespace(s) == svc_ns and name(s) == svc_name]
    if not services:
        return None
    selector = {"matchLabels": lookup(services[0].props, "spec.selector", {})}
    return [w for w in graph.of_type(*WORKLOAD_TYPES) if namespace(w) == svc_ns
            and selects(selector, labels_at(w.props, "spec.template.metadata.labels"))]


def validate_stack(args, report) -> None:
    graph = Graph(args.resources)
    ns_labels = namespace_labels(graph)
    for config in graph.of_type(*WEBHOOK_TYPES):
        for webhook in items(config.props, "webhooks"):
            if not isinstance(webhook, Mapping) or lookup(webhook, "failurePolicy", "Fail") != "Fail":
                continue
            behind = backends(graph, webhook)
            if not behind:
                continue
            exempt = {config.urn, *(w.urn for w in behind), *(u for w in behind for u in graph.after(w))}
            deployment = behind[0]
            for obj in graph.resources:
                if obj.urn in exempt or not is_kubernetes_object(obj.resource_type) or not intercepts(webhook, obj, ns_labels):
                    continue
                if any(graph.ordered_after(obj, w) for w in behind):
                    continue
                report(f"{kind(obj)} {shown_name(obj)} must depend on {kind(deployment)} {shown_name(deployment)}"
                       f"{graph.via(deployment, obj)}, which serves webhook {lookup(webhook, 'name', '?')} with failurePolicy "
                       f"Fail: the API server rejects it until that webhook is ready.", obj.urn)


RULE = Rule(
    id="PAVED-DEP-002",
    name="webhook-ordering",
    description=(
        "Checks whether every Kubernetes object that a Validating- or MutatingWebhookConfiguration with failurePolicy "
        "Fail intercepts (its rules' apiGroups, apiVersions, resources and CREATE operation, namespaceSelector and "
        "objectSelector) is ordered after the workload behind the webhook's clientConfig.service, directly or "
        "through the component or chart holding it."
    ),
    severity="high",
    remediation=(
        "Add dependsOn on the webhook's Deployment or on the Chart/component that installs it (dependsOn on a component "
        "waits for all its children), or exclude the object with the webhook's namespaceSelector/objectSelector."
    ),
    anchors=(
        "kubernetes.io/docs/reference/access-authn-authz/extensible-admission-controllers (failurePolicy defaults to "
        "Fail in admissionregistration.k8s.io/v1; matching rules, namespaceSelector, objectSelector)",
        "Pulumi docs: resource option dependsOn (a component dependency covers its children)",
    ),
    validate_stack=validate_stack,
    enforcement="mandatory",
)
