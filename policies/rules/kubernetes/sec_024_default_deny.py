"""PAVED-SEC-024 (stack): every application namespace has a default-deny NetworkPolicy.

Default-deny means ``podSelector: {}``, ``policyTypes: [Ingress, Egress]`` and no ingress or
egress rules; the services then allow what they declare. A NetworkPolicy whose namespace is
unknown at preview counts for the Namespace it depends on; parts of its spec that are unknown
count as default-deny (the policy exists; its content is computed by this stack).
"""

from __future__ import annotations

from collections.abc import Mapping

from policies.framework import Rule
from paved.resources import UNKNOWN, is_set, items, lookup

NAMESPACE = "kubernetes:core/v1:Namespace"
NETWORK_POLICY = "kubernetes:networking.k8s.io/v1:NetworkPolicy"
SYSTEM_NAMESPACES = ["kube-system", "kube-public", "kube-node-lease"]


def is_default_deny(props) -> bool:
    """True when a NetworkPolicy's spec denies all ingress and egress to every pod of its namespace."""
    spec = lookup(props, "spec")
    if spec is UNKNOWN:
        return True
    if not isinstance(spec, Mapping):
        return False
    selector = lookup(spec, "podSelector")
    if selector is not UNKNOWN and selector is not None and (is_set(selector, "matchLabels") or is_set(selector, "matchExpressions")):
        return False
    if lookup(spec, "policyTypes") is not UNKNOWN:
        types = items(spec, "policyTypes")
        if UNKNOWN not in types and not {"Ingress", "Egress"} <= set(t for t in types if isinstance(t, str)):
            return False
    for direction in ("ingress", "egress"):
        if lookup(spec, direction) is not UNKNOWN and is_set(spec, direction):
            return False
    return True


def _namespace_of(resource):
    namespace = lookup(resource.props, "metadata.namespace")
    if namespace is None and resource.provider is not None:
        namespace = lookup(resource.provider.props, "namespace")
    return "default" if namespace is None else namespace


def _depends_on(resource, target) -> bool:
    urns = {d.urn for d in (resource.dependencies or [])}
    for deps in (resource.property_dependencies or {}).values():
        urns.update(d.urn for d in deps)
    return target.urn in urns


def _validate_stack(args, report):
    exempt = set(args.get_config().get("exemptNamespaces", SYSTEM_NAMESPACES))
    denies = [r for r in args.resources if r.resource_type == NETWORK_POLICY and is_default_deny(r.props)]
    for ns in args.resources:
        if ns.resource_type != NAMESPACE:
            continue
        name = lookup(ns.props, "metadata.name")
        known = isinstance(name, str)
        if known and name in exempt:
            continue

        def covers(policy) -> bool:
            namespace = _namespace_of(policy)
            if known and namespace == name:
                return True
            return (namespace is UNKNOWN or not known) and _depends_on(policy, ns)

        if not any(covers(p) for p in denies):
            label = name if known else ns.name
            report(f"Namespace {label} must have a default-deny NetworkPolicy (podSelector {{}}, policyTypes "
                   f"[Ingress, Egress], no ingress or egress rules).", ns.urn)


RULE = Rule(
    id="PAVED-SEC-024",
    name="namespace-default-deny",
    description="Checks whether every Namespace the stack creates (except exemptNamespaces) holds a default-deny "
    "NetworkPolicy, so pods talk only over connections a policy explicitly allows.",
    severity="high",
    remediation="Create a NetworkPolicy in the namespace with podSelector: {} and policyTypes: [Ingress, Egress] and "
    "no rules (paved's TeamNamespace does), then allow DNS and declared peers in further policies.",
    anchors=("CKV2_K8S_6", "ks:pod-networkpolicy", "ks:networkpolicy-targets-pod", "pol:missingNetworkPolicy",
             "CIS EKS 4.3.2", "NSA: Network policies"),
    validate_stack=_validate_stack,
    config={
        "exemptNamespaces": {
            "type": "array", "items": {"type": "string"}, "default": SYSTEM_NAMESPACES,
            "description": "Namespaces that need no default-deny NetworkPolicy (system namespaces); each entry is a "
            "recorded exception.",
        }
    },
)
