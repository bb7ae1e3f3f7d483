"""PAVED-REL-007: Pulumi waits for Kubernetes resources to become ready."""

from __future__ import annotations

from policies.framework import Rule
from paved.resources import UNKNOWN, kind_of, lookup, object_name

ANNOTATION = "pulumi.com/skipAwait"
# Resources with a skipAwait input of their own.
SKIP_AWAIT_INPUT = frozenset({
    "kubernetes:helm.sh/v3:Release",
    "kubernetes:helm.sh/v4:Chart",
    "kubernetes:yaml/v2:ConfigGroup",
    "kubernetes:yaml/v2:ConfigFile",
})


def validate(args, report) -> None:
    if not args.resource_type.startswith("kubernetes:"):
        return
    who = f"{kind_of(args.resource_type)} {object_name(args.props, args.name)}"
    value = lookup(args.props, ("metadata", "annotations", ANNOTATION))
    if value is UNKNOWN or (value is not None and str(value).strip().lower() == "true"):
        shown = "unknown at preview" if value is UNKNOWN else f'"{value}"'
        report(f'{who} must not set the {ANNOTATION} annotation to "true" (it is {shown}); Pulumi would report '
               f"success before the rollout is ready.")
    if args.resource_type in SKIP_AWAIT_INPUT:
        skip = lookup(args.props, "skipAwait")
        if skip is True or skip is UNKNOWN:
            shown = "unknown at preview" if skip is UNKNOWN else "true"
            report(f"{who} must not set skipAwait (it is {shown}); Pulumi would not wait for its resources to be "
                   f"ready.")


RULE = Rule(
    id="PAVED-REL-007",
    name="no-skip-await",
    description=(
        'Checks whether a Kubernetes resource sets the pulumi.com/skipAwait annotation to "true", or a Helm '
        "Release, Helm v4 Chart or YAML v2 ConfigFile/ConfigGroup sets skipAwait. An unknown value is reported."
    ),
    severity="medium",
    remediation=(
        "Remove the pulumi.com/skipAwait annotation or the skipAwait input; if a resource takes too long to be "
        "ready, raise customTimeouts instead, so a failed rollout fails `pulumi up`."
    ),
    anchors=("REL-K8S-006", "Pulumi Kubernetes await logic (pulumi.com/skipAwait)"),
    validate=validate,
    enforcement="mandatory",
)
