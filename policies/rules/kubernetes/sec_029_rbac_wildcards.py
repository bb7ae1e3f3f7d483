"""PAVED-SEC-029: Roles and ClusterRoles grant no wildcards and no escalation verbs."""

from __future__ import annotations

from collections.abc import Mapping

from policies.framework import Rule
from paved.resources import UNKNOWN, items, kind_of, lookup, object_name

ROLE_TYPES = frozenset({
    "kubernetes:rbac.authorization.k8s.io/v1:Role",
    "kubernetes:rbac.authorization.k8s.io/v1:ClusterRole",
})
ESCALATING_VERBS = ("bind", "escalate", "impersonate")
# Recorded exceptions (kind/name) for roles a pinned chart renders and takes no values for.
# prometheus-operator's ClusterRole grants verbs '*' on its own CRDs, StatefulSets, ConfigMaps
# and Secrets: it creates and rewrites the Prometheus and Alertmanager StatefulSets and their
# generated config Secrets in every namespace it watches. docs/policies.md records it.
PLATFORM_ROLES = ["ClusterRole/kps-operator"]


def _problems(index: int, rule) -> list[str]:
    at = f"rules[{index}]"
    if rule is UNKNOWN or not isinstance(rule, Mapping):
        return [f"{at} is unknown at preview"] if rule is UNKNOWN else []
    found = []
    for field in ("verbs", "resources", "apiGroups"):
        if lookup(rule, field) is UNKNOWN:
            found.append(f"{at}.{field} is unknown at preview")
            continue
        for value in items(rule, field):
            if value is UNKNOWN:
                found.append(f"{at}.{field} has a value unknown at preview")
            elif not isinstance(value, str):
                continue
            elif (field == "resources" and "*" in value) or value == "*":
                found.append(f"{at}.{field} has '{value}'")
            elif field == "verbs" and value.lower() in ESCALATING_VERBS:
                found.append(f"{at}.verbs has '{value}'")
    return found


def _validate(args, report):
    if f"{kind_of(args.resource_type)}/{object_name(args.props, args.name)}" in args.get_config()["allowedRoles"]:
        return
    if lookup(args.props, "rules") is UNKNOWN:
        problems = ["rules are unknown at preview"]
    else:
        problems = [p for i, rule in enumerate(items(args.props, "rules")) for p in _problems(i, rule)]
    if problems:
        report(f"{kind_of(args.resource_type)} {object_name(args.props, args.name)} must grant no wildcard or "
               f"privilege-escalating permissions ({'; '.join(problems)}).")


RULE = Rule(
    id="PAVED-SEC-029",
    name="rbac-no-wildcards",
    description="Checks whether a Role or ClusterRole uses '*' in verbs, resources or apiGroups, or grants the bind, "
    "escalate or impersonate verbs, any of which lets its holder reach further than listed.",
    severity="high",
    remediation="List the exact apiGroups, resources and verbs the workload needs; never grant bind, escalate or "
    "impersonate to an application role.",
    anchors=("CKV_K8S_49", "CKV_K8S_157", "CKV_K8S_158", "CIS EKS 4.1.3", "CIS EKS 4.1.8"),
    validate=_validate,
    resource_types=ROLE_TYPES,
    config={
        "allowedRoles": {
            "type": "array", "items": {"type": "string"}, "default": PLATFORM_ROLES,
            "description": "Roles (Role/name or ClusterRole/name) exempt from this rule: recorded exceptions for "
            "roles a chart renders. A list here replaces the default, which holds the platform charts' roles.",
        }
    },
)
