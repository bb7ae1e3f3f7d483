"""PAVED-SEC-054: IAM policies grant named actions, never ``*`` or ``service:*``."""

from __future__ import annotations

from policies.framework import Rule
from paved.resources import items, lookup
from policies.rules.aws.aws_common import IAM_POLICY_TYPES, permission_statements, subject

ADMIN_POLICY = ":policy/AdministratorAccess"
ATTACHMENT_TYPES = frozenset({
    "aws:iam/rolePolicyAttachment:RolePolicyAttachment",
    "aws:iam/userPolicyAttachment:UserPolicyAttachment",
    "aws:iam/groupPolicyAttachment:GroupPolicyAttachment",
    "aws:iam/policyAttachment:PolicyAttachment",
})


def is_wildcard_action(action: str) -> bool:
    """``*``, ``*:*`` or ``service:*``; partial patterns such as ``s3:Get*`` are allowed."""
    action = action.strip()
    return action == "*" or action.endswith(":*")


def _admin(arn: object) -> bool:
    return isinstance(arn, str) and arn.strip().endswith(ADMIN_POLICY)


def validate(args, report) -> None:
    who = subject(args.resource_type, args.name)
    if args.resource_type in ATTACHMENT_TYPES:
        if _admin(lookup(args.props, "policyArn")):
            report(f"{who} must not attach AdministratorAccess.")
        return
    if args.resource_type == "aws:iam/role:Role":
        for arn in items(args.props, "managedPolicyArns"):
            if _admin(arn):
                report(f"{who} must not attach AdministratorAccess (managedPolicyArns).")
    for statement in permission_statements(args.resource_type, args.props):
        if not statement.allows:
            continue
        if "NotAction" in statement.body:
            report(f"{who} must not use NotAction in an Allow statement ({statement.where}).")
        for action in statement.strings("Action"):
            if is_wildcard_action(action):
                report(f'{who} must not allow the wildcard action "{action}" ({statement.where}).')


RULE = Rule(
    id="PAVED-SEC-054",
    name="iam-no-wildcard-actions",
    description=(
        "Checks whether IAM policies (Policy, RolePolicy, UserPolicy, GroupPolicy and a Role's "
        'inlinePolicies) allow the wildcard actions "*" or "service:*", use NotAction in an Allow, or attach '
        "AdministratorAccess. The policy is a JSON string: one not known at preview is checked when created."
    ),
    severity="critical",
    remediation=(
        'List the actions the workload calls (e.g. "kafka-cluster:Connect", "kafka-cluster:ReadData", '
        '"secretsmanager:GetSecretValue"); a partial pattern such as "s3:Get*" is accepted. Use AWS managed '
        "job-function policies or IAM Access Analyzer policy generation instead of AdministratorAccess."
    ),
    anchors=("CKV_AWS_1", "CKV_AWS_62", "CKV_AWS_49", "CKV_AWS_63", "CKV_AWS_274", "CKV_AWS_286-290"),
    validate=validate,
    resource_types=frozenset(IAM_POLICY_TYPES | ATTACHMENT_TYPES),
    enforcement="mandatory",
)
