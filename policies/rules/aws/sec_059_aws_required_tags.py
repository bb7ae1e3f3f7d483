"""PAVED-SEC-059: every taggable AWS resource says who owns it, who pays, and which environment it is."""

from __future__ import annotations

from policies.framework import Rule
from paved.resources import UNKNOWN, lookup
from policies.rules.aws.aws_common import is_taggable, provider_default_tags, subject, tag_map

REQUIRED = ["owner", "cost-center", "environment"]


def validate(args, report) -> None:
    if not args.resource_type.startswith("aws:") or not is_taggable(args.resource_type):
        return
    resource_tags = tag_map(lookup(args.props, "tags"))
    default_tags = provider_default_tags(args.provider)
    if resource_tags is None or default_tags is None:
        return  # a whole tag map computed at preview: checked when the resource is created
    tags = {**default_tags, **resource_tags}  # resource tags override the provider's, as in AWS
    who = subject(args.resource_type, args.name)
    config = args.get_config()
    missing = [k for k in config["requiredTags"] if tags.get(k) is not UNKNOWN and not tags.get(k)]
    if missing:
        report(f"{who} must carry the tags {', '.join(missing)} (on the resource or in the provider's defaultTags).")
    environment = config["environment"]
    actual = tags.get("environment")
    if environment and isinstance(actual, str) and actual and actual != environment:
        report(f"{who} must be tagged environment={environment}, not {actual}.")


RULE = Rule(
    id="PAVED-SEC-059",
    name="aws-required-tags",
    description=(
        "Checks whether every AWS resource whose SDK Args class has a tags input carries the requiredTags "
        "(owner, cost-center, environment), merged with the AWS provider's defaultTags, and whether "
        "environment equals config environment."
    ),
    severity="medium",
    remediation=(
        "Set the tags once in the AWS provider's defaultTags (owner = the team, cost-center from the catalog, "
        "environment = the stack's paved:environment) and pass that provider explicitly to every AWS "
        "resource; override per resource in tags only where the owner differs."
    ),
    anchors=("AWS Config required-tags", "Pulumi AWS Organizations Tag Policies pack"),
    validate=validate,
    config={
        "requiredTags": {
            "type": "array", "items": {"type": "string"}, "default": REQUIRED,
            "description": "Tag keys every taggable AWS resource must carry (non-empty).",
        },
        "environment": {
            "type": "string", "default": "",
            "description": "The stack's environment; the environment tag must equal it (empty: not checked).",
        },
    },
    enforcement="mandatory",
)
