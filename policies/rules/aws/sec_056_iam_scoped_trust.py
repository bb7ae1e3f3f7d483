"""PAVED-SEC-056: IAM role trust names who may assume the role, down to the service account."""

from __future__ import annotations

from collections.abc import Mapping

from policies.framework import Rule
from paved.resources import lookup
from policies.rules.aws.aws_common import (
    Statement,
    parse_document,
    principal_values,
    statements,
    subject,
    wildcard_principal,
)

POD_IDENTITY = "pods.eks.amazonaws.com"
POD_IDENTITY_ACTIONS = {"sts:assumerole", "sts:tagsession"}
WEB_IDENTITY = "sts:assumerolewithwebidentity"
# Operators that make a condition key mandatory. IfExists variants pass when the key is absent, and
# set operators (ForAnyValue/ForAllValues) are meant for multivalued keys; neither scopes sub.
SCOPING_OPERATORS = {"stringequals", "stringlike"}


def _is_oidc(statement: Statement) -> bool:
    federated = [str(v) for v in principal_values(statement).get("Federated", [])]
    actions = {a.strip().lower() for a in statement.strings("Action")}
    return any("oidc-provider/" in f for f in federated) or WEB_IDENTITY in actions


def _scopes_sub(statement: Statement) -> bool:
    """A StringEquals/StringLike condition on ``<issuer>:sub`` whose values are not just ``*``."""
    conditions = statement.body.get("Condition")
    if not isinstance(conditions, Mapping):
        return False
    for operator, keys in conditions.items():
        if str(operator).lower() not in SCOPING_OPERATORS or not isinstance(keys, Mapping):
            continue
        for key, values in keys.items():
            if not str(key).lower().endswith(":sub"):
                continue
            values = values if isinstance(values, list) else [values]
            if values and all(isinstance(v, str) and v.strip() not in ("", "*") for v in values):
                return True
    return False


def validate(args, report) -> None:
    who = subject(args.resource_type, args.name)
    document = parse_document(lookup(args.props, "assumeRolePolicy"))
    for statement in statements(document, "assumeRolePolicy"):
        if not statement.allows:
            continue
        if "NotPrincipal" in statement.body:
            report(f"{who} must not trust NotPrincipal in an Allow statement ({statement.where}).")
        if wildcard_principal(statement):
            report(f'{who} must not trust Principal "*" ({statement.where}).')
        if _is_oidc(statement) and not _scopes_sub(statement):
            report(f"{who} must scope its OIDC trust with a StringEquals condition on <issuer>:sub "
                   f"(system:serviceaccount:<namespace>:<service-account>) ({statement.where}).")
        services = [str(v) for v in principal_values(statement).get("Service", [])]
        if POD_IDENTITY in services:
            actions = {a.strip().lower() for a in statement.strings("Action")}
            if actions != POD_IDENTITY_ACTIONS:
                report(f"{who} must allow {POD_IDENTITY} exactly sts:AssumeRole and sts:TagSession "
                       f"({statement.where}).")


RULE = Rule(
    id="PAVED-SEC-056",
    name="iam-scoped-trust",
    description=(
        'Checks whether an IAM role\'s assumeRolePolicy trusts no wildcard principal ("*" or {"AWS": "*"}) '
        "and no NotPrincipal, scopes federated OIDC (IRSA) trust with a :sub condition, and grants the EKS Pod "
        "Identity principal pods.eks.amazonaws.com exactly sts:AssumeRole and sts:TagSession. A trust policy "
        "not known at preview is checked when created."
    ),
    severity="critical",
    remediation=(
        "Trust a named principal. For IRSA add Condition StringEquals {\"<issuer>:sub\": "
        "\"system:serviceaccount:<namespace>:<sa>\", \"<issuer>:aud\": \"sts.amazonaws.com\"}. For EKS Pod "
        'Identity use Principal {"Service": "pods.eks.amazonaws.com"} with Action ["sts:AssumeRole", '
        '"sts:TagSession"] and bind the role with an aws.eks.PodIdentityAssociation.'
    ),
    anchors=("CKV_AWS_60", "CKV_AWS_61", "CIS EKS 5.2.1"),
    validate=validate,
    resource_types=frozenset({"aws:iam/role:Role"}),
    enforcement="mandatory",
)
