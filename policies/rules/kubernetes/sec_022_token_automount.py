"""PAVED-SEC-022: a ServiceAccount token is mounted only where RBAC gives it something to do.

Kubernetes mounts a pod's API token unless the pod spec says ``automountServiceAccountToken:
false`` or, when the pod spec leaves it unset, its ServiceAccount does (the pod's field wins;
both unset means mounted). A token is needed only by a workload that calls the API: one whose
ServiceAccount a RoleBinding or ClusterRoleBinding in the same stack binds (the operators the
charts install). Every other ServiceAccount and pod must not get one. ``allowedServiceAccounts``
(``namespace/name``) records further exceptions, for accounts bound outside the stack.

It is a stack rule because the answer depends on the bindings and on the ServiceAccount a
pod runs under, which are other resources.
"""

from __future__ import annotations

from collections.abc import Mapping

from policies.framework import Rule
from paved.resources import UNKNOWN, WORKLOAD_TYPES, items, kind_of, lookup, object_name, pod_spec

SERVICE_ACCOUNT = "kubernetes:core/v1:ServiceAccount"
# Recorded exceptions (namespace/name): ESO's admission webhook is bound to no role, yet its
# process builds an in-cluster API client at start (controller-runtime) and exits without a token.
PLATFORM_ACCOUNTS = ["external-secrets/external-secrets-webhook"]
BINDINGS = frozenset({"kubernetes:rbac.authorization.k8s.io/v1:RoleBinding",
                      "kubernetes:rbac.authorization.k8s.io/v1:ClusterRoleBinding"})


def bound_accounts(resources) -> set[str]:
    """``namespace/name`` of every ServiceAccount a (Cluster)RoleBinding in the stack binds."""
    out = set()
    for r in resources:
        if r.resource_type not in BINDINGS:
            continue
        binding_ns = lookup(r.props, "metadata.namespace")
        for subject in items(r.props, "subjects"):
            if not isinstance(subject, Mapping) or lookup(subject, "kind") != "ServiceAccount":
                continue
            namespace = lookup(subject, "namespace") or binding_ns  # a RoleBinding's subject may omit it
            name = lookup(subject, "name")
            if isinstance(namespace, str) and isinstance(name, str):
                out.add(f"{namespace}/{name}")
    return out


def _account_of(props, pod) -> str | None:
    namespace = lookup(props, "metadata.namespace")
    name = lookup(pod, "serviceAccountName") or lookup(pod, "serviceAccount") or "default"
    return f"{namespace}/{name}" if isinstance(namespace, str) and isinstance(name, str) else None


def validate_stack(args, report) -> None:
    allowed = bound_accounts(args.resources) | set(args.get_config().get("allowedServiceAccounts", []))
    accounts: dict[str, object] = {}  # namespace/name -> its automountServiceAccountToken
    for r in args.resources:
        if r.resource_type != SERVICE_ACCOUNT:
            continue
        namespace, name = lookup(r.props, "metadata.namespace"), lookup(r.props, "metadata.name")
        value = lookup(r.props, "automountServiceAccountToken")
        key = f"{namespace}/{name}" if isinstance(namespace, str) and isinstance(name, str) else None
        if key is not None:
            accounts[key] = value
        # Unset is judged where it takes effect, on the pods that run under the account (below):
        # some charts cannot set it on their ServiceAccount and set it on the pod instead.
        if value is not True or key in allowed:
            continue
        report(f"ServiceAccount {object_name(r.props, r.name)} must set automountServiceAccountToken to false (it sets "
               f"true): no RoleBinding or ClusterRoleBinding in the stack gives its token anything to do.", r.urn)
    for r in args.resources:
        if r.resource_type not in WORKLOAD_TYPES:
            continue
        pod = pod_spec(r.resource_type, r.props)
        if pod is None:
            continue
        account = _account_of(r.props, pod)
        if account in allowed:
            continue
        value = lookup(pod, "automountServiceAccountToken")
        if value is None:  # the pod leaves it to its ServiceAccount; an account not in the stack mounts
            value = accounts.get(account, True) if account is not None else UNKNOWN
        if value is False:
            continue
        unknown = " (it is unknown at preview)" if value is UNKNOWN else ""
        report(f"{kind_of(r.resource_type)} {object_name(r.props, r.name)} must set automountServiceAccountToken to "
               f"false in its pod spec{unknown}: its ServiceAccount {account or '(unknown)'} is bound to no role.", r.urn)


RULE = Rule(
    id="PAVED-SEC-022",
    name="no-service-account-token-automount",
    description="Checks whether every pod that gets a Kubernetes API token (its pod spec's, else its "
    "ServiceAccount's automountServiceAccountToken is not false) runs under a ServiceAccount that a RoleBinding or "
    "ClusterRoleBinding in the stack binds, or one listed in allowedServiceAccounts; and whether every other "
    "ServiceAccount sets automountServiceAccountToken: false.",
    severity="medium",
    remediation="Set automountServiceAccountToken: false on the ServiceAccount and the pod spec (the Microservice "
    "component does; charts take it as a value, e.g. serviceAccount.automount). A workload that calls the API gets "
    "its permissions from a RoleBinding in the stack; one bound elsewhere is listed in allowedServiceAccounts as "
    "namespace/name.",
    anchors=("CKV_K8S_38", "pol:automountServiceAccountToken", "CIS EKS 4.1.6", "NSA: Protecting Pod service account tokens"),
    validate_stack=validate_stack,
    config={
        "allowedServiceAccounts": {
            "type": "array", "items": {"type": "string"}, "default": PLATFORM_ACCOUNTS,
            "description": "ServiceAccounts (namespace/name) that may mount an API token although no binding in the "
            "stack names them, and pods running under them. Recorded exceptions; a list here replaces the "
            "default, which holds the platform charts' accounts.",
        }
    },
)
