"""PAVED-REL-001: stateful resources carry Pulumi's protect option, so no run can delete them."""

from __future__ import annotations

from policies.framework import Rule
from paved.resources import STATEFUL_TYPES, kind_of, object_name
from policies.rules.aws.aws_common import subject


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
        "Checks whether every resource whose type is in statefulTypes (MSK cluster, Kafka topic, KMS key, Secrets Manager "
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
    resource_types=STATEFUL_TYPES,
    config={
        "statefulTypes": {
            "type": "array", "items": {"type": "string", "enum": sorted(STATEFUL_TYPES)},
            "default": sorted(STATEFUL_TYPES),
            "description": "Resource types that must be protected in this environment.",
        },
    },
    enforcement="advisory",
)
