"""PAVED-DEP-009: every IAM policy document paved writes passes parliament with nothing above LOW.

IAM accepts many policies that do nothing: an action name misspelled, a condition key the
action does not support, a resource ARN of the wrong type for the action. Such a policy
deploys, and the workload then fails with AccessDenied. parliament (duo-labs) checks
documents against the AWS service authorization reference.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from paved.resources import UNKNOWN, items, lookup
from policies.framework import Rule
from policies.rules.deploy.graph import json_value, plain

POLICY_TYPES = {
    "aws:iam/policy:Policy": "Policy",
    "aws:iam/rolePolicy:RolePolicy": "RolePolicy",
    "aws:iam/userPolicy:UserPolicy": "UserPolicy",
    "aws:iam/groupPolicy:GroupPolicy": "GroupPolicy",
    "aws:iam/role:Role": "Role",
}
RANK = {"INFO": 0, "LOW": 1, "MEDIUM": 2, "HIGH": 3, "CRITICAL": 4}


def documents(resource_type: str, props: Any) -> list[tuple[str, Any]]:
    """(label, policy document) pairs a resource writes; documents unknown at preview are left out."""
    if resource_type == "aws:iam/role:Role":
        return [(f"inline policy {lookup(p, 'name', '?')}", lookup(p, "policy")) for p in items(props, "inlinePolicies")]
    return [("policy", lookup(props, "policy"))]


def findings(document: Any) -> list[tuple[str, str, str]]:
    """(severity, issue, detail) of every parliament finding on a policy document."""
    import parliament

    text = document if isinstance(document, str) else json.dumps(plain(document))
    policy = parliament.analyze_policy_string(text)
    out: dict[tuple[str, str, str], None] = {}
    for f in policy.findings:
        parliament.enhance_finding(f)
        out[(str(f.severity).upper(), f.issue, str(f.detail))] = None
    return list(out)


def _validate(args, report):
    config = args.get_config()
    worst = RANK[str(config["maxSeverity"]).upper()]
    ignored = set(config.get("ignoredIssues", []))
    for label, document in documents(args.resource_type, args.props):
        if document is UNKNOWN or document is None or (not isinstance(document, Mapping) and json_value(document) is None):
            continue
        bad = [(sev, issue, detail) for sev, issue, detail in findings(document)
               if RANK.get(sev, 4) > worst and issue not in ignored]
        if bad:
            listed = "; ".join(f"{sev} {issue}: {str(detail)[:160]}" for sev, issue, detail in bad[:4])
            more = f" and {len(bad) - 4} more" if len(bad) > 4 else ""
            report(f"{POLICY_TYPES[args.resource_type]} {args.name} must pass parliament with no finding above "
                   f"{config['maxSeverity']} in its {label}: {listed}{more}.")


RULE = Rule(
    id="PAVED-DEP-009",
    name="iam-policy-lint",
    description=(
        "Checks whether every IAM policy document in the plan (aws:iam Policy, RolePolicy, UserPolicy, GroupPolicy "
        "policy, Role inlinePolicies) passes parliament with no finding above maxSeverity (LOW): unknown actions, "
        "condition keys an action does not support, resources of the wrong type."
    ),
    severity="medium",
    remediation=(
        "Fix the statement parliament names (`parliament --string '<policy json>'` shows the same findings); for a "
        "finding that is parliament's own database being out of date, add its issue code to ignoredIssues with a "
        "comment in the commit."
    ),
    anchors=("github.com/duo-labs/parliament", "AWS Service Authorization Reference (actions, resources, condition keys)",
             "CKV_AWS_290"),
    validate=_validate,
    resource_types=frozenset(POLICY_TYPES),
    config={
        "maxSeverity": {"type": "string", "enum": ["INFO", "LOW", "MEDIUM", "HIGH"], "default": "LOW",
                        "description": "Highest parliament finding severity a policy may have."},
        "ignoredIssues": {"type": "array", "items": {"type": "string"}, "default": [],
                          "description": "parliament issue codes not reported (e.g. RESOURCE_STAR)."},
    },
    enforcement="mandatory",
)
