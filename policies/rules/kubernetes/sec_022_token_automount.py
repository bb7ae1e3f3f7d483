"""PAVED-SEC-022: no ServiceAccount token is mounted automatically (ServiceAccounts and pod specs).

Operators that must call the Kubernetes API (External Secrets, Reloader) opt in through
``allowedServiceAccounts`` (``namespace/name``), a recorded exception: their ServiceAccount
and the pods that run under it may mount the token.
"""

from __future__ import annotations

from policies.framework import Rule
from paved.resources import UNKNOWN, WORKLOAD_TYPES, kind_of, lookup, object_name, pod_spec

SERVICE_ACCOUNT = "kubernetes:core/v1:ServiceAccount"


def _account(args, pod) -> str | None:
    """``namespace/name`` of the ServiceAccount the resource is or runs under, when known."""
    namespace = lookup(args.props, "metadata.namespace")
    if pod is None:
        name = lookup(args.props, "metadata.name")
    else:
        name = lookup(pod, "serviceAccountName") or lookup(pod, "serviceAccount") or "default"
    return f"{namespace}/{name}" if isinstance(namespace, str) and isinstance(name, str) else None


def _validate(args, report):
    pod = None
    if args.resource_type == SERVICE_ACCOUNT:
        value = lookup(args.props, "automountServiceAccountToken")
    else:
        pod = pod_spec(args.resource_type, args.props)
        if pod is None:
            return
        value = lookup(pod, "automountServiceAccountToken")
    if value is False or _account(args, pod) in args.get_config().get("allowedServiceAccounts", []):
        return
    where = "" if pod is None else " in its pod spec"
    unknown = " (it is unknown at preview)" if value is UNKNOWN else ""
    report(f"{kind_of(args.resource_type)} {object_name(args.props, args.name)} must set automountServiceAccountToken "
           f"to false{where}{unknown}.")


RULE = Rule(
    id="PAVED-SEC-022",
    name="no-service-account-token-automount",
    description="Checks whether ServiceAccounts and pod specs turn off the automatic mount of a Kubernetes API "
    "token (automountServiceAccountToken: false; unset means mounted), except for allowedServiceAccounts.",
    severity="medium",
    remediation="Set automountServiceAccountToken: false on the ServiceAccount and the pod spec; a workload that "
    "must call the API mounts a short-lived token through a projected serviceAccountToken volume, or (an operator) "
    "is listed in allowedServiceAccounts as namespace/name.",
    anchors=("CKV_K8S_38", "pol:automountServiceAccountToken", "CIS EKS 4.1.6", "NSA: Protecting Pod service account tokens"),
    validate=_validate,
    resource_types=frozenset({*WORKLOAD_TYPES, SERVICE_ACCOUNT}),
    config={
        "allowedServiceAccounts": {
            "type": "array", "items": {"type": "string"}, "default": [],
            "description": "ServiceAccounts (namespace/name) that may mount an API token, and pods running under "
            "them: operators that call the Kubernetes API. Recorded exceptions.",
        }
    },
)
