"""PAVED-SEC-026: nothing is created in the ``default`` namespace.

Applies to every namespaced Kubernetes kind. Built-in kinds without ``metadata.namespace``
land in the provider's namespace, which is ``default`` unless the provider sets one. Custom
resources (whose scope the policy cannot know) are reported only when they name ``default``.
A namespace unknown at preview comes from a Namespace this stack creates, so it passes.
"""

from __future__ import annotations

from policies.framework import Rule
from paved.resources import UNKNOWN, lookup, object_name

BUILT_IN_GROUPS = frozenset({
    "core", "apps", "batch", "autoscaling", "policy", "extensions", "networking.k8s.io", "rbac.authorization.k8s.io",
    "coordination.k8s.io", "discovery.k8s.io", "events.k8s.io", "storage.k8s.io", "scheduling.k8s.io", "node.k8s.io",
    "admissionregistration.k8s.io", "apiextensions.k8s.io", "apiregistration.k8s.io", "certificates.k8s.io",
    "flowcontrol.apiserver.k8s.io", "resource.k8s.io", "authentication.k8s.io", "authorization.k8s.io",
    "internal.apiserver.k8s.io", "storagemigration.k8s.io", "settings.k8s.io", "auditregistration.k8s.io",
})
CLUSTER_SCOPED = frozenset({
    "Namespace", "Node", "PersistentVolume", "ComponentStatus", "ClusterRole", "ClusterRoleBinding",
    "CustomResourceDefinition", "APIService", "MutatingWebhookConfiguration", "ValidatingWebhookConfiguration",
    "ValidatingAdmissionPolicy", "ValidatingAdmissionPolicyBinding", "MutatingAdmissionPolicy",
    "MutatingAdmissionPolicyBinding", "CertificateSigningRequest", "ClusterTrustBundle", "FlowSchema",
    "PriorityLevelConfiguration", "IngressClass", "IPAddress", "ServiceCIDR", "ClusterCIDR", "RuntimeClass",
    "PriorityClass", "CSIDriver", "CSINode", "StorageClass", "VolumeAttachment", "VolumeAttributesClass",
    "DeviceClass", "ResourceSlice", "ResourceClass", "StorageVersion", "StorageVersionMigration", "PodSecurityPolicy",
    "TokenReview", "SelfSubjectReview", "SelfSubjectAccessReview", "SelfSubjectRulesReview", "SubjectAccessReview",
    "AuditSink",
})
NOT_OBJECTS = frozenset({"yaml", "yaml/v2", "kustomize", "kustomize/v2", "helm.sh/v3", "helm.sh/v4"})
HELM_TYPES = frozenset({"kubernetes:helm.sh/v3:Release", "kubernetes:helm.sh/v4:Chart"})


def _scope(resource_type: str) -> str | None:
    """"namespaced", "custom" (scope unknown) or None (cluster-scoped or not a Kubernetes object)."""
    parts = resource_type.split(":")
    if len(parts) != 3 or parts[0] != "kubernetes" or parts[1] in NOT_OBJECTS:
        return None
    kind = parts[2]
    if kind.endswith("List"):
        return None
    kind = kind.removesuffix("Patch")
    group = parts[1].split("/")[0]
    if group not in BUILT_IN_GROUPS:
        return "custom"
    return None if kind in CLUSTER_SCOPED else "namespaced"


def _validate(args, report):
    if args.resource_type in HELM_TYPES:
        scope, namespace = "namespaced", lookup(args.props, "namespace")
    else:
        scope, namespace = _scope(args.resource_type), lookup(args.props, "metadata.namespace")
    if scope is None or namespace is UNKNOWN:
        return
    if namespace in (None, "") and scope == "namespaced" and args.provider is not None:
        namespace = lookup(args.provider.props, "namespace")
        if namespace is UNKNOWN:
            return
    if namespace == "default" or (namespace in (None, "") and scope == "namespaced"):
        who = f"{args.resource_type.rsplit(':', 1)[-1]} {object_name(args.props, args.name)}"
        report(f"{who} must be created in a team namespace, not default (set metadata.namespace).")


RULE = Rule(
    id="PAVED-SEC-026",
    name="no-default-namespace",
    description="Checks whether any namespaced Kubernetes object (or Helm release) is created in the default "
    "namespace, which has no Pod Security labels, quota or default-deny policy of its own.",
    severity="medium",
    remediation="Set metadata.namespace to the team's namespace (paved creates one per team).",
    anchors=("CKV_K8S_21", "CIS EKS 4.5.2", "CIS EKS 4.5.1"),
    validate=_validate,
)
