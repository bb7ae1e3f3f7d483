"""PAVED-REL-001: stateful resources carry Pulumi's protect option, so no run can delete them."""

from __future__ import annotations

from policies.framework import Rule, kind_of, object_name
from policies.rules.aws_common import subject

STATEFUL_TYPES = (
    "aws:msk/cluster:Cluster",
    "aws:kms/key:Key",
    "aws:secretsmanager/secret:Secret",
    "aws:eks/cluster:Cluster",
    "kubernetes:core/v1:Namespace",
)


def validate(args, report) -> None:
    if args.resource_type not in args.get_config()["statefulTypes"]:
        return
    if args.opts.protect is True:
        return
    if args.resource_type.startswith("aws:"):
        who = subject(args.resource_type, args.name)
    else:
        who = f"{kind_of(args.resource_type)} {object_name(args.props, args.name)}"
    report(f"{who} must be protected (resource option protect=True), so a delete or replace stops with an error "
           f"instead of destroying its data.")


RULE = Rule(
    id="PAVED-REL-001",
    name="stateful-resources-protected",
    description=(
        "Checks whether every resource whose type is in statefulTypes (MSK cluster, KMS key, Secrets Manager "
        "secret, EKS cluster, Namespace by default) has the protect resource option set."
    ),
    severity="high",
    remediation=(
        "Set paved:protectStateful: true in the stack file (the platform then passes protect=True to every "
        "stateful resource). To remove a protected resource on purpose: set protect=False, run `pulumi up`, "
        "then delete, or use `pulumi state unprotect URN`."
    ),
    anchors=("REL-PUL-001", "Pulumi protect resource option"),
    validate=validate,
    resource_types=frozenset(STATEFUL_TYPES),
    config={
        "statefulTypes": {
            "type": "array", "items": {"type": "string", "enum": list(STATEFUL_TYPES)},
            "default": list(STATEFUL_TYPES),
            "description": "Resource types that must be protected in this environment.",
        },
    },
    enforcement="advisory",
)
