"""PAVED-SEC-055: IAM policies scope actions to resource ARNs, not ``Resource: "*"``."""

from __future__ import annotations

from fnmatch import fnmatchcase

from policies.framework import Rule
from policies.rules.aws.aws_common import IAM_POLICY_TYPES, permission_statements, subject

# Actions AWS does not let a policy scope to a resource (no resource-level permissions), so they
# need "*". Read-only discovery calls only; extend per environment through config.
UNSCOPABLE = [
    "sts:GetCallerIdentity",
    "ecr:GetAuthorizationToken",
    "ec2:Describe*",
    "autoscaling:Describe*",
    "elasticloadbalancing:Describe*",
    # Permission-only: the dependent action of wafv2:AssociateWebACL on an ALB takes no resource.
    "elasticloadbalancing:SetWebAcl",
    "eks:ListClusters",
    "kafka:ListClusters",
    "kafka:ListClustersV2",
    "kafka:ListKafkaVersions",
    "secretsmanager:ListSecrets",
    "kms:ListAliases",
    "kms:ListKeys",
    "cloudwatch:PutMetricData",
    # Metric reads (Grafana's CloudWatch data source): no resource-level permissions either.
    "cloudwatch:GetMetricData",
    "cloudwatch:GetMetricStatistics",
    "cloudwatch:ListMetrics",
    "cloudwatch:DescribeAlarmsForMetric",
    "xray:PutTraceSegments",
    "xray:PutTelemetryRecords",
]


def validate(args, report) -> None:
    who = subject(args.resource_type, args.name)
    allowed = [str(p).lower() for p in args.get_config()["allowedWildcardResourceActions"]]
    for statement in permission_statements(args.resource_type, args.props):
        if not statement.allows:
            continue
        if "NotResource" in statement.body:
            report(f"{who} must not use NotResource in an Allow statement ({statement.where}).")
        if not any(r.strip() == "*" for r in statement.strings("Resource")):
            continue
        actions = statement.strings("Action")
        scoped = [a for a in actions if not any(fnmatchcase(a.strip().lower(), p) for p in allowed)]
        if scoped or not actions:
            listed = ", ".join(scoped) or "its actions"
            report(f'{who} must scope {listed} to resource ARNs instead of Resource "*" ({statement.where}).')


RULE = Rule(
    id="PAVED-SEC-055",
    name="iam-no-wildcard-resources",
    description=(
        'Checks whether IAM policies allow actions on Resource "*" (or use NotResource in an Allow), except '
        "actions in config allowedWildcardResourceActions that AWS cannot scope to a resource. The policy is "
        "a JSON string: one not known at preview is checked when created."
    ),
    severity="high",
    remediation=(
        "Name the ARNs: the MSK cluster, topic and group ARNs for kafka-cluster:* actions, the secret ARNs "
        "for secretsmanager:GetSecretValue, the key ARN for kms:Decrypt. Put actions that cannot be scoped "
        '(see the AWS Service Authorization Reference) in a separate statement with Resource "*" and add '
        "them to allowedWildcardResourceActions if they are not there yet."
    ),
    anchors=("CKV_AWS_355", "CKV_AWS_290"),
    validate=validate,
    resource_types=IAM_POLICY_TYPES,
    config={
        "allowedWildcardResourceActions": {
            "type": "array", "items": {"type": "string"}, "default": UNSCOPABLE,
            "description": 'Action patterns (case-insensitive, * wildcards) that may use Resource "*".',
        },
    },
    enforcement="mandatory",
)
