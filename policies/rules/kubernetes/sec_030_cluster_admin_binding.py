"""PAVED-SEC-030: nothing the stack creates binds the cluster-admin role."""

from __future__ import annotations

from policies.framework import Rule
from paved.resources import UNKNOWN, kind_of, lookup, object_name

BINDING_TYPES = frozenset({
    "kubernetes:rbac.authorization.k8s.io/v1:RoleBinding",
    "kubernetes:rbac.authorization.k8s.io/v1:ClusterRoleBinding",
})


def _validate(args, report):
    role = lookup(args.props, "roleRef.name")
    name = object_name(args.props, args.name)
    if name in args.get_config().get("allowedBindings", []):
        return
    who = f"{kind_of(args.resource_type)} {name}"
    if role is UNKNOWN:
        report(f"{who} must not bind cluster-admin (roleRef.name is unknown at preview).")
    elif role == "cluster-admin":
        report(f"{who} must not bind cluster-admin; bind a role that lists only what the subject needs.")


RULE = Rule(
    id="PAVED-SEC-030",
    name="no-cluster-admin-binding",
    description="Checks whether a RoleBinding or ClusterRoleBinding grants the cluster-admin ClusterRole, which is "
    "full control of the cluster (or of the namespace).",
    severity="critical",
    remediation="Bind a dedicated Role with the exact permissions needed; list a reviewed binding in allowedBindings "
    "only as a recorded exception.",
    anchors=("CIS EKS 4.1.1", "pol:clusterrolebindingClusterAdmin", "pol:rolebindingClusterAdminClusterRole"),
    validate=_validate,
    resource_types=BINDING_TYPES,
    config={
        "allowedBindings": {
            "type": "array", "items": {"type": "string"}, "default": [],
            "description": "Binding names (metadata.name) allowed to grant cluster-admin; recorded exceptions.",
        }
    },
)
